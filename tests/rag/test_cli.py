"""The `rag` command line: output formats and one clear error line for each bad input."""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.cli import ASK_EXAMPLE, EXIT_BROKEN_PIPE, EXIT_PARTIAL, EXIT_USAGE, main
from rag.loaders import document_id
from rag.models import bundled_gguf_path
from rag.plain_text import WEAK_EVIDENCE_NOTE
from rag.settings import Settings
from tests.conftest import ROOT


@pytest.fixture
def fake_env(fake_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Route the CLI to the fake components through RAG_* variables, as a user would."""
    for name, value in {
        "RAG_SEEDS_DIR": fake_settings.seeds_dir,
        "RAG_INDEX_DIR": fake_settings.index_dir,
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_GENERATOR": "fake",
    }.items():
        monkeypatch.setenv(name, str(value))
    return fake_settings


def index_files(settings: Settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(settings.index_dir.iterdir())}


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("rag ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def help_text(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_ingest_then_re_ingest_reports_nothing_to_embed(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest"]) == 0
    assert "45 passages embedded" in capsys.readouterr().out
    assert main(["ingest"]) == 0
    assert "nothing embedded" in capsys.readouterr().out


def test_ask_prints_answer_and_numbered_sources(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest"])
    capsys.readouterr()
    assert main(["ask", "Which states instituted regularisation in the pandemic?"]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out.splitlines()[0]
    assert "Sources:" in out
    # The document by its title, then the section, then the anchor to look it up by.
    assert "  [1] Regional Review of the Global Compact for Safe, Orderly and Regular " in out
    assert "Roundtable 3: Objectives 4, 8, 9, 10, 11, 13, 21 (gcm-unece-2020#p22)" in out
    assert WEAK_EVIDENCE_NOTE not in out


def test_a_list_of_the_indexed_reports_is_printed_without_an_empty_sources_list(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest"])
    capsys.readouterr()
    assert main(["ask", "--json", "List the reports"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["mode"], answer["citations"], answer["passages"]) == ("index", [], [])
    assert main(["ask", "List the reports"]) == 0
    assert capsys.readouterr().out == answer["answer"] + "\n"
    assert answer["answer"].splitlines()[0] == (
        "1 report is indexed (from the index's own records, not from the reports' text):"
    )


def test_a_refusal_gives_its_reason_on_the_next_line(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest"])
    question = "What is the recommended dosage of ibuprofen for adults?"
    capsys.readouterr()
    assert main(["ask", "--json", question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["abstained"] is True
    assert main(["ask", question]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [answer["answer"], f"Why: {answer['abstention_reason']}", ""]
    assert lines[3] == "Closest passages (they do not answer the question):"


def test_an_answer_on_weak_evidence_says_so_before_its_sources(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["ingest"])
    capsys.readouterr()
    monkeypatch.setenv("RAG_WEAK_EVIDENCE_MATCH", "1.0")  # every answer's evidence is weak
    assert main(["ask", "Which states instituted regularisation in the pandemic?"]) == 0
    out = capsys.readouterr().out
    assert WEAK_EVIDENCE_NOTE in out
    assert out.index(WEAK_EVIDENCE_NOTE) < out.index("Sources:")
    assert main(["ask", "--json", "Which states instituted regularisation?"]) == 0
    assert json.loads(capsys.readouterr().out)["weak_evidence"] is True


def test_ask_json_has_the_documented_fields(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest"])
    capsys.readouterr()
    assert main(["ask", "--json", "Which states instituted regularisation?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {
        "question",
        "answer",
        "abstained",
        "weak_evidence",
        "citations",
        "parts",
        "passages",
        "model",
        "timings_ms",
    } <= set(payload)
    assert payload["parts"] == []  # a question of one part
    citation = payload["citations"][0]
    assert {"n", "anchor", "doc", "section", "text", "quote"} <= set(citation)
    assert {"anchor", "text", "score"} <= set(payload["passages"][0])


def test_batch_answers_each_line_and_reports_bad_lines(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["ingest"])
    capsys.readouterr()
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        "Which states instituted regularisation?\n"
        "\n"
        '{"question": "How many member states submitted reports?"}\n'
        '{"id": 3}\n'
        "   \n"
        "{not json\n"
    )
    assert main(["ask", "--json", "--batch", str(batch)]) == EXIT_PARTIAL
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("question") for line in lines[:2]] == [
        "Which states instituted regularisation?",
        "How many member states submitted reports?",
    ]
    assert "answer" in lines[0] and "answer" in lines[1]
    assert [line["line"] for line in lines[2:]] == [4, 6]
    assert "'question' string field" in lines[2]["error"]
    assert "not valid JSON" in lines[3]["error"]


SYLVANIA_FACT = "Sylvania instituted a regularisation programme for migrants in 2021."


def index_with_sylvania(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    (settings.seeds_dir / "sylvania-review.md").write_text(
        f"# Sylvania Review\n\n{SYLVANIA_FACT}\n", encoding="utf-8"
    )
    assert main(["ingest"]) == 0
    capsys.readouterr()


def test_ask_doc_answers_from_the_chosen_document_only(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    index_with_sylvania(fake_env, capsys)
    question = "Which states instituted regularisation in the pandemic?"
    assert main(["ask", "--json", question]) == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["doc"] == "gcm-unece-2020"

    assert main(["ask", "--json", "--doc", "sylvania-review", question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [(c["doc"], c["quote"]) for c in answer["citations"]] == [
        ("sylvania-review", SYLVANIA_FACT)
    ]
    assert {passage["doc"] for passage in answer["passages"]} == {"sylvania-review"}

    batch = tmp_path / "questions.txt"
    batch.write_text(f"{question}\nWhat did Sylvania institute for migrants?\n")
    assert main(["ask", "--json", "--batch", str(batch), "--doc", "sylvania-review"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(answers) == 2
    for answer in answers:
        assert {passage["doc"] for passage in answer["passages"]} == {"sylvania-review"}
    # Repeated, the flag adds documents: both reports are searched again.
    assert (
        main(["ask", "--json", "--doc", "sylvania-review", "--doc", "gcm-unece-2020", question])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["citations"][0]["doc"] == "gcm-unece-2020"


def test_ask_doc_says_the_chosen_report_does_not_answer(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    index_with_sylvania(fake_env, capsys)
    question = "How many UNECE Member States submitted reports to the Network?"
    assert main(["ask", "--doc", "sylvania-review", question]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "The chosen report does not answer this question."
    assert out[1].startswith("Why: ")


@pytest.mark.parametrize("batch", [False, True])
def test_an_unknown_doc_gets_one_error_line_listing_the_indexed_ids(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path, batch: bool
) -> None:
    index_with_sylvania(fake_env, capsys)
    questions = tmp_path / "questions.txt"
    questions.write_text("Which states instituted regularisation?\n")
    asked = ["--batch", str(questions)] if batch else ["Which states instituted regularisation?"]
    assert main(["ask", "--doc", "sylvania", "--doc", "sylvania-review", *asked]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "rag ask: error: no document 'sylvania' in the index (indexed: gcm-unece-2020, "
        "sylvania-review); name documents by the ids 'rag docs list' or GET /api/documents "
        "shows\n"
    )


def test_ask_help_explains_doc_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys, "ask")
    assert (
        " ".join(text.split()).count(
            "--doc ID answer from this document only: its id, as 'rag docs list' shows it; "
            "repeat for several (also with --batch). Default: every indexed document"
        )
        == 1
    )
    assert f'  rag ask --doc gcm-unece-2020 "{ASK_EXAMPLE}"' in text.splitlines()


def test_the_doc_examples_name_a_document_of_a_fresh_install(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`rag ask --doc` examples, in the help and the README, name the seed report: others
    exist only once eval/multidoc/ is indexed, and a fresh install refuses them."""
    seeds = {document_id(path) for path in (ROOT / "seeds").iterdir()}
    readme = (ROOT / "README.md").read_text()
    named = [
        *re.findall(r"--doc ([a-z0-9][a-z0-9-]*)", help_text(capsys, "ask")),
        *re.findall(r"^\s+rag ask --doc ([a-z0-9][a-z0-9-]*)", readme, re.MULTILINE),
        *re.findall(r'"documents": \["([a-z0-9-]+)"', readme),
    ]
    assert len(named) == 5 and set(named) == {"gcm-unece-2020"} <= seeds


def test_batch_in_text_mode_heads_each_answer_with_its_question(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["ingest"])
    questions = ["Which states instituted regularisation?", "How many member states reported?"]
    capsys.readouterr()
    answers = []
    for question in questions:
        assert main(["ask", question]) == 0
        answers.append(capsys.readouterr().out)
    batch = tmp_path / "questions.txt"
    batch.write_text(f'{questions[0]}\n{{not json\n\n{questions[1]}\n{{"id": 5}}\n')
    assert main(["ask", "--batch", str(batch)]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert captured.out == f"Q: {questions[0]}\n{answers[0]}\nQ: {questions[1]}\n{answers[1]}"
    notices = captured.err.splitlines()
    assert [notice.split(": ")[0] for notice in notices] == ["line 2 skipped", "line 5 skipped"]
    assert notices[0].startswith("line 2 skipped: not valid JSON (")
    assert notices[1] == "line 5 skipped: a JSON line needs a 'question' string field"


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("", "the question is empty"),
        ("  \t ", "the question is empty"),
        ("x" * 2001, "2001 characters"),
    ],
)
def test_bad_questions_get_one_error_line(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], question: str, fragment: str
) -> None:
    main(["ingest"])
    before = index_files(fake_env)
    capsys.readouterr()
    assert main(["ask", question]) == EXIT_USAGE
    assert_one_error_line(capsys.readouterr().err, fragment)
    assert index_files(fake_env) == before


def test_a_question_that_is_not_utf8_gets_one_error_line(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["ingest"])
    capsys.readouterr()
    # What Python makes of the argument bytes b"\xff\xfe what" on a UTF-8 system.
    assert main(["ask", "\udcff\udcfe what"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "rag ask: error: the question is not UTF-8 text; type or pass it as UTF-8 "
        "(check the encoding of the terminal or script)\n"
    )


def test_a_batch_question_that_is_not_utf8_is_skipped(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["ingest"])
    capsys.readouterr()
    batch = tmp_path / "questions.jsonl"
    batch.write_text('{"question": "\\udcff what"}\nWhich states instituted regularisation?\n')
    assert main(["ask", "--json", "--batch", str(batch)]) == EXIT_PARTIAL
    skipped, answered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert skipped["line"] == 1
    assert skipped["error"].startswith("the question is not UTF-8 text")
    assert answered["question"] == "Which states instituted regularisation?"


def test_missing_seeds_folder(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["ingest", str(tmp_path / "absent")]) == EXIT_USAGE
    assert_one_error_line(capsys.readouterr().err, "does not exist")


def test_empty_seeds_folder_leaves_existing_index_alone(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["ingest"])
    before = index_files(fake_env)
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["ingest", str(empty)]) == EXIT_USAGE
    assert_one_error_line(capsys.readouterr().err, "is empty", "put reports there")
    assert index_files(fake_env) == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"caf\x81 au lait\n", "not valid UTF-8 (byte 3) nor Windows-1252"),
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
    ],
)
def test_unreadable_file_is_named_and_the_index_untouched(
    fake_env: Settings,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes,
    fragment: str,
) -> None:
    main(["ingest"])
    before = index_files(fake_env)
    capsys.readouterr()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    assert main(["ingest", str(bad)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert f"skipped: {bad}: {fragment}" in err
    assert "Traceback" not in err
    assert index_files(fake_env) == before


def test_bad_file_among_good_ones_is_skipped_and_exit_says_so(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_env.seeds_dir / "broken.txt").write_bytes(b"\xff\xfe\x00\x01")
    assert main(["ingest"]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert "broken.txt" in captured.err
    assert "45 passages embedded" in captured.out


def test_missing_index(fake_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Which states regularised migrants?"]) == EXIT_USAGE
    # Not plain 'rag ingest', which would build ./index: the folder the settings name.
    assert_one_error_line(
        capsys.readouterr().err,
        "no index",
        f"run 'rag ingest --index-dir {fake_env.index_dir}/' to build it",
    )


def test_an_index_built_otherwise_names_its_folder_in_the_rebuild_command(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ingest", "--quiet"]) == 0
    monkeypatch.setenv("RAG_MAX_PASSAGE_TOKENS", "120")
    capsys.readouterr()
    assert main(["ask", "Which states regularised migrants?"]) == EXIT_USAGE
    assert_one_error_line(
        capsys.readouterr().err,
        "max_passage_tokens '200' (configured: '120')",
        f"run 'rag ingest --index-dir {fake_env.index_dir}/' to rebuild it",
    )


@pytest.fixture
def elsewhere(fake_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder outside the project, with the default (relative) folders in force."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("RAG_INDEX_DIR")
    monkeypatch.delenv("RAG_SEEDS_DIR")
    return Path.cwd()  # as the CLI sees it, symbolic links resolved


@pytest.mark.parametrize("command", [["ask", "Which states?"], ["docs", "list"]])
def test_missing_index_is_named_absolutely_with_where_to_run_from(
    elsewhere: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main(command) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag {command[0]}: error: no index at {elsewhere}/index/; run 'rag ingest' to build "
        "it; if it was built in the project folder, run rag from there or set RAG_INDEX_DIR "
        "(or --index-dir)\n"
    )


def test_missing_seeds_folder_is_named_absolutely_with_where_to_run_from(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag ingest: error: seeds folder {elsewhere}/seeds does not exist; run from the "
        "project folder, set RAG_SEEDS_DIR, or name the reports to index: rag ingest PATH...\n"
    )


def test_a_missing_path_to_ingest_is_named_absolutely(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "reports"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"rag ingest: error: {elsewhere}/reports does not exist; name a file or folder of reports\n"
    )


def _write_not_a_model(path: Path) -> None:
    path.write_text("this is not a model")


def _write_truncated_model(path: Path) -> None:
    with open(bundled_gguf_path(), "rb") as model:
        path.write_bytes(model.read(1_000_000))


@pytest.mark.parametrize(
    ("write_model", "fragments"),
    [
        (None, ("model.gguf does not exist", "RAG_MODEL_PATH")),
        (_write_not_a_model, ("is not a GGUF model",)),
        (_write_truncated_model, ("cannot load this GGUF",)),
    ],
    ids=["missing", "not-a-gguf", "truncated"],
)
def test_bad_gguf_gets_one_error_line(
    fake_env: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    write_model: Callable[[Path], None] | None,
    fragments: tuple[str, ...],
) -> None:
    main(["ingest"])
    capsys.readouterr()
    monkeypatch.setenv("RAG_GENERATOR", "llama-cpp")
    model = tmp_path / "model.gguf"
    if write_model is not None:
        write_model(model)
    assert main(["ask", "--model", str(model), "Which states?"]) == EXIT_USAGE
    assert_one_error_line(capsys.readouterr().err, *fragments)


def test_invalid_setting_is_named(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_TOP_K", "many")
    assert main(["ask", "Which states?"]) == EXIT_USAGE
    assert_one_error_line(capsys.readouterr().err, "RAG_TOP_K")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "RAG_ABSTAIN_THRESHOLD",
            "2",
            "RAG_ABSTAIN_THRESHOLD=2 is invalid: input should be less than or equal to 1",
        ),
        (
            "RAG_WEAK_EVIDENCE_MATCH",
            "-1",
            "RAG_WEAK_EVIDENCE_MATCH=-1 is invalid: input should be greater than or equal to 0",
        ),
        (
            "RAG_THREADS",
            "0",
            "RAG_THREADS=0 is invalid: input should be greater than or equal to 1",
        ),
    ],
)
def test_out_of_range_setting_is_refused_with_its_value(
    fake_env: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["ask", "Which states?"]) == EXIT_USAGE
    assert capsys.readouterr().err == f"rag ask: error: {message}\n"


def test_an_invalid_option_is_named_as_given_not_as_its_variable(
    fake_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "-k", "0", "Which states?"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "rag ask: error: -k 0 is invalid: input should be greater than or equal to 1\n"
    )


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["ask", "-k", "abc", "Which states?"], "rag ask: error: argument -k/--top-k: invalid "
         "int value: 'abc'; see 'rag ask --help'"),
        (["frob"], "rag: error: argument COMMAND: invalid choice: 'frob' (choose from 'ingest', "
         "'ask', 'eval', 'bench', 'docs', 'serve'); see 'rag --help'"),
    ],
)  # fmt: skip
def test_an_option_argparse_refuses_gets_one_error_line_too(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    assert capsys.readouterr().err == f"{error}\n"


def test_a_secret_setting_is_not_echoed_in_its_error(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_API_KEYS", '["s3cret-key",')
    assert main(["ask", "Which states?"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert_one_error_line(err, "RAG_API_KEYS is invalid")
    assert "s3cret" not in err


def test_a_misspelt_variable_is_warned_about_once_and_the_command_runs(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_TOPK", "3")
    assert main(["ingest", "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        "rag ingest: warning: RAG_TOPK is not a setting and is ignored; did you mean RAG_TOP_K?"
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--index-dir", "{index}", "ask", "Which states?"],
        ["ask", "--index-dir", "{index}", "Which states?"],
        ["ask", "Which states?", "--index-dir", "{index}"],
        ["--index-dir", "{absent}", "ask", "--index-dir", "{index}", "Which states?"],
    ],
    ids=["before", "after", "last", "after-wins"],
)
def test_index_dir_is_taken_before_or_after_the_command(
    fake_env: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    arguments: list[str],
) -> None:
    main(["ingest"])
    capsys.readouterr()
    absent = tmp_path / "absent"
    monkeypatch.setenv("RAG_INDEX_DIR", str(absent))
    filled = [part.format(index=fake_env.index_dir, absent=absent) for part in arguments]
    assert main(filled) == 0
    assert "Sources:" in capsys.readouterr().out


def test_embedding_model_is_taken_after_the_command(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["ingest"])
    capsys.readouterr()
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "other-model")
    assert main(["ask", "Which states?"]) == EXIT_USAGE  # the index was built with "hashing"
    capsys.readouterr()
    assert main(["ask", "--embedding-model", "hashing", "Which states?"]) == 0


def test_docs_list_takes_index_dir_after_its_action(
    fake_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["ingest"])
    capsys.readouterr()
    monkeypatch.delenv("RAG_INDEX_DIR")
    assert main(["docs", "list", "--index-dir", str(fake_env.index_dir)]) == 0
    assert capsys.readouterr().out.startswith("gcm-unece-2020  45 passages")


@pytest.mark.parametrize(
    "command",
    [["ingest"], ["ask"], ["docs", "list"], ["serve"], ["eval"]],
    ids=["ingest", "ask", "docs-list", "serve", "eval"],
)
def test_every_command_help_shows_the_global_options(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    out = help_text(capsys, *command)
    assert "--index-dir DIR" in out and "--embedding-model MODEL" in out


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(capsys)
    assert "ingest" in out and "ask" in out
    # The shorter "Which states regularised migrants?" is refused for now (a retrieval issue).
    assert 'rag ask "Which states regularised migrants during COVID?"' in " ".join(out.split())


def test_top_level_help_keeps_its_examples_and_exit_statuses_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = help_text(capsys).splitlines()
    assert lines[lines.index("Start with:") :][:3] == [
        "Start with:",
        "  rag ingest",
        '  rag ask "Which states regularised migrants during COVID?"',
    ]
    statuses = lines[lines.index("Exit status:") + 1 :]
    assert [line.split()[0] for line in statuses if not line.startswith("     ")] == [
        "0",
        "1",
        "2",
        "3",
        "130",
        "141",
    ]


@pytest.mark.parametrize(
    ("command", "example"),
    [
        (["ingest"], "  rag ingest reports/ review.pdf     these files and folders"),
        (["ask"], '  rag ask --json "Which states regularised migrants during COVID?"'),
        (["docs"], "  rag docs list --json"),
        (["docs", "list"], "  rag docs list"),
        (["docs", "remove"], "  rag docs remove ruritania-review"),
        (["serve"], "  RAG_API_KEYS=key-one rag serve --host 0.0.0.0 --port 9000"),
        (["eval"], "  rag eval --split dev --limit 20         a quick check on 20 dev questions"),
    ],
    ids=["ingest", "ask", "docs", "docs-list", "docs-remove", "serve", "eval"],
)
def test_every_command_help_has_examples_and_the_exit_statuses(
    capsys: pytest.CaptureFixture[str], command: list[str], example: str
) -> None:
    lines = help_text(capsys, *command).splitlines()
    assert example in lines[lines.index("Examples:") :]
    assert "  2    a problem you can fix: usage, question, setting, index, model or port" in lines
    assert lines[-1] == "  141  the output's reader stopped reading (rag docs list | head)"


@pytest.mark.parametrize("command", ["ask", "eval"])
def test_help_gives_the_range_default_and_modes_of_the_retrieval_options(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = " ".join(help_text(capsys, command).split())
    assert "-k N, --top-k N passages to retrieve, 1 to 50 (RAG_TOP_K, default 5)" in text
    assert (
        "--retrieval {dense,bm25,hybrid} how passages are found: dense (embedding similarity), "
        "bm25 (shared words) or hybrid (both, their scores combined) (RAG_RETRIEVAL, default "
        "hybrid)"
    ) in text


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"rag {importlib.metadata.version('gcm-rag')}\n"


def test_a_reader_that_stops_reading_ends_the_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rag docs list | head`: the pipe closes while the command still writes."""

    def write_to_a_closed_pipe(*_args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("rag.cli.run_command", write_to_a_closed_pipe)
    assert main(["docs", "list"]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""
