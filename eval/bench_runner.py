"""`rag bench`'s run: a gold file's questions from 1, 2, 4… concurrent clients against a real
server, with its memory, written to a run folder like `rag eval`'s:

  results.json  `config` (questions, server, model file, machine, commit), `memory` (peak
                resident memory after loading and after the run, RSS over time), `levels`
                (per concurrency: counts, p50/p95/max of each timing, answers per minute,
                peak RSS) and `requests` (every request, timed)
  report.md     the same figures for reading (see `eval.bench_report`)
  server.log    the server's output, when `rag bench` started it (and its `audit.jsonl`)

Timings are summarised over the answered requests (abstentions included, as in `rag eval`);
refusals and errors are counted apart.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.bench_client import TIMINGS, BenchQuestion, LevelRun, RequestResult, run_level
from eval.bench_server import (
    MemorySampler,
    ProcessMemory,
    check_pid,
    check_ready,
    mib,
    normalise_url,
    read_memory,
    started_server,
)
from eval.gold import load_gold
from eval.metrics import percentile
from eval.runner import DEFAULT_RUNS, git_commit, load, machine_info, select_items
from rag.errors import RagError
from rag.settings import Settings

DEFAULT_CONCURRENCY = (1, 2, 4)
DEFAULT_SPLIT = "dev"
ENDPOINT = "POST /api/ask"


@dataclass(frozen=True)
class BenchOptions:
    """What `rag bench` was asked to do."""

    gold_path: Path
    out_dir: Path
    split: str = DEFAULT_SPLIT
    limit: int | None = None
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    url: str | None = None  # None: start a server
    pid: int | None = None  # the process of the server at `url`, for its memory
    api_key: str | None = None
    timeout_s: float = 300.0
    start_timeout_s: float = 300.0
    progress: bool = False


@dataclass(frozen=True)
class BenchRun:
    """A finished benchmark: its folder and everything results.json holds."""

    out_dir: Path
    results: dict[str, Any]

    @property
    def errors(self) -> int:
        return sum(level["errors"] for level in self.results["levels"])


# --------------------------------------------------------------------------- statistics


def timing_summary(values: Sequence[float]) -> dict[str, float] | None:
    """p50, p95 and max of `values` in ms, to 0.1 ms; None when there are none."""
    if not values:
        return None
    return {
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
    }


def summarise_level(level: LevelRun, peak_rss_kib: int | None = None) -> dict[str, Any]:
    """Counts, timing percentiles over the answered requests, answers per minute (answers
    over the level's wall-clock time) and the peak RSS sampled during the level."""
    outcomes = Counter(result.outcome for result in level.results)
    answered = [result for result in level.results if result.outcome == "answered"]
    timings = {
        name: timing_summary([value for r in answered if (value := getattr(r, name)) is not None])
        for name in TIMINGS
    }
    return {
        "concurrency": level.concurrency,
        "requests": len(level.results),
        "answered": outcomes["answered"],
        "refused": outcomes["refused"],
        "errors": outcomes["error"],
        "wall_s": round(level.wall_s, 2),
        "answers_per_min": (
            round(outcomes["answered"] * 60 / level.wall_s, 1) if level.wall_s > 0 else None
        ),
        **timings,
        "modes": dict(sorted(Counter(str(r.mode) for r in answered).items())),
        "peak_rss_mib": mib(peak_rss_kib),
    }


def memory_summary(
    pid: int,
    after_load: ProcessMemory,
    after_run: ProcessMemory | None,
    sampler: MemorySampler,
) -> dict[str, Any]:
    """results.json's `memory`. The peak after the run is VmHWM then, or the highest RSS
    sampled if that is higher: the kernel updates VmHWM lazily, and a sample taken at the
    top of a short-lived peak can exceed it."""
    peaks = [kib for kib in (after_run and after_run.peak_kib, sampler.peak_kib()) if kib]
    return {
        "measured": True,
        "pid": pid,
        "source": f"/proc/{pid}/status (VmHWM: peak resident; VmRSS: resident now)",
        "peak_after_load_mib": mib(after_load.peak_kib),
        "rss_after_load_mib": mib(after_load.rss_kib),
        "peak_after_run_mib": mib(max(peaks)) if peaks else None,
        "sample_interval_s": sampler.interval_s,
        "rss_mib": [[round(at, 2), mib(rss)] for at, rss in sampler.samples],
    }


# --------------------------------------------------------------------------- the run


def bench_questions(gold_path: Path, split: str, limit: int | None) -> list[BenchQuestion]:
    """The selected questions of a gold file (validated as `rag eval` validates it, without
    locating its evidence: the index may be the server's, elsewhere)."""
    items = select_items(load_gold(gold_path), split, limit)
    return [BenchQuestion(item.id, item.question) for item in items]


def check_can_serve(settings: Settings) -> None:
    """Refuse at once what would stop a started server from answering: no index, or a
    model file that is not there (loading the models first would take a while)."""
    from rag.manifest import read_manifest

    read_manifest(settings.index_dir)  # IndexMissingError: the CLI names the folder and fix
    if settings.model_path and not Path(settings.model_path).is_file():
        raise RagError(
            f"model file {settings.model_path} does not exist",
            "give --model (or RAG_MODEL_PATH) a GGUF file",
        )


def model_file(settings: Settings, health: dict[str, Any], started: bool) -> dict[str, Any]:
    """The model the server generates with: its name, and its file (path and size) when the
    server is this machine's own `rag serve` with a local GGUF."""
    path: Path | None = None
    if started and health.get("generator") == "llama-cpp":
        from rag.models import bundled_gguf_path

        path = Path(settings.model_path) if settings.model_path else bundled_gguf_path()
    return {
        "name": health.get("model"),
        "path": str(path.resolve()) if path else None,
        "size_mib": mib(path.stat().st_size // 1024) if path else None,
        "generator": health.get("generator"),
        "llm_url": health.get("llm_url"),
    }


def default_bench_dir(base: Path = DEFAULT_RUNS) -> Path:
    """`eval/runs/bench-<UTC timestamp>/`, suffixed when one of the same second exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    candidate, suffix = base / f"bench-{stamp}", 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"bench-{stamp}-{suffix}"
    return candidate


@contextmanager
def _server(
    settings: Settings, options: BenchOptions
) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
    """(URL, pid or None, health) of the server to measure: started here, or the one at
    `options.url`."""
    pid: int | None
    with ExitStack() as stack:
        if options.url is None:
            server = stack.enter_context(
                started_server(settings, options.out_dir, options.start_timeout_s)
            )
            url, pid = server.url, server.pid
        else:
            url, pid = options.url, options.pid
        yield url, pid, check_ready(url, options.api_key)


def _memory_unmeasured_reason(options: BenchOptions) -> str:
    if options.url is not None and options.pid is None:
        return "the server runs apart from rag bench: pass --pid with its process id"
    return "/proc/<pid>/status cannot be read here (not Linux?)"


def run_benchmark(settings: Settings, options: BenchOptions) -> BenchRun:
    """Measure the server at each concurrency level and write the run folder.

    Everything that can fail on bad input (gold file, URL, pid, index, model file) is checked
    before a server starts; a server that fails to start, or is not ready, is a `RagError`
    with the reason (the last lines of its log, or its /api/health problems)."""
    from eval.bench_report import write_report

    questions = bench_questions(options.gold_path, options.split, options.limit)
    if options.url is None:
        check_can_serve(settings)
    else:
        options = replace(options, url=normalise_url(options.url))
        if options.pid is not None:
            check_pid(options.pid)
    created = not options.out_dir.exists()
    options.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        results = _measure(settings, options, questions)
    except BaseException:
        if created and not any(options.out_dir.iterdir()):
            options.out_dir.rmdir()  # nothing to look at: leave no empty run folder
        raise
    (options.out_dir / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(options.out_dir, results)
    return BenchRun(options.out_dir, results)


def _measure(
    settings: Settings, options: BenchOptions, questions: Sequence[BenchQuestion]
) -> dict[str, Any]:
    """results.json's content: the server measured at each level."""
    levels: list[dict[str, Any]] = []
    requests: list[RequestResult] = []
    with _server(settings, options) as (url, pid, health):
        after_load = read_memory(pid) if pid is not None else None
        _warm_up(url, questions[0], options)
        load_at_start = load()
        sampler = MemorySampler(pid) if after_load is not None and pid is not None else None
        with ExitStack() as stack:
            if sampler is not None:
                stack.enter_context(sampler.running())
            bar = stack.enter_context(
                tqdm(
                    total=len(questions) * len(options.concurrency),
                    desc="Benchmarking",
                    unit="question",
                    disable=not options.progress,
                    file=sys.stderr,
                )
            )
            for concurrency in options.concurrency:
                bar.set_postfix(clients=concurrency)
                since = sampler.now() if sampler else 0.0
                level = run_level(
                    url,
                    questions,
                    concurrency,
                    options.api_key,
                    options.timeout_s,
                    on_result=lambda _result: bar.update(),
                )
                if sampler is not None:
                    sampler.sample()
                peak = sampler.peak_kib(since, sampler.now()) if sampler else None
                levels.append(summarise_level(level, peak))
                requests += level.results
        after_run = read_memory(pid) if pid is not None else None
        load_at_end = load()

    if sampler is not None and after_load is not None and pid is not None:
        memory = memory_summary(pid, after_load, after_run, sampler)
    else:
        memory = {"measured": False, "reason": _memory_unmeasured_reason(options)}
    return {
        "config": {
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gold": str(options.gold_path),
            "gold_sha256": hashlib.sha256(options.gold_path.read_bytes()).hexdigest()[:16],
            "split": options.split,
            "limit": options.limit,
            "questions": len(questions),
            "concurrency": list(options.concurrency),
            "endpoint": ENDPOINT,
            "timeout_s": options.timeout_s,
            "server": {
                "url": url,
                "started_by_bench": options.url is None,
                "pid": pid,
                "queue_capacity": health.get("queue", {}).get("capacity"),
                "corpus_hash": health.get("corpus_hash"),
                "passages": health.get("passages"),
                "versions": health.get("versions"),
            },
            "model": model_file(settings, health, started=options.url is None),
            "machine": {
                **machine_info(),
                "load_average": {"start": load_at_start, "end": load_at_end},
            },
            "git_commit": git_commit(),
        },
        "memory": memory,
        "levels": levels,
        "requests": [result.to_dict() for result in requests],
    }


def _warm_up(url: str, question: BenchQuestion, options: BenchOptions) -> None:
    """Ask one question before measuring, so that first-use costs are not timed (as `rag
    eval` warms the models up); a failure here means no measurement would succeed."""
    (result,) = run_level(url, [question], 1, options.api_key, options.timeout_s).results
    if result.outcome != "answered":
        raise RagError(
            f"the warm-up question '{question.id}' was not answered ({result.error})",
            "check the server's log; with --url, that no one else is using it",
        )
