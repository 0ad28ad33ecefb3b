"""Settings read from the environment: list values as JSON arrays or comma-separated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.settings import Settings


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
