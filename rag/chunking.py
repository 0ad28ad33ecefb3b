"""Chunking: a document's paragraphs become passages with stable anchors.

A paragraph is one passage, anchored `<doc>#p<n>` by its position among the document's
paragraphs; a paragraph longer than the token budget is split into sentence-aligned windows
anchored `<doc>#p<n>.<i>`. A heading becomes the section of the paragraphs under it, and its
text also opens the first passage after it (the passage's span starts at the heading), so
that questions about the report's structure ("Which objectives did Roundtable 3 cover?")
find it without short heading-only passages crowding the ranking. Re-chunking an unchanged
file gives identical anchors.

Paged documents (PDF) keep the same anchors: the page is not part of the anchor. It travels
in `Passage.page` (1-based, the page the paragraph starts on) and citations show it as
"p. 7". Paragraphs are numbered through the whole document, so one anchor grammar serves
every format, `#p<n>.<i>` keeps its single meaning (window i of paragraph n), and an anchor
is as stable across re-ingests as the file is.
"""

from __future__ import annotations

import hashlib
import re

from rag.text import PARAGRAPH_BREAK, count_tokens, normalise_whitespace, split_sentences
from rag.types import Document, Passage

# Bump when chunking output changes, so that old indexes are rebuilt rather than misread.
CHUNKER_VERSION = "paragraph-window-3"
# The anchor of a document's first passage: paragraph 1, or its first window.
FIRST_PASSAGE = re.compile(r"#p1(?:\.1)?$")


def chunk_document(document: Document, max_tokens: int) -> list[Passage]:
    """Passages of `document`, in reading order."""
    passages: list[Passage] = []
    section: str | None = None
    heading_start: int | None = None
    paragraph_number = 0
    for block in document.blocks:
        raw = document.text[block.start : block.end]
        if block.kind == "heading":
            section = normalise_whitespace(raw)
            heading_start = block.start if heading_start is None else heading_start
            continue
        paragraph_number += 1
        anchor = f"{document.doc_id}#p{paragraph_number}"
        start = block.start if heading_start is None else heading_start
        heading_start = None
        windows = _windows(document.text, start, block.end, max_tokens)
        for index, (start, end) in enumerate(windows, start=1):
            text = document.text[start:end]
            passages.append(
                Passage(
                    anchor=anchor if len(windows) == 1 else f"{anchor}.{index}",
                    doc_id=document.doc_id,
                    doc_title=document.title,
                    section=section,
                    text=text,
                    start=start,
                    end=end,
                    content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
                    page=block.page,
                )
            )
    return passages


def document_heading(passage: Passage) -> str | None:
    """The document's first heading, when `passage` is the document's first passage and
    opens with it: the headings above the first paragraph are the title as printed (an
    HTML `h1`, a Word "Title", a Markdown `#` line), whatever title the metadata gives."""
    if passage.section is None or not FIRST_PASSAGE.search(passage.anchor):
        return None
    return normalise_whitespace(PARAGRAPH_BREAK.split(passage.text, maxsplit=1)[0])


def _windows(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Character spans covering text[start:end] in sentence-aligned windows of ≤ max_tokens
    (a single sentence longer than that is split at word boundaries)."""
    paragraph = text[start:end]
    if count_tokens(paragraph) <= max_tokens:
        return [(start, end)]
    spans = _sentence_spans(paragraph, start)
    pieces: list[tuple[int, int]] = []
    for span in spans:
        if count_tokens(text[span[0] : span[1]]) > max_tokens:
            pieces.extend(_word_windows(text, span, max_tokens))
        else:
            pieces.append(span)
    windows: list[tuple[int, int]] = []
    window_start, window_end = pieces[0]
    for piece_start, piece_end in pieces[1:]:
        if count_tokens(text[window_start:piece_end]) <= max_tokens:
            window_end = piece_end
        else:
            windows.append((window_start, window_end))
            window_start, window_end = piece_start, piece_end
    windows.append((window_start, window_end))
    return windows


def _sentence_spans(paragraph: str, offset: int) -> list[tuple[int, int]]:
    spans = []
    cursor = 0
    for sentence in split_sentences(paragraph):
        position = paragraph.index(sentence, cursor)
        spans.append((offset + position, offset + position + len(sentence)))
        cursor = position + len(sentence)
    return spans


def _word_windows(text: str, span: tuple[int, int], max_tokens: int) -> list[tuple[int, int]]:
    words = list(re.finditer(r"\S+", text[span[0] : span[1]]))
    windows: list[tuple[int, int]] = []
    first = 0
    for last in range(len(words)):
        if (
            count_tokens(text[span[0] + words[first].start() : span[0] + words[last].end()])
            > max_tokens
            and last > first
        ):
            windows.append((span[0] + words[first].start(), span[0] + words[last - 1].end()))
            first = last
    windows.append((span[0] + words[first].start(), span[0] + words[-1].end()))
    return windows
