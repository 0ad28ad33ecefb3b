"""eval.bench_report: report.md and the printed summary, rendered from a results.json made by
hand, so that every figure's place and format is asserted exactly."""

from __future__ import annotations

import copy
from typing import Any

from eval.bench_report import render_markdown, seconds, summary_lines

LEVEL_1 = {
    "concurrency": 1,
    "requests": 3,
    "answered": 3,
    "refused": 0,
    "errors": 0,
    "wall_s": 3.0,
    "answers_per_min": 60.0,
    "first_event_ms": {"p50": 40.0, "p95": 58.0, "max": 60.0},
    "first_token_ms": {"p50": 300.0, "p95": 390.0, "max": 400.0},
    "answer_ms": {"p50": 1000.0, "p95": 1180.0, "max": 1200.0},
    "total_ms": {"p50": 1010.0, "p95": 1190.0, "max": 1210.0},
    "modes": {"abstained": 1, "generated": 2},
    "peak_rss_mib": 601.2,
}
LEVEL_2 = {
    "concurrency": 2,
    "requests": 3,
    "answered": 1,
    "refused": 1,
    "errors": 1,
    "wall_s": 2.0,
    "answers_per_min": 30.0,
    "first_event_ms": {"p50": 50.0, "p95": 50.0, "max": 50.0},
    "first_token_ms": None,
    "answer_ms": {"p50": 2500.0, "p95": 2500.0, "max": 2500.0},
    "total_ms": {"p50": 2505.0, "p95": 2505.0, "max": 2505.0},
    "modes": {"abstained": 1},
    "peak_rss_mib": 610.0,
}
RESULTS: dict[str, Any] = {
    "config": {
        "date": "2026-11-29T04:00:00Z",
        "gold": "eval/gold.jsonl",
        "split": "dev",
        "limit": 3,
        "questions": 3,
        "concurrency": [1, 2],
        "endpoint": "POST /api/ask",
        "server": {
            "url": "http://127.0.0.1:40000",
            "started_by_bench": True,
            "pid": 4242,
            "queue_capacity": 8,
        },
        "model": {
            "name": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "path": "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
            "size_mib": 94.3,
            "generator": "llama-cpp",
            "llm_url": None,
        },
        "machine": {
            "processor": "AMD EPYC",
            "cores": 2,
            "memory_gib": 23.5,
            "load_average": {"start": 0.12, "end": 1.5},
        },
        "git_commit": "abc123",
    },
    "memory": {
        "measured": True,
        "pid": 4242,
        "source": "/proc/4242/status (VmHWM: peak resident; VmRSS: resident now)",
        "peak_after_load_mib": 590.5,
        "rss_after_load_mib": 580.0,
        "peak_after_run_mib": 612.0,
        "sample_interval_s": 0.25,
        "rss_mib": [[0.0, 580.0], [0.25, 601.2]],
    },
    "levels": [LEVEL_1, LEVEL_2],
    "requests": [
        {"concurrency": 2, "question_id": "q2", "outcome": "refused", "error": "503: busy"},
        {"concurrency": 2, "question_id": "q3", "outcome": "error", "error": "ReadTimeout: x"},
    ],
}

EXPECTED_REPORT = "\n".join(
    [
        "# Load benchmark — 2026-11-29T04:00:00Z",
        "",
        (
            "3 questions from eval/gold.jsonl (split: dev, first 3), each asked once at every"
            ' level: 1 and 2 concurrent clients, through POST /api/ask with "stream": true, '
            "as the chat widget asks. Server: started by rag bench at http://127.0.0.1:40000 "
            "(pid 4242), queue capacity 8."
        ),
        "",
        (
            "Model: SmolLM2-135M-Instruct.Q4_1.gguf (/models/SmolLM2-135M-Instruct.Q4_1.gguf,"
            " 94.3 MiB), generator llama-cpp."
        ),
        "",
        "Machine: AMD EPYC, 2 cores, 23.5 GiB, load average 0.12 → 1.5; git commit abc123.",
        "",
        "## Time by number of concurrent clients",
        "",
        "| clients | requests | answered | refused | errors | answers/min | answers by mode |",
        "|---|---|---|---|---|---|---|",
        "| 1 | 3 | 3 | 0 | 0 | 60.0 | 1 abstained, 2 generated |",
        "| 2 | 3 | 1 | 1 | 1 | 30.0 | 1 abstained |",
        "",
        (
            "Seconds from sending a question, over the answered requests. *First event*: the "
            "retrieved passages arrive; *answer*: the verified answer (the `done` event), the"
            " first answer text the chat widget shows; *total*: the response ends; *draft*: "
            "the model's first unverified token, which readers never see (answers the model "
            "wrote)."
        ),
        "",
        (
            "| clients | first event p50 | first event p95 | answer p50 | answer p95 | total "
            "p50 | total p95 | answer max | draft p50 |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
        "| 1 | 0.04 | 0.06 | 1.00 | 1.18 | 1.01 | 1.19 | 1.20 | 0.30 |",
        "| 2 | 0.05 | 0.05 | 2.50 | 2.50 | 2.50 | 2.50 | 2.50 | — |",
        "",
        "## Memory",
        "",
        (
            "Resident memory of the server process, from /proc/4242/status (VmHWM: peak "
            "resident; VmRSS: resident now), sampled every 0.25 s during the run "
            "(results.json: `rss_mib`)."
        ),
        "",
        "| moment | MiB |",
        "|---|---|",
        "| peak after loading (VmHWM) | 590.5 |",
        "| resident after loading (VmRSS) | 580.0 |",
        "| peak after the run (VmHWM or highest sample) | 612.0 |",
        "| highest sampled at 1 client (VmRSS) | 601.2 |",
        "| highest sampled at 2 clients (VmRSS) | 610.0 |",
        "",
        "## Errors (1)",
        "",
        "- 2 clients, q3: ReadTimeout: x",
        "",
    ]
)


def test_the_report_gives_every_figure_in_its_place() -> None:
    assert render_markdown(RESULTS) == EXPECTED_REPORT


def test_a_server_given_by_url_without_memory_says_why_it_was_not_measured() -> None:
    results = copy.deepcopy(RESULTS)
    results["config"]["server"].update(started_by_bench=False, pid=None)
    results["config"].update(limit=None, concurrency=[1])
    results["config"]["model"].update(path=None, size_mib=None)
    results["memory"] = {"measured": False, "reason": "pass --pid with its process id"}
    results["requests"] = []
    report = render_markdown(results)
    assert "(split: dev), each asked once at every level: 1 concurrent client, through" in report
    assert "Server: already running at http://127.0.0.1:40000, queue capacity 8." in report
    assert "Model: SmolLM2-135M-Instruct.Q4_1.gguf, generator llama-cpp.\n" in report
    assert report.endswith("## Memory\n\nNot measured: pass --pid with its process id.\n")


def test_at_most_ten_errors_are_listed() -> None:
    results = copy.deepcopy(RESULTS)
    results["requests"] = [
        {"concurrency": 4, "question_id": f"q{n}", "outcome": "error", "error": "boom"}
        for n in range(12)
    ]
    report = render_markdown(results)
    assert "## Errors (12)" in report
    assert report.count(": boom\n") == 10
    assert report.endswith("- 4 clients, q9: boom\n- … and 2 more in results.json\n")


def test_the_summary_has_a_line_per_level_then_memory() -> None:
    assert summary_lines(RESULTS) == [
        "1 client: answer p50 1.00 s, p95 1.18 s, 60.0 answers/min, 0 refused, 0 errors",
        "2 clients: answer p50 2.50 s, p95 2.50 s, 30.0 answers/min, 1 refused, 1 error",
        "Peak resident memory: 590.5 MiB after loading, 612.0 MiB after the run",
    ]


def test_seconds_are_given_with_two_decimals() -> None:
    assert (seconds(1234.5), seconds(20.0), seconds(None)) == ("1.23", "0.02", "—")
