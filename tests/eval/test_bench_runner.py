"""eval.bench_runner and `rag bench`: the statistics of a level, a whole benchmark against a
server in this process (fake index and generator), `rag bench` starting its own `rag serve`
on fakes, and, marked integration, on the real bundled models."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from eval.bench_client import LevelRun, RequestResult
from eval.bench_runner import (
    BenchOptions,
    bench_questions,
    memory_summary,
    run_benchmark,
    summarise_level,
)
from eval.bench_server import MemorySampler, ProcessMemory
from rag.cli import EXIT_USAGE, main
from rag.errors import RagError
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, live_server
from tests.eval.test_gold import write_gold

LINUX = os.path.exists("/proc/self/status")


def result(outcome: str = "answered", answer_ms: float | None = None, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "concurrency": 2,
        "client": 1,
        "question_id": "q",
        "started_s": 0.0,
        "status": 200,
        "outcome": outcome,
        "total_ms": (answer_ms or 0) + 5,
        "answer_ms": answer_ms,
        **fields,
    }
    return RequestResult(**values)


def test_a_level_is_summarised_over_its_answered_requests() -> None:
    level = LevelRun(
        concurrency=2,
        wall_s=2.0,
        results=[
            result(answer_ms=100, first_event_ms=10, first_token_ms=50, mode="generated"),
            result(answer_ms=200, first_event_ms=20, mode="abstained"),
            result(answer_ms=300, first_event_ms=30, first_token_ms=70, mode="generated"),
            result(answer_ms=400, first_event_ms=40, first_token_ms=90, mode="extractive"),
            result("refused", status=503, total_ms=3.0),
            result("error", status=None, total_ms=9000.0),
        ],
    )
    assert summarise_level(level, peak_rss_kib=614912) == {
        "concurrency": 2,
        "requests": 6,
        "answered": 4,
        "refused": 1,
        "errors": 1,
        "wall_s": 2.0,
        "answers_per_min": 120.0,  # 4 answers in 2 s
        # numpy's default (linear) percentiles: p50 of 10..40 is 25, p95 is 38.5.
        "first_event_ms": {"p50": 25.0, "p95": 38.5, "max": 40.0},
        "first_token_ms": {"p50": 70.0, "p95": 88.0, "max": 90.0},
        "answer_ms": {"p50": 250.0, "p95": 385.0, "max": 400.0},
        "total_ms": {"p50": 255.0, "p95": 390.0, "max": 405.0},
        "modes": {"abstained": 1, "extractive": 1, "generated": 2},
        "peak_rss_mib": 600.5,
    }


def test_a_level_without_answers_has_no_timings() -> None:
    level = LevelRun(4, 0.5, [result("refused", status=503), result("refused", status=503)])
    summary = summarise_level(level)
    assert (summary["answered"], summary["refused"], summary["answers_per_min"]) == (0, 2, 0.0)
    assert [summary[name] for name in ("first_event_ms", "answer_ms", "total_ms")] == [None] * 3
    assert (summary["modes"], summary["peak_rss_mib"]) == ({}, None)


@pytest.mark.parametrize(("peak_at_end_kib", "peak_mib"), [(409600, 400.0), (204800, 300.0)])
def test_the_peak_after_the_run_is_vmhwm_or_the_highest_sample_if_higher(
    peak_at_end_kib: int, peak_mib: float
) -> None:
    sampler = MemorySampler(pid=7, interval_s=0.5, samples=[(0.0, 102400), (0.5, 307200)])
    after_load = ProcessMemory(rss_kib=102400, peak_kib=153600)
    after_run = ProcessMemory(rss_kib=1024, peak_kib=peak_at_end_kib)
    memory = memory_summary(7, after_load, after_run, sampler)
    assert memory == {
        "measured": True,
        "pid": 7,
        "source": "/proc/7/status (VmHWM: peak resident; VmRSS: resident now)",
        "peak_after_load_mib": 150.0,
        "rss_after_load_mib": 100.0,
        "peak_after_run_mib": peak_mib,
        "sample_interval_s": 0.5,
        "rss_mib": [[0.0, 100.0], [0.5, 300.0]],
    }


def gold_item(number: int, split: str) -> dict[str, Any]:
    return {
        "id": f"b{number}",
        "question": FAKE_QUESTION if number % 2 else "What is said about migrant smuggling?",
        "answer": "",
        "key_facts": [],
        "evidence": [],
        "answerable": False,
        "split": split,
    }


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    return write_gold(tmp_path, *(gold_item(n, "dev") for n in range(1, 4)), gold_item(4, "test"))


def test_questions_come_from_the_split_in_file_order_up_to_the_limit(gold: Path) -> None:
    assert [q.id for q in bench_questions(gold, "dev", None)] == ["b1", "b2", "b3"]
    assert [q.id for q in bench_questions(gold, "dev", 2)] == ["b1", "b2"]
    assert [q.id for q in bench_questions(gold, "all", None)] == ["b1", "b2", "b3", "b4"]
    with pytest.raises(RagError, match='no gold question has "split": "held-out"'):
        bench_questions(gold, "held-out", None)


@pytest.mark.skipif(not LINUX, reason="memory is read from /proc")
def test_a_benchmark_of_a_running_server_records_every_request_and_its_memory(
    fake_index: Settings, gold: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with live_server(create_app(fake_index, static_dir=None)) as url:
        # The server runs in this process: its memory is this process's.
        options = BenchOptions(gold, out, concurrency=(1, 2), url=url + "/", pid=os.getpid())
        finished = run_benchmark(fake_index, options)
    results = finished.results
    assert json.loads((out / "results.json").read_text()) == results
    assert (out / "report.md").read_text().startswith("# Load benchmark — ")
    assert sorted(path.name for path in out.iterdir()) == ["report.md", "results.json"]
    assert finished.errors == 0
    assert [(r["concurrency"], r["question_id"]) for r in results["requests"]] == [
        (1, "b1"),
        (1, "b2"),
        (1, "b3"),
        *sorted((2, r["question_id"]) for r in results["requests"][3:]),
    ]
    assert sorted(r["question_id"] for r in results["requests"][3:]) == ["b1", "b2", "b3"]
    assert [(lv["concurrency"], lv["answered"], lv["refused"]) for lv in results["levels"]] == [
        (1, 3, 0),
        (2, 3, 0),
    ]
    # Every question once per level, plus one warm-up question that is not counted.
    assert len(fake_index.audit_log.read_text().splitlines()) == 7
    config = results["config"]
    assert config["server"] == {
        "url": url,
        "started_by_bench": False,
        "pid": os.getpid(),
        "queue_capacity": 8,
        "corpus_hash": config["server"]["corpus_hash"],
        "passages": config["server"]["passages"],
        "versions": config["server"]["versions"],
    }
    assert config["model"] == {
        "name": "fake",
        "path": None,
        "size_mib": None,
        "generator": "fake",
        "llm_url": None,
    }
    assert (config["questions"], config["split"], config["concurrency"]) == (3, "dev", [1, 2])
    memory = results["memory"]
    assert memory["measured"] is True
    assert 0 < memory["rss_after_load_mib"] <= memory["peak_after_load_mib"]
    assert memory["peak_after_load_mib"] <= memory["peak_after_run_mib"]
    for level in results["levels"]:
        assert 0 < level["peak_rss_mib"] <= memory["peak_after_run_mib"]
    assert len(memory["rss_mib"]) >= 2 * len(results["levels"])


def test_a_server_given_by_url_alone_has_its_times_measured_not_its_memory(
    fake_index: Settings, gold: Path, tmp_path: Path
) -> None:
    with live_server(create_app(fake_index, static_dir=None)) as url:
        options = BenchOptions(gold, tmp_path / "run", limit=1, concurrency=(1,), url=url)
        results = run_benchmark(fake_index, options).results
    assert results["memory"] == {
        "measured": False,
        "reason": "the server runs apart from rag bench: pass --pid with its process id",
    }
    assert results["levels"][0]["answered"] == 1


def test_an_unreachable_url_leaves_no_run_folder(
    fake_index: Settings, gold: Path, tmp_path: Path
) -> None:
    from eval.bench_server import free_port

    out = tmp_path / "run"
    options = BenchOptions(gold, out, url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RagError, match="^cannot reach http://127.0.0.1:"):
        run_benchmark(fake_index, options)
    assert not out.exists()


@pytest.fixture
def fake_environment(fake_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """RAG_* variables for the fake index and models, which the started server inherits."""
    for name, value in {
        "RAG_INDEX_DIR": str(fake_index.index_dir),
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_GENERATOR": "fake",
        "RAG_AUDIT_LOG": str(fake_index.audit_log),
    }.items():
        monkeypatch.setenv(name, value)
    return fake_index


@pytest.mark.skipif(not LINUX, reason="memory is read from /proc")
def test_rag_bench_starts_its_own_server_and_measures_it(
    fake_environment: Settings, gold: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    status = main(["bench", "--gold", str(gold), "--concurrency", "2,1", "--out", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line.split(":")[0] for line in printed] == [
        "2 clients",
        "1 client",
        "Peak resident memory",
        "Report",
    ]
    assert printed[-1] == f"Report: {out / 'report.md'}"
    assert sorted(path.name for path in out.iterdir()) == [
        "audit.jsonl",
        "report.md",
        "results.json",
        "server.log",
    ]
    # The benchmark's questions went to the run's own audit log, not the deployment's.
    assert len((out / "audit.jsonl").read_text().splitlines()) == 7
    assert not fake_environment.audit_log.exists()
    results = json.loads((out / "results.json").read_text())
    server = results["config"]["server"]
    assert server["started_by_bench"] is True
    assert server["url"].startswith("http://127.0.0.1:")
    assert results["memory"]["pid"] == server["pid"] != os.getpid()
    assert results["memory"]["peak_after_load_mib"] <= results["memory"]["peak_after_run_mib"]
    assert [(lv["concurrency"], lv["answered"]) for lv in results["levels"]] == [(2, 3), (1, 3)]


def test_rag_bench_without_an_index_fails_before_starting_a_server(
    fake_environment: Settings,
    gold: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "no-index"
    out = tmp_path / "run"
    status = main(["bench", "--gold", str(gold), "--index-dir", str(missing), "--out", str(out)])
    assert status == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag bench: error: no index at {missing}/; run 'rag ingest --index-dir {missing}/' to "
        "build it\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--pid", "12"],
            "--pid is for a server given by --url; leave it out: rag bench knows its own",
        ),
        (
            ["--url", "http://127.0.0.1:9", "--model", "m.gguf"],
            "--model is for the server rag bench starts; the server at --url has its own; "
            "leave out --model, or --url",
        ),
        (
            ["--url", "localhost:8000"],
            "--url localhost:8000 is not an http:// or https:// address; give the server's "
            "base address, e.g. --url http://127.0.0.1:8000",
        ),
        (
            ["--model", "/no/such.gguf"],
            "model file /no/such.gguf does not exist; give --model (or RAG_MODEL_PATH) a GGUF file",
        ),
    ],
)
def test_rag_bench_refuses_options_that_do_not_fit_in_one_line(
    fake_environment: Settings,
    gold: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    status = main(["bench", "--gold", str(gold), "--out", str(tmp_path / "run"), *arguments])
    assert status == EXIT_USAGE
    assert capsys.readouterr().err == f"rag bench: error: {message}\n"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1,x", "'1,x' is not a comma-separated list of client counts, e.g. 1,2,4"),
        ("0,2", "client counts must be at least 1, got 0,2"),
        ("2,2", "a client count is repeated in 2,2"),
    ],
)
def test_a_bad_concurrency_list_is_a_usage_error(
    value: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--concurrency", value])
    assert exit_.value.code == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag bench: error: argument --concurrency: {problem}; see 'rag bench --help'\n"
    )


def test_the_help_gives_examples_and_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = capsys.readouterr().out
    assert "  rag bench --limit 5 --concurrency 1     a quick check\n" in text
    assert "Status 3 means some requests ended in an error" in text
    assert "Exit status:\n" in text


@pytest.mark.integration
def test_rag_bench_on_the_real_bundled_models(
    real_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from rag.models import bundled_gguf_path

    monkeypatch.setenv("RAG_INDEX_DIR", str(real_settings.index_dir))
    out = tmp_path / "run"
    gold = Path(__file__).resolve().parents[2] / "eval" / "gold.jsonl"
    arguments = ["--gold", str(gold), "--limit", "2", "--concurrency", "1,2", "--out", str(out)]
    assert main(["bench", *arguments, "--quiet"]) == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert [(lv["concurrency"], lv["answered"]) for lv in results["levels"]] == [(1, 2), (2, 2)]
    model = results["config"]["model"]
    gguf = bundled_gguf_path()
    assert (model["name"], model["path"], model["generator"]) == (
        gguf.name,
        str(gguf.resolve()),
        "llama-cpp",
    )
    assert model["size_mib"] == round(gguf.stat().st_size // 1024 / 1024, 1)
    memory = results["memory"]
    assert 0 < memory["peak_after_load_mib"] <= memory["peak_after_run_mib"]
    assert all(r["outcome"] == "answered" for r in results["requests"])
