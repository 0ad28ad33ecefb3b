"""`rag bench`: time answers and measure memory under concurrent clients (see eval/README.md,
"Load and memory").

Imports stay light here, as in `rag eval`: the runner and its HTTP client load only when the
command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.cli_settings import positive_int
from rag.errors import RagError
from rag.settings import Settings

NAME = "bench"


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def concurrency_levels(text: str) -> tuple[int, ...]:
    """`1,2,4` → (1, 2, 4): distinct client counts of at least 1, in the order given."""
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of client counts, e.g. 1,2,4"
        ) from None
    if any(level < 1 for level in levels):
        raise argparse.ArgumentTypeError(f"client counts must be at least 1, got {text}")
    if len(set(levels)) != len(levels):
        raise argparse.ArgumentTypeError(f"a client count is repeated in {text}")
    return levels


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="time answers and measure server memory under 1, 2, 4… concurrent clients",
        description=(
            "Start 'rag serve' on a free loopback port (or use the server at --url) and ask "
            "the questions of a gold file through the streaming /api/ask the chat widget "
            "uses, from N concurrent clients for each N given. Records per request the time "
            "to the first event, to the verified answer and to the end, refusals of a full "
            "queue and errors; samples the server's resident memory. Writes results.json and "
            "report.md. Run it on an otherwise idle machine: other work on the same cores "
            "slows every answer."
        ),
        epilog=(
            "Examples:\n"
            "  rag bench                               dev questions at 1, 2 and 4 clients\n"
            "  rag bench --limit 5 --concurrency 1     a quick check\n"
            "  rag bench --model other.gguf --concurrency 1,2,4,8 --out eval/runs/bench-other\n"
            "  rag bench --url http://10.0.0.5:8000 --api-key KEY\n"
            "                                          a server running elsewhere (times only)\n"
            "  rag bench --url http://127.0.0.1:8000 --pid 4242\n"
            "                                          a server on this machine, with memory\n\n"
            "Status 3 means some requests ended in an error (report.md lists them); the\n"
            "figures cover the rest. Refusals of a full queue are figures, not errors."
        ),
    )
    target = parser.add_argument_group("server")
    target.add_argument(
        "--url",
        metavar="URL",
        help="measure the server already running at URL instead of starting one",
    )
    target.add_argument(
        "--pid",
        type=positive_int,
        metavar="PID",
        help="with --url: the server's process id on this machine, to measure its memory",
    )
    target.add_argument(
        "--api-key",
        metavar="KEY",
        help="key to send as X-API-Key (default: the first of RAG_API_KEYS)",
    )
    target.add_argument(
        "--model",
        metavar="GGUF",
        help="GGUF file for the started server (RAG_MODEL_PATH; default the bundled SmolLM2)",
    )
    target.add_argument(
        "--start-timeout",
        type=_positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds the started server may take to load (default 300)",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--gold", type=Path, metavar="FILE", help="gold JSONL file (default: eval/gold.jsonl)"
    )
    load.add_argument(
        "--split",
        default="dev",
        metavar="NAME",
        help="questions of one split of the gold file, or all (default: dev)",
    )
    load.add_argument(
        "--limit", type=positive_int, metavar="N", help="only the first N selected questions"
    )
    load.add_argument(
        "--concurrency",
        type=concurrency_levels,
        default=(1, 2, 4),
        metavar="LIST",
        help="numbers of concurrent clients, comma-separated (default: 1,2,4)",
    )
    load.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds one answer may take before it counts as an error (default 300)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="run folder (default: eval/runs/bench-<timestamp>/)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.bench_report import summary_lines
    from eval.bench_runner import BenchOptions, default_bench_dir, run_benchmark
    from eval.runner import DEFAULT_GOLD
    from rag.cli import EXIT_PARTIAL

    if args.url is None and args.pid is not None:
        raise RagError(
            "--pid is for a server given by --url", "leave it out: rag bench knows its own"
        )
    if args.url is not None and args.model is not None:
        raise RagError(
            "--model is for the server rag bench starts; the server at --url has its own",
            "leave out --model, or --url",
        )
    api_key = args.api_key
    if api_key is None and args.url is None and settings.api_keys:
        api_key = settings.api_keys[0]  # the started server inherits RAG_API_KEYS
    out_dir = args.out or default_bench_dir()
    finished = run_benchmark(
        settings,
        BenchOptions(
            gold_path=args.gold or DEFAULT_GOLD,
            out_dir=out_dir,
            split=args.split,
            limit=args.limit,
            concurrency=args.concurrency,
            url=args.url,
            pid=args.pid,
            api_key=api_key,
            timeout_s=args.timeout,
            start_timeout_s=args.start_timeout,
            progress=not args.quiet and sys.stderr.isatty(),
        ),
    )
    for line in summary_lines(finished.results):
        print(line)
    print(f"Report: {out_dir / 'report.md'}")
    return EXIT_PARTIAL if finished.errors else 0
