"""Generation backends behind one `Generator` protocol, chosen by name from settings.

Built in: "llama-cpp" (a local GGUF, in process), "openai" (any OpenAI-compatible server,
selected by `RAG_LLM_URL`), "quotes" (no model: every answer quotes the evidence) and "fake"
(deterministic, for tests), all registered the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from rag.errors import RagError


@dataclass(frozen=True)
class GeneratorConfig:
    """Plain values a backend may need; each backend reads the ones it uses."""

    model_path: str | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    context_tokens: int = 2048
    threads: int | None = None
    api_key: str | None = None


class Generator(Protocol):
    """Streams a chat completion; implementations serialise access to their model."""

    @property
    def name(self) -> str: ...

    @property
    def context_tokens(self) -> int: ...

    def load(self) -> None:
        """Load the model now (otherwise it loads on first use)."""

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in the model's own tokenizer (for prompt budgets)."""

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        """Answer text deltas. Closing the iterator early stops generation."""


_GENERATORS: dict[str, Callable[[GeneratorConfig], Generator]] = {}


def register_generator(backend: str, factory: Callable[[GeneratorConfig], Generator]) -> None:
    _GENERATORS[backend] = factory


def create_generator(backend: str, config: GeneratorConfig) -> Generator:
    """The generator `backend` (cheap: models load on first use or `load()`)."""
    if backend not in _GENERATORS:
        raise RagError(
            f"unknown generator '{backend}'",
            f"set RAG_GENERATOR to one of: {', '.join(sorted(_GENERATORS))}",
        )
    return _GENERATORS[backend](config)


def _register_builtin_generators() -> None:
    from rag.generation.fake import FakeGenerator
    from rag.generation.llama_cpp import LlamaCppGenerator
    from rag.generation.openai_compat import OpenAICompatibleGenerator
    from rag.generation.quotes import QuotesGenerator

    register_generator("llama-cpp", LlamaCppGenerator)
    register_generator("openai", OpenAICompatibleGenerator)
    register_generator("quotes", QuotesGenerator)
    register_generator("fake", FakeGenerator)


_register_builtin_generators()
