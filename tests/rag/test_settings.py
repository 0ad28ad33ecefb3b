"""Settings read from the environment: list values as JSON arrays or comma-separated, values
out of range refused, and variables that are no setting named with the closest setting."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from rag.settings import Settings, unknown_variable_warnings
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["alpha", "beta"]', ["alpha", "beta"]),
        ("alpha,beta", ["alpha", "beta"]),
        (" alpha , beta ,", ["alpha", "beta"]),
        ("alpha", ["alpha"]),
        ("", []),
    ],
)
def test_list_settings_accept_json_or_commas(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("RAG_API_KEYS", value)
    monkeypatch.setenv("RAG_CORS_ORIGINS", value.replace("alpha", "http://a.example"))
    settings = Settings()  # type: ignore[call-arg]
    assert settings.api_keys == expected
    assert settings.cors_origins == [item.replace("alpha", "http://a.example") for item in expected]


def test_a_broken_json_list_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_KEYS", '["alpha",')
    with pytest.raises(ValidationError, match="api_keys"):
        Settings()  # type: ignore[call-arg]


def test_lists_given_in_code_are_kept() -> None:
    assert Settings(api_keys=["k1", "k2"]).api_keys == ["k1", "k2"]  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RAG_ABSTAIN_THRESHOLD", "2"),
        ("RAG_ABSTAIN_THRESHOLD", "-0.1"),
        ("RAG_WEAK_EVIDENCE_MATCH", "1.5"),
        ("RAG_THREADS", "0"),
        ("RAG_THREADS", "-1"),
        ("RAG_TOP_K", "0"),
        ("RAG_PORT", "0"),
        ("RAG_PORT", "70000"),
        ("RAG_RETRIEVAL", "semantic"),
    ],
)
def test_out_of_range_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as error:
        Settings()  # type: ignore[call-arg]
    assert [problem["loc"] for problem in error.value.errors()] == [
        (variable.removeprefix("RAG_").lower(),)
    ]


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("RAG_ABSTAIN_THRESHOLD", "0", "abstain_threshold", 0.0),
        ("RAG_ABSTAIN_THRESHOLD", "1", "abstain_threshold", 1.0),
        ("RAG_THREADS", "1", "threads", 1),
        ("RAG_PORT", "65535", "port", 65535),
        ("RAG_RETRIEVAL", "bm25", "retrieval", "bm25"),
    ],
)
def test_values_at_the_ends_of_a_range_are_accepted(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == expected  # type: ignore[call-arg]


def test_variables_that_are_no_setting_are_named_with_the_closest_setting() -> None:
    environ = {
        "RAG_TOPK": "3",
        "RAG_TOP_K": "5",
        "rag_index_dir": "index",
        "RAG_ABSTAIN_TRESHOLD": "0.3",
        "RAG_ZZZZZZZZ": "1",
        "PATH": "/usr/bin",
        "DRAG_TOPK": "3",
    }
    assert unknown_variable_warnings(environ) == [
        "RAG_ABSTAIN_TRESHOLD is not a setting and is ignored; did you mean RAG_ABSTAIN_THRESHOLD?",
        "RAG_TOPK is not a setting and is ignored; did you mean RAG_TOP_K?",
        "RAG_ZZZZZZZZ is not a setting and is ignored; the settings are listed in README.md",
    ]


def test_every_setting_has_a_row_in_the_readme_settings_tables() -> None:
    rows = [
        line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `RAG_")
    ]
    named = {name for row in rows for name in re.findall(r"`(RAG_[A-Z_]+)`", row.split(" | ")[0])}
    assert named == {f"RAG_{name.upper()}" for name in Settings.model_fields}
