"""Document loaders: one module per file type, chosen by file extension.

A loader reads a file and returns a `Document` whose `blocks` mark paragraphs and headings
by character span, so chunking works the same for every format. Loaders of structured formats
(PDF, Word, HTML, Markdown) extract text parts and join them with `assemble_document`, so the
document text is the text passages quote verbatim. Register a new format with
`register_loader`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.errors import DocumentError
from rag.text import normalise_whitespace
from rag.types import Block, Document

# Text parts are joined with a blank line, so a document's text reads like a plain-text report.
PART_SEPARATOR = "\n\n"


class Loader(Protocol):
    """Reads one file into a `Document`; raises `DocumentError` on unreadable input."""

    def load(self, path: Path) -> Document: ...


_LOADERS: dict[str, Callable[[], Loader]] = {}


def register_loader(extension: str, factory: Callable[[], Loader]) -> None:
    """Make `factory()` the loader for files ending in `extension` (e.g. ".txt")."""
    _LOADERS[extension.lower()] = factory


def supported_extensions() -> list[str]:
    return sorted(_LOADERS)


def loader_for(path: Path) -> Loader:
    """The loader for `path`'s extension, or a `DocumentError` naming the supported ones."""
    factory = _LOADERS.get(path.suffix.lower())
    if factory is None:
        raise DocumentError(
            f"{path}: unsupported file type '{path.suffix or '(none)'}'",
            f"supported: {', '.join(supported_extensions())}",
        )
    return factory()


def load_document(path: Path) -> Document:
    """Load `path` with the loader registered for its extension."""
    return loader_for(path).load(path)


def document_id(path: Path) -> str:
    """A stable, URL-safe document id from the file name (`GCM Review.txt` → `gcm-review`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "document"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TextPart:
    """A paragraph or heading extracted from a structured file, with its page if it has one."""

    text: str
    kind: str = "paragraph"  # or "heading"
    page: int | None = None


def assemble_document(
    path: Path,
    data: bytes,
    parts: Sequence[TextPart],
    title: str | None = None,
    encoding: str | None = None,
) -> Document:
    """A `Document` whose text is `parts` joined by blank lines, one block per part.

    Raises `DocumentError` when no part has text. The title defaults to the first part.
    """
    pieces: list[str] = []
    blocks: list[Block] = []
    position = 0
    for part in parts:
        text = part.text.strip()
        if not text:
            continue
        if pieces:
            position += len(PART_SEPARATOR)
        pieces.append(text)
        blocks.append(
            Block(start=position, end=position + len(text), kind=part.kind, page=part.page)
        )
        position += len(text)
    if not blocks:
        raise DocumentError(f"{path}: the document contains no text", "remove it from the corpus")
    chosen = normalise_whitespace(title or "") or normalise_whitespace(pieces[0])
    return Document(
        doc_id=document_id(path),
        title=chosen[:200],
        path=str(path),
        text=PART_SEPARATOR.join(pieces),
        content_hash=content_hash(data),
        blocks=tuple(blocks),
        encoding=encoding,
    )


# Metadata titles that name no document: producers' defaults and file names ("Untitled",
# "Document1", "Microsoft Word - report.docx", "report.pdf").
PLACEHOLDER_TITLE = re.compile(
    r"^\(?(?:untitled|anonymous|unspecified|document\s*\d*|microsoft word\b.*"
    r"|.*\.(?:docx?|pdf|rtf|odt|txt|md|html?))\)?$",
    re.I,
)
# Words of a draft label ("Draft v3 - final FINAL"): a title made of nothing else names no
# document, while a real title has a word of its own ("Final Report of the Commission").
DRAFT_LABEL_WORDS = frozenset(
    "draft final version rev revised revision copy clean tracked changes new old latest "
    "updated edit edits comments v".split()
)


def names_no_document(title: str) -> bool:
    """Whether a metadata `title` is a placeholder (`PLACEHOLDER_TITLE`) or only a draft
    label: every word a `DRAFT_LABEL_WORDS` word, a number or a version ("v3", "2.1")."""
    words = re.findall(r"[^\W\d_]+|\d+", title.lower())
    return PLACEHOLDER_TITLE.match(title.strip()) is not None or all(
        word in DRAFT_LABEL_WORDS or word.isdigit() for word in words
    )


def choose_title(metadata_title: str, parts: Sequence[TextPart]) -> str:
    """A document's title: the title its metadata gives, unless that names no document
    (`names_no_document`) and the document has a heading, then its first heading; with no
    metadata title, the first heading. Empty when neither helps (`assemble_document` then
    takes the first part)."""
    title = normalise_whitespace(metadata_title)
    heading = next((part.text for part in parts if part.kind == "heading"), "")
    if title and not (heading and names_no_document(title)):
        return title
    return heading


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a `DocumentError` saying why it cannot be read or is empty."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror})") from None
    if not data.strip():
        raise DocumentError(f"{path}: the file is empty", "remove it or add its text")
    return data


def short_reason(error: Exception) -> str:
    """The first line of a library's exception message, short enough for one output line."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (message or type(error).__name__)[:120]


def _register_builtin_loaders() -> None:
    from rag.loaders.docx import DocxLoader
    from rag.loaders.html import HtmlLoader
    from rag.loaders.markdown import MarkdownLoader
    from rag.loaders.pdf import PdfLoader
    from rag.loaders.text import TextLoader

    register_loader(".txt", TextLoader)
    register_loader(".md", MarkdownLoader)
    register_loader(".markdown", MarkdownLoader)
    register_loader(".html", HtmlLoader)
    register_loader(".htm", HtmlLoader)
    register_loader(".pdf", PdfLoader)
    register_loader(".docx", DocxLoader)


_register_builtin_loaders()
