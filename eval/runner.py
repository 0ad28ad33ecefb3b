"""The evaluation runner: every gold question through the same pipeline as `rag ask`, scored.

`evaluate` loads the configured index, validates the gold file against it, derives each
question's gold passages from its evidence offsets, asks every selected question through
`Pipeline.ask` (models warmed up first, so that timings measure answering), scores the
answers with `eval.metrics` and writes the run folder:

  results.jsonl          per question: the gold item, its gold anchors, the answer, the scores
  metrics.json           the summary (`eval.metrics.aggregate`) and the run's `config`
  metrics_by_split.json  the same summary for each split (dev / test) of the selection
  metrics_by_kind.json   … and for each kind (lexical / paraphrase / unanswerable)
  report.md, report.html with one chart per metric family (see `eval.report`)

metrics.json keeps exactly the keys the evaluation issue specifies; the run's descriptive
statistics that are not metrics of that schema (median answer length in words, how many
answers were generated, extractive or abstained) live in `config`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.gold import GoldItem, corpus_texts, gold_anchors_by_item, load_gold, locate_evidence
from eval.metrics import QuestionScore, aggregate, key_fact_recall, percentile, score_question
from rag.errors import RagError
from rag.index import PassageIndex
from rag.pipeline import Pipeline
from rag.settings import Settings

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = Path("eval/gold.jsonl")
DEFAULT_RUNS = Path("eval/runs")


@dataclass(frozen=True)
class QuestionResult:
    """One gold question, what the pipeline answered, and how that scored."""

    item: GoldItem
    gold_anchors: tuple[str, ...]
    answer: dict[str, Any]  # Answer.to_dict()
    score: QuestionScore
    failures: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "gold": self.item.to_dict(),
            "gold_anchors": list(self.gold_anchors),
            "answer": self.answer,
            "scores": asdict(self.score),
            "failures": list(self.failures),
        }


@dataclass(frozen=True)
class GoldSet:
    """A validated gold file with every item's gold anchors in the current index."""

    path: Path
    items: list[GoldItem]
    anchors: dict[str, set[str]]


def prepare_gold(gold_path: Path, index: PassageIndex) -> GoldSet:
    """Load and validate the whole gold file, and find its evidence in `index`'s corpus.

    Raises `GoldError` (file, line, quote) before any model is loaded.
    """
    items = load_gold(gold_path)
    spans = locate_evidence(items, corpus_texts(index), gold_path)
    return GoldSet(gold_path, items, gold_anchors_by_item(items, spans, index.passages, gold_path))


def select_items(items: Sequence[GoldItem], split: str, limit: int | None) -> list[GoldItem]:
    """The items of `split` ("all" keeps every item), in file order, at most `limit`."""
    chosen = [item for item in items if split == "all" or item.split == split]
    if not chosen:
        labels = sorted({item.split for item in items if item.split})
        raise RagError(
            f'no gold question has "split": "{split}"',
            f"use --split all or one of: {', '.join(labels)}"
            if labels
            else "use --split all, or label the questions' split",
        )
    return chosen[:limit] if limit is not None else chosen


def run_questions(
    gold: GoldSet, items: Iterable[GoldItem], pipeline: Pipeline, progress: bool = False
) -> list[QuestionResult]:
    """Ask every item through `pipeline` and score the answers (warm the pipeline first)."""
    chosen = list(items)
    results = []
    for item in tqdm(
        chosen, desc="Evaluating", unit="question", disable=not progress, file=sys.stderr
    ):
        answer = pipeline.ask(item.question).to_dict()
        anchors = gold.anchors[item.id]
        score = score_question(item.to_dict(), anchors, answer)
        results.append(
            QuestionResult(
                item=item,
                gold_anchors=tuple(sorted(anchors)),
                answer=answer,
                score=score,
                failures=failure_reasons(item, score, answer),
            )
        )
    return results


def failure_reasons(
    item: GoldItem, score: QuestionScore, answer: dict[str, Any]
) -> tuple[str, ...]:
    """Why an answer falls short of its gold item; empty when it does not."""
    reasons = []
    if not item.answerable:
        if not score.abstained:
            reasons.append("answered a question the reports do not answer")
    else:
        if score.recall_at_5 == 0:
            reasons.append("no gold passage in the top 5")
        if score.abstained:
            reasons.append("abstained although the reports answer it")
        else:
            missing = [
                group[0]
                for group in item.key_facts
                if key_fact_recall(answer["answer"], [list(group)], abstained=False) == 0
            ]
            if missing:
                reasons.append("key facts missing: " + ", ".join(missing))
            if not score.cites_gold:
                reasons.append("cites no gold passage")
    if score.invalid:
        reasons.append(f"{score.invalid} citation(s) break the contract")
    return tuple(reasons)


# --------------------------------------------------------------------------- summaries


def answer_words_p50(results: Sequence[QuestionResult]) -> float | None:
    """Median length in words of the answers that did not abstain (None if all did)."""
    lengths = [r.score.answer_words for r in results if not r.score.abstained]
    return round(percentile(lengths, 50), 1) if lengths else None


def answer_modes(results: Sequence[QuestionResult]) -> dict[str, int]:
    """How many answers the model wrote ("generated"), were quoted instead ("extractive")
    or abstained."""
    return dict(sorted(Counter(r.answer.get("mode", "unknown") for r in results).items()))


def grouped_metrics(
    results: Sequence[QuestionResult], group_of: Callable[[GoldItem], str | None]
) -> dict[str, dict[str, Any]]:
    """`aggregate` of each group of results (plus its median answer length), by group name;
    items without a group are left out."""
    groups: dict[str, list[QuestionResult]] = {}
    for result in results:
        name = group_of(result.item)
        if name is not None:
            groups.setdefault(name, []).append(result)
    return {
        name: {
            **aggregate([r.score for r in members]),
            "answer_words_p50": answer_words_p50(members),
        }
        for name, members in sorted(groups.items())
    }


def run_config(
    settings: Settings,
    pipeline: Pipeline,
    gold: GoldSet,
    split: str,
    limit: int | None,
    results: Sequence[QuestionResult],
    load_at_start: float | None = None,
) -> dict[str, Any]:
    """What the run was made with, where and when, plus its descriptive statistics."""
    generator = pipeline.generator
    index = pipeline.retriever.index
    return {
        "model": generator.name,
        "model_path": str(getattr(generator, "model_path", settings.model_path) or ""),
        "generator": settings.generator if not settings.llm_url else "openai",
        "embedding_model": settings.embedding_model,
        "retrieval": getattr(pipeline.retriever, "mode", settings.retrieval),
        "k": pipeline.config.top_k,
        "pipeline": asdict(pipeline.config),
        "max_passage_tokens": settings.max_passage_tokens,
        "context_tokens": settings.context_tokens,
        "index": {"passages": len(index.passages), "corpus_hash": index.corpus_hash},
        "gold": str(gold.path),
        "gold_sha256": hashlib.sha256(gold.path.read_bytes()).hexdigest()[:16],
        "split": split,
        "limit": limit,
        "n": len(results),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {**machine_info(), "load_average": {"start": load_at_start, "end": load()}},
        "git_commit": git_commit(),
        "code_sha256": code_hash(),
        "answer_words_p50": answer_words_p50(results),
        "answer_modes": answer_modes(results),
    }


def load() -> float | None:
    """The 1-minute load average: latencies from a busy machine are not comparable."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores available to this process, memory and Python: what latency depends on."""
    processor = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            names = [
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            ]
        processor = names[0] if names else processor
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 0
    try:
        memory_gib: float | None = round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        )
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    return {
        "processor": processor,
        "cores": cores,
        "memory_gib": memory_gib,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    """The checked-out commit of this repository, with "-dirty" when tracked files differ;
    None outside a git checkout."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=REPOSITORY, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def code_hash() -> str:
    """One hash over the pipeline's and the runner's source files: identifies the code a
    run measured even when the working tree differs from the commit."""
    digest = hashlib.sha256()
    for path in sorted([*REPOSITORY.glob("rag/**/*.py"), *REPOSITORY.glob("eval/*.py")]):
        digest.update(path.relative_to(REPOSITORY).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class EvalRun:
    """A finished run: where it was written and its summary."""

    out_dir: Path
    metrics: dict[str, Any]
    results: list[QuestionResult]


def default_out_dir(base: Path = DEFAULT_RUNS) -> Path:
    """`eval/runs/<UTC timestamp>/`, suffixed when a run of the same second exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    candidate, suffix = base / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = base / f"{stamp}-{suffix}"
    return candidate


def evaluate(
    settings: Settings,
    gold_path: Path,
    out_dir: Path,
    split: str = "all",
    limit: int | None = None,
    compare_dir: Path | None = None,
    progress: bool = False,
    pipeline: Pipeline | None = None,
) -> EvalRun:
    """Run the gold questions through the configured pipeline and write the run folder.

    Everything that can fail on bad input (index, gold file, comparison run) is checked
    before the models load. `pipeline` may be passed in to reuse loaded models.
    """
    from eval.report import load_comparison, write_report
    from rag.factory import build_pipeline, load_configured_index

    index = pipeline.retriever.index if pipeline else load_configured_index(settings)
    gold = prepare_gold(gold_path, index)
    items = select_items(gold.items, split, limit)
    comparison = load_comparison(compare_dir) if compare_dir else None

    pipeline = pipeline or build_pipeline(settings, index=index)
    pipeline.warm_up()
    load_at_start = load()
    results = run_questions(gold, items, pipeline, progress)

    metrics = {
        **aggregate([r.score for r in results]),
        "config": run_config(settings, pipeline, gold, split, limit, results, load_at_start),
    }
    by_split = grouped_metrics(results, lambda item: item.split)
    by_kind = grouped_metrics(results, lambda item: item.kind)

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    _write_json(out_dir / "metrics.json", metrics)
    _write_json(out_dir / "metrics_by_split.json", by_split)
    _write_json(out_dir / "metrics_by_kind.json", by_kind)
    write_report(out_dir, metrics, by_split, by_kind, results, comparison)
    return EvalRun(out_dir, metrics, results)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
