"""HTML reports (selectolax, lexbor engine): the main text only, headings as sections.

The text comes from `<main>` (or `<article>`, or `[role=main]`) when the page marks it, else
from `<body>`; navigation, asides, footers, forms, scripts and styles are dropped, and so are
page-level headers (a header inside the main article is its title block and stays). `h1`–`h6`
become headings; paragraphs, list items and other block elements become paragraphs; a list
is one block with an item per line, a table one block with a row per line. The title is the
page's `<title>`, else (or when that names no document) its first heading, as
`rag.loaders.choose_title` rules for every format. The file is decoded like plain-text reports
(`rag.loaders.text.decode_text`: UTF-8, else Windows-1252).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.loaders import TextPart, assemble_document, choose_title, read_bytes
from rag.loaders.text import decode_text
from rag.text import normalise_whitespace
from rag.types import Document

MAIN_SELECTORS = ("main", "article", "[role=main]")
BOILERPLATE = (
    "nav, aside, footer, form, script, style, noscript, template, svg, iframe, button, "
    "select, [hidden], [aria-hidden=true], [role=navigation], [role=banner], "
    "[role=contentinfo], [role=search]"
)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCKS = frozenset(
    """address article blockquote body dd details dialog div dl dt fieldset figcaption
    figure hr li main p section summary caption center header hgroup""".split()
)


class HtmlLoader:
    """Loads `.html` and `.htm` files."""

    def load(self, path: Path) -> Document:
        from selectolax.lexbor import LexborHTMLParser

        data = read_bytes(path)
        decoded = decode_text(path, data)
        markup = decoded.text
        tree = LexborHTMLParser(markup)
        root = next(
            (node for node in map(tree.css_first, MAIN_SELECTORS) if node is not None),
            tree.body,
        )
        if root is None:
            raise DocumentError(f"{path}: the page has no body", "remove it from the corpus")
        page_level = root.tag == "body"
        # Innermost first: a node is never removed after an ancestor already took it along.
        for node in reversed(root.css(f"{BOILERPLATE}, header" if page_level else BOILERPLATE)):
            node.decompose()
        parts: list[TextPart] = []
        try:
            _collect(root, parts, [])
        except RecursionError:
            raise DocumentError(
                f"{path}: the page is nested too deeply to read", "save it as plain text"
            ) from None
        title_node = tree.css_first("title")
        title = choose_title(title_node.text() if title_node is not None else "", parts)
        return assemble_document(path, data, parts, title, decoded.encoding)


def _collect(node: Any, parts: list[TextPart], inline: list[str]) -> None:
    """Append the blocks under `node` to `parts`; `inline` gathers the current paragraph."""
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            inline.append(child.text_content or "")
        elif tag == "br":
            inline.append(" ")
        elif tag in HEADINGS:
            _flush(inline, parts)
            parts.append(TextPart(_text_of(child), "heading"))
        elif tag in ("ul", "ol"):
            _flush(inline, parts)
            items = [text for item in child.iter() if item.tag == "li" if (text := _text_of(item))]
            lines = [
                f"{f'{number}.' if tag == 'ol' else '-'} {item}"
                for number, item in enumerate(items, start=1)
            ]
            parts.append(TextPart("\n".join(lines)))
        elif tag == "table":
            _flush(inline, parts)
            parts.append(TextPart(_table_text(child)))
        elif tag == "pre":
            _flush(inline, parts)
            parts.append(TextPart("\n".join(line.rstrip() for line in child.text().split("\n"))))
        elif tag in BLOCKS:
            _flush(inline, parts)
            _collect(child, parts, inline)
            _flush(inline, parts)
        elif child.is_element_node:
            _collect(child, parts, inline)


def _flush(inline: list[str], parts: list[TextPart]) -> None:
    text = normalise_whitespace("".join(inline))
    inline.clear()
    if text:
        parts.append(TextPart(text))


def _text_of(node: Any) -> str:
    """The text under `node` on one line, with a space wherever a block or line break ends."""
    pieces: list[str] = []
    for child in node.iter(include_text=True):
        if child.tag == "-text":
            pieces.append(child.text_content or "")
        elif child.is_element_node:
            separate = (
                child.tag in BLOCKS or child.tag in HEADINGS or child.tag in ("br", "ul", "ol")
            )
            if separate:
                pieces.append(" ")
            pieces.append(_text_of(child))
            if separate:
                pieces.append(" ")
    return normalise_whitespace("".join(pieces))


def _table_text(table: Any) -> str:
    rows = []
    for row in table.css("tr"):
        cells = [_text_of(cell) for cell in row.iter() if cell.tag in ("td", "th")]
        cells = [cell for cell in cells if cell]
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)
