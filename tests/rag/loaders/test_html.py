"""The HTML loader: main text only, headings as sections, boilerplate gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.errors import DocumentError
from rag.loaders import load_document
from tests.rag.sample_documents import HTML_BOILERPLATE, HTML_FACT, HTML_TITLE, write_portal_html


def test_main_text_with_headings_and_no_boilerplate(tmp_path: Path) -> None:
    document = load_document(write_portal_html(tmp_path / "zembla-portal.html"))
    assert [(document.text[b.start : b.end], b.kind) for b in document.blocks] == [
        ("Return and reintegration", "heading"),
        (HTML_FACT, "paragraph"),
        (
            "The grant is paid in two instalments, the second after a business plan is approved.",
            "paragraph",
        ),
        ("Counselling", "heading"),
        ("Returnees meet a counsellor within two weeks of arrival.", "paragraph"),
        ("- Job placement\n- Psychosocial support", "paragraph"),
    ]
    for boilerplate in HTML_BOILERPLATE:
        assert boilerplate not in document.text
    assert document.title == HTML_TITLE


def test_sections_follow_headings(tmp_path: Path) -> None:
    document = load_document(write_portal_html(tmp_path / "zembla-portal.html"))
    sections = {p.anchor: p.section for p in chunk_document(document, 200)}
    assert sections["zembla-portal#p1"] == "Return and reintegration"
    assert sections["zembla-portal#p3"] == "Counselling"


def test_main_element_is_preferred_and_its_article_header_kept(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><body><div>Site banner text</div><main><article><header><h1>Annual note"
        "</h1></header><p>Loose <em>inline</em> text<br>after a break.</p><table>"
        "<tr><th>Year</th><th>Arrivals</th></tr><tr><td>2023</td><td>1,204</td></tr>"
        "</table><ol><li>First</li><li>Second</li></ol></article></main>"
        "<footer>Imprint</footer></body></html>",
        encoding="utf-8",
    )
    document = load_document(path)
    assert [document.text[b.start : b.end] for b in document.blocks] == [
        "Annual note",
        "Loose inline text after a break.",
        "Year | Arrivals\n2023 | 1,204",
        "1. First\n2. Second",
    ]
    assert document.title == "Annual note"  # no <title>: the first heading


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is binary, not text"),
        (b"<p>caf\x81</p>", "not valid UTF-8 (byte 6) nor Windows-1252"),
        (
            b"<html><body><nav>Home</nav><script>x()</script></body></html>",
            "the document contains no text",
        ),
    ],
    ids=["binary", "neither-utf8-nor-windows-1252", "only-boilerplate"],
)
def test_unreadable_html_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    assert str(caught.value).startswith(f"{path}: {reason}")
