"""`rag serve [--host HOST] [--port PORT]`: the HTTP API and the chat widget, on uvicorn.

Stopped with Ctrl-C (SIGINT) it exits with status 130, interrupted, as every `rag` command
does, once uvicorn has shut down gracefully. `uvicorn.run` would exit 0: it swallows the
KeyboardInterrupt that uvicorn raises after shutting down, and raises none at all when
SIGINT was ignored at start-up (a background job of a script), so the server records the
signal itself. SIGTERM, once the server has shut down, ends the process as that signal's
default does (status 143 in a shell).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import signal
import socket
import sys
from types import FrameType
from typing import Any

from rag.errors import RagError
from rag.settings import Settings

NAME = "serve"
EXIT_NOT_STARTED = 1  # the server could not start: its log lines above say why


def add_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        NAME,
        help="serve the HTTP API (answers, passages, OpenAI-compatible chat) and the widget",
        description=(
            "Serve the HTTP API on HOST:PORT. Models and index load once at start-up; "
            "GET /api/health says when the assistant is ready, /docs lists the endpoints."
        ),
        epilog=(
            "Examples:\n"
            "  rag serve                           http://127.0.0.1:8000/, this machine only\n"
            "  RAG_API_KEYS=key-one rag serve --host 0.0.0.0 --port 9000\n"
            "                                      for other machines: with an API key"
        ),
    )
    serve.add_argument("--host", help="address to listen on (RAG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (RAG_PORT, default 8000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 1 <= port <= 65535:
        raise RagError(f"port {port} is out of range", "use a port between 1 and 65535")
    # Before anything loads: uvicorn binds only after the lifespan has loaded the models,
    # and then reports a taken port among its log lines with its start-up failure status 3.
    check_can_listen(host, port)

    import uvicorn

    from api.app import create_app

    if not settings.api_keys and not is_loopback(host):
        print(
            f"rag serve: warning: listening on {host} without API keys; "
            "set RAG_API_KEYS to require one",
            file=sys.stderr,
        )

    class Server(uvicorn.Server):
        """uvicorn's server, noting whether a SIGINT stopped it."""

        interrupted = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            self.interrupted = self.interrupted or sig == signal.SIGINT
            super().handle_exit(sig, frame)

    server = Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="info"))
    server.run()
    if server.interrupted:
        raise KeyboardInterrupt  # rag's main: "rag serve: interrupted", status 130
    if not server.started:
        print("rag serve: error: the server did not start (see the log above)", file=sys.stderr)
        return EXIT_NOT_STARTED
    return 0


def check_can_listen(host: str, port: int) -> None:
    """`RagError` unless a server could listen on `host`:`port` now."""
    # The probe binds as uvicorn will: same address family, and SO_REUSEADDR, so that a
    # port whose last connections linger in TIME_WAIT is not reported as taken.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise RagError(
                f"host {host} is not known",
                "give an address of this machine with --host or RAG_HOST",
            ) from None
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise RagError(
                    f"port {port} on {host} is in use", "choose another with --port or RAG_PORT"
                ) from None
            raise RagError(
                f"cannot listen on {host} port {port} ({error.strerror})",
                "choose another address or port with --host/--port or RAG_HOST/RAG_PORT",
            ) from None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
