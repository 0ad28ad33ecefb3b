"""PDF reports (pypdf): paragraphs with their 1-based page numbers, headings where visible.

A PDF has no paragraphs, only positioned lines of text, so they are rebuilt from geometry:
a new paragraph starts after a vertical gap wider than the page's usual line pitch, at a
change of font size or weight, after a short line that ends a sentence, and around a short
line numbered like a heading. A paragraph is a heading
when `rag.loaders.text` recognises its numbering, or when it is a short line set larger or
bolder than the body text. Page numbers and running headers/footers (the same line, up to
its numbers, at the top or bottom of several pages) are dropped. A paragraph cut by a page
break (its last line on the page is a full line, or the next page goes on in lower case,
with no sentence end between) is joined again and keeps the page it starts on: the page a
citation names.

Encrypted, corrupt, empty and image-only (scanned, no text layer) files raise
`DocumentError` with the reason and what to do.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.loaders import (
    TextPart,
    assemble_document,
    names_no_document,
    read_bytes,
    short_reason,
)
from rag.loaders.text import MAX_HEADING_CHARS, is_heading
from rag.text import normalise_whitespace
from rag.types import Document

# A gap this much wider than the usual line pitch separates paragraphs.
PARAGRAPH_GAP_FACTOR = 1.3
# A line this much shorter than the page's full lines, ending a sentence, ends its paragraph.
SHORT_LINE_FACTOR = 0.75
# Text this much larger than the body text, on a short line, is a heading.
HEADING_SIZE_FACTOR = 1.15
# Running headers and footers live in this top and bottom share of the page.
MARGIN_SHARE = 0.1
SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.I
)
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st"})
# Share of unreadable characters (no Unicode mapping in the font) beyond which the text
# layer is garbage rather than text.
MAX_UNREADABLE_SHARE = 0.3

# pypdf reports recoverable damage through logging; the loader reports what matters itself.
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass
class _Line:
    text: str
    x: float
    y: float
    size: float
    bold: bool


@dataclass
class _Paragraph:
    lines: list[_Line]
    page: int
    full_line_chars: float

    @property
    def text(self) -> str:
        return _join_lines([line.text for line in self.lines])

    @property
    def size(self) -> float:
        return max(line.size for line in self.lines)


class PdfLoader:
    """Loads `.pdf` files with a text layer."""

    def load(self, path: Path) -> Document:
        data = read_bytes(path)
        reader = _open(path, data)
        pages = _read_pages(path, reader)
        paragraphs = _drop_running_lines(pages, reader)
        if not any(paragraphs):
            if any(_has_images(page) for page in reader.pages):
                raise DocumentError(
                    f"{path}: the PDF has no text layer (scanned or image-only pages)",
                    "run OCR on it (e.g. 'ocrmypdf in.pdf out.pdf') and ingest the result",
                )
            raise DocumentError(f"{path}: the PDF contains no text", "remove it from the corpus")
        merged = _join_across_pages(paragraphs)
        _check_readable(path, merged)
        body_size = _body_size(merged)
        parts = [
            TextPart(
                text=paragraph.text,
                kind="heading" if _is_heading(paragraph, body_size) else "paragraph",
                page=paragraph.page,
            )
            for paragraph in merged
        ]
        return assemble_document(path, data, parts, _title(reader, merged))


def _open(path: Path, data: bytes) -> Any:
    """A pypdf reader over `data`, decrypted if it opens without a password."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # The header may follow up to 1 KiB of junk (PDF 1.7, annex H); anything else is not PDF.
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(f"{path}: not a PDF file", "remove it or give it its real extension")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are encrypted only to restrict printing or copying: they open with
            # the empty password. Those needing a real one cannot be read.
            try:
                opened = bool(reader.decrypt(""))
            except DependencyError:
                raise DocumentError(
                    f"{path}: the PDF is AES-encrypted, which needs the 'cryptography' package",
                    "pip install cryptography, or save an unencrypted copy and ingest that",
                ) from None
            if not opened:
                raise DocumentError(
                    f"{path}: the PDF is encrypted (password-protected)",
                    "save an unprotected copy and ingest that",
                )
        if len(reader.pages) == 0:
            raise DocumentError(f"{path}: the PDF has no pages", "remove it from the corpus")
    except DocumentError:
        raise
    except Exception as error:  # pypdf raises many types on damaged files
        raise DocumentError(
            f"{path}: the PDF is damaged and cannot be read ({short_reason(error)})",
            "replace it with an intact copy",
        ) from None
    return reader


def _read_pages(path: Path, reader: Any) -> list[list[_Paragraph]]:
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            lines = _page_lines(page)
        except Exception as error:  # a damaged content stream
            raise DocumentError(
                f"{path}: page {number} of the PDF is damaged ({short_reason(error)})",
                "replace it with an intact copy",
            ) from None
        pages.append(_paragraphs(lines, number))
    return pages


def _page_lines(page: Any) -> list[_Line]:
    """The page's text lines in pypdf's reading order, each with position, size and weight.

    pypdf calls the visitor with exactly the pieces it concatenates into the page text, so
    each line of the text can be traced to the pieces it is made of.
    """
    pieces: list[tuple[int, str, float, float, float, bool]] = []
    offset = 0

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        nonlocal offset
        if text:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
            name = str((font or {}).get("/BaseFont", ""))
            bold = "bold" in name.lower() or "black" in name.lower()
            pieces.append((offset, text, x, y, float(size) * (scale or 1.0), bold))
            offset += len(text)

    text = page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    piece_index = 0
    position = 0
    for raw in text.split("\n"):
        line_start, line_end = position, position + len(raw)
        position = line_end + 1
        cleaned = normalise_whitespace(raw.translate(LIGATURES))
        if not cleaned:
            continue
        owners = []
        while piece_index < len(pieces) and pieces[piece_index][0] < line_end:
            start, piece_text = pieces[piece_index][:2]
            if start + len(piece_text) > line_start and piece_text.strip():
                owners.append(pieces[piece_index])
            if start + len(piece_text) > line_end:
                break  # the piece continues on the next line
            piece_index += 1
        if not owners:
            owners = [(0, raw, 0.0, lines[-1].y if lines else 0.0, 0.0, False)]
        _, _, x, y, _, _ = owners[0]
        lines.append(
            _Line(
                text=cleaned,
                x=x,
                y=y,
                size=max(owner[4] for owner in owners),
                bold=all(owner[5] for owner in owners),
            )
        )
    return lines


def _paragraphs(lines: list[_Line], page: int) -> list[_Paragraph]:
    """Group a page's lines into paragraphs (see the module docstring)."""
    if not lines:
        return []
    pitch = _line_pitch(lines)
    full_width = _full_line_chars(lines)
    paragraphs = [_Paragraph([lines[0]], page, full_width)]
    for previous, line in zip(lines, lines[1:], strict=False):
        gap = previous.y - line.y
        size = max(previous.size, line.size, 1.0)
        new_paragraph = (
            abs(previous.size - line.size) > 0.15 * size
            or previous.bold != line.bold
            or gap < -0.5 * size  # moved up: a new column or a box
            or gap > size * max(PARAGRAPH_GAP_FACTOR * pitch, pitch + 0.35)
            or (
                SENTENCE_END.search(previous.text) is not None
                and len(previous.text) < SHORT_LINE_FACTOR * full_width
            )
            or (_heading_line(previous, full_width) or _heading_line(line, full_width))
        )
        if new_paragraph:
            paragraphs.append(_Paragraph([line], page, full_width))
        else:
            paragraphs[-1].lines.append(line)
    return paragraphs


def _heading_line(line: _Line, full_width: float) -> bool:
    """A short line numbered like a heading ("2. Findings"): a full-width line starting with a
    number ("2016 saw …") is the middle of a paragraph instead."""
    return len(line.text) < SHORT_LINE_FACTOR * full_width and is_heading(line.text)


def _line_pitch(lines: list[_Line]) -> float:
    """The usual distance between consecutive lines of a paragraph, as a multiple of the font
    size (about 1.2), so that it holds for titles and body text alike."""
    ratios = [
        (previous.y - line.y) / line.size
        for previous, line in zip(lines, lines[1:], strict=False)
        if line.size > 0
        and abs(previous.size - line.size) <= 0.15 * line.size
        and 0.5 * line.size < previous.y - line.y < 2.5 * line.size
    ]
    return statistics.median(ratios) if ratios else 1.2


def _full_line_chars(lines: list[_Line]) -> float:
    lengths = sorted(len(line.text) for line in lines)
    return lengths[int(0.8 * (len(lengths) - 1))]


def _join_lines(lines: list[str]) -> str:
    """One paragraph from its lines; a line ending in a hyphen joins the next without space."""
    text = lines[0]
    for line in lines[1:]:
        if text.endswith("\u00ad"):
            text = text[:-1] + line
        elif text.endswith("-") and line[:1].islower():
            text += line
        else:
            text += " " + line
    return text


def _drop_running_lines(pages: list[list[_Paragraph]], reader: Any) -> list[list[_Paragraph]]:
    """The pages without page numbers and running headers/footers in their margins."""

    def in_margin(paragraph: _Paragraph, page: Any) -> bool:
        box = page.mediabox
        height = float(box.top) - float(box.bottom)
        y = paragraph.lines[0].y - float(box.bottom)
        return y > (1 - MARGIN_SHARE) * height or y < MARGIN_SHARE * height

    def shape(paragraph: _Paragraph) -> str:
        return re.sub(r"\d+", "#", paragraph.text.lower())

    margins = [
        {id(p) for p in paragraphs if in_margin(p, page)}
        for paragraphs, page in zip(pages, reader.pages, strict=True)
    ]
    counts = Counter(
        shape(p)
        for paragraphs, marginal in zip(pages, margins, strict=True)
        for p in {shape(q): q for q in paragraphs if id(q) in marginal}.values()
    )
    repeated = {s for s, n in counts.items() if n >= 3 or (n >= 2 and n >= 0.5 * len(pages))}
    return [
        [
            p
            for p in paragraphs
            if not (
                id(p) in marginal
                and (PAGE_NUMBER.match(p.text) is not None or shape(p) in repeated)
            )
        ]
        for paragraphs, marginal in zip(pages, margins, strict=True)
    ]


def _join_across_pages(pages: list[list[_Paragraph]]) -> list[_Paragraph]:
    """All paragraphs in order, a paragraph cut by a page break joined to its continuation."""
    merged: list[_Paragraph] = []
    for paragraphs in pages:
        for index, paragraph in enumerate(paragraphs):
            previous = merged[-1] if merged else None
            continues = (
                index == 0
                and previous is not None
                and previous.page != paragraph.page
                and SENTENCE_END.search(previous.lines[-1].text) is None
                and (
                    paragraph.lines[0].text[:1].islower()
                    or len(previous.lines[-1].text) >= SHORT_LINE_FACTOR * previous.full_line_chars
                )
                and abs(previous.size - paragraph.size) <= 0.15 * paragraph.size
            )
            if continues and previous is not None:
                previous.lines.extend(paragraph.lines)
            else:
                merged.append(paragraph)
    return merged


def _body_size(paragraphs: list[_Paragraph]) -> float:
    """The font size most of the document's text is set in."""
    weights: Counter[float] = Counter()
    for paragraph in paragraphs:
        for line in paragraph.lines:
            weights[round(line.size, 1)] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _is_heading(paragraph: _Paragraph, body_size: float) -> bool:
    text = paragraph.text
    if len(paragraph.lines) > 2 or len(text) > MAX_HEADING_CHARS or text.endswith((".", ",", ";")):
        return False
    if is_heading(text):
        return True
    larger = body_size > 0 and paragraph.size >= HEADING_SIZE_FACTOR * body_size
    bold = all(line.bold for line in paragraph.lines)
    return (larger or bold) and any(character.isalpha() for character in text)


def _check_readable(path: Path, paragraphs: list[_Paragraph]) -> None:
    """Refuse a text layer of unmapped glyphs, which would index noise."""
    text = "".join(paragraph.text for paragraph in paragraphs)
    unreadable = sum(
        1
        for character in text
        if character == "\ufffd" or "\ue000" <= character <= "\uf8ff" or ord(character) < 32
    )
    if unreadable > MAX_UNREADABLE_SHARE * len(text):
        raise DocumentError(
            f"{path}: the PDF's text layer is unreadable (its fonts do not map to characters)",
            "run OCR on it (e.g. 'ocrmypdf --force-ocr in.pdf out.pdf') and ingest the result",
        )


def _title(reader: Any, paragraphs: list[_Paragraph]) -> str:
    """The metadata title unless it names no document (`names_no_document`), else the
    largest text on the first page: a PDF marks no headings, its title is set largest."""
    try:
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:  # damaged metadata: fall back to the text
        title = ""
    if title and not names_no_document(title):
        return title
    first_page = [p for p in paragraphs if p.page == paragraphs[0].page]
    largest = max(first_page, key=lambda p: p.size)
    return largest.text


def _has_images(page: Any) -> bool:
    """Whether the page shows an image (an image object or one inline in its content)."""
    try:
        return len(page.images) > 0
    except Exception:  # damaged image resources: treat as none
        return False
