"""The PDF loader: paragraphs rebuilt from line geometry, 1-based pages, headings, running
headers dropped, and one clear reason for each PDF it cannot read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError

from rag.chunking import chunk_document
from rag.errors import DocumentError
from rag.loaders import load_document
from rag.types import Document
from tests.rag.sample_documents import (
    PDF_FACT,
    PDF_FACT_PAGE,
    PDF_RUNNING_HEADER,
    PDF_SECTIONS,
    PDF_TITLE,
    long_paragraph,
    review_pdf_bytes,
    write_blank_pdf,
    write_corrupt_pdf,
    write_encrypted_pdf,
    write_image_only_pdf,
    write_review_pdf,
)


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Document:
    return load_document(write_review_pdf(tmp_path_factory.mktemp("pdf") / "ruritania-review.pdf"))


def block_texts(document: Document, kind: str) -> list[str]:
    return [document.text[b.start : b.end] for b in document.blocks if b.kind == kind]


def test_headings_are_the_title_and_the_numbered_sections(review: Document) -> None:
    assert block_texts(review, "heading") == [PDF_TITLE] + [h for h, _ in PDF_SECTIONS.values()]


def test_paragraphs_are_rebuilt_with_the_page_they_start_on(review: Document) -> None:
    pages = {review.text[b.start : b.end]: b.page for b in review.blocks}
    for page, (_heading, paragraphs) in PDF_SECTIONS.items():
        for paragraph in paragraphs:
            assert pages[paragraph] == page
    assert pages[PDF_FACT] == PDF_FACT_PAGE


def test_a_paragraph_cut_by_a_page_break_is_joined_and_keeps_its_first_page(
    review: Document,
) -> None:
    text = long_paragraph()
    reader = PdfReader(write_review_pdf(Path(review.path)))
    # The layout really does cut it: its last words are printed on page 3.
    assert text.split()[-3] in reader.pages[2].extract_text()
    assert {review.text[b.start : b.end]: b.page for b in review.blocks}[text] == 2


def test_running_header_and_page_numbers_are_dropped(review: Document) -> None:
    assert PDF_RUNNING_HEADER not in review.text
    assert all(not review.text[b.start : b.end].isdigit() for b in review.blocks)


def test_title_comes_from_metadata_when_it_names_the_document(review: Document) -> None:
    assert review.title == PDF_TITLE


def test_title_falls_back_to_the_largest_text_on_the_first_page(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(write_review_pdf(tmp_path / "a.pdf")))
    writer.add_metadata({"/Title": "Microsoft Word - draft_v3.docx"})
    writer.write(tmp_path / "b.pdf")
    assert load_document(tmp_path / "b.pdf").title == PDF_TITLE


def test_passages_quote_the_document_text_and_carry_pages(review: Document) -> None:
    passages = chunk_document(review, max_tokens=200)
    assert all(p.text == review.text[p.start : p.end] for p in passages)
    fact = next(p for p in passages if PDF_FACT in p.text)
    assert fact.page == PDF_FACT_PAGE
    assert fact.section == "3. Labour migration"
    assert fact.anchor.startswith("ruritania-review#p") and "page" not in fact.anchor
    windows = [p for p in passages if p.anchor.count(".") == 1]
    assert windows and {p.page for p in windows} == {2}  # the long paragraph, in windows


def test_anchors_are_stable_across_reloads(review: Document) -> None:
    again = load_document(Path(review.path))
    assert again == review
    assert [p.anchor for p in chunk_document(again, 200)] == [
        p.anchor for p in chunk_document(review, 200)
    ]


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(write_review_pdf(tmp_path / "plain.pdf")))
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "restricted.pdf")
    document = load_document(tmp_path / "restricted.pdf")
    assert PDF_FACT in document.text


def write_zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def write_text_as_pdf(path: Path) -> Path:
    path.write_text("plain words, no PDF here")
    return path


def write_junk_after_header(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    return path


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (write_encrypted_pdf, "the PDF is encrypted (password-protected); save an unprotected"),
        (write_image_only_pdf, "no text layer (scanned or image-only pages); run OCR"),
        (write_blank_pdf, "the PDF contains no text"),
        (write_corrupt_pdf, "the PDF is damaged and cannot be read"),
        (write_zero_bytes, "the file is empty"),
        (write_text_as_pdf, "not a PDF file"),
        (write_junk_after_header, "the PDF is damaged"),
    ],
    ids=["encrypted", "image-only", "blank", "truncated", "zero-bytes", "not-pdf", "junk"],
)
def test_unreadable_pdf_raises_one_reason(
    tmp_path: Path, write: Callable[[Path], Path], reason: str
) -> None:
    path = write(tmp_path / "bad.pdf")
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_pdf_without_pages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nopages.pdf"
    PdfWriter().write(path)
    with pytest.raises(DocumentError, match="has no pages"):
        load_document(path)


def test_aes_pdf_without_the_crypto_package_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_encrypted_pdf(tmp_path / "aes.pdf")

    def needs_cryptography(self: PdfReader, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_cryptography)
    with pytest.raises(DocumentError, match="AES-encrypted.*pip install cryptography"):
        load_document(path)


def test_review_bytes_are_deterministic() -> None:
    # Incremental-ingest tests rely on rewriting the same content giving the same hash.
    assert review_pdf_bytes() == review_pdf_bytes()
