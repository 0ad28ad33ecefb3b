"""`rag serve`: registered as a sub-command; bad flags fail with one line, before serving."""

from __future__ import annotations

import pytest

from rag.cli import EXIT_USAGE, build_parser, main


def test_serve_is_a_subcommand_with_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8123"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8123)


def test_an_out_of_range_port_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert error.strip() == (
        "rag serve: error: port 70000 is out of range; use a port between 1 and 65535"
    )
