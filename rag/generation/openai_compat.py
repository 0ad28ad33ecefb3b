"""Generation on a remote OpenAI-compatible server (llama.cpp's server, vLLM,
`python -m llama_cpp.server`), so that generation can scale out over other machines while
retrieval and citation verification stay in this process.

The server sees only the chat messages the pipeline built; what comes back is checked by
the same citation verification as local generation. No lock is held: the remote server
queues or batches concurrent requests itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from rag.errors import RagError
from rag.generation import GeneratorConfig
from rag.text import count_tokens as count_cl100k_tokens

CONNECT_TIMEOUT_S = 5.0
# A slow server on a busy machine may take long before its first token; past this it is down.
READ_TIMEOUT_S = 300.0
LOCAL_FALLBACK_HINT = "start it, or unset RAG_LLM_URL to generate with the local GGUF"


class RemoteGeneratorError(RagError):
    """The generation server is unreachable or refused the request."""


class OpenAICompatibleGenerator:
    """Streams chat completions from `{llm_url}/chat/completions`."""

    def __init__(self, config: GeneratorConfig) -> None:
        if not config.llm_url:
            raise RagError("the 'openai' generator needs a server URL", "set RAG_LLM_URL")
        self._config = config
        self._base_url = config.llm_url.rstrip("/")
        self._model: str | None = config.llm_model
        self._loaded = False
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._model or f"remote model at {self._base_url}"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def context_tokens(self) -> int:
        return self._config.context_tokens

    def load(self) -> None:
        """Check that the server answers, and learn its model name unless one is configured."""
        if self._loaded:
            return
        response = self._request("GET", "/models")
        models = response.json().get("data") or []
        if self._model is None and models:
            self._model = str(models[0].get("id"))
        self._loaded = True

    def count_tokens(self, text: str) -> int:
        """An estimate in the cl100k encoding: the remote model's tokenizer is not available
        here. The prompt budget keeps a margin (the answer's tokens), so this is enough."""
        return count_cl100k_tokens(text)

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        self.load()
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        if stop:
            payload["stop"] = stop
        try:
            # Leaving this block (also when the caller closes the iterator early) closes the
            # connection, which tells the server to stop generating.
            with self._http().stream("POST", "/chat/completions", json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._refused(response)
                for line in response.iter_lines():
                    delta = _delta_of(line, self._base_url)
                    if delta is None:
                        break
                    if delta:
                        yield delta
        except httpx.TransportError as error:
            raise self._unreachable(error) from None

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                headers = {"Authorization": f"Bearer {self._config.api_key}"}
                self._client = httpx.Client(
                    base_url=self._base_url,
                    headers=headers if self._config.api_key else None,
                    timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
                )
            return self._client

    def _request(self, method: str, path: str) -> httpx.Response:
        try:
            response = self._http().request(method, path)
        except httpx.TransportError as error:
            raise self._unreachable(error) from None
        if response.status_code >= 400:
            raise self._refused(response)
        return response

    def _unreachable(self, error: httpx.TransportError) -> RemoteGeneratorError:
        reason = str(error) or type(error).__name__
        return RemoteGeneratorError(
            f"cannot reach the generation server at {self._base_url} ({reason})",
            LOCAL_FALLBACK_HINT,
        )

    def _refused(self, response: httpx.Response) -> RemoteGeneratorError:
        return RemoteGeneratorError(
            f"the generation server at {self._base_url} answered {response.status_code} "
            f"to {response.request.method} {response.request.url.path} "
            f"({_error_message(response)})",
            "check RAG_LLM_URL (it ends in /v1), RAG_LLM_MODEL and RAG_LLM_API_KEY",
        )


def _delta_of(line: str, base_url: str) -> str | None:
    """The text delta of one server-sent line: "" for lines without text, None at the end."""
    if not line.startswith("data:"):
        return ""  # blank separators, comments, "event:" lines
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except ValueError:
        raise RemoteGeneratorError(
            f"the generation server at {base_url} sent a line that is not JSON: {data[:80]!r}",
            "check that RAG_LLM_URL names an OpenAI-compatible server",
        ) from None
    if "error" in chunk:
        raise RemoteGeneratorError(
            f"the generation server at {base_url} failed: {_message_of(chunk['error'])}"
        )
    choices = chunk.get("choices") or [{}]
    content = (choices[0].get("delta") or {}).get("content")
    return content or ""


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return _message_of(body.get("error", body) if isinstance(body, dict) else body)


def _message_of(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error)[:200]
    return str(error)[:200]
