"""The chat widget's files: served at `/` when api/static/ (here: a temporary folder) has
them; without the folder every path is a JSON 404, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from rag.settings import Settings


def test_widget_files_are_served_at_the_root(fake_index: Settings, tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>GCM assistant</title>")
    (static / "widget.js").write_text("console.log('widget');")
    with TestClient(create_app(fake_index, static_dir=static)) as client:
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
