"""The chat widget's files: served at `/` when api/static/ (here: a temporary folder) has
them, behind the API (a wrong method on an API path is still its 405); without the folder
every path is a JSON 404, never a 500. The real api/static/: the page and the embed load the
same chat scripts in the same order, each served as JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import STATIC_DIR, create_app
from rag.settings import Settings

# The chat's scripts, as the page at / and the one-tag embed (widget.js) load them.
CHAT_SCRIPT_TAG = re.compile(r'<script src="(chat/[\w-]+\.js)"></script>')
CHAT_FILES_ENTRY = re.compile(r'^\s+"(chat/[\w-]+\.js)",$', re.MULTILINE)


@pytest.fixture
def client_with_files(fake_index: Settings, tmp_path: Path) -> Iterator[TestClient]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>GCM assistant</title>")
    (static / "widget.js").write_text("console.log('widget');")
    with TestClient(create_app(fake_index, static_dir=static)) as client:
        yield client


def test_widget_files_are_served_at_the_root(client_with_files: TestClient) -> None:
    client = client_with_files
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "GCM assistant" in page.text
    script = client.get("/widget.js")
    assert script.status_code == 200 and script.text == "console.log('widget');"
    assert "javascript" in script.headers["content-type"]
    # The API still takes precedence over the files.
    assert client.get("/api/health").json()["ready"] is True
    assert client.get("/missing.js").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/ask", "POST"),
        ("PUT", "/api/ask", "POST"),
        ("GET", "/v1/chat/completions", "POST"),
        ("POST", "/api/health", "GET"),
        ("POST", "/api/documents", "GET"),
        ("DELETE", "/api/passages/gcm-unece-2020%23p1", "GET"),
        ("POST", "/v1/models", "GET"),
        ("POST", "/docs", "GET"),
        ("POST", "/widget.js", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_a_405_naming_the_allowed_ones(
    client_with_files: TestClient, method: str, path: str, allow: str
) -> None:
    response = client_with_files.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["Allow"] == allow
    body = response.json()
    rule = body["error"]["code"] if path.startswith("/v1/") else body["rule"]
    assert rule == "method_not_allowed"


def test_an_unknown_api_path_is_a_404_beside_the_files(client_with_files: TestClient) -> None:
    response = client_with_files.get("/api/answers")
    assert response.status_code == 404
    assert response.json()["rule"] == "not_found"
    assert client_with_files.get("/widget.js").status_code == 200


def test_files_added_after_start_up_are_served(fake_index: Settings, tmp_path: Path) -> None:
    static = tmp_path / "static"
    with TestClient(create_app(fake_index, static_dir=static)) as client:
        missing = client.get("/")
        assert missing.status_code == 404
        assert missing.json()["rule"] == "not_found"
        static.mkdir()
        (static / "index.html").write_text("<p>late</p>")
        assert client.get("/").text == "<p>late</p>"


def test_api_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    script = next(
        line.split('"')[1] for line in page.text.splitlines() if "swagger-ui-bundle.js" in line
    )
    assert client.get(script).status_code == 200
    schema = client.get("/openapi.json").json()
    assert {
        "/api/ask",
        "/api/passages/{anchor}",
        "/api/documents",
        "/api/health",
        "/v1/chat/completions",
        "/v1/models",
    } <= set(schema["paths"])


def test_the_page_and_the_embed_load_every_chat_script_in_the_same_order() -> None:
    """The chat is several classic scripts run in order: index.html and widget.js each list
    them, and a file missing from either list would break that page or every embedding."""
    page_order = CHAT_SCRIPT_TAG.findall((STATIC_DIR / "index.html").read_text())
    embed_order = CHAT_FILES_ENTRY.findall((STATIC_DIR / "widget.js").read_text())
    on_disk = {f"chat/{path.name}" for path in (STATIC_DIR / "chat").glob("*.js")}
    assert page_order == embed_order
    assert sorted(page_order) == sorted(on_disk)
    assert (page_order[0], page_order[-1]) == ("chat/dom.js", "chat/mount.js")


def test_the_chat_scripts_are_served_as_javascript(fake_index: Settings) -> None:
    page_order = CHAT_SCRIPT_TAG.findall((STATIC_DIR / "index.html").read_text())
    with TestClient(create_app(fake_index)) as client:
        for name in ["widget.js", *page_order]:
            script = client.get(f"/{name}")
            assert script.status_code == 200, name
            assert "javascript" in script.headers["content-type"], name
