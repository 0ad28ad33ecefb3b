"""Tests for eval.runner, eval.report and `rag eval` on the fake index (deterministic
embedder and generator), and one run of `rag eval --limit 5` on the real bundled models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.gold import GoldError, load_gold
from eval.metrics import aggregate, score_question
from eval.report import FAMILIES, load_comparison, metric_differences
from eval.runner import evaluate, prepare_gold, select_items
from rag.cli import main
from rag.errors import RagError
from rag.factory import build_pipeline, load_configured_index
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT, ROOT
from tests.eval.test_gold import GOLD_FILE, write_gold

METRICS_KEYS = {
    "n",
    "n_answerable",
    "retrieval",
    "answer",
    "citations",
    "abstention",
    "latency_ms",
    "config",
}
RUN_FILES = {
    "results.jsonl",
    "metrics.json",
    "metrics_by_split.json",
    "metrics_by_kind.json",
    "report.md",
    "report.html",
    *(f"{family}.png" for family in FAMILIES),
}
# Answerable and answered (the fake model quotes the regularisation passage), unanswerable
# and abstained, and the same unrelated question labelled answerable (so wrongly abstained).
GOLD: list[dict[str, Any]] = [
    {
        "id": "r1",
        "question": "Which states instituted regularisation in the pandemic?",
        "answer": "Italy, the Republic of Moldova and Portugal.",
        "key_facts": [["regularisation"]],
        "evidence": [REGULARISATION_TEXT],
        "answerable": True,
        "kind": "lexical",
        "split": "dev",
    },
    {
        "id": "r2",
        "question": "What is the recommended dosage of ibuprofen for adults?",
        "answer": "",
        "key_facts": [],
        "evidence": [],
        "answerable": False,
        "kind": "unanswerable",
        "split": "dev",
    },
    {
        "id": "r3",
        "question": "What is the recommended dosage of ibuprofen for adults?",
        "answer": "Italy, the Republic of Moldova and Portugal.",
        "key_facts": [["Italy"]],
        "evidence": [REGULARISATION_TEXT],
        "answerable": True,
        "kind": "paraphrase",
        "split": "test",
    },
]


def regularisation_anchor(settings: Settings) -> str:
    (anchor,) = [
        p.anchor for p in load_configured_index(settings).passages if REGULARISATION_TEXT in p.text
    ]
    return anchor


def read_results(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


# --------------------------------------------------------------------------- gold selection


def test_the_bundled_gold_set_has_gold_passages_in_the_index(fake_index: Settings) -> None:
    gold = prepare_gold(GOLD_FILE, load_configured_index(fake_index))
    assert len(gold.items) == len(GOLD_FILE.read_text(encoding="utf-8").splitlines())
    for item in gold.items:
        assert bool(gold.anchors[item.id]) == item.answerable, item.id


def test_select_items_keeps_a_split_in_file_order_up_to_the_limit(tmp_path: Path) -> None:
    items = load_gold(write_gold(tmp_path, *GOLD))
    assert [i.id for i in select_items(items, "dev", None)] == ["r1", "r2"]
    assert [i.id for i in select_items(items, "test", None)] == ["r3"]
    assert [i.id for i in select_items(items, "all", 2)] == ["r1", "r2"]
    with pytest.raises(RagError, match='"split": "train".*one of: dev, test'):
        select_items(items, "train", None)
    unlabelled = load_gold(write_gold(tmp_path, {**GOLD[0], "split": None}))
    with pytest.raises(RagError, match='no gold question has "split": "dev"'):
        select_items(unlabelled, "dev", None)


# --------------------------------------------------------------------------- the run


def test_a_run_scores_every_question_and_writes_the_run_folder(
    fake_index: Settings, tmp_path: Path
) -> None:
    gold_path = write_gold(tmp_path, *GOLD)
    out = tmp_path / "run"
    run = evaluate(fake_index, gold_path, out)

    assert {path.name for path in out.iterdir()} == RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == METRICS_KEYS
    assert metrics == run.metrics
    assert (metrics["n"], metrics["n_answerable"]) == (3, 2)
    # r2 abstained rightly, r3 wrongly: precision 1/2, recall 1/1, accuracy 2/3.
    assert metrics["abstention"] == {"precision": 0.5, "recall": 1.0, "accuracy": 0.6667}
    assert metrics["citations"]["recall"] == 0.5
    assert metrics["citations"]["invalid"] == 0
    assert metrics["answer"]["key_fact_recall"] == 0.5

    results = read_results(out)
    assert [r["id"] for r in results] == ["r1", "r2", "r3"]
    gold_anchor = regularisation_anchor(fake_index)
    assert [r["gold_anchors"] for r in results] == [[gold_anchor], [], [gold_anchor]]
    assert [r["answer"]["abstained"] for r in results] == [False, True, True]
    # The hashing embedder's sentence vectors put the regularisation paragraph among r3's
    # passages too, so r3 fails only by abstaining.
    assert [r["failures"] for r in results] == [
        [],
        [],
        ["abstained although the reports answer it"],
    ]
    assert [r["gold"] for r in results] == GOLD
    # The scores are eval.metrics' own, on the answer as written.
    for record in results:
        score = score_question(record["gold"], set(record["gold_anchors"]), record["answer"])
        assert record["scores"] == json.loads(json.dumps(score.__dict__))
    assert {k: v for k, v in metrics.items() if k != "config"} == aggregate(
        [r.score for r in run.results]
    )


def test_a_question_about_the_collection_runs_through_eval_without_breaking_a_contract(
    fake_index: Settings, tmp_path: Path
) -> None:
    # Answered from the index's records: no passage, no citation, and nothing to break.
    # A gold file that calls it unanswerable (no report says it) counts it answered.
    item = {**GOLD[1], "id": "c1", "question": "Which reports do you have?"}
    out = tmp_path / "run"
    run = evaluate(fake_index, write_gold(tmp_path, GOLD[0], item), out)
    collection = read_results(out)[1]
    assert collection["answer"]["mode"] == "index"
    assert collection["answer"]["answer"].startswith("1 report is indexed")
    assert (collection["answer"]["citations"], collection["answer"]["passages"]) == ([], [])
    assert collection["scores"]["invalid"] == 0
    assert collection["failures"] == ["answered a question the reports do not answer"]
    assert run.metrics["citations"]["invalid"] == 0
    assert run.metrics["config"]["answer_modes"] == {"generated": 1, "index": 1}
    assert "1 index" in (out / "report.md").read_text(encoding="utf-8")


def test_the_run_config_records_what_was_measured(fake_index: Settings, tmp_path: Path) -> None:
    gold_path = write_gold(tmp_path, *GOLD)
    config = evaluate(fake_index, gold_path, tmp_path / "run", split="dev").metrics["config"]
    assert config["model"] == "fake"
    assert config["embedding_model"] == "hashing"
    assert (config["retrieval"], config["k"]) == (fake_index.retrieval, fake_index.top_k)
    assert (config["gold"], config["split"], config["n"]) == (str(gold_path), "dev", 2)
    assert config["machine"]["cores"] >= 1
    assert set(config["machine"]["load_average"]) == {"start", "end"}
    assert config["answer_modes"] == {"abstained": 1, "generated": 1}
    r1_answer = read_results(tmp_path / "run")[0]["answer"]["answer"]
    # The fake model ends its one sentence with " [1]." (after " …" where the report's
    # sentence breaks off); neither the marker nor the mark is a word.
    assert r1_answer.endswith(" … [1].")
    assert config["answer_words_p50"] == len(r1_answer.replace(" … [1].", ".").split())
    assert config["git_commit"] is None or len(config["git_commit"].split("-")[0]) == 40


def test_metrics_are_reported_per_split_and_per_kind(fake_index: Settings, tmp_path: Path) -> None:
    run = evaluate(fake_index, write_gold(tmp_path, *GOLD), tmp_path / "run")
    by_split = json.loads((tmp_path / "run" / "metrics_by_split.json").read_text())
    by_kind = json.loads((tmp_path / "run" / "metrics_by_kind.json").read_text())
    assert {name: group["n"] for name, group in by_split.items()} == {"dev": 2, "test": 1}
    assert {name: group["n"] for name, group in by_kind.items()} == {
        "lexical": 1,
        "paraphrase": 1,
        "unanswerable": 1,
    }
    dev = [r.score for r in run.results if r.item.split == "dev"]
    assert {k: v for k, v in by_split["dev"].items() if k != "answer_words_p50"} == aggregate(dev)
    assert by_split["test"]["abstention"]["accuracy"] == 0.0
    assert by_split["test"]["answer_words_p50"] is None  # its only answer abstained


def test_the_report_shows_metrics_charts_and_failed_questions(
    fake_index: Settings, tmp_path: Path
) -> None:
    evaluate(fake_index, write_gold(tmp_path, *GOLD), tmp_path / "run")
    report = (tmp_path / "run" / "report.md").read_text()
    html = (tmp_path / "run" / "report.html").read_text()
    assert "| abstention | accuracy | 0.667 |" in report
    assert "## Failed questions (1 of 3)" in report
    assert f"### r3 (paraphrase, test): {GOLD[2]['question']}" in report
    assert "### r1 " not in report and "### r2 " not in report
    assert "- **failed**: abstained although the reports answer it" in report
    for family in FAMILIES:
        assert f"({family}.png)" in report
        assert f'<img src="{family}.png"' in html
        assert (tmp_path / "run" / f"{family}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<td>0.667</td>" in html
    assert "<summary>r3 (paraphrase, test): What is the recommended dosage" in html


def test_compare_reports_the_difference_to_another_run(
    fake_index: Settings, tmp_path: Path
) -> None:
    evaluate(fake_index, write_gold(tmp_path, *GOLD), tmp_path / "before")
    # The same questions, with r3 now labelled unanswerable: its abstention becomes right.
    fixed = {**GOLD[2], "key_facts": [], "evidence": [], "answerable": False}
    after = write_gold(tmp_path, GOLD[0], GOLD[1], fixed)
    evaluate(fake_index, after, tmp_path / "after", compare_dir=tmp_path / "before")

    report = (tmp_path / "after" / "report.md").read_text()
    assert "| abstention | accuracy | 1.000 | 0.667 | +0.333 |" in report
    assert "| abstention | precision | 1.000 | 0.500 | +0.500 |" in report
    assert f"## Compared with {tmp_path / 'before'}" in report
    assert "Now passing, failed before: r3." in report
    assert "Now failing, passed before: none." in report


def test_metric_differences_subtract_the_other_run() -> None:
    current = {"retrieval": {"mrr": 0.75}, "citations": {"precision": 0.5, "invalid": 2}}
    other = {"retrieval": {"mrr": 0.5}, "citations": {"invalid": 3}}
    assert metric_differences(current, other) == [
        ("retrieval", "mrr", 0.75, 0.5, 0.25),
        ("citations", "precision", 0.5, None, None),
        ("citations", "invalid", 2, 3, -1),
    ]


def test_compare_with_a_folder_that_is_not_a_run_fails(tmp_path: Path) -> None:
    with pytest.raises(RagError, match=r"metrics.json does not exist; pass --compare the folder"):
        load_comparison(tmp_path)


def test_a_passed_pipeline_is_reused(fake_index: Settings, tmp_path: Path) -> None:
    pipeline = build_pipeline(fake_index)
    evaluate(fake_index, write_gold(tmp_path, *GOLD), tmp_path / "run", pipeline=pipeline)
    assert pipeline.generator.calls == 1  # type: ignore[attr-defined]  # only r1 reached it


# --------------------------------------------------------------------------- the command


@pytest.fixture
def fake_env(fake_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """`rag` reads its settings from RAG_* variables: point them at the fake index."""
    monkeypatch.setenv("RAG_EMBEDDER", "hashing")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing")
    monkeypatch.setenv("RAG_GENERATOR", "fake")
    monkeypatch.setenv("RAG_INDEX_DIR", str(fake_index.index_dir))
    return fake_index


def test_rag_eval_scores_a_gold_file_it_has_never_seen(
    fake_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold_path = write_gold(tmp_path, *GOLD)
    out = tmp_path / "run"
    status = main(["eval", "--gold", str(gold_path), "--out", str(out), "--split", "dev"])
    assert status == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Evaluated 2 questions (1 answerable): recall@5 1.000")
    assert f"Report: {out / 'report.md'}" in printed
    assert {path.name for path in out.iterdir()} == RUN_FILES
    assert [r["id"] for r in read_results(out)] == ["r1", "r2"]


def test_rag_eval_flags_reach_the_pipeline(fake_env: Settings, tmp_path: Path) -> None:
    out = tmp_path / "run"
    arguments = ["eval", "--gold", str(GOLD_FILE), "--out", str(out), "--limit", "4"]
    assert main([*arguments, "--retrieval", "bm25", "-k", "3", "--quiet"]) == 0
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["retrieval"], config["k"], config["n"], config["limit"]) == ("bm25", 3, 4, 4)
    assert all(len(r["answer"]["passages"]) <= 3 for r in read_results(out))


def test_rag_eval_refuses_a_quote_not_in_the_corpus_before_running(
    fake_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quote = "Iceland reported instituting regularisation for all migrants"
    gold_path = write_gold(tmp_path, GOLD[1], {**GOLD[0], "evidence": [quote]})
    out = tmp_path / "run"
    assert main(["eval", "--gold", str(gold_path), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rag eval: error: {gold_path}:2: evidence quote of 'r1' is not in")
    assert f'"{quote}"' in error
    assert error.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--gold", "missing.jsonl"], "gold file missing.jsonl does not exist"),
        (["--compare", "nowhere"], "nowhere/metrics.json does not exist"),
    ],
)
def test_rag_eval_bad_inputs_give_one_line(
    fake_env: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    expected: str,
) -> None:
    assert main(["eval", "--out", str(tmp_path / "run"), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rag eval: error: {expected}")
    assert error.count("\n") == 1


def test_rag_eval_rejects_a_limit_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--limit", "0"])
    assert "must be at least 1, got 0" in capsys.readouterr().err


def test_gold_errors_are_rag_errors() -> None:
    assert issubclass(GoldError, RagError)


# --------------------------------------------------------------------------- real models


@pytest.mark.integration
def test_rag_eval_limit_5_on_the_bundled_models(
    real_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the default gold file is eval/gold.jsonl
    out = tmp_path / "run"
    status = main(
        ["--index-dir", str(real_settings.index_dir), "eval", "--limit", "5", "--out", str(out)]
    )
    assert status == 0
    assert {path.name for path in out.iterdir()} == RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text())
    first_five = [item.id for item in load_gold(GOLD_FILE)[:5]]
    assert [r["id"] for r in read_results(out)] == first_five
    assert metrics["n"] == 5
    assert metrics["config"]["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert metrics["config"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert metrics["citations"]["invalid"] == 0
    assert metrics["latency_ms"]["p50"] > 0
