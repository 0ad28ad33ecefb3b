"""User-facing errors: each names the input, what is wrong and the fix."""

from __future__ import annotations


class RagError(Exception):
    """An error the user can act on; the CLI prints it as one line and exits non-zero."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


class IndexMissingError(RagError):
    """No index has been built at the configured location."""


class IndexMismatchError(RagError):
    """The index on disk was built with a different configuration."""


class InvalidQuestionError(RagError):
    """The question is empty, too long, not UTF-8 text or holds a control character."""


class ModelLoadError(RagError):
    """A model file is missing or cannot be loaded."""


class DocumentError(RagError):
    """A source document cannot be read."""


# The most known ids an error lists; a corpus of hundreds would bury the message.
MAX_IDS_LISTED = 20


class UnknownDocumentError(RagError):
    """A question was limited to documents the index does not hold."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        self.known = known
        names = ", ".join(f"'{doc_id}'" for doc_id in unknown)
        listed = ", ".join(known[:MAX_IDS_LISTED]) or "none"
        if len(known) > MAX_IDS_LISTED:
            listed += f", … ({len(known)} in all)"
        noun = "document" if len(unknown) == 1 else "documents"
        super().__init__(
            f"no {noun} {names} in the index (indexed: {listed})",
            "name documents by the ids 'rag docs list' or GET /api/documents shows",
        )
