"""Fixtures for the HTTP API: a TestClient over the fake index, a real uvicorn server in a
thread (for streaming, disconnects and concurrency on fake components), SSE parsing, and
for integration tests one `rag serve` process on the real bundled models, shared."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from rag.generation.fake import FakeGenerator
from rag.settings import Settings
from tests.conftest import ROOT, ingest_seeds

FAKE_QUESTION = "Which states instituted regularisation in the pandemic?"
SERVER_START_TIMEOUT_S = 240
GATE_TIMEOUT_S = 20


@dataclass(frozen=True)
class Event:
    """One server-sent event: its name (None for OpenAI's unnamed events) and raw data."""

    name: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(text: str) -> list[Event]:
    """The events of a `text/event-stream` body."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].strip())
        if data:
            events.append(Event(name, "\n".join(data)))
    return events


class InventingGenerator(FakeGenerator):
    """Writes `DRAFT`, an invented claim that no report supports (as the small model does
    now and then), then holds its stream open until `gate` is set, so that a test can look
    at the chat while the draft has been streamed but not yet verified. Verification drops
    the claim, and the answer falls back to quoting the best evidence."""

    DRAFT = "In 2024, Portugal implemented a new policy on regularisation."

    def __init__(self) -> None:
        super().__init__()
        self.drafted = threading.Event()
        self.gate = threading.Event()

    @property
    def name(self) -> str:
        return "inventing"

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        for position, word in enumerate(self.DRAFT.split(" ")):
            yield word if position == 0 else " " + word
        self.drafted.set()
        if not self.gate.wait(GATE_TIMEOUT_S):
            raise TimeoutError("the test never opened the gate")


@pytest.fixture
def client(fake_index: Settings) -> Iterator[TestClient]:
    """The app over the seed report with the hashing embedder and the fake generator."""
    with TestClient(create_app(fake_index, static_dir=None)) as test_client:
        yield test_client


# A second report that answers FAKE_QUESTION less well than the seed report does.
SYLVANIA_FACT = "Sylvania instituted a regularisation programme for migrants in 2021."


@pytest.fixture
def two_report_client(fake_settings: Settings) -> Iterator[TestClient]:
    """The app over the seed report and a one-sentence Sylvania review (`sylvania-review`)."""
    (fake_settings.seeds_dir / "sylvania-review.md").write_text(
        f"# Sylvania Review\n\n{SYLVANIA_FACT}\n", encoding="utf-8"
    )
    ingest_seeds(fake_settings)
    with TestClient(create_app(fake_settings, static_dir=None)) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """`app` on uvicorn on a free loopback port, in a thread; yields the base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass(frozen=True)
class RealServer:
    url: str
    settings: Settings
    audit_log: Path


@pytest.fixture(scope="session")
def real_server(
    real_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealServer]:
    """`rag serve` on the real bundled models over the seed report's index, in its own
    process, started once for all integration tests that need a real server."""
    base = tmp_path_factory.mktemp("served")
    audit_log = base / "answers.jsonl"
    port = free_port()
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(real_settings.index_dir),
        "RAG_SEEDS_DIR": str(real_settings.seeds_dir),
        "RAG_AUDIT_LOG": str(audit_log),
        "HF_HUB_OFFLINE": "1",
    }
    log_path = base / "server.log"
    process = start_server(port, env, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, log_path)
        yield RealServer(url, real_settings, audit_log)
    finally:
        stop_process(process)


def start_server(
    port: int,
    env: dict[str, str],
    log_path: Path,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    """`rag serve` on `port` in its own process, its output written to `log_path`."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process, killing it if it has not exited within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()[-3000:]}")
        try:
            health = httpx.get(f"{url}/api/health", timeout=5).json()
        except httpx.HTTPError:
            time.sleep(0.25)
            continue
        if health["ready"]:
            return
        raise RuntimeError(f"server started but is not ready: {health['problems']}")
    raise RuntimeError(f"server did not answer within {SERVER_START_TIMEOUT_S} s")
