"""`rag serve`: registered as a sub-command; bad flags and a taken port fail with one line,
before anything is loaded."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from rag.cli import EXIT_USAGE, build_parser, main


@pytest.fixture
def server_must_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault injected into uvicorn, so that a serve which gets past the checks under test
    fails at once instead of serving until the test run is killed."""
    import uvicorn

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rag serve got past its checks and started serving")

    monkeypatch.setattr(uvicorn, "run", refuse)


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
