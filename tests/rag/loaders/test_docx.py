"""The Word loader: heading styles become sections, tables and lists stay, broken files are
refused with a reason."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from rag.chunking import chunk_document
from rag.errors import DocumentError
from rag.loaders import load_document
from tests.rag.sample_documents import DOCX_FACT, DOCX_SECTIONS, DOCX_TITLE, write_report_docx


def test_heading_styles_become_headings_and_sections(tmp_path: Path) -> None:
    document = load_document(write_report_docx(tmp_path / "freedonia-report.docx"))
    headings = [document.text[b.start : b.end] for b in document.blocks if b.kind == "heading"]
    assert headings == [DOCX_TITLE] + [heading for heading, _ in DOCX_SECTIONS]
    assert document.title == DOCX_TITLE
    assert all(block.page is None for block in document.blocks)
    fact = next(p for p in chunk_document(document, 200) if DOCX_FACT in p.text)
    assert fact.section == "1. Integration services"
    assert fact.anchor == "freedonia-report#p1"


def test_tables_keep_rows_and_numbered_list_items_stay_paragraphs(tmp_path: Path) -> None:
    document = load_document(write_report_docx(tmp_path / "report.docx"))
    blocks = {document.text[b.start : b.end]: b.kind for b in document.blocks}
    assert blocks["Province | Centres\nNorthmark | 5\nSouthmark | 9"] == "paragraph"
    # Numbered like a heading, but a list item: Word marks its headings by style.
    assert blocks["1. Nurses first"] == "paragraph"


def test_unstyled_paragraph_numbered_like_a_heading_is_one(tmp_path: Path) -> None:
    report = docx.Document()
    report.add_paragraph("Objective 7: Address and reduce vulnerabilities in migration")
    report.add_paragraph("Seven shelters were opened.")
    report.save(str(tmp_path / "plain.docx"))
    passages = chunk_document(load_document(tmp_path / "plain.docx"), 200)
    assert [p.section for p in passages] == [
        "Objective 7: Address and reduce vulnerabilities in migration"
    ]


def test_title_property_wins_over_the_first_heading(tmp_path: Path) -> None:
    path = write_report_docx(tmp_path / "report.docx")
    report = docx.Document(str(path))
    report.core_properties.title = "Official Title From Properties"
    report.save(str(path))
    assert load_document(path).title == "Official Title From Properties"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "not a .docx file (old binary .doc"),
        (b"PK\x03\x04" + b"\x00" * 200, "the Word file is damaged and cannot be read"),
        (b"", "the file is empty"),
    ],
    ids=["old-doc", "broken-zip", "empty"],
)
def test_broken_docx_is_refused_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    assert str(caught.value).startswith(f"{path}: {reason}")


def test_truncated_docx_is_refused(tmp_path: Path) -> None:
    path = write_report_docx(tmp_path / "cut.docx")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DocumentError, match="damaged and cannot be read"):
        load_document(path)


def test_docx_without_text_is_refused(tmp_path: Path) -> None:
    docx.Document().save(str(tmp_path / "blank.docx"))
    with pytest.raises(DocumentError, match="contains no text"):
        load_document(tmp_path / "blank.docx")
