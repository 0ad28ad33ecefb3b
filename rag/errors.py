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
    """The question is empty, too long or not UTF-8 text."""


class ModelLoadError(RagError):
    """A model file is missing or cannot be loaded."""


class DocumentError(RagError):
    """A source document cannot be read."""
