"""Word reports (`.docx`, python-docx): paragraphs and tables in order, heading styles as
sections.

A paragraph styled "Title" or "Heading N" (or a style based on one) is a heading; so is an
paragraph outside a list that `rag.loaders.text` recognises by its numbering ("Objective 11:
…"), since many reports number headings by hand. A table becomes one block, a row per line with
cells separated by " | ". Word keeps no pages (they exist only once laid out), so blocks carry
none. A file that is not a readable `.docx` raises `DocumentError`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.loaders import TextPart, assemble_document, choose_title, read_bytes, short_reason
from rag.loaders.text import is_heading
from rag.text import normalise_whitespace
from rag.types import Document

HEADING_STYLE = re.compile(r"^(?:title|heading\s*\d*)$", re.I)
ZIP_SIGNATURE = b"PK\x03\x04"


class DocxLoader:
    """Loads `.docx` files (Word 2007 and later)."""

    def load(self, path: Path) -> Document:
        data = read_bytes(path)
        if not data.startswith(ZIP_SIGNATURE):
            raise DocumentError(
                f"{path}: not a .docx file (old binary .doc, or not Word at all)",
                "open it in Word or LibreOffice and save it as .docx",
            )
        import docx

        try:
            document = docx.Document(io.BytesIO(data))
            parts = list(_parts(document))
            title = document.core_properties.title or ""
        except Exception as error:  # python-docx, zipfile and lxml raise many types
            raise DocumentError(
                f"{path}: the Word file is damaged and cannot be read ({short_reason(error)})",
                "open it in Word or LibreOffice, save it again as .docx",
            ) from None
        return assemble_document(path, data, parts, choose_title(title, parts))


def _parts(document: Any) -> list[TextPart]:
    from docx.table import Table

    parts = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            text = _table_text(item)
            if text:
                parts.append(TextPart(text))
            continue
        text = normalise_whitespace(item.text)
        if not text:
            continue
        style_name = (item.style.name or "") if item.style is not None else ""
        heading = _has_heading_style(item.style) or (
            "list" not in style_name.lower() and is_heading(text)
        )
        parts.append(TextPart(text, "heading" if heading else "paragraph"))
    return parts


def _has_heading_style(style: Any) -> bool:
    """Whether the paragraph style is a heading style or derives from one."""
    depth = 0
    while style is not None and depth < 10:
        if HEADING_STYLE.match(style.name or ""):
            return True
        style = style.base_style
        depth += 1
    return False


def _table_text(table: Any) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = normalise_whitespace(cell.text)
            # A merged cell is returned once per grid column it spans.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)
