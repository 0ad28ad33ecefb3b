"""`rag serve [--host HOST] [--port PORT]`: the HTTP API and the chat widget, on uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from rag.errors import RagError
from rag.settings import Settings

NAME = "serve"


def add_parser(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        NAME,
        help="serve the HTTP API (answers, passages, OpenAI-compatible chat) and the widget",
        description=(
            "Serve the HTTP API on HOST:PORT. Models and index load once at start-up; "
            "GET /api/health says when the assistant is ready, /docs lists the endpoints."
        ),
    )
    serve.add_argument("--host", help="address to listen on (RAG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (RAG_PORT, default 8000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise RagError(f"port {port} is out of range", "use a port between 1 and 65535")
    if not settings.api_keys and not is_loopback(host):
        print(
            f"rag serve: warning: listening on {host} without API keys; "
            "set RAG_API_KEYS to require one",
            file=sys.stderr,
        )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    return 0


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback interface."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
