"""Plain-text reports: paragraphs are separated by blank lines; headings are recognised by
their numbering ("1. Introduction", "iv. …", "Roundtable 3: …", "Objective 11: …")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.loaders import content_hash, document_id, read_bytes
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


UTF_8 = "UTF-8"
# Text saved by older Windows programs (Notepad, Word's "Plain Text") is Windows-1252.
WINDOWS_1252 = "Windows-1252"
# Control characters (other than tab, line and page breaks) in more than this share of the
# characters mean binary data that happens to decode, not text.
MAX_CONTROL_SHARE = 0.01
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class DecodedText:
    """A text file's characters (every line break a line feed) and the encoding they were in."""

    text: str
    encoding: str  # UTF_8 or WINDOWS_1252, names Python's codecs know


def decode_text(path: Path, data: bytes) -> DecodedText:
    """The text of a plain-text source file (`.txt`, `.md`, `.html`), or a `DocumentError`
    saying the file is not text.

    UTF-8 (with or without a byte-order mark) is tried first. Bytes that are not UTF-8 are
    read as Windows-1252 when every byte is defined there and the result reads as text.
    Every reader of a source text file comes through here (ingest through the loaders, the
    eval's quote check through `load_document`), so passage offsets, anchors and quotes all
    refer to the same characters.
    """
    if not data.strip():
        raise DocumentError(f"{path}: the file is empty", "remove it or add its text")
    if b"\x00" in data:
        raise DocumentError(f"{path}: the file is binary, not text", "remove it from the corpus")
    try:
        text, encoding = data.decode("utf-8-sig"), UTF_8
    except UnicodeDecodeError as error:
        text, encoding = _decode_windows_1252(path, data, error.start), WINDOWS_1252
    return DecodedText(text.replace("\r\n", "\n").replace("\r", "\n"), encoding)


def _decode_windows_1252(path: Path, data: bytes, bad_utf8_byte: int) -> str:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path}: not valid UTF-8 (byte {bad_utf8_byte}) nor Windows-1252 "
            f"(byte {error.start} is undefined there)",
            "re-save the file as UTF-8",
        ) from None
    if len(CONTROL_CHARACTER.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise DocumentError(f"{path}: the file is binary, not text", "remove it from the corpus")
    return text


class TextLoader:
    """Loads `.txt` files."""

    def load(self, path: Path) -> Document:
        data = read_bytes(path)
        decoded = decode_text(path, data)
        text = decoded.text
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
            encoding=decoded.encoding,
        )
