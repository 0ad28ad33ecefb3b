"""A local GGUF model through llama-cpp-python, in process.

`llama_cpp.Llama` is not thread-safe, so one lock guards it for the whole of each stream;
the chat template is the one stored in the GGUF, so any instruct GGUF works unchanged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.errors import ModelLoadError
from rag.generation import GeneratorConfig
from rag.models import bundled_gguf_path

GGUF_MAGIC = b"GGUF"


class LlamaCppGenerator:
    """Generates with a GGUF file; default: the bundled SmolLM2-135M-Instruct."""

    def __init__(self, config: GeneratorConfig) -> None:
        self._config = config
        self._path = Path(config.model_path) if config.model_path else None
        self._llama: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.model_path.name

    @property
    def model_path(self) -> Path:
        if self._path is None:
            self._path = bundled_gguf_path()
        return self._path

    @property
    def context_tokens(self) -> int:
        return self._config.context_tokens

    def load(self) -> None:
        with self._lock:
            self._load_locked()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            llama = self._load_locked()
            return len(llama.tokenize(text.encode(), add_bos=False, special=True))

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        with self._lock:
            llama = self._load_locked()
            # Evaluate every prompt from scratch. Reusing the KV cache of the previous prompt
            # changes the batch the rest is computed in, and with it the logits' low bits: the
            # same question asked twice in a row got two different answers. Repeatable
            # answers are worth evaluating the short system prompt again.
            llama.reset()
            sampling = {
                "max_tokens": max_tokens,
                "temperature": 0.0,
                "top_k": 1,
                "repeat_penalty": 1.1,
            }
            if has_chat_template(llama):
                chunks = llama.create_chat_completion(
                    messages=messages, stop=stop, stream=True, **sampling
                )
                deltas = (chunk["choices"][0]["delta"].get("content") for chunk in chunks)
            else:
                # A base model (e.g. gemma-3-270m) has no chat template: continue a plain
                # "Question: … Answer:" document instead, stopping where it would go on to
                # write another question.
                chunks = llama.create_completion(
                    prompt=plain_prompt(messages),
                    stop=[*(stop or []), *BASE_MODEL_STOPS],
                    stream=True,
                    **sampling,
                )
                deltas = (chunk["choices"][0].get("text") for chunk in chunks)
            try:
                for delta in deltas:
                    if delta:
                        yield delta
            finally:
                # Closing the llama-cpp stream stops decoding, e.g. when a client disconnects.
                chunks.close()

    def _load_locked(self) -> Any:
        if self._llama is None:
            path = self.model_path
            check_gguf(path)
            from llama_cpp import Llama

            try:
                self._llama = Llama(
                    model_path=str(path),
                    n_ctx=self._config.context_tokens,
                    n_threads=self._config.threads or os.cpu_count() or 2,
                    n_batch=512,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as error:
                raise ModelLoadError(
                    f"{path}: cannot load this GGUF ({error})",
                    "check that RAG_MODEL_PATH names a complete GGUF model file",
                ) from None
        return self._llama


BASE_MODEL_STOPS = ["\nQuestion:", "\n\n", "\nSources:"]


def has_chat_template(llama: Any) -> bool:
    """Whether the GGUF carries a chat template (instruct models do; base models do not)."""
    return bool(llama.metadata.get("tokenizer.chat_template"))


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """The chat messages as one plain document ending in "Answer:", for base models."""
    parts = [message["content"].strip() for message in messages]
    return "\n\n".join(parts) + "\nAnswer:"


def check_gguf(path: Path) -> None:
    """Fail with a clear error unless `path` is a readable file that starts like a GGUF."""
    if not path.is_file():
        raise ModelLoadError(
            f"model file {path} does not exist",
            "set RAG_MODEL_PATH (or --model) to a .gguf file, or unset it for the bundled model",
        )
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelLoadError(
            f"{path} is not a GGUF model (it does not start with 'GGUF')",
            "point RAG_MODEL_PATH at a .gguf file",
        )
