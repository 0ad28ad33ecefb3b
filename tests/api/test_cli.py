"""`rag serve`: registered as a sub-command; bad flags and a taken port fail with one line,
before anything is loaded; Ctrl-C ends it with status 130, as it does every command."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.cli import EXIT_USAGE, build_parser, main
from rag.settings import Settings
from tests.api.conftest import free_port, start_server, stop_process, wait_until_ready


@pytest.fixture
def server_must_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected into uvicorn, so that a serve which gets past the checks under test
    fails at once instead of serving until the test run is killed."""
    import uvicorn

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rag serve got past its checks and started serving")

    monkeypatch.setattr(uvicorn.Server, "run", refuse)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another server is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_serve_is_a_subcommand_with_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8123)


@pytest.mark.parametrize("port", ["70000", "0"])
def test_an_out_of_range_port_is_refused_in_one_line(
    server_must_not_start: None, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    assert main(["serve", "--port", port]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert error.strip() == (
        f"rag serve: error: port {port} is out of range; use a port between 1 and 65535"
    )


def test_a_port_in_use_is_refused_in_one_line(
    server_must_not_start: None, taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", str(taken_port)]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag serve: error: port {taken_port} on 127.0.0.1 is in use; "
        "choose another with --port or RAG_PORT\n"
    )


def test_a_port_in_use_from_the_environment_is_refused_too(
    server_must_not_start: None,
    taken_port: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_PORT", str(taken_port))
    assert main(["serve"]) == EXIT_USAGE
    assert f"port {taken_port} on 127.0.0.1 is in use" in capsys.readouterr().err


def ignore_sigint() -> None:
    """As a script's background job starts: with SIGINT ignored (Python then installs no
    KeyboardInterrupt handler, and uvicorn's re-raised SIGINT does nothing)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sigint_ignored_at_start", [False, True])
def test_ctrl_c_stops_the_server_with_the_interrupted_status(
    fake_index: Settings, tmp_path: Path, sigint_ignored_at_start: bool
) -> None:
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(fake_index.index_dir),
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_GENERATOR": "fake",
        "RAG_AUDIT_LOG": str(fake_index.audit_log),
    }
    port = free_port()
    log_path = tmp_path / "serve.log"
    process = start_server(
        port, env, log_path, preexec_fn=ignore_sigint if sigint_ignored_at_start else None
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, log_path)
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        status = process.wait(timeout=30)
    finally:
        stop_process(process)
    output = log_path.read_text()
    assert status == 130, output
    assert output.rstrip().endswith("rag serve: interrupted")
    assert "Traceback" not in output
