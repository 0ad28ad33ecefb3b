"""A local GGUF model through llama-cpp-python, in process.

`llama_cpp.Llama` is not thread-safe, so one lock guards it for the whole of each stream;
the chat template is the one stored in the GGUF, so any instruct GGUF works unchanged. The
system prompt's tokens stay in the KV cache between questions, so only the sources and the
question are evaluated for each (about 0.3 s less before the first token on 2 cores).
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
from rag.prompting import SYSTEM_PROMPT

GGUF_MAGIC = b"GGUF"


class LlamaCppGenerator:
    """Generates with a GGUF file; default: the bundled SmolLM2-135M-Instruct."""

    def __init__(self, config: GeneratorConfig) -> None:
        self._config = config
        self._path = Path(config.model_path) if config.model_path else None
        self._llama: Any = None
        self._lock = threading.Lock()
        # The last system message seen, and the prompt tokens every prompt with it opens with.
        self._prefix: tuple[str, list[int]] | None = None

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
            self._rewind_to_shared_prefix(llama, messages)
            chunks, deltas = _complete(
                llama,
                messages,
                stop,
                max_tokens=max_tokens,
                temperature=0.0,
                top_k=1,
                repeat_penalty=1.1,
            )
            try:
                for delta in deltas:
                    if delta:
                        yield delta
            finally:
                # Closing the llama-cpp stream stops decoding, e.g. when a client disconnects.
                chunks.close()

    def _rewind_to_shared_prefix(self, llama: Any, messages: list[dict[str, str]]) -> None:
        """Leave in the KV cache only the tokens every prompt with this system message opens
        with, evaluated on their own; llama-cpp-python then evaluates the rest of the prompt
        from there.

        The prefix is always computed alone and the rest always from the same position, so a
        question gets the same answer whatever was asked before it. (Reusing whatever the
        previous prompt left in the cache did not: it moved the boundary between reused and
        evaluated tokens, and with it the logits' low bits.)
        """
        system = "".join(m["content"] for m in messages if m["role"] == "system")
        if self._prefix is None or self._prefix[0] != system:
            self._prefix = (system, _shared_prefix(llama, system))
        prefix = self._prefix[1]
        if llama.n_tokens >= len(prefix) and list(llama.input_ids[: len(prefix)]) == prefix:
            llama.n_tokens = len(prefix)
        else:
            llama.reset()
            if prefix:
                llama.eval(prefix)

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
            # The pipeline's system prompt opens every prompt: its tokens are found now, not
            # on the first question.
            self._prefix = (SYSTEM_PROMPT, _shared_prefix(self._llama, SYSTEM_PROMPT))
        return self._llama


BASE_MODEL_STOPS = ["\nQuestion:", "\n\n", "\nSources:"]


def _complete(
    llama: Any, messages: list[dict[str, str]], stop: list[str] | None, **sampling: Any
) -> tuple[Any, Iterator[str | None]]:
    """A streamed completion of `messages` (the llama-cpp stream, to close, and its text
    pieces): through the GGUF's chat template, or, for a base model (e.g. gemma-3-270m)
    that has none, as a plain "Question: … Answer:" document that stops where it would go
    on to write another question."""
    if has_chat_template(llama):
        chunks = llama.create_chat_completion(messages=messages, stop=stop, stream=True, **sampling)
        return chunks, (chunk["choices"][0]["delta"].get("content") for chunk in chunks)
    chunks = llama.create_completion(
        prompt=plain_prompt(messages),
        stop=[*(stop or []), *BASE_MODEL_STOPS],
        stream=True,
        **sampling,
    )
    return chunks, (chunk["choices"][0].get("text") for chunk in chunks)


def _shared_prefix(llama: Any, system: str) -> list[int]:
    """The prompt tokens shared by every prompt with this system message, found as those
    two probe prompts share (templates differ, so they are not rendered here)."""
    prompts = []
    for probe in ("A", "B"):
        llama.reset()
        messages = [{"role": "system", "content": system}] if system else []
        chunks, _ = _complete(
            llama, [*messages, {"role": "user", "content": probe}], None, max_tokens=1
        )
        for _ in chunks:
            pass
        prompts.append(list(llama.input_ids[: llama.n_tokens]))
    llama.reset()
    return list(os.path.commonprefix(prompts))


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
