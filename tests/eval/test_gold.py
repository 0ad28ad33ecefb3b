"""Tests for eval.gold: validation errors, quote location and gold passages from offsets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from eval.gold import (
    EvidenceSpan,
    GoldError,
    GoldItem,
    corpus_texts,
    gold_anchors,
    gold_anchors_by_item,
    load_gold,
    locate_evidence,
    locate_quote,
)
from rag.chunking import chunk_document
from rag.embedding.hashing import HashingEmbedder
from rag.factory import load_configured_index
from rag.index import load_index
from rag.ingest import ingest
from rag.loaders import load_document
from rag.manifest import IndexConfig
from rag.settings import Settings
from rag.types import Passage
from tests.conftest import REGULARISATION_TEXT, ROOT, SEED_REPORT

GOLD_FILE = ROOT / "eval" / "gold.jsonl"
# Every gold set the repository ships: the main one and the later development and held-out sets.
GOLD_FILES = sorted((ROOT / "eval").glob("gold*.jsonl"))
# The multi-document sets quote the fictional reports of eval/multidoc/ besides the seed report.
MULTI_GOLD_FILES = sorted((ROOT / "eval").glob("gold_multi*.jsonl"))
SEED_GOLD_FILES = [path for path in GOLD_FILES if path not in MULTI_GOLD_FILES]
MULTIDOC_CORPUS = sorted((ROOT / "eval" / "multidoc").glob("*.*"))
VALID: dict[str, Any] = {
    "id": "q017",
    "question": "Which states reported instituting regularisation because of COVID-19?",
    "answer": "Italy, the Republic of Moldova and Portugal.",
    "key_facts": [["Italy"], ["Moldova"], ["Portugal"]],
    "evidence": [REGULARISATION_TEXT],
    "answerable": True,
}
UNANSWERABLE: dict[str, Any] = {
    "id": "q900",
    "question": "What is the recommended dosage of ibuprofen for adults?",
    "answer": "",
    "key_facts": [],
    "evidence": [],
    "answerable": False,
    "kind": "unanswerable",
    "split": "test",
}


def write_gold(folder: Path, *lines: dict[str, Any] | str) -> Path:
    path = folder / "gold.jsonl"
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def load_error(path: Path) -> str:
    with pytest.raises(GoldError) as caught:
        load_gold(path)
    message = str(caught.value)
    assert "\n" not in message, "a gold error is one line"
    return message


# --------------------------------------------------------------------------- loading


def test_valid_lines_load_with_their_line_numbers(tmp_path: Path) -> None:
    path = write_gold(tmp_path, VALID, "", UNANSWERABLE)
    first, second = load_gold(path)
    assert first == GoldItem(
        id="q017",
        question=VALID["question"],
        answer=VALID["answer"],
        key_facts=(("Italy",), ("Moldova",), ("Portugal",)),
        evidence=(REGULARISATION_TEXT,),
        answerable=True,
        kind=None,
        split=None,
        line=1,
    )
    assert (second.id, second.line, second.kind, second.split) == (
        "q900",
        3,
        "unanswerable",
        "test",
    )
    assert first.to_dict() == VALID
    assert second.to_dict() == UNANSWERABLE


@pytest.mark.parametrize("gold_file", GOLD_FILES, ids=lambda path: path.name)
def test_the_bundled_gold_files_are_valid(gold_file: Path) -> None:
    items = load_gold(gold_file)
    lines = [line for line in gold_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [item.to_dict() for item in items] == [json.loads(line) for line in lines]


def test_a_line_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = write_gold(tmp_path, VALID, '{"id": "q2", "question": ')
    assert load_error(path).startswith(f"{path}:2: not valid JSON")


def test_a_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = write_gold(tmp_path, '["q1", "question"]')
    assert load_error(path).startswith(f"{path}:1: expected a JSON object, got a list")


@pytest.mark.parametrize(
    "field", ["id", "question", "answer", "key_facts", "evidence", "answerable"]
)
def test_a_missing_field_is_named(tmp_path: Path, field: str) -> None:
    record = {name: value for name, value in VALID.items() if name != field}
    path = write_gold(tmp_path, UNANSWERABLE, record)
    assert load_error(path).startswith(f"{path}:2: missing field '{field}'")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", 17, "field 'id' must be a string, got a number"),
        ("question", None, "field 'question' must be a string, got null"),
        ("answerable", "yes", "field 'answerable' must be true or false, got a string"),
        ("answerable", 1, "field 'answerable' must be true or false, got a number"),
        ("evidence", REGULARISATION_TEXT, "field 'evidence' must be a list of strings, got a"),
        ("evidence", [REGULARISATION_TEXT, 3], "field 'evidence' item 1 must be a non-empty"),
        ("key_facts", ["Italy"], "field 'key_facts' group 0 must be a non-empty list"),
        ("key_facts", [["Italy"], []], "field 'key_facts' group 1 must be a non-empty list"),
        ("kind", 3, "field 'kind' must be a string, got a number"),
        ("question", "   ", "field 'question' must hold 1 to 2000 characters"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(
    tmp_path: Path, field: str, value: Any, expected: str
) -> None:
    path = write_gold(tmp_path, {**VALID, field: value})
    assert load_error(path).startswith(f"{path}:1: {expected}")


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_gold(tmp_path, VALID, UNANSWERABLE, {**UNANSWERABLE, "id": "q017"})
    assert load_error(path).startswith(f"{path}:3: duplicate id 'q017' (first used on line 1)")


def test_answerability_must_agree_with_the_evidence(tmp_path: Path) -> None:
    no_evidence = write_gold(tmp_path, {**VALID, "evidence": []})
    assert "an answerable question needs at least one 'evidence' quote" in load_error(no_evidence)
    with_evidence = write_gold(tmp_path, {**UNANSWERABLE, "evidence": [REGULARISATION_TEXT]})
    assert "must have empty 'key_facts' and 'evidence'" in load_error(with_evidence)


def test_an_empty_or_missing_gold_file_is_refused(tmp_path: Path) -> None:
    assert "has no questions" in load_error(write_gold(tmp_path, ""))
    assert "does not exist" in load_error(tmp_path / "missing.jsonl")


# --------------------------------------------------------------------------- the corpus


def test_locate_quote_ignores_differences_of_whitespace() -> None:
    text = "a  b\n\nc d b c"
    assert locate_quote("b c", text) == [(3, 7), (10, 13)]
    assert text[3:7] == "b\n\nc"
    assert locate_quote(" b\tc ", text) == [(3, 7), (10, 13)]
    assert locate_quote("b d", text) == []


def test_a_quote_not_in_the_corpus_fails_with_line_and_quote(tmp_path: Path) -> None:
    quote = "Iceland reported instituting regularisation for all migrants"
    path = write_gold(tmp_path, VALID, {**VALID, "id": "q018", "evidence": [quote]})
    items = load_gold(path)
    texts = {"gcm-unece-2020": SEED_REPORT.read_text(encoding="utf-8")}
    with pytest.raises(GoldError) as caught:
        locate_evidence(items, texts, path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: evidence quote of 'q018' is not in any indexed document")
    assert f'"{quote}"' in message
    assert "\n" not in message


def test_corpus_texts_reads_the_source_document(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    texts = corpus_texts(index)
    source = next(fake_index.seeds_dir.iterdir())
    assert texts == {next(iter(index.documents)): load_document(source).text}


def test_corpus_texts_rebuilds_a_moved_document_from_its_passages(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    shutil.rmtree(fake_index.seeds_dir)
    ((doc_id, text),) = corpus_texts(index).items()
    for passage in index.passages:
        assert text[passage.start : passage.end] == passage.text
    # Headings are not passages, but they are rebuilt where evidence can find them.
    sections = {passage.section for passage in index.passages if passage.section}
    for section in sections:
        assert locate_quote(section, text), section
    for gold_file in SEED_GOLD_FILES:
        items = load_gold(gold_file)
        assert locate_evidence(items, {doc_id: text}, gold_file).keys() == {i.id for i in items}


@pytest.mark.parametrize("gold_file", MULTI_GOLD_FILES, ids=lambda path: path.name)
def test_the_multi_document_gold_quotes_are_in_the_corpus_or_the_seed(gold_file: Path) -> None:
    sources = [SEED_REPORT] + [
        path
        for path in MULTIDOC_CORPUS
        if path.suffix in {".md", ".html", ".docx", ".pdf", ".txt"} and path.name != "README.md"
    ]
    assert len(sources) == 6, sources
    texts = {path.stem: load_document(path).text for path in sources}
    items = load_gold(gold_file)
    assert locate_evidence(items, texts, gold_file).keys() == {i.id for i in items}


def test_corpus_texts_reads_a_windows_1252_source_as_ingest_did(tmp_path: Path) -> None:
    source = tmp_path / "corpus" / "legacy-review.txt"
    source.parent.mkdir()
    text = "Legacy review\n\nCôte d’Ivoire regularised 1,200 “seasonal” workers – in 2021."
    source.write_bytes(text.encode("cp1252"))
    config = IndexConfig(embedding_model="hashing")
    ingest([source.parent], tmp_path / "index", config, HashingEmbedder("hashing"), False, print)
    index = load_index(tmp_path / "index", config)
    # The same characters ingest indexed: the quote lies inside its passage's offsets.
    assert corpus_texts(index) == {"legacy-review": text}
    passage = index.passages[-1]
    ((start, end),) = locate_quote("“seasonal” workers – in 2021", text)
    assert passage.start <= start < end <= passage.end


# --------------------------------------------------------------------------- gold passages


def passage(
    anchor: str, start: int, end: int, section: str | None = None, doc: str = "d"
) -> Passage:
    return Passage(
        anchor=anchor,
        doc_id=doc,
        doc_title="D",
        section=section,
        text="x" * (end - start),
        start=start,
        end=end,
        content_hash="h",
    )


TWO = [passage("d#p1", 0, 100), passage("d#p2", 100, 200)]


def test_a_passage_overlapping_half_the_quote_is_gold() -> None:
    assert gold_anchors([EvidenceSpan("d", 10, 60, "q")], TWO) == {"d#p1"}
    # A quote across the boundary belongs to the passage holding at least half of it.
    assert gold_anchors([EvidenceSpan("d", 80, 140, "q")], TWO) == {"d#p2"}
    assert gold_anchors([EvidenceSpan("d", 60, 120, "q")], TWO) == {"d#p1"}


def test_a_quote_split_evenly_over_two_passages_makes_both_gold() -> None:
    assert gold_anchors([EvidenceSpan("d", 50, 150, "q")], TWO) == {"d#p1", "d#p2"}


def test_every_evidence_span_adds_its_passages() -> None:
    spans = [EvidenceSpan("d", 10, 20, "q"), EvidenceSpan("d", 150, 160, "q")]
    assert gold_anchors(spans, TWO) == {"d#p1", "d#p2"}


def test_passages_of_another_document_are_never_gold() -> None:
    other = [passage("e#p1", 0, 100, doc="e")]
    assert gold_anchors([EvidenceSpan("d", 10, 20, "q")], [*TWO, *other]) == {"d#p1"}


def test_a_quote_longer_than_twice_the_windows_keeps_the_windows_inside_it() -> None:
    windows = [passage(f"d#p1.{i + 1}", 10 * i, 10 * (i + 1)) for i in range(4)]
    # 26 characters over windows holding 3, 10, 10 and 3 of them: none holds half.
    assert gold_anchors([EvidenceSpan("d", 7, 33, "q")], windows) == {"d#p1.2", "d#p1.3"}


def test_a_quoted_heading_makes_the_passages_under_it_gold() -> None:
    passages = [
        passage("d#p1", 0, 50, section="Intro"),
        passage("d#p2", 80, 120, section="Objective 11: Manage borders"),
        passage("d#p3", 122, 150, section="Objective 11: Manage borders"),
        passage("d#p4", 180, 200, section="Objective 12: Strengthen certainty"),
    ]
    heading = EvidenceSpan("d", 52, 78, "Objective 11: Manage  borders")
    assert gold_anchors([heading], passages) == {"d#p2", "d#p3"}
    not_the_heading = EvidenceSpan("d", 152, 178, "Objective 13: Something else")
    assert gold_anchors([not_the_heading], passages) == set()


def test_an_answerable_item_without_gold_passages_is_an_error(tmp_path: Path) -> None:
    path = write_gold(tmp_path, VALID)
    items = load_gold(path)
    spans = {"q017": (EvidenceSpan("d", 300, 320, REGULARISATION_TEXT),)}
    with pytest.raises(GoldError, match=rf"^{path}:1: the evidence of 'q017' lies outside"):
        gold_anchors_by_item(items, spans, TWO, path)


def test_gold_passages_follow_the_quotes_through_any_chunking() -> None:
    document = load_document(SEED_REPORT)
    items = load_gold(GOLD_FILE)
    spans = locate_evidence(items, {document.doc_id: document.text}, GOLD_FILE)
    by_chunking = {
        tokens: gold_anchors_by_item(items, spans, chunk_document(document, tokens), GOLD_FILE)
        for tokens in (32, 64, 200, 1000)
    }
    paragraph_of = {
        tokens: {anchor: anchor.split(".")[0] for anchors in gold.values() for anchor in anchors}
        for tokens, gold in by_chunking.items()
    }
    for item in items:
        if not item.answerable:
            assert all(not gold[item.id] for gold in by_chunking.values())
            continue
        # Finer windows of the same paragraphs: the gold passages are windows of the
        # paragraphs that are gold when each paragraph is one passage.
        paragraphs = {paragraph_of[1000][a] for a in by_chunking[1000][item.id]}
        for tokens, gold in by_chunking.items():
            assert gold[item.id], (item.id, tokens)
            assert {paragraph_of[tokens][a] for a in gold[item.id]} <= paragraphs, (item.id, tokens)


def test_the_regularisation_quote_is_gold_in_its_window_at_every_size() -> None:
    document = load_document(SEED_REPORT)
    ((start, end),) = locate_quote(REGULARISATION_TEXT, document.text)
    for tokens in (32, 64, 200):
        passages = chunk_document(document, tokens)
        gold = gold_anchors([EvidenceSpan(document.doc_id, start, end, "q")], passages)
        texts = [p.text for p in passages if p.anchor in gold]
        assert texts and all(
            2 * (min(end, p.end) - max(start, p.start)) >= end - start
            for p in passages
            if p.anchor in gold
        )
        if tokens == 200:
            assert [REGULARISATION_TEXT in text for text in texts] == [True]
