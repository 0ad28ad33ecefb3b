"""Answers about the collection itself, from the index's records: every document by its
full title and id, the near-duplicates among them, and the documents a question was limited
to; nothing that reads as a citation marker."""

from __future__ import annotations

from rag.citations import CITATION_MARKER, check_citations
from rag.collection import collection_answer
from rag.manifest import DocumentRecord


def record(doc_id: str, title: str, **fields: object) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        title=title,
        path=f"/reports/{doc_id}.md",
        content_hash=f"hash-{doc_id}",
        passages=3,
        **fields,  # type: ignore[arg-type]
    )


RURITANIA = (
    "Republic of Ruritania: Voluntary National Review on the Implementation of the GCM (2021)"
)
SEED = "Regional Review of the Global Compact for Safe, Orderly and Regular Migration"


def test_every_document_by_full_title_and_id_in_id_order() -> None:
    documents = {
        "ruritania-vnr-2021": record("ruritania-vnr-2021", RURITANIA),
        "gcm-unece-2020": record("gcm-unece-2020", SEED),
    }
    assert collection_answer(documents) == (
        "2 reports are indexed (from the index's own records, not from the reports' text):\n"
        f"1. {SEED} (id: gcm-unece-2020)\n"
        f"2. {RURITANIA} (id: ruritania-vnr-2021)"
    )


def test_one_report_and_none() -> None:
    assert collection_answer({"gcm-unece-2020": record("gcm-unece-2020", SEED)}) == (
        "1 report is indexed (from the index's own records, not from the reports' text):\n"
        f"1. {SEED} (id: gcm-unece-2020)"
    )
    assert collection_answer({}) == "No report is indexed (the index's records list none)."


def test_near_duplicates_are_named_once_by_their_numbers() -> None:
    documents = {
        "border-report": record(
            "border-report", "Border management", near_duplicates=(("border-report-txt", 0.999),)
        ),
        "border-report-txt": record(
            "border-report-txt", "Border management", near_duplicates=(("border-report", 0.999),)
        ),
        "gcm-unece-2020": record("gcm-unece-2020", SEED),
    }
    lines = collection_answer(documents).splitlines()
    assert lines[1:] == [
        "1. Border management (id: border-report)",
        "2. Border management (id: border-report-txt)",
        f"3. {SEED} (id: gcm-unece-2020)",
        "1 and 2 may be the same report twice (another edition or format): 99% of the "
        "shorter one's text is in the other.",
    ]


def test_the_documents_a_question_was_limited_to_are_named_by_their_numbers() -> None:
    documents = {
        doc_id: record(doc_id, doc_id.title()) for doc_id in ("alpha", "beta", "gamma", "delta")
    }
    # In id order: alpha 1, beta 2, delta 3, gamma 4.
    last = collection_answer(documents, chosen={"gamma", "alpha"}).splitlines()[-1]
    assert last == (
        "This question was asked within 1 and 4 only; the list is of every indexed report."
    )
    last = collection_answer(documents, chosen={"gamma", "alpha", "beta"}).splitlines()[-1]
    assert last.startswith("This question was asked within 1, 2 and 4 only;")
    last = collection_answer(documents, chosen={"delta"}).splitlines()[-1]
    assert last.startswith("This question was asked within 3 only;")


def test_a_title_holds_no_citation_marker_and_stays_on_one_line() -> None:
    documents = {"annex": record("annex", "Annex [2]:\n  statistical   tables [10]")}
    answer = collection_answer(documents)
    assert answer.splitlines()[1] == "1. Annex (2): statistical tables (10) (id: annex)"
    assert CITATION_MARKER.search(answer) is None
    assert check_citations(answer, (), set()) == []
