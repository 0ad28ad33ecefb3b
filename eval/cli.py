"""`rag eval`: score the assistant on a gold Q&A set and write a report (see eval/README.md).

Imports stay light here: the runner, the models and matplotlib load only when the command
runs, so that `rag --help` and the other sub-commands do not pay for them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from rag.cli_settings import positive_int, retrieval_help, top_k_help
from rag.settings import RetrievalMode, Settings

NAME = "eval"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="score answers on a gold Q&A set and write a report",
        description=(
            "Run every question of a gold file through the same pipeline as 'rag ask' and "
            "write results.jsonl, metrics.json (retrieval, answer, citation, abstention and "
            "latency metrics), per-split and per-kind metrics, and report.md / report.html."
        ),
        epilog=(
            "Examples:\n"
            "  rag eval                                all of eval/gold.jsonl, bundled models\n"
            "  rag eval --split dev --limit 20         a quick check on 20 dev questions\n"
            "  rag eval --gold eval/gold_unseen6.jsonl --out eval/runs/unseen6\n"
            "  rag eval --model other.gguf --compare eval/runs/unseen6\n"
            "                                          another GGUF, against an earlier run"
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
    parser.add_argument("--retrieval", choices=get_args(RetrievalMode), help=retrieval_help())
    parser.add_argument(
        "--model",
        metavar="GGUF",
        help="GGUF file to generate with (RAG_MODEL_PATH; default the bundled SmolLM2-135M)",
    )
    parser.add_argument("-k", "--top-k", type=int, metavar="N", help=top_k_help())
    parser.add_argument(
        "--limit", type=positive_int, metavar="N", help="only the first N selected questions"
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
