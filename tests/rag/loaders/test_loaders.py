"""The loader registry and the shared assembly of a document from text parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.loaders import (
    TextPart,
    assemble_document,
    load_document,
    names_no_document,
    supported_extensions,
)


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


# Curly quotes, a dash and accents: the characters a Windows-1252 report is most likely to hold.
LEGACY_PARAGRAPHS = ("Côte d’Ivoire – “regularisation” in 2021.", "Naïve café owners agreed.")


@pytest.mark.parametrize(
    ("extension", "paragraph"),
    [(".txt", "{}\r\n\r\n"), (".md", "{}\r\n\r\n"), (".html", "<p>{}</p>\r\n")],
)
def test_a_windows_1252_text_file_is_read_and_says_so(
    tmp_path: Path, extension: str, paragraph: str
) -> None:
    path = tmp_path / f"legacy{extension}"
    content = "".join(paragraph.format(text) for text in LEGACY_PARAGRAPHS)
    path.write_bytes(content.encode("cp1252"))
    document = load_document(path)
    assert document.encoding == "Windows-1252"
    assert [document.text[b.start : b.end] for b in document.blocks] == list(LEGACY_PARAGRAPHS)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "byte-order-mark"])
def test_utf8_is_read_first_with_or_without_a_byte_order_mark(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "report.txt"
    # Valid UTF-8 is also valid Windows-1252 ("Ã´" for "ô"): UTF-8 must win.
    path.write_bytes(bom + "\n\n".join(LEGACY_PARAGRAPHS).encode("utf-8"))
    document = load_document(path)
    assert document.encoding == "UTF-8"
    assert document.text == "\n\n".join(LEGACY_PARAGRAPHS)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(1, 256)) * 4, "not valid UTF-8 (byte 127) nor Windows-1252 (byte 128 is"),
        (bytes(range(1, 32)) * 8 + b"\xe9t\xe9", "the file is binary, not text"),
    ],
    ids=["undefined-in-windows-1252", "control-characters"],
)
def test_junk_that_is_not_utf8_is_still_refused(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    assert str(caught.value).startswith(f"{path}: {reason}")


@pytest.mark.parametrize(
    "title",
    [
        "Draft v3 - final FINAL",
        "Document1",
        "Microsoft Word - report.docx",
        "report.pdf",
        "Untitled",
        "FINAL (clean copy) 2.1",
    ],
)
def test_placeholder_and_draft_label_titles_name_no_document(title: str) -> None:
    assert names_no_document(title)


@pytest.mark.parametrize(
    "title",
    [
        "Final Report of the Commission on Migration",
        "Draft Global Compact for Safe, Orderly and Regular Migration",
        "New Zealand Country Review 2021",
        "Document on Labour Mobility",
        "Freedonia Labour Mobility Brief 2021 | Ministry of Interior",
    ],
)
def test_real_titles_name_a_document(title: str) -> None:
    assert not names_no_document(title)


def write_titled(path: Path, metadata_title: str, heading: str | None) -> Path:
    """A two-paragraph report in `path`'s format whose metadata gives `metadata_title`."""
    import docx

    body = "Freedonia issued 14,500 seasonal worker visas in 2021."
    if path.suffix == ".md":
        lines = [f"---\ntitle: {metadata_title}\n---", f"# {heading}" if heading else "", body]
        path.write_text("\n\n".join(lines), encoding="utf-8")
    elif path.suffix == ".html":
        top = f"<h1>{heading}</h1>" if heading else ""
        path.write_text(
            f"<html><head><title>{metadata_title}</title></head><body>{top}<p>{body}</p>",
            encoding="utf-8",
        )
    else:
        report = docx.Document()
        report.core_properties.title = metadata_title
        if heading:
            report.add_heading(heading, level=0)
        report.add_paragraph(body)
        report.save(str(path))
    return path


@pytest.mark.parametrize("extension", [".md", ".html", ".docx"])
def test_a_metadata_title_that_names_no_document_gives_way_to_the_heading(
    tmp_path: Path, extension: str
) -> None:
    heading = "Labour Mobility in Freedonia, 2021"
    for junk in ("Draft v3 - final FINAL", "Microsoft Word - brief.docx", "Document1"):
        path = write_titled(tmp_path / f"brief{extension}", junk, heading)
        assert load_document(path).title == heading
        # Without a heading there is nothing better: the metadata title stays.
        path = write_titled(tmp_path / f"bare{extension}", junk, None)
        assert load_document(path).title == junk
    # A real title in the metadata wins over the heading, as before.
    real = "Freedonia Labour Mobility Brief 2021"
    assert load_document(write_titled(tmp_path / f"real{extension}", real, heading)).title == real
