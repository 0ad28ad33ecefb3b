"""Markdown reports: `#` headings (and `===`/`---` underlined ones) as sections, paragraphs
separated by blank lines, simple inline markup removed.

Only markup with an unambiguous reading is removed: emphasis markers around words, inline
code ticks, links and images (their text stays), heading and quote markers, code fences,
front matter, reference definitions, HTML comments and table rule lines. Anything else stays
as written, so a passage never loses words. Numbered lines are list items here, not headings:
Markdown marks its headings explicitly.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.loaders import TextPart, assemble_document, choose_title, read_bytes
from rag.loaders.text import decode_text
from rag.types import Document

ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_RULE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s+\S")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
QUOTE_MARKER = re.compile(r"^ {0,3}(?:>[ \t]?)+")
FRONT_MATTER_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)

# Inline markup, applied in order; each keeps the text it wraps.
INLINE_RULES = (
    (re.compile(r"<!--.*?-->"), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),  # image → alt text
    (re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # <https://…>
    (re.compile(r"(?<!\\)(`+)(.+?)\1"), r"\2"),  # `code`
    (re.compile(r"(?<!\\)(\*\*|__)(?=\S)(.+?)(?<=[^\s\\])\1"), r"\2"),  # **strong**
    (re.compile(r"(?<![\w*\\])\*(?=\S)(.+?)(?<=[^\s\\])\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<![\w_\\])_(?=\S)(.+?)(?<=[^\s\\])_(?![\w_])"), r"\1"),  # _emphasis_
    (re.compile(r"(?<!\\)~~(?=\S)(.+?)(?<=[^\s\\])~~"), r"\1"),  # ~~strike~~
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # backslash escapes
)


class MarkdownLoader:
    """Loads `.md` and `.markdown` files."""

    def load(self, path: Path) -> Document:
        data = read_bytes(path)
        decoded = decode_text(path, data)
        text, title = _front_matter(decoded.text)
        parts = _parts(text.split("\n"))
        return assemble_document(path, data, parts, choose_title(title, parts), decoded.encoding)


def strip_inline(line: str) -> str:
    """`line` without inline Markdown markup (see the module docstring)."""
    for pattern, replacement in INLINE_RULES:
        line = pattern.sub(replacement, line)
    return line


def _front_matter(text: str) -> tuple[str, str]:
    """The text without a leading YAML front-matter block, and the title it gives."""
    if not text.startswith("---\n"):
        return text, ""
    end = text.find("\n---", 4)
    if end < 0:
        return text, ""
    block = text[4:end]
    match = FRONT_MATTER_TITLE.search(block)
    rest = text[end + 4 :]
    return rest.split("\n", 1)[1] if "\n" in rest else "", match.group(1) if match else ""


def _parts(lines: list[str]) -> list[TextPart]:
    parts: list[TextPart] = []
    paragraph: list[str] = []
    fence: str | None = None
    code: list[str] = []
    in_comment = False

    def flush() -> None:
        text = "\n".join(strip_inline(line) for line in paragraph if line.strip())
        paragraph.clear()
        if text.strip():
            parts.append(TextPart(text.strip()))

    for line in lines:
        if fence is not None:
            if line.strip().startswith(fence):
                parts.append(TextPart("\n".join(code)))
                fence, code = None, []
            else:
                code.append(line.rstrip())
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if line.strip().startswith("<!--") and "-->" not in line:
            in_comment = True
            continue
        if fence_match := FENCE.match(line):
            flush()
            fence = fence_match.group(1)[0] * 3
            continue
        if not line.strip():
            flush()
            continue
        if heading := ATX_HEADING.match(line):
            flush()
            parts.append(TextPart(strip_inline(heading.group(2) or "").strip(), "heading"))
            continue
        if SETEXT_RULE.match(line) and len(paragraph) == 1:
            parts.append(TextPart(strip_inline(paragraph.pop()).strip(), "heading"))
            continue
        if SETEXT_RULE.match(line) or TABLE_RULE.match(line) or REFERENCE_DEFINITION.match(line):
            continue  # a thematic break, a table's rule line, a link target
        paragraph.append(QUOTE_MARKER.sub("", line).rstrip())
    flush()
    if code:
        parts.append(TextPart("\n".join(code)))
    return parts
