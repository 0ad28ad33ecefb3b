"""The "quotes" backend: no language model. It writes nothing, so every answer is the
verified evidence itself, quoted and cited (the pipeline's extractive answer), in tens of
milliseconds instead of a second.

With the bundled 135M model, verification keeps the model's own text for few answers (none
of the 41 answers of `gold_unseen7.jsonl`; see eval/README, "Targets"), so on a slow machine,
or for a quick evaluation run, this gives nearly the same answers without the model's time.
Refusals are unchanged: they are decided before generation.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.generation import GeneratorConfig
from rag.text import count_tokens


class QuotesGenerator:
    """A generator that never writes: the pipeline answers with the evidence, quoted."""

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self._context_tokens = config.context_tokens if config else 2048

    @property
    def name(self) -> str:
        return "quotes"

    @property
    def context_tokens(self) -> int:
        return self._context_tokens

    def load(self) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        return count_tokens(text)

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        return iter(())
