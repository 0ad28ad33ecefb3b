"""The human-readable side of an evaluation run: report.md, report.html and their charts.

Both reports are rendered from one list of blocks (headings, paragraphs, tables, images,
failed questions), so the Markdown and the HTML always say the same thing. There is one
PNG chart per metric family next to the reports; with a comparison run, each chart shows
both runs side by side and the tables gain the other run's value and the difference.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import RagError

if TYPE_CHECKING:
    from eval.runner import QuestionResult

# Metric families in report order, with a title and whether values are shares in [0, 1].
FAMILIES: dict[str, tuple[str, bool]] = {
    "retrieval": ("Retrieval", True),
    "answer": ("Answer", True),
    "citations": ("Citations", True),
    "abstention": ("Abstention", True),
    "latency_ms": ("Latency (ms)", False),
}
ANSWER_PREVIEW_CHARS = 400


@dataclass(frozen=True)
class Comparison:
    """Another run to compare with: its folder, metrics and which questions it failed."""

    run_dir: Path
    metrics: dict[str, Any]
    # Question id → whether that run failed it; None when that run has no results.jsonl.
    failed: dict[str, bool] | None


def load_comparison(run_dir: Path) -> Comparison:
    """Read another run's metrics.json (and results.jsonl when present)."""
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RagError(
            f"{run_dir}/metrics.json does not exist",
            "pass --compare the folder of a finished 'rag eval' run",
        ) from None
    except ValueError as error:
        raise RagError(f"{run_dir}/metrics.json is not valid JSON ({error})") from None
    failed: dict[str, bool] | None = None
    results_path = run_dir / "results.jsonl"
    if results_path.is_file():
        records = [
            json.loads(line)
            for line in results_path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        failed = {record["id"]: bool(record.get("failures")) for record in records}
    return Comparison(run_dir, metrics, failed)


def metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str, float | int | None]]:
    """(family, metric, value) for every metric of a summary, in report order."""
    return [
        (family, name, value)
        for family in FAMILIES
        for name, value in metrics.get(family, {}).items()
    ]


def metric_differences(
    current: dict[str, Any], other: dict[str, Any]
) -> list[tuple[str, str, float | int | None, float | int | None, float | None]]:
    """(family, metric, this run, other run, this − other) for every metric of this run."""
    rows = []
    for family, name, value in metric_rows(current):
        before = other.get(family, {}).get(name)
        both = isinstance(value, int | float) and isinstance(before, int | float)
        delta = round(value - before, 4) if both else None
        rows.append((family, name, value, before, delta))
    return rows


# --------------------------------------------------------------------------- content


def _number(value: Any, share: bool = True) -> str:
    """Shares with three decimals; counts as they are; milliseconds and words with one."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if share else f"{value:.1f}"
    return str(value)


def _signed(value: float | None, share: bool = True) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + _number(value, share)


def _is_share(family: str) -> bool:
    return FAMILIES[family][1]


def _load(machine: dict[str, Any]) -> str:
    load = machine.get("load_average") or {}
    return f"{_number(load.get('start'), False)} → {_number(load.get('end'), False)}"


def _applies(family: str, name: str, summary: dict[str, Any]) -> bool:
    """False for metrics a group cannot have (retrieval of unanswerable-only questions)."""
    answerable, n = summary.get("n_answerable", 0), summary.get("n", 0)
    if family in ("retrieval", "answer") or (family == "citations" and name != "invalid"):
        return answerable > 0
    if family == "abstention" and name in ("precision", "recall"):
        return n > answerable
    return True


def _blocks(
    metrics: dict[str, Any],
    by_split: dict[str, dict[str, Any]],
    by_kind: dict[str, dict[str, Any]],
    results: Sequence[QuestionResult],
    comparison: Comparison | None,
    charts: dict[str, str],
) -> list[tuple[Any, ...]]:
    config = metrics["config"]
    machine = config.get("machine", {})
    modes = ", ".join(f"{count} {mode}" for mode, count in config.get("answer_modes", {}).items())
    blocks: list[tuple[Any, ...]] = [
        ("h1", f"Evaluation report — {config.get('date', '')}"),
        (
            "p",
            f"{metrics['n']} questions ({metrics['n_answerable']} answerable) from "
            f"{config.get('gold')} (split: {config.get('split')}); model {config.get('model')}, "
            f"embeddings {config.get('embedding_model')}, retrieval {config.get('retrieval')}, "
            f"k = {config.get('k')}.",
        ),
        (
            "p",
            f"Machine: {machine.get('processor')}, {machine.get('cores')} cores, "
            f"{machine.get('memory_gib')} GiB, load average {_load(machine)}; "
            f"git commit {config.get('git_commit')}. "
            f"Median answer length: {_number(config.get('answer_words_p50'), share=False)} words; "
            f"answers by mode: {modes or '—'}.",
        ),
        ("h2", "Metrics"),
    ]
    if comparison is None:
        rows = [
            [family, name, _number(value, _is_share(family))]
            for family, name, value in metric_rows(metrics)
        ]
        blocks.append(("table", ["family", "metric", "value"], rows))
    else:
        rows = [
            [
                family,
                name,
                _number(value, _is_share(family)),
                _number(before, _is_share(family)),
                _signed(delta, _is_share(family)),
            ]
            for family, name, value, before, delta in metric_differences(
                metrics, comparison.metrics
            )
        ]
        blocks.append(
            ("table", ["family", "metric", "this run", str(comparison.run_dir), "Δ"], rows)
        )
    for family, path in charts.items():
        blocks.append(("img", path, FAMILIES[family][0]))

    for title, groups in (("By split", by_split), ("By kind", by_kind)):
        if not groups:
            continue
        header = ["family", "metric", *(f"{name} (n={g['n']})" for name, g in groups.items())]
        rows = [
            [
                family,
                name,
                *(
                    _number(g[family][name], _is_share(family))
                    if _applies(family, name, g)
                    else "—"
                    for g in groups.values()
                ),
            ]
            for family, name, _ in metric_rows(metrics)
        ]
        rows.append(
            [
                "answer",
                "words (median)",
                *(_number(g["answer_words_p50"], share=False) for g in groups.values()),
            ]
        )
        blocks += [("h2", title), ("table", header, rows)]

    if comparison is not None:
        blocks += _comparison_blocks(results, comparison)

    failed = [result for result in results if result.failed]
    blocks.append(("h2", f"Failed questions ({len(failed)} of {len(results)})"))
    if not failed:
        blocks.append(("p", "Every question met its gold item."))
    blocks += [("question", result) for result in failed]
    return blocks


def _comparison_blocks(
    results: Sequence[QuestionResult], comparison: Comparison
) -> list[tuple[Any, ...]]:
    blocks: list[tuple[Any, ...]] = [("h2", f"Compared with {comparison.run_dir}")]
    if comparison.failed is None:
        return [*blocks, ("p", "That run has no results.jsonl: metrics only.")]
    other_config = comparison.metrics.get("config", {})
    blocks.append(
        (
            "p",
            f"That run: model {other_config.get('model')}, retrieval "
            f"{other_config.get('retrieval')}, k = {other_config.get('k')}, "
            f"commit {other_config.get('git_commit')}, {other_config.get('date')}.",
        )
    )
    before = comparison.failed
    newly_failed = [r.item.id for r in results if r.failed and before.get(r.item.id) is False]
    newly_passed = [r.item.id for r in results if not r.failed and before.get(r.item.id) is True]
    blocks.append(("p", f"Now failing, passed before: {', '.join(newly_failed) or 'none'}."))
    blocks.append(("p", f"Now passing, failed before: {', '.join(newly_passed) or 'none'}."))
    return blocks


def _question_facts(result: QuestionResult) -> tuple[str, list[tuple[str, str]]]:
    item, answer = result.item, result.answer
    key_facts = "; ".join(" / ".join(group) for group in item.key_facts) or "—"
    citations = ", ".join(f"[{c['n']}] {c['anchor']}" for c in answer.get("citations", []))
    passages = ", ".join(p["anchor"] for p in answer.get("passages", []))
    text = answer.get("answer", "")
    if len(text) > ANSWER_PREVIEW_CHARS:
        text = text[:ANSWER_PREVIEW_CHARS] + "…"
    title = f"{item.id} ({item.kind or 'no kind'}, {item.split or 'no split'}): {item.question}"
    return title, [
        ("failed", "; ".join(result.failures)),
        ("expected", item.answer if item.answerable else "abstention"),
        ("key facts", key_facts),
        ("gold passages", ", ".join(result.gold_anchors) or "—"),
        ("returned", f"{text} ({answer.get('mode', '')})"),
        ("cited", citations or "—"),
        ("retrieved", passages or "—"),
    ]


# --------------------------------------------------------------------------- rendering


def _markdown(blocks: Sequence[tuple[Any, ...]]) -> str:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines: list[str] = []
    for kind, *content in blocks:
        if kind == "h1":
            lines += [f"# {content[0]}", ""]
        elif kind == "h2":
            lines += [f"## {content[0]}", ""]
        elif kind == "p":
            lines += [content[0], ""]
        elif kind == "table":
            header, rows = content
            lines.append("| " + " | ".join(cell(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            lines += [f"![{content[1]}]({content[0]})", ""]
        elif kind == "question":
            title, facts = _question_facts(content[0])
            lines += [f"### {title}", ""]
            lines += [f"- **{label}**: {value}" for label, value in facts]
            lines.append("")
    return "\n".join(lines)


def _html(blocks: Sequence[tuple[Any, ...]]) -> str:
    escape = html.escape
    body: list[str] = []
    for kind, *content in blocks:
        if kind in ("h1", "h2", "p"):
            body.append(f"<{kind}>{escape(content[0])}</{kind}>")
        elif kind == "table":
            header, rows = content
            head = "".join(f"<th>{escape(h)}</th>" for h in header)
            cells = "".join(
                "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
        elif kind == "img":
            body.append(f'<img src="{escape(content[0])}" alt="{escape(content[1])}">')
        elif kind == "question":
            title, facts = _question_facts(content[0])
            rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
            body.append(f"<details><summary>{escape(title)}</summary><dl>{rows}</dl></details>")
    style = (
        "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.2rem .6rem;text-align:left}img{max-width:32rem;display:block;margin:1rem 0}"
        "dt{font-weight:bold}summary{cursor:pointer;margin:.4rem 0}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Evaluation report</title><style>{style}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _chart(path: Path, family: str, metrics: dict[str, Any], other: dict[str, Any] | None) -> None:
    # The object-oriented API without pyplot: no GUI backend, no global figure state.
    from matplotlib.figure import Figure

    title, is_share = FAMILIES[family]
    values = {
        name: value
        for name, value in metrics[family].items()
        if name != "invalid" and isinstance(value, int | float)
    }
    series = [("this run", [values[name] for name in values])]
    if other is not None:
        series.append(
            ("compared run", [float(other.get(family, {}).get(name) or 0) for name in values])
        )
    figure = Figure(figsize=(6, 3.2), layout="constrained")
    axes = figure.subplots()
    width = 0.8 / len(series)
    for position, (label, heights) in enumerate(series):
        xs = [i + (position - (len(series) - 1) / 2) * width for i in range(len(values))]
        bars = axes.bar(xs, heights, width, label=label)
        axes.bar_label(bars, fmt="%.2f" if is_share else "%.0f", fontsize=8)
    axes.set_xticks(range(len(values)), list(values))
    if is_share:
        axes.set_ylim(0, 1.1)
    if family == "citations":
        title += f" (invalid: {metrics[family].get('invalid')})"
    axes.set_title(title)
    if other is not None:
        axes.legend(fontsize=8)
    figure.savefig(path, dpi=100)


def write_report(
    out_dir: Path,
    metrics: dict[str, Any],
    by_split: dict[str, dict[str, Any]],
    by_kind: dict[str, dict[str, Any]],
    results: Sequence[QuestionResult],
    comparison: Comparison | None = None,
) -> None:
    """Write report.md, report.html and one `<family>.png` chart per metric family."""
    charts: dict[str, str] = {}
    for family in FAMILIES:
        if metrics.get(family):
            _chart(
                out_dir / f"{family}.png",
                family,
                metrics,
                comparison.metrics if comparison else None,
            )
            charts[family] = f"{family}.png"
    blocks = _blocks(metrics, by_split, by_kind, results, comparison, charts)
    (out_dir / "report.md").write_text(_markdown(blocks), encoding="utf-8")
    (out_dir / "report.html").write_text(_html(blocks), encoding="utf-8")
