"""The Markdown loader: `#` headings as sections, simple markup removed, words kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.errors import DocumentError
from rag.loaders import load_document
from rag.loaders.markdown import strip_inline
from tests.rag.sample_documents import write_note_markdown


def test_headings_paragraphs_and_front_matter_title(tmp_path: Path) -> None:
    document = load_document(write_note_markdown(tmp_path / "note.md"))
    assert document.title == "Ruritania: Note on Climate Mobility"
    assert [(document.text[b.start : b.end], b.kind) for b in document.blocks] == [
        ("Climate mobility", "heading"),
        (
            "Ruritania's planned relocation policy moved 3 coastal villages inland in 2022, "
            "see\nthe decree.",
            "paragraph",
        ),
        ("Next steps", "heading"),
        (
            "- A register of at-risk settlements\n- Consultations with the affected communities",
            "paragraph",
        ),
    ]
    passages = chunk_document(document, 200)
    assert [p.section for p in passages] == ["Climate mobility", "Next steps"]
    assert all(p.text == document.text[p.start : p.end] for p in passages)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("**bold** and __strong__", "bold and strong"),
        ("*it* and _it_", "it and it"),
        ('[text](https://x.org "t") and ![alt](img.png)', "text and alt"),
        ("`code` and ~~gone~~", "code and gone"),
        ("snake_case_name and 2*3*4 stay", "snake_case_name and 2*3*4 stay"),
        (r"escaped \*stars\* stay", "escaped *stars* stay"),
        ("<https://example.org/a>", "https://example.org/a"),
    ],
)
def test_inline_markup_is_removed_and_words_kept(line: str, expected: str) -> None:
    assert strip_inline(line) == expected


def test_setext_headings_code_fences_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "report.markdown"
    path.write_text(
        "Annual Summary\n==============\n\nText under it.\n\n```\nraw **kept**\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n1. Numbered line, not a heading\n",
        encoding="utf-8",
    )
    document = load_document(path)
    assert [(document.text[b.start : b.end], b.kind) for b in document.blocks] == [
        ("Annual Summary", "heading"),
        ("Text under it.", "paragraph"),
        ("raw **kept**", "paragraph"),
        ("| a | b |\n| 1 | 2 |", "paragraph"),
        ("1. Numbered line, not a heading", "paragraph"),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "the file is binary, not text"),
        (b"# Titel\n\nGr\x8f\x9de\n", "not valid UTF-8 (byte 11) nor Windows-1252"),
        (b"\n\n  \n", "the file is empty"),
    ],
    ids=["binary", "neither-utf8-nor-windows-1252", "blank"],
)
def test_unreadable_markdown_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "note.md"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document(path)
    assert str(caught.value).startswith(f"{path}: {reason}")
