"""The gold set: loading and validating a gold file, and locating its evidence in the corpus.

A gold file holds one JSON object per line (see `eval/README.md`). Evidence is stored as
verbatim quotes, never as passage anchors, so that the gold set survives any change of
chunking: the quotes are found in the indexed documents' text (whitespace-normalised), their
character spans are taken, and whichever passages the current index has over those spans
become the question's gold passages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import DocumentError, RagError
from rag.index import PassageIndex
from rag.loaders import load_document
from rag.settings import MAX_QUESTION_CHARS
from rag.text import normalise_whitespace
from rag.types import Passage

# Field name → (accepted type, how an error names it). "kind" and "split" are optional.
REQUIRED_FIELDS: dict[str, tuple[type, str]] = {
    "id": (str, "a string"),
    "question": (str, "a string"),
    "answer": (str, "a string"),
    "key_facts": (list, "a list of lists of strings"),
    "evidence": (list, "a list of strings"),
    "answerable": (bool, "true or false"),
}
OPTIONAL_FIELDS: dict[str, tuple[type, str]] = {
    "kind": (str, "a string"),
    "split": (str, "a string"),
}
_WORD_RUN = re.compile(r"\S+")


class GoldError(RagError):
    """A gold file is missing, malformed, or quotes text that is not in the indexed corpus."""


@dataclass(frozen=True)
class GoldItem:
    """One validated gold question; `line` is its 1-based line number in the gold file."""

    id: str
    question: str
    answer: str
    key_facts: tuple[tuple[str, ...], ...]
    evidence: tuple[str, ...]
    answerable: bool
    kind: str | None
    split: str | None
    line: int

    def to_dict(self) -> dict[str, Any]:
        """The item in the gold file's own format (what `eval.metrics` reads)."""
        record: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "key_facts": [list(group) for group in self.key_facts],
            "evidence": list(self.evidence),
            "answerable": self.answerable,
        }
        if self.kind is not None:
            record["kind"] = self.kind
        if self.split is not None:
            record["split"] = self.split
        return record


@dataclass(frozen=True)
class EvidenceSpan:
    """Where an evidence quote sits: a character span of one indexed document's text."""

    doc_id: str
    start: int
    end: int
    quote: str


# --------------------------------------------------------------------------- loading


def load_gold(path: Path) -> list[GoldItem]:
    """Parse and validate every line of the gold file at `path` (blank lines are skipped).

    Raises `GoldError` naming the file, the line and the offending field on the first
    problem: invalid JSON, a missing field, a wrong type, a duplicate id, or answerability
    that contradicts the evidence.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise GoldError(
            f"gold file {path} does not exist",
            "pass --gold FILE, or run from the repository root for eval/gold.jsonl",
        ) from None
    except UnicodeDecodeError:
        raise GoldError(f"gold file {path} is not UTF-8 text", "re-save it as UTF-8") from None
    items: list[GoldItem] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = _parse_line(line, f"{path}:{number}", number)
        if item.id in first_line_of:
            raise GoldError(
                f"{path}:{number}: duplicate id '{item.id}' (first used on line "
                f"{first_line_of[item.id]})",
                "give every question its own id",
            )
        first_line_of[item.id] = number
        items.append(item)
    if not items:
        raise GoldError(f"gold file {path} has no questions", "put one JSON object per line")
    return items


def _parse_line(line: str, where: str, number: int) -> GoldItem:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise GoldError(
            f"{where}: not valid JSON ({error.msg} at column {error.colno})",
            "write one JSON object per line",
        ) from None
    if not isinstance(record, dict):
        raise GoldError(f"{where}: expected a JSON object, got {_type_name(record)}")
    for name, (expected, description) in REQUIRED_FIELDS.items():
        if name not in record:
            raise GoldError(f"{where}: missing field '{name}'", f"add it ({description})")
        _check_type(record[name], expected, description, f"{where}: field '{name}'")
    for name, (expected, description) in OPTIONAL_FIELDS.items():
        if record.get(name) is not None:
            _check_type(record[name], expected, description, f"{where}: field '{name}'")

    question = record["question"]
    if not question.strip() or len(question) > MAX_QUESTION_CHARS:
        raise GoldError(
            f"{where}: field 'question' must hold 1 to {MAX_QUESTION_CHARS} characters",
            "write the question out",
        )
    key_facts = _key_fact_groups(record["key_facts"], where)
    evidence = record["evidence"]
    for position, quote in enumerate(evidence):
        if not isinstance(quote, str) or not quote.strip():
            raise GoldError(
                f"{where}: field 'evidence' item {position} must be a non-empty string, "
                f"got {quote!r}"
            )
    if record["answerable"] and not evidence:
        raise GoldError(
            f"{where}: an answerable question needs at least one 'evidence' quote",
            'quote the passage that answers it, or set "answerable": false',
        )
    if not record["answerable"] and (evidence or key_facts):
        raise GoldError(
            f"{where}: an unanswerable question must have empty 'key_facts' and 'evidence'",
            'empty them, or set "answerable": true',
        )
    return GoldItem(
        id=record["id"],
        question=question,
        answer=record["answer"],
        key_facts=key_facts,
        evidence=tuple(evidence),
        answerable=record["answerable"],
        kind=record.get("kind"),
        split=record.get("split"),
        line=number,
    )


def _key_fact_groups(value: list[Any], where: str) -> tuple[tuple[str, ...], ...]:
    groups = []
    for position, group in enumerate(value):
        valid = (
            isinstance(group, list)
            and group
            and all(isinstance(fact, str) and fact.strip() for fact in group)
        )
        if not valid:
            raise GoldError(
                f"{where}: field 'key_facts' group {position} must be a non-empty list of "
                f"non-empty strings, got {json.dumps(group)}",
                'write e.g. [["Italy"], ["Moldova", "Republic of Moldova"]]',
            )
        groups.append(tuple(group))
    return tuple(groups)


def _check_type(value: Any, expected: type, description: str, what: str) -> None:
    # bool is a subclass of int, and JSON has no other way to say true/false: test exactly.
    matches = type(value) is bool if expected is bool else isinstance(value, expected)
    if not matches:
        raise GoldError(f"{what} must be {description}, got {_type_name(value)}")


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


# --------------------------------------------------------------------------- the corpus


def corpus_texts(index: PassageIndex) -> dict[str, str]:
    """The text of every indexed document, by document id.

    The source file named in the manifest is read when it is still there unchanged (its
    content hash matches). Otherwise the text is rebuilt from the passages at their
    offsets, which is all the index needs: passages carry their spans in that text.
    """
    texts: dict[str, str] = {}
    for doc_id, record in index.documents.items():
        path = Path(record.path)
        text: str | None = None
        if path.is_file():
            try:
                document = load_document(path)
            except DocumentError:
                document = None
            if document is not None and document.content_hash == record.content_hash:
                text = document.text
        texts[doc_id] = text if text is not None else _rebuild_text(index.passages, doc_id)
    return texts


def _rebuild_text(passages: Sequence[Passage], doc_id: str) -> str:
    """The document's text as far as the index knows it: each passage at its offsets, and
    each section heading in the gap before the first passage under it (headings are not
    passages, but evidence may quote one)."""
    own = sorted((p for p in passages if p.doc_id == doc_id), key=lambda p: p.start)
    characters = [" "] * max((passage.end for passage in own), default=0)
    previous_end, previous_section = 0, None
    for passage in own:
        heading = passage.section
        gap = passage.start - previous_end
        if heading and heading != previous_section and len(heading) + 2 <= gap:
            start = previous_end + 1
            characters[start : start + len(heading)] = heading
        characters[passage.start : passage.end] = passage.text
        previous_end, previous_section = passage.end, heading
    return "".join(characters)


def locate_quote(quote: str, text: str) -> list[tuple[int, int]]:
    """Every (start, end) span of `text` that equals `quote` once runs of whitespace in
    both are collapsed to one space; empty when the quote is not there."""
    runs = list(_WORD_RUN.finditer(text))
    normalised = " ".join(run.group() for run in runs)
    # offsets[i] is the position in `text` of character i of `normalised`.
    offsets: list[int] = []
    for position, run in enumerate(runs):
        if position:
            offsets.append(run.start() - 1)
        offsets.extend(range(run.start(), run.end()))
    needle = normalise_whitespace(quote)
    spans = []
    found = normalised.find(needle) if needle else -1
    while found >= 0:
        spans.append((offsets[found], offsets[found + len(needle) - 1] + 1))
        found = normalised.find(needle, found + 1)
    return spans


def locate_evidence(
    items: Iterable[GoldItem], texts: Mapping[str, str], gold_path: Path
) -> dict[str, tuple[EvidenceSpan, ...]]:
    """The spans of every item's evidence quotes in the indexed documents, by item id.

    A quote may occur in several places or documents; each occurrence is a span. Raises
    `GoldError` with the file, the line and the quote for a quote found nowhere.
    """
    located: dict[str, tuple[EvidenceSpan, ...]] = {}
    for item in items:
        spans: list[EvidenceSpan] = []
        for quote in item.evidence:
            found = [
                EvidenceSpan(doc_id, start, end, quote)
                for doc_id, text in texts.items()
                for start, end in locate_quote(quote, text)
            ]
            if not found:
                raise GoldError(
                    f"{gold_path}:{item.line}: evidence quote of '{item.id}' is not in any "
                    f'indexed document: "{quote}"',
                    "copy the quote verbatim from the report, or 'rag ingest' its document",
                )
            spans.extend(found)
        located[item.id] = tuple(spans)
    return located


def gold_anchors(spans: Iterable[EvidenceSpan], passages: Sequence[Passage]) -> set[str]:
    """Anchors of the passages that are gold for evidence at `spans`.

    A passage is gold when it overlaps at least half of an evidence span. Two cases the
    rule leaves without a gold passage are settled by offsets as well:

    - a quote so long that no passage covers half of it (it runs across three or more
      small windows): the passages lying at least half inside it are gold;
    - a quote inside a heading, which is not a passage but the `section` of the passages
      under it: those passages are gold (the run after the span that shares the first
      one's section, when that section contains the quote).
    """
    anchors: set[str] = set()
    for span in spans:
        own = sorted((p for p in passages if p.doc_id == span.doc_id), key=lambda p: p.start)
        overlaps = [(p, min(p.end, span.end) - max(p.start, span.start)) for p in own]
        gold = {p.anchor for p, overlap in overlaps if 2 * overlap >= span.end - span.start}
        if not gold:
            gold = {
                p.anchor
                for p, overlap in overlaps
                if overlap > 0 and 2 * overlap >= p.end - p.start
            }
        if not gold:
            gold = {p.anchor for p in _passages_under_heading(span, own)}
        anchors |= gold
    return anchors


def _passages_under_heading(span: EvidenceSpan, passages: Sequence[Passage]) -> list[Passage]:
    following = [p for p in passages if p.start >= span.end]
    if not following or not following[0].section:
        return []
    section = following[0].section
    quote = normalise_whitespace(span.quote)
    if quote not in normalise_whitespace(section):
        return []
    under = []
    for passage in following:
        if passage.section != section:
            break
        under.append(passage)
    return under


def gold_anchors_by_item(
    items: Iterable[GoldItem],
    spans: Mapping[str, tuple[EvidenceSpan, ...]],
    passages: Sequence[Passage],
    gold_path: Path,
) -> dict[str, set[str]]:
    """The gold anchors of every item, by item id.

    Raises `GoldError` naming the line and the quote when an answerable item's evidence
    lies outside every passage of the index (nothing could ever be retrieved for it).
    """
    anchors: dict[str, set[str]] = {}
    for item in items:
        anchors[item.id] = gold_anchors(spans.get(item.id, ()), passages)
        if item.answerable and not anchors[item.id]:
            raise GoldError(
                f"{gold_path}:{item.line}: the evidence of '{item.id}' lies outside every "
                f'indexed passage: "{item.evidence[0]}"',
                "quote the paragraph that answers the question",
            )
    return anchors
