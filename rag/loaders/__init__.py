"""Document loaders: one module per file type, chosen by file extension.

A loader reads a file and returns a `Document` whose `blocks` mark paragraphs and headings
by character span, so chunking works the same for every format. Register a new format with
`register_loader`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rag.errors import DocumentError
from rag.types import Document


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


def _register_builtin_loaders() -> None:
    from rag.loaders.text import TextLoader

    register_loader(".txt", TextLoader)


_register_builtin_loaders()
