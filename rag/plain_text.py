"""An answer as plain text, for reading where nothing is clickable: the terminal (`rag ask`)
and OpenAI-compatible chat clients (`/v1/chat/completions`), which show a message's text and
nothing else. The text says all the structured answer does: why a refusal refuses, the
caution on loose evidence, and each source by report, section and anchor with its quote, so
that every `[n]` can be checked.
"""

from __future__ import annotations

from rag.text import normalise_whitespace
from rag.types import Answer

WEAK_EVIDENCE_NOTE = (
    "Note: the closest passages match this question only loosely; the reports may not "
    "answer it. Check the sources."
)


def answer_as_text(answer: Answer) -> str:
    """The answer and its numbered sources (a refusal: why, and the closest passages)."""
    lines = [answer.answer, ""]
    if answer.abstained:
        if answer.abstention_reason:
            # As --json and the widget give it: a bare refusal leaves the reader to guess.
            lines.insert(1, f"Why: {answer.abstention_reason}")
        lines.append("Closest passages (they do not answer the question):")
        for hit in answer.hits[:3]:
            passage = hit.passage
            lines.append(
                f"  - {source_place(passage.doc_title, passage.section)} ({passage.anchor})"
            )
        return "\n".join(lines)
    if answer.weak_evidence:
        lines += [WEAK_EVIDENCE_NOTE, ""]
    if not answer.citations:
        # A list of the indexed reports, read from the index's records, quotes no report.
        return "\n".join(lines).rstrip("\n")
    lines.append("Sources:")
    for citation in answer.citations:
        # The document's title first: an official cites the report, the anchor is for
        # looking the passage up ('rag ask' JSON, /api/passages).
        where = source_place(citation.doc_title, citation.section)
        if citation.page is not None:
            where += f", p. {citation.page}"
        lines.append(f"  [{citation.n}] {where} ({citation.anchor})")
        lines.append(f'      "{citation.quote}"')
    return "\n".join(lines)


def source_place(title: str, section: str | None) -> str:
    """Where a passage stands: its document's title, then its section, unless it has none or
    the section is the title (a report whose first heading is its title), said once."""
    if section is None or normalise_whitespace(section).casefold() in (
        "",
        normalise_whitespace(title).casefold(),
    ):
        return title
    return f"{title}, {section}"
