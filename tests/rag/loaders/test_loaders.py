"""The loader registry and the shared assembly of a document from text parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.loaders import TextPart, assemble_document, load_document, supported_extensions


def test_every_format_of_the_issue_is_registered() -> None:
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx"} <= set(supported_extensions())


def test_unsupported_extension_names_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DocumentError, match=r"unsupported file type '\.xlsx'; supported: .*\.pdf"):
        load_document(path)


def test_assembled_blocks_span_their_text_in_the_document(tmp_path: Path) -> None:
    parts = [
        TextPart("  Title  ", "heading", 1),
        TextPart(""),
        TextPart("First paragraph.", page=1),
        TextPart("Second\nparagraph.", page=2),
    ]
    document = assemble_document(tmp_path / "Some Report.pdf", b"bytes", parts)
    assert document.doc_id == "some-report"
    assert document.title == "Title"
    assert document.text == "Title\n\nFirst paragraph.\n\nSecond\nparagraph."
    assert [(document.text[b.start : b.end], b.kind, b.page) for b in document.blocks] == [
        ("Title", "heading", 1),
        ("First paragraph.", "paragraph", 1),
        ("Second\nparagraph.", "paragraph", 2),
    ]


def test_assembling_nothing_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="contains no text"):
        assemble_document(tmp_path / "x.html", b"<p> </p>", [TextPart("  ")])


@pytest.mark.parametrize("extension", [".txt", ".md", ".html"])
def test_binary_junk_with_a_text_extension_is_refused(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"junk{extension}"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DocumentError, match="binary, not text"):
        load_document(path)
