"""Plain data passed between pipeline stages.

Every stage takes and returns these frozen dataclasses; the CLI, the HTTP API and the
evaluation runner all serialise the same objects through `to_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A source document as a loader returns it: its full text and its structure."""

    doc_id: str
    title: str
    path: str
    text: str
    content_hash: str
    blocks: tuple[Block, ...]
    # The encoding a text file (.txt, .md, .html) was decoded from; None for PDF and Word.
    encoding: str | None = None


@dataclass(frozen=True)
class Block:
    """A paragraph or heading found by a loader, with its character span in `Document.text`."""

    start: int
    end: int
    kind: str  # "paragraph" or "heading"
    page: int | None = None


@dataclass(frozen=True)
class Passage:
    """A retrievable unit of a document: one paragraph, or one token window of a long one."""

    anchor: str
    doc_id: str
    doc_title: str
    section: str | None
    text: str
    start: int
    end: int
    content_hash: str
    page: int | None = None

    @property
    def headed_text(self) -> str:
        """The passage's text under its section heading: the words lexical matching reads."""
        return f"{self.section or ''} {self.text}"

    def labelled(self, text: str) -> str:
        """`text` (the passage's text, or a sentence of it) after its document's title and
        its section heading: where a report is named (its title) or a state or body is named
        for the text (its heading) when the text itself does not name it."""
        return f"{self.doc_title} {self.section or ''} {text}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and rank (0-based) in the ranking."""

    passage: Passage
    score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        """The passage as answers list it (`Answer.to_dict()["passages"]`, the API's events)."""
        return {
            "anchor": self.passage.anchor,
            "doc": self.passage.doc_id,
            "section": self.passage.section,
            "page": self.passage.page,
            "text": self.passage.text,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage offered to the generator as a numbered source
    (with the sentence after it when that one finishes what it says), verbatim.

    `relevance` ranks sentences (it includes the passage's retrieval rank); `match` is the
    sentence's own, rank-free similarity to the question (0..1), which abstention compares
    with its threshold.
    """

    passage: Passage
    sentence: str
    relevance: float
    match: float


@dataclass(frozen=True)
class Citation:
    """What an answer's `[n]` marker resolves to: the passage and the verbatim supporting quote."""

    n: int
    anchor: str
    doc: str
    doc_title: str
    section: str | None
    page: int | None
    text: str
    quote: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnswerPart:
    """One part of a question of several parts (`rag.compound`) and its answer: what a client
    shows under the part's own question, so that it need not find the parts in the text.

    `answer` is the text under the part's question in the whole answer's text, its `[n]`
    markers numbered as the whole answer's citations; for a refused part it is the refusal,
    with its reason (`abstention_reason`) in brackets. `citation_numbers` are the `n` of the
    whole answer's citations that the part cites, in the part's own order.
    """

    question: str
    answer: str
    abstained: bool
    abstention_reason: str | None
    citation_numbers: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "citation_numbers": list(self.citation_numbers)}


@dataclass(frozen=True)
class Answer:
    """A verified answer: text with `[n]` markers, its citations and the retrieved passages."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    model: str
    timings_ms: dict[str, float | None] = field(default_factory=dict)
    # How the text was produced: "generated", "extractive" (model text failed verification
    # and the supporting sentences are quoted instead) or "abstained".
    mode: str = "generated"
    # Why the assistant abstained (None when it answered), e.g. "the closest passages do not
    # mention Denmark".
    abstention_reason: str | None = None
    # Whether the answer rests on evidence that matches the question only loosely, so that
    # the reports may not answer it (never for an abstention).
    weak_evidence: bool = False
    # A question of several parts: each part and its answer, in the order asked (`answer`
    # is then their texts, each under its question, unless every part is refused). Empty
    # for a question of one part.
    parts: tuple[AnswerPart, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "mode": self.mode,
            "abstention_reason": self.abstention_reason,
            "weak_evidence": self.weak_evidence,
            "citations": [citation.to_dict() for citation in self.citations],
            "parts": [part.to_dict() for part in self.parts],
            "passages": [hit.to_dict() for hit in self.hits],
            "model": self.model,
            "timings_ms": {
                name: (round(value, 1) if value is not None else None)
                for name, value in self.timings_ms.items()
            },
        }
