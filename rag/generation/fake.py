"""A deterministic generator for tests: answers with the first source sentence, cited.

It reads the numbered sources out of the prompt the pipeline built, so tests of everything
around generation (streaming, verification, the API) make exact assertions without a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.generation import GeneratorConfig

_SOURCE_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)


class FakeGenerator:
    """Echoes source [1] with its marker before the final stop, a word at a time."""

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.calls = 0

    @property
    def name(self) -> str:
        return "fake"

    @property
    def context_tokens(self) -> int:
        return 2048

    def load(self) -> None:
        return None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        self.calls += 1
        sources = _SOURCE_LINE.findall(messages[-1]["content"])
        if sources:
            number, sentence = sources[0]
            body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence, ".")
            text = f"{body} [{number}]{end}"
        else:
            text = "NOT IN SOURCES"
        for position, word in enumerate(text.split(" ")[:max_tokens]):
            yield word if position == 0 else " " + word
