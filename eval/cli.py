"""`rag eval`: score the assistant on a gold Q&A set and write a report (see eval/README.md).

Imports stay light here: the runner, the models and matplotlib load only when the command
runs, so that `rag --help` and the other sub-commands do not pay for them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.settings import Settings

NAME = "eval"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="score answers on a gold Q&A set and write a report",
        description=(
            "Run every question of a gold file through the same pipeline as 'rag ask' and "
            "write results.jsonl, metrics.json (retrieval, answer, citation, abstention and "
            "latency metrics), per-split and per-kind metrics, and report.md / report.html."
        ),
    )
    parser.add_argument(
        "--gold",
        type=Path,
        metavar="FILE",
        help="gold JSONL file (default: eval/gold.jsonl)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="run folder (default: eval/runs/<timestamp>/)"
    )
    parser.add_argument("--retrieval", choices=["dense", "bm25", "hybrid"], help="RAG_RETRIEVAL")
    parser.add_argument("--model", metavar="PATH", help="GGUF file to generate with")
    parser.add_argument("-k", "--top-k", type=_positive_int, help="passages to retrieve")
    parser.add_argument(
        "--limit", type=_positive_int, metavar="N", help="only the first N selected questions"
    )
    parser.add_argument(
        "--split",
        default="all",
        metavar="NAME",
        help='questions of one split of the gold file: dev, test, or any other "split" '
        "label it uses (default: all)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="OTHER_RUN_DIR",
        help="a previous run folder to report differences against",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.runner import DEFAULT_GOLD, default_out_dir, evaluate

    out_dir = args.out or default_out_dir()
    finished = evaluate(
        settings,
        gold_path=args.gold or DEFAULT_GOLD,
        out_dir=out_dir,
        split=args.split,
        limit=args.limit,
        compare_dir=args.compare,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    metrics = finished.metrics
    retrieval, answer, citations = metrics["retrieval"], metrics["answer"], metrics["citations"]
    abstention, latency = metrics["abstention"], metrics["latency_ms"]
    print(
        f"Evaluated {metrics['n']} questions ({metrics['n_answerable']} answerable): "
        f"recall@5 {retrieval['recall@5']:.3f}, MRR {retrieval['mrr']:.3f}, "
        f"key facts {answer['key_fact_recall']:.3f}, citation precision "
        f"{citations['precision']:.3f} ({citations['invalid']} invalid), abstention accuracy "
        f"{abstention['accuracy']:.3f}, latency p50 {latency['p50']:.0f} ms."
    )
    print(f"Report: {out_dir / 'report.md'}")
    return 0
