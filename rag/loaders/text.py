"""Plain-text reports: paragraphs are separated by blank lines; headings are recognised by
their numbering ("1. Introduction", "iv. …", "Roundtable 3: …", "Objective 11: …")."""

from __future__ import annotations

import re
from pathlib import Path

from rag.errors import DocumentError
from rag.loaders import content_hash, document_id
from rag.text import normalise_whitespace
from rag.types import Block, Document

# A heading is a short line that starts with a section number or a section keyword and does
# not end like a sentence. Generic "short line" rules would take page-break fragments of
# sentences ("The purpose of this report is to synthesis") for headings.
HEADING_PATTERN = re.compile(
    r"""^(?:
        \d+(?:\.\d+)*\.?\s+\S             # 1. Introduction / 2.3 Findings
      | [ivxlc]+\.\s+\S                   # iv. GCM Regional Review report
      | [IVXLC]+\.\s+\S                   # IV. Conclusions
      | (?:Roundtable|Objective|Chapter|Section|Part|Annex|Appendix)\s+[\dIVXLC]+\b
    )""",
    re.VERBOSE,
)
MAX_HEADING_CHARS = 160
PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")


def is_heading(line: str) -> bool:
    line = line.strip()
    return (
        0 < len(line) <= MAX_HEADING_CHARS
        and "\n" not in line
        and not line.endswith((".", ",", ";"))
        and HEADING_PATTERN.match(line) is not None
    )


def split_blocks(text: str) -> list[Block]:
    """Paragraph and heading blocks of `text`, by character span (whitespace trimmed)."""
    blocks: list[Block] = []
    position = 0
    for separator in [*PARAGRAPH_BREAK.finditer(text), None]:
        end = separator.start() if separator else len(text)
        raw = text[position:end]
        stripped = raw.strip()
        if stripped:
            start = position + (len(raw) - len(raw.lstrip()))
            stop = start + len(stripped)
            kind = "heading" if is_heading(stripped) else "paragraph"
            blocks.append(Block(start=start, end=stop, kind=kind))
        if separator:
            position = separator.end()
    return blocks


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text of `data`, or a `DocumentError` saying the file is not text."""
    if not data.strip():
        raise DocumentError(f"{path}: the file is empty", "remove it or add its text")
    if b"\x00" in data:
        raise DocumentError(f"{path}: the file is binary, not text", "remove it from the corpus")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path}: not valid UTF-8 (byte {error.start})",
            "re-save the file as UTF-8",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


class TextLoader:
    """Loads `.txt` files."""

    def load(self, path: Path) -> Document:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DocumentError(f"{path}: cannot read ({error.strerror})") from None
        text = decode_text(path, data)
        blocks = tuple(split_blocks(text))
        first = text[blocks[0].start : blocks[0].end] if blocks else path.stem
        title = normalise_whitespace(first)[:200]
        return Document(
            doc_id=document_id(path),
            title=title,
            path=str(path),
            text=text,
            content_hash=content_hash(data),
            blocks=blocks,
        )
