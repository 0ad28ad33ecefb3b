"""The server side of `rag bench`: a `rag serve` process started on a free loopback port (or
a server already running, by URL), its readiness, and its resident memory.

The server runs as a child process, not in the benchmark's own, so that its memory is its
own: resident set size (`VmRSS`) and its peak over the process's life (`VmHWM`), read from
`/proc/<pid>/status` (Linux). Everything the server writes goes to `server.log` in the run
folder; when it fails to start, the error shows the log's last lines.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from rag.errors import RagError
from rag.settings import Settings

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 12
STOP_TIMEOUT_S = 30
SAMPLE_INTERVAL_S = 0.25


# --------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class ProcessMemory:
    """A process's resident memory now and its peak so far, in KiB."""

    rss_kib: int
    peak_kib: int


def parse_status(text: str) -> ProcessMemory:
    """`VmRSS` and `VmHWM` from the text of `/proc/<pid>/status` (`ValueError` without them)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            number, unit = rest.split()
            if unit != "kB":
                raise ValueError(f"{name} is in {unit}, not kB")
            values[name] = int(number)
    if set(values) != {"VmRSS", "VmHWM"}:
        raise ValueError("no VmRSS and VmHWM lines (a kernel thread, or not Linux)")
    return ProcessMemory(rss_kib=values["VmRSS"], peak_kib=values["VmHWM"])


def read_memory(pid: int) -> ProcessMemory | None:
    """The memory of process `pid`, or None when it has gone or cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            return parse_status(status.read())
    except (OSError, ValueError):
        return None


def check_pid(pid: int) -> None:
    """`RagError` unless the memory of process `pid` can be read here."""
    if read_memory(pid) is None:
        raise RagError(
            f"cannot read the memory of process {pid} (/proc/{pid}/status)",
            "give --pid the id of the server process on this machine (Linux), "
            "or leave --pid out to measure times only",
        )


def mib(kib: int | None) -> float | None:
    return None if kib is None else round(kib / 1024, 1)


@dataclass
class MemorySampler:
    """Samples a process's resident memory every `interval_s` seconds, in a thread, while
    inside `running()`; `samples` holds (seconds since `running()` began, RSS in KiB)."""

    pid: int
    interval_s: float = SAMPLE_INTERVAL_S
    samples: list[tuple[float, int]] = field(default_factory=list)
    started: float = 0.0

    def now(self) -> float:
        """Seconds on the samples' clock."""
        return time.monotonic() - self.started

    def sample(self) -> None:
        """Take one sample now (also called between levels, so that a level shorter than
        the interval has one)."""
        memory = read_memory(self.pid)
        if memory is not None:
            self.samples.append((self.now(), memory.rss_kib))

    @contextmanager
    def running(self) -> Iterator[MemorySampler]:
        stop = threading.Event()
        self.started = time.monotonic()

        def sample_until_stopped() -> None:
            while not stop.wait(self.interval_s):
                self.sample()

        self.sample()
        thread = threading.Thread(target=sample_until_stopped, name="memory", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
            self.sample()

    def peak_kib(self, since_s: float = 0.0, until_s: float = float("inf")) -> int | None:
        """The highest RSS sampled between `since_s` and `until_s` (None without samples)."""
        within = [rss for at, rss in self.samples if since_s <= at <= until_s]
        return max(within) if within else None


# --------------------------------------------------------------------------- the server


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def normalise_url(url: str) -> str:
    """`url` without a trailing slash; `RagError` unless it is an http(s) address."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise RagError(
            f"--url {url} is not an http:// or https:// address",
            "give the server's base address, e.g. --url http://127.0.0.1:8000",
        )
    return url.rstrip("/")


def log_excerpt(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of the server's log, indented, under a line naming the file."""
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    except OSError:
        tail = []
    if not tail:
        return f"; its log {path} is empty"
    return f"; the last lines of {path}:\n" + "\n".join(f"    {line}" for line in tail)


def server_environment(settings: Settings, out_dir: Path) -> dict[str, str]:
    """The environment of the `rag serve` child: this one's, with the settings the bench's
    own options set (absolute folders, since the child could be run from anywhere), and an
    audit log of its own in the run folder, so that benchmark questions stay out of the
    deployment's log."""
    environment = {
        **os.environ,
        "RAG_INDEX_DIR": str(settings.index_dir.absolute()),
        "RAG_EMBEDDING_MODEL": settings.embedding_model,
        "RAG_AUDIT_LOG": str((out_dir / "audit.jsonl").absolute()),
        "HF_HUB_OFFLINE": "1",
    }
    if settings.model_path:
        environment["RAG_MODEL_PATH"] = settings.model_path
    return environment


def server_command(port: int) -> list[str]:
    """`rag serve` on loopback `port`, run by this Python, as a deployment would run it."""
    return [sys.executable, "-m", "rag.cli", "serve", "--host", LOOPBACK, "--port", str(port)]


@dataclass(frozen=True)
class StartedServer:
    url: str
    pid: int
    log_path: Path


@contextmanager
def started_server(
    settings: Settings, out_dir: Path, start_timeout_s: float
) -> Iterator[StartedServer]:
    """`rag serve` on a free loopback port, as a child process, once it listens (its models
    loaded); stopped on leaving. `RagError` with the last lines of its log when it exits
    first or takes longer than `start_timeout_s`."""
    port = free_port()
    log_path = out_dir / "server.log"
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would stall it
        process = subprocess.Popen(
            server_command(port),
            env=server_environment(settings, out_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until_listening(url, process, log_path, start_timeout_s)
        yield StartedServer(url, process.pid, log_path)
    finally:
        stop_process(process)


def wait_until_listening(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float
) -> None:
    """Wait until the server answers `/api/health` (uvicorn listens only once the models
    have loaded), or raise `RagError` when it exits or takes longer than `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = process.poll()
        if status is not None:
            raise RagError(
                f"the server exited with status {status} before it was ready",
                "fix what its log names and run 'rag bench' again" + log_excerpt(log_path),
            )
        try:
            httpx.get(f"{url}/api/health", timeout=5)
            return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RagError(
                f"the server did not answer within {timeout_s:g} s",
                "give it longer with --start-timeout, or see in its log what it is doing"
                + log_excerpt(log_path),
            )
        time.sleep(0.25)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it has not exited within 30 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"X-API-Key": api_key} if api_key else {}


def check_ready(url: str, api_key: str | None) -> dict[str, Any]:
    """The server's `/api/health`, once it is known to be ready and to accept `api_key`;
    otherwise `RagError` saying what is wrong (unreachable, not this API, not ready, key)."""
    try:
        response = httpx.get(f"{url}/api/health", timeout=10)
    except httpx.HTTPError as error:
        raise RagError(
            f"cannot reach {url} ({error.__class__.__name__}: {error})",
            "start the server with 'rag serve', or check --url",
        ) from None
    try:
        health: dict[str, Any] = response.json()
        ready = bool(health["ready"])
    except (ValueError, KeyError, TypeError):
        raise RagError(
            f"{url}/api/health answered {response.status_code} without the assistant's "
            "health object",
            "check that --url is the address of 'rag serve'",
        ) from None
    if not ready:
        problems = "; ".join(f"{part}: {text}" for part, text in health["problems"].items())
        raise RagError(
            f"the server at {url} is not ready: {problems or health.get('status')}",
            "fix what it names (its /api/health lists it) and run 'rag bench' again",
        )
    # Health is open to all; documents need the key the questions will need.
    documents = httpx.get(f"{url}/api/documents", headers=auth_headers(api_key), timeout=10)
    if documents.status_code == 401:
        raise RagError(
            f"the server at {url} requires an API key"
            + (" and refused the one given" if api_key else ""),
            "pass --api-key KEY, one of its RAG_API_KEYS",
        )
    return health
