"""Whether the model works, as `/api/health` reports it: learnt only from what the model
itself did (loaded, or its server answered the start-up probe; generated; or failed doing
either), never from an answer having been given.

Many answers are made without the model: the list of reports that mention something (their
own sentences, quoted), answers about the collection (the index's records) and refusals.
Their `mode` does not tell them from a generated answer whose text verification replaced by
quoted evidence ("extractive" either way), so the service wraps the generator the pipeline
calls and the wrapper records each outcome where it happens. A failure is reported until
the model next loads or writes; only then is it taken to work again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from rag.errors import RagError
from rag.generation import Generator


class ModelStatus:
    """The model's last known state: working, or failing with the error that said so."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._working = False
        self._problem: str | None = None

    def worked(self) -> None:
        with self._lock:
            self._working, self._problem = True, None

    def failed(self, error: RagError) -> None:
        with self._lock:
            self._working, self._problem = False, str(error)

    def state(self) -> tuple[bool, str | None]:
        """Whether the model was last seen working, and else what failed (None when it has
        not been tried yet)."""
        with self._lock:
            return self._working, self._problem


class WatchedGenerator:
    """`generator`, reporting to `status` when it loads or writes (it works) and when it
    raises a `RagError` (it fails: a missing model file, an unreachable server)."""

    def __init__(self, generator: Generator, status: ModelStatus) -> None:
        self.generator = generator
        self._status = status

    @property
    def name(self) -> str:
        return self.generator.name

    @property
    def context_tokens(self) -> int:
        return self.generator.context_tokens

    @contextlib.contextmanager
    def _failures_reported(self) -> Iterator[None]:
        """Records a `RagError` raised inside as the model's failure, and lets it through."""
        try:
            yield
        except RagError as error:
            self._status.failed(error)
            raise

    def load(self) -> None:
        with self._failures_reported():
            self.generator.load()
        self._status.worked()

    def count_tokens(self, text: str) -> int:
        # Counting is no sign that the model works (a remote model's tokens are counted
        # here), but loading the local model to count can fail.
        with self._failures_reported():
            return self.generator.count_tokens(text)

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        deltas = self.generator.stream_chat(messages, max_tokens, stop)
        try:
            with self._failures_reported():
                for delta in deltas:
                    self._status.worked()
                    yield delta
        finally:
            # Closed early (the client left): generation stops now, not when collected.
            close: Callable[[], None] | None = getattr(deltas, "close", None)
            if close is not None:
                close()
        self._status.worked()  # an empty answer is the model's answer too
