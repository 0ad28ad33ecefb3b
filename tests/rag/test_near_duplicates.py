"""Near-duplicate documents: shares of the shorter document's word 5-grams, exact on small
texts, and the threshold's measurement on the real corpus (the seed and the five fictional
reports are told apart, an edition with rewritten sentences is not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.loaders import load_document
from rag.near_duplicates import (
    NEAR_DUPLICATE_SHARE,
    NearDuplicate,
    as_percent,
    find_near_duplicates,
    near_duplicates_of,
)
from rag.text import split_sentences
from tests.conftest import ROOT, SEED_REPORT

TEN_WORDS = "one two three four five six seven eight nine ten"
REWRITTEN = "This sentence was rewritten for the revised edition of the report."


def test_shares_are_of_the_shorter_documents_shingles() -> None:
    # 10 words: 6 five-word shingles. The first 8 words hold 4 of them.
    first_eight = "one two three four five six seven eight alpha beta"
    pairs = find_near_duplicates({"a": [TEN_WORDS], "b": [first_eight]}, threshold=0.0)
    assert pairs == [NearDuplicate("a", "b", 0.667)]
    # Text added to one edition lowers nothing: all 6 of the shorter one's shingles are there.
    longer = f"{TEN_WORDS} eleven twelve thirteen"
    assert find_near_duplicates({"longer": [longer], "short": [TEN_WORDS]}) == [
        NearDuplicate("short", "longer", 1.0)
    ]


def test_case_punctuation_and_markup_do_not_count() -> None:
    markdown = "# Return\n\nThe **Network** adopted a *common* readmission standard in 2019."
    plain = "RETURN\n\nThe Network adopted a common readmission standard in 2019"
    assert find_near_duplicates({"md": [markdown], "txt": [plain]}) == [
        NearDuplicate("md", "txt", 1.0)
    ]


def test_documents_below_the_threshold_are_not_pairs() -> None:
    third = "one two three four five six x y z w"  # 2 of 6 shingles shared: 0.333
    assert find_near_duplicates({"a": [TEN_WORDS], "b": [third]}) == []
    assert find_near_duplicates({"a": [TEN_WORDS], "b": [third]}, threshold=0.3) == [
        NearDuplicate("a", "b", 0.333)
    ]


def test_shingles_do_not_cross_from_one_paragraph_to_the_next() -> None:
    # Markdown's passage holds its heading; plain text's heading is a passage of its own.
    with_heading = "Returns\n\nAssisted voluntary returns rose from 180 in 2020 to 236 in 2021."
    apart = ["Returns", "Assisted voluntary returns rose from 180 in 2020 to 236 in 2021."]
    assert find_near_duplicates({"md": [with_heading], "txt": apart}) == [
        NearDuplicate("md", "txt", 1.0)
    ]

    # The same ten words, split into two passages of five: 2 shingles, both in the other.
    split = ["one two three four five", "six seven eight nine ten"]
    assert find_near_duplicates({"whole": [TEN_WORDS], "split": split}) == [
        NearDuplicate("split", "whole", 1.0)
    ]
    # A passage shorter than a shingle is one shingle of its own.
    assert find_near_duplicates({"a": ["Annex"], "b": ["annex"], "c": [TEN_WORDS]}) == [
        NearDuplicate("a", "b", 1.0)
    ]
    assert find_near_duplicates({"a": [], "b": [TEN_WORDS]}) == []


def test_pairs_come_most_similar_first_and_each_document_names_its_partners() -> None:
    nine = "one two three four five six seven eight nine"  # 5 of its 5 shingles in TEN_WORDS
    eight = "one two three four five six seven eight"  # 4 of 4
    other = "one two three four five six seven nine ten eleven"  # 3 of 6
    pairs = find_near_duplicates({"ten": [TEN_WORDS], "nine": [nine], "eight": [eight]})
    assert pairs == [
        NearDuplicate("eight", "nine", 1.0),
        NearDuplicate("eight", "ten", 1.0),
        NearDuplicate("nine", "ten", 1.0),
    ]
    pairs = find_near_duplicates({"ten": [TEN_WORDS], "other": [other]})
    # The threshold itself is flagged; of two as long, the first by id is named the shorter.
    assert pairs == [NearDuplicate("other", "ten", 0.5)]
    assert near_duplicates_of([NearDuplicate("b", "c", 0.9), NearDuplicate("a", "c", 0.75)]) == {
        "a": (("c", 0.75),),
        "b": (("c", 0.9),),
        "c": (("a", 0.75), ("b", 0.9)),
    }


@pytest.mark.parametrize(
    ("share", "shown"), [(1.0, "100%"), (0.999, "99%"), (0.5, "50%"), (0.038, "3%")]
)
def test_a_share_reads_as_a_percentage_rounded_down(share: float, shown: str) -> None:
    assert as_percent(share) == shown


def passage_texts(path: Path) -> list[str]:
    return [passage.text for passage in chunk_document(load_document(path), 200)]


def rewritten(texts: list[str], count: int) -> list[str]:
    """`texts` with `count` of their sentences, spread evenly, replaced by another one."""
    sentences = [
        (n, sentence) for n, text in enumerate(texts) for sentence in split_sentences(text)
    ]
    chosen = {round(i * (len(sentences) - 1) / (count - 1)) for i in range(count)}
    edited: list[list[str]] = [[] for _ in texts]
    for position, (n, sentence) in enumerate(sentences):
        edited[n].append(REWRITTEN if position in chosen else sentence)
    return [" ".join(part) for part in edited]


def test_the_measured_corpus_is_told_apart_and_its_editions_are_not() -> None:
    paths = [SEED_REPORT, *sorted((ROOT / "eval" / "multidoc").glob("*-20??.*"))]
    reports = {path.stem: passage_texts(path) for path in paths}
    assert len(reports) == 6
    # Distinct reports on the same topics share set phrases only: NEAR_DUPLICATE_SHARE's
    # measurement, which the threshold leaves a wide margin above.
    closest = find_near_duplicates(reports, threshold=0.0)[0]
    assert closest.shared == 0.04
    assert closest.shared * 10 < NEAR_DUPLICATE_SHARE
    editions = {f"{doc_id}-revised": rewritten(texts, 3) for doc_id, texts in reports.items()}
    pairs = find_near_duplicates({**reports, **editions})
    assert {frozenset((pair.shorter, pair.other)) for pair in pairs} == {
        frozenset((doc_id, f"{doc_id}-revised")) for doc_id in reports
    }
    assert min(pair.shared for pair in pairs) > 0.85


def test_reports_of_one_template_with_their_own_figures_are_told_apart() -> None:
    template = (
        "National Migration Report\n\n"
        "This is a fictional document written for a test, by the State of {state}.\n\n"
        "{state} granted {visas} humanitarian visas in 2021 and {permits} work permits in 2022."
    )
    elbonia = template.format(state="Elbonia", visas="900", permits="4,100")
    kurland = template.format(state="Kurland", visas="1,450", permits="3,800")
    # Their shingles alone would make one report of them.
    shared = find_near_duplicates({"elbonia": [elbonia], "kurland": [kurland]}, threshold=0.0)
    assert shared[0].shared >= NEAR_DUPLICATE_SHARE
    assert find_near_duplicates({"elbonia": [elbonia], "kurland": [kurland]}) == []
    # An edition keeps its figures, or half of them; years are no report's own figures.
    revised = elbonia.replace("2021", "2020")
    assert find_near_duplicates({"a": [elbonia], "b": [revised]}) == [
        NearDuplicate("a", "b", 0.762)
    ]
    one_changed = elbonia.replace("4,100", "4,150")
    assert [pair.shorter for pair in find_near_duplicates({"a": [elbonia], "b": [one_changed]})]
    # Without figures, the shingles decide.
    assert find_near_duplicates({"a": [TEN_WORDS], "b": [f"{TEN_WORDS} eleven"]}) == [
        NearDuplicate("a", "b", 1.0)
    ]
