"""Answers about the collection itself ("How many reports are indexed?", "Which reports do
you have?", "List the reports"): the documents the index's own records list, with no
retrieval and no model.

No passage can answer these: a report does not know which reports sit beside it in the
index, and the nearest passage answers some other count ("28 Member States submitted
reports"). The records (the manifest's documents, as `rag docs list` shows them) answer
exactly. Such an answer cites nothing, since it quotes no report, and says where it comes
from instead; its `mode` is `COLLECTION_MODE`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from rag.citations import CITATION_MARKER
from rag.manifest import DocumentRecord
from rag.near_duplicates import as_percent
from rag.text import normalise_whitespace

# The `Answer.mode` of an answer read from the index's records rather than from the reports.
COLLECTION_MODE = "index"


def collection_answer(
    documents: Mapping[str, DocumentRecord], chosen: Collection[str] | None = None
) -> str:
    """Which documents `documents` (the index's records, by id) holds: how many, then each
    by its full title and id, numbered in id order as `rag docs list` orders them; then the
    pairs marked as near-duplicates, and with `chosen` (ids), the ones the question was
    limited to."""
    if not documents:
        return "No report is indexed (the index's records list none)."
    count = f"{len(documents)} report{'s are' if len(documents) > 1 else ' is'} indexed"
    lines = [f"{count} (from the index's own records, not from the reports' text):"]
    numbers: dict[str, int] = {}
    for number, (doc_id, record) in enumerate(sorted(documents.items()), start=1):
        numbers[doc_id] = number
        lines.append(f"{number}. {_plain(record.title)} (id: {doc_id})")
    for doc_id, record in sorted(documents.items()):
        for other, share in record.near_duplicates:
            if other in numbers and doc_id < other:
                lines.append(
                    f"{numbers[doc_id]} and {numbers[other]} may be the same report twice "
                    f"(another edition or format): {as_percent(share)} of the shorter one's "
                    "text is in the other."
                )
    if chosen:
        within = sorted(numbers[doc_id] for doc_id in chosen if doc_id in numbers)
        lines.append(
            f"This question was asked within {_joined(within)} only; the list is of every "
            "indexed report."
        )
    return "\n".join(lines)


def _joined(numbers: list[int]) -> str:
    """The numbers as words in a list: 1; 1 and 4; 1, 3 and 4."""
    words = [str(number) for number in numbers]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _plain(title: str) -> str:
    """`title` on one line, with anything that reads as a citation marker ("Annex [2]")
    bracketed otherwise: the answer cites nothing, and a stray marker would break the
    citation contract."""
    return CITATION_MARKER.sub(r"(\1)", normalise_whitespace(title))
