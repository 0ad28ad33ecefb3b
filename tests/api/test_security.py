"""API keys, CORS and the request body limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import key_matches
from api.limits import MAX_BODY_BYTES
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION

KEYS = ["alpha-key-1", "beta-key-2"]


@pytest.fixture
def keyed(fake_index: Settings) -> TestClient:
    settings = fake_index.model_copy(update={"api_keys": KEYS})
    with TestClient(create_app(settings, static_dir=None)) as client:
        yield client  # type: ignore[misc]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/ask"),
        ("GET", "/api/passages/gcm-unece-2020%23p1"),
        ("GET", "/api/documents"),
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
    ],
)
def test_every_route_but_health_needs_a_key(keyed: TestClient, method: str, path: str) -> None:
    response = keyed.request(method, path, json={"question": FAKE_QUESTION})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    if path.startswith("/v1/"):  # OpenAI's shape and type for a missing or wrong key
        assert (body["error"]["code"], body["error"]["type"]) == (
            "api_key_required",
            "authentication_error",
        )
    else:
        assert body["rule"] == "api_key_required"


def test_a_wrong_key_is_an_authentication_error_under_v1(keyed: TestClient) -> None:
    response = keyed.get("/v1/models", headers={"Authorization": "Bearer alpha-key-2"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("api_key_invalid", "authentication_error")


def test_keys_are_accepted_as_bearer_or_x_api_key(keyed: TestClient) -> None:
    assert (
        keyed.get("/api/documents", headers={"Authorization": "Bearer beta-key-2"}).status_code
        == 200
    )
    assert keyed.get("/api/documents", headers={"X-API-Key": "alpha-key-1"}).status_code == 200
    answer = keyed.post(
        "/api/ask", json={"question": FAKE_QUESTION}, headers={"X-API-Key": "alpha-key-1"}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer alpha-key-"},
        {"Authorization": "Bearer alpha-key-1x"},
        {"Authorization": "Basic alpha-key-1"},
        {"X-API-Key": "ALPHA-KEY-1"},
        {"X-API-Key": "clé-ünicode".encode()},
    ],
)
def test_wrong_keys_are_refused(keyed: TestClient, headers: dict[str, str | bytes]) -> None:
    response = keyed.get("/api/documents", headers=headers)
    assert response.status_code == 401
    assert response.json()["rule"] in ("api_key_invalid", "api_key_required")
    assert "alpha-key-1" not in response.text


def test_health_stays_open(keyed: TestClient) -> None:
    assert keyed.get("/api/health").status_code == 200


def test_keys_are_never_written_to_the_audit_log(keyed: TestClient, fake_index: Settings) -> None:
    keyed.post("/api/ask", json={"question": FAKE_QUESTION}, headers={"X-API-Key": KEYS[0]})
    log = fake_index.audit_log.read_text()
    assert log.count("\n") == 1
    assert all(key not in log for key in KEYS)


def test_key_matches_compares_whole_keys() -> None:
    assert key_matches("beta-key-2", KEYS)
    assert not key_matches("beta-key", KEYS)
    assert not key_matches("", KEYS)
    assert not key_matches("beta-key-2", [])


def test_cors_allows_only_the_listed_origins(fake_index: Settings) -> None:
    settings = fake_index.model_copy(update={"cors_origins": ["http://intranet.example"]})
    with TestClient(create_app(settings, static_dir=None)) as client:
        preflight = client.options(
            "/api/ask",
            headers={
                "Origin": "http://intranet.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Content-Type, X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://intranet.example"
        allowed = client.get("/api/health", headers={"Origin": "http://intranet.example"})
        assert allowed.headers["access-control-allow-origin"] == "http://intranet.example"
        other = client.get("/api/health", headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = client.options(
            "/api/ask",
            headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 400


def test_without_cors_origins_no_cors_headers_are_sent(client: TestClient) -> None:
    response = client.get("/api/health", headers={"Origin": "http://intranet.example"})
    assert "access-control-allow-origin" not in response.headers


def test_a_body_over_64_kib_is_refused_by_its_declared_length(client: TestClient) -> None:
    body = b'{"question": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    error = response.json()
    assert (error["field"], error["rule"]) == ("body", "max_body_bytes")
    assert str(len(body)) in error["error"]


def test_a_streamed_body_over_64_kib_is_counted_and_refused(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: sent chunked
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 4096

    response = client.post(
        "/api/ask", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["rule"] == "max_body_bytes"


def test_a_body_just_under_the_limit_is_read(client: TestClient) -> None:
    padding = " " * (MAX_BODY_BYTES - 200)
    body = ('{"question": "Which states instituted regularisation?"' + padding + "}").encode()
    assert len(body) < MAX_BODY_BYTES
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


def test_an_unparsable_content_length_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/api/ask",
        content=b'{"question": "Why?"}',
        headers={"Content-Type": "application/json", "Content-Length": "twelve"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "Content-Length"
