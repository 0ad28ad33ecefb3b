"""`rag bench`'s report.md, and the summary it prints: rendered from results.json's content
alone, so that a report can be re-made from any run's results.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ERRORS_LISTED = 10


def seconds(milliseconds: float | None) -> str:
    """Milliseconds as seconds with two decimals; "—" for none."""
    return "—" if milliseconds is None else f"{milliseconds / 1000:.2f}"


def _value(value: Any) -> str:
    return "—" if value is None else str(value)


def _timing(level: dict[str, Any], name: str, statistic: str) -> str:
    summary = level.get(name)
    return seconds(summary[statistic]) if summary else "—"


def clients(count: int) -> str:
    return "1 client" if count == 1 else f"{count} clients"


def _levels_text(counts: list[int]) -> str:
    """[1, 2, 4] → "1, 2 and 4 concurrent clients"; [1] → "1 concurrent client"."""
    names = [str(count) for count in counts]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} concurrent client{'' if counts == [1] else 's'}"


def _describe_run(config: dict[str, Any]) -> list[str]:
    server, model, machine = config["server"], config["model"], config["machine"]
    selection = f"split: {config['split']}"
    if config.get("limit") is not None:
        selection += f", first {config['limit']}"
    where = (
        f"started by rag bench at {server['url']}"
        if server["started_by_bench"]
        else f"already running at {server['url']}"
    )
    if server.get("pid") is not None:
        where += f" (pid {server['pid']})"
    model_text = f"Model: {model['name']}"
    if model.get("path"):
        model_text += f" ({model['path']}, {model['size_mib']} MiB)"
    model_text += f", generator {model['generator']}"
    if model.get("llm_url"):
        model_text += f" at {model['llm_url']}"
    load = machine.get("load_average") or {}
    return [
        f"{config['questions']} questions from {config['gold']} ({selection}), each asked once "
        f"at every level: {_levels_text(config['concurrency'])}, through "
        f'{config["endpoint"]} with "stream": true, as the chat widget asks. Server: {where}, '
        f"queue capacity {_value(server.get('queue_capacity'))}.",
        f"{model_text}.",
        f"Machine: {machine.get('processor')}, {machine.get('cores')} cores, "
        f"{_value(machine.get('memory_gib'))} GiB, load average {_value(load.get('start'))} → "
        f"{_value(load.get('end'))}; git commit {_value(config.get('git_commit'))}.",
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _time_tables(levels: list[dict[str, Any]]) -> list[str]:
    counts = [
        [
            str(level["concurrency"]),
            str(level["requests"]),
            str(level["answered"]),
            str(level["refused"]),
            str(level["errors"]),
            _value(level["answers_per_min"]),
            ", ".join(f"{n} {mode}" for mode, n in level["modes"].items()) or "—",
        ]
        for level in levels
    ]
    times = [
        [str(level["concurrency"])]
        + [
            _timing(level, name, statistic)
            for name in ("first_event_ms", "answer_ms", "total_ms")
            for statistic in ("p50", "p95")
        ]
        + [_timing(level, "answer_ms", "max"), _timing(level, "first_token_ms", "p50")]
        for level in levels
    ]
    return [
        *_table(
            [
                "clients",
                "requests",
                "answered",
                "refused",
                "errors",
                "answers/min",
                "answers by mode",
            ],
            counts,
        ),
        "Seconds from sending a question, over the answered requests. *First event*: the "
        "retrieved passages arrive; *answer*: the verified answer (the `done` event), the "
        "first answer text the chat widget shows; *total*: the response ends; *draft*: the "
        "model's first unverified token, which readers never see (answers the model wrote).",
        "",
        *_table(
            [
                "clients",
                "first event p50",
                "first event p95",
                "answer p50",
                "answer p95",
                "total p50",
                "total p95",
                "answer max",
                "draft p50",
            ],
            times,
        ),
    ]


def _memory_lines(memory: dict[str, Any], levels: list[dict[str, Any]]) -> list[str]:
    if not memory["measured"]:
        return [f"Not measured: {memory['reason']}.", ""]
    rows = [
        ["peak after loading (VmHWM)", _value(memory["peak_after_load_mib"])],
        ["resident after loading (VmRSS)", _value(memory["rss_after_load_mib"])],
        ["peak after the run (VmHWM or highest sample)", _value(memory["peak_after_run_mib"])],
        *(
            [
                f"highest sampled at {clients(level['concurrency'])} (VmRSS)",
                _value(level["peak_rss_mib"]),
            ]
            for level in levels
        ),
    ]
    return [
        f"Resident memory of the server process, from {memory['source']}, sampled every "
        f"{memory['sample_interval_s']} s during the run (results.json: `rss_mib`).",
        "",
        *_table(["moment", "MiB"], rows),
    ]


def _error_lines(requests: list[dict[str, Any]]) -> list[str]:
    failed = [request for request in requests if request["outcome"] == "error"]
    if not failed:
        return []
    lines = [f"## Errors ({len(failed)})", ""]
    for request in failed[:ERRORS_LISTED]:
        lines.append(
            f"- {clients(request['concurrency'])}, {request['question_id']}: {request['error']}"
        )
    if len(failed) > ERRORS_LISTED:
        lines.append(f"- … and {len(failed) - ERRORS_LISTED} more in results.json")
    return [*lines, ""]


def render_markdown(results: dict[str, Any]) -> str:
    """report.md for a run's results.json content."""
    config, levels = results["config"], results["levels"]
    lines = [f"# Load benchmark — {config['date']}", ""]
    for paragraph in _describe_run(config):
        lines += [paragraph, ""]
    lines += ["## Time by number of concurrent clients", "", *_time_tables(levels)]
    lines += ["## Memory", "", *_memory_lines(results["memory"], levels)]
    lines += _error_lines(results["requests"])
    return "\n".join(lines)


def summary_lines(results: dict[str, Any]) -> list[str]:
    """What `rag bench` prints when done: one line per level, then memory."""
    lines = []
    for level in results["levels"]:
        lines.append(
            f"{clients(level['concurrency'])}: answer p50 {_timing(level, 'answer_ms', 'p50')} s, "
            f"p95 {_timing(level, 'answer_ms', 'p95')} s, "
            f"{_value(level['answers_per_min'])} answers/min, {level['refused']} refused, "
            f"{level['errors']} error{'' if level['errors'] == 1 else 's'}"
        )
    memory = results["memory"]
    if memory["measured"]:
        lines.append(
            f"Peak resident memory: {_value(memory['peak_after_load_mib'])} MiB after loading, "
            f"{_value(memory['peak_after_run_mib'])} MiB after the run"
        )
    else:
        lines.append(f"Memory not measured: {memory['reason']}")
    return lines


def write_report(out_dir: Path, results: dict[str, Any]) -> None:
    (out_dir / "report.md").write_text(render_markdown(results), encoding="utf-8")
