"""Fixtures for the chat page and widget in a real browser: headless Chromium from Debian
driven by Playwright (one browser for the session), the API on uvicorn on loopback ports
(fake components for behaviour, the real bundled models where a real answer is the point),
and a second loopback origin serving intranet pages that embed the widget with its one tag.

`ChatUi` drives the chat the way a reader does and reads back what is on screen; the
screenshots land in test-artifacts/widget/ (git-ignored)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Locator,
    Page,
    ViewportSize,
    sync_playwright,
)

from api.app import create_app
from api.service import AssistantService
from rag.factory import build_pipeline
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.api.conftest import InventingGenerator, live_server
from tests.conftest import ROOT, SEED_REPORT, ingest_seeds

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "widget"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}
# 200 % zoom of the desktop window: the page lays out in half as many CSS pixels.
ZOOMED: ViewportSize = {"width": 640, "height": 400}
FAKE_ANSWER_TIMEOUT_MS = 20_000
REAL_ANSWER_TIMEOUT_MS = 300_000

MARKUP = "<img src=x onerror=alert(1)>"
MARKUP_QUESTION = "What did the screening desk pin to its notice board?"
# A document whose text holds markup: the chat must show it as text and run nothing.
MARKUP_DOCUMENT = f"""Screening desk note

1. Notice board

The screening desk pinned the label {MARKUP} to its notice board for arriving families.
"""


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright's own browser download is not used."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run 'make browser-deps' (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class ChatUi:
    """One browser tab on the chat (the page, or a page embedding the widget)."""

    page: Page
    context: BrowserContext
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def chat(self) -> Locator:
        """The open chat: the page's, or the widget's panel."""
        return self.page.locator(".chat")

    def answers(self) -> Locator:
        return self.page.locator("article.answer[data-state=done]")

    def turns(self) -> Locator:
        """Settled turns: answers and errors."""
        return self.page.locator("article.answer[data-state=done], .turn.error")

    def ask(self, question: str, timeout_ms: int = FAKE_ANSWER_TIMEOUT_MS) -> Locator:
        """Type `question`, send it with Enter, and return the settled answer or error."""
        before = self.turns().count()
        box = self.page.locator("textarea")
        box.fill(question)
        box.press("Enter")
        turn = self.turns().nth(before)
        turn.wait_for(timeout=timeout_ms)
        return turn

    def stored_answers(self) -> list[dict[str, Any]]:
        """The settled answers kept in sessionStorage (the `done` objects)."""
        turns = self.page.evaluate(
            """() => Object.keys(sessionStorage)
                .filter((key) => key.startsWith("gcm-rag-chat:") && !key.includes(":open:"))
                .flatMap((key) => JSON.parse(sessionStorage.getItem(key)))"""
        )
        return [turn["answer"] for turn in turns]

    def focused(self) -> dict[str, Any]:
        """The focused element, looked for inside shadow roots: tag, class, text, outline."""
        return self.page.evaluate(
            """() => {
                let element = document.activeElement;
                while (element && element.shadowRoot && element.shadowRoot.activeElement) {
                    element = element.shadowRoot.activeElement;
                }
                const style = getComputedStyle(element);
                return {
                    tag: element.tagName.toLowerCase(),
                    class: element.className,
                    text: element.textContent,
                    expanded: element.getAttribute("aria-expanded"),
                    outline: `${style.outlineStyle} ${style.outlineWidth}`,
                };
            }"""
        )

    def overflows(self) -> bool:
        """Whether anything of the chat sticks out sideways (a horizontal scroll bar)."""
        return bool(
            self.page.evaluate(
                """() => {
                    const root = document.documentElement;
                    if (root.scrollWidth > root.clientWidth) return true;
                    const hosts = [...document.querySelectorAll("*")].filter((e) => e.shadowRoot);
                    return hosts.some((host) => [...host.shadowRoot.querySelectorAll(
                        ".chat, .log, .answer, .passage, .composer")]
                        .some((e) => e.offsetParent && e.scrollWidth > e.clientWidth + 1));
                }"""
            )
        )

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def ui(chromium: Browser) -> Iterator[ChatUi]:
    """A fresh tab (its own sessionStorage) at desktop size. Alerts are recorded and
    dismissed; uncaught script errors fail the test."""
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(FAKE_ANSWER_TIMEOUT_MS)
    tab = ChatUi(page, context)

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()
    assert tab.errors == [], f"uncaught script errors: {tab.errors}"


# --- intranet pages on another origin ------------------------------------------------------------


@dataclass(frozen=True)
class HostPages:
    """A plain web server on its own loopback port: intranet pages that embed the widget."""

    origin: str
    folder: Path

    def add(self, name: str, body: str, head: str = "") -> str:
        """Write the page `name` and return its URL."""
        (self.folder / name).write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Ministry intranet</title>{head}</head><body>{body}</body></html>"
        )
        return f"{self.origin}/{name}"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base's name
        pass


@pytest.fixture(scope="session")
def host_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostPages]:
    folder = tmp_path_factory.mktemp("intranet")
    (folder / "favicon.ico").write_bytes(b"")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HostPages(f"http://127.0.0.1:{server.server_address[1]}", folder)
    finally:
        server.shutdown()
        server.server_close()


def embed_tag(api_url: str, **attributes: str) -> str:
    """The one tag of the README, with optional data-* attributes."""
    extra = "".join(
        f' data-{name.replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    return f'<script src="{api_url}/widget.js" data-rag-url="{api_url}"{extra}></script>'


# --- the API servers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiServer:
    url: str
    app: FastAPI

    @property
    def service(self) -> AssistantService:
        service: AssistantService = self.app.state.service
        return service


def fake_corpus_settings(base: Path) -> Settings:
    """Hashing embedder and fake generator over the seed report plus a document holding
    markup, ingested."""
    seeds = base / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_REPORT, seeds / SEED_REPORT.name)
    (seeds / "screening-note.txt").write_text(MARKUP_DOCUMENT)
    settings = Settings(
        seeds_dir=seeds,
        index_dir=base / "index",
        embedder="hashing",
        embedding_model="hashing",
        generator="fake",
        audit_log=base / "audit" / "answers.jsonl",
    )
    ingest_seeds(settings)
    return settings


@pytest.fixture(scope="session")
def fake_settings_with_markup(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return fake_corpus_settings(tmp_path_factory.mktemp("widget-fake"))


@pytest.fixture(scope="session")
def fake_server(fake_settings_with_markup: Settings, host_pages: HostPages) -> Iterator[ApiServer]:
    """The API on fake components, embeddable from `host_pages`; one question at a time
    (RAG_QUEUE_SIZE=1), so that a test can make it busy."""
    settings = fake_settings_with_markup.model_copy(
        update={"cors_origins": [host_pages.origin], "queue_size": 1}
    )
    app = create_app(settings)
    with live_server(app) as url:
        yield ApiServer(url, app)


@pytest.fixture
def keyed_server(fake_settings_with_markup: Settings, host_pages: HostPages) -> Iterator[ApiServer]:
    settings = fake_settings_with_markup.model_copy(
        update={"cors_origins": [host_pages.origin], "api_keys": ["intranet-key-7"]}
    )
    app = create_app(settings)
    with live_server(app) as url:
        yield ApiServer(url, app)


@pytest.fixture
def cautious_server(fake_settings_with_markup: Settings) -> Iterator[ApiServer]:
    """The API on fake components, flagging every answer as resting on weak evidence."""
    settings = fake_settings_with_markup.model_copy(update={"weak_evidence_match": 1.0})
    app = create_app(settings)
    with live_server(app) as url:
        yield ApiServer(url, app)


@dataclass(frozen=True)
class DraftingServer:
    url: str
    generator: InventingGenerator


@pytest.fixture
def drafting_server(fake_settings_with_markup: Settings) -> Iterator[DraftingServer]:
    """The API whose model streams an invented draft that verification then replaces."""
    generator = InventingGenerator()
    pipeline = build_pipeline(fake_settings_with_markup, generator=generator)
    app = create_app(fake_settings_with_markup, pipeline=pipeline)
    with live_server(app) as url:
        try:
            yield DraftingServer(url, generator)
        finally:
            generator.gate.set()  # else the server would wait for the held answer to stop


@pytest.fixture(scope="session")
def real_widget_server(
    real_settings: Settings,
    real_pipeline: Pipeline,
    host_pages: HostPages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiServer]:
    """The API on the real bundled models (the session's loaded pipeline), embeddable from
    `host_pages`."""
    settings = real_settings.model_copy(
        update={
            "cors_origins": [host_pages.origin],
            "audit_log": tmp_path_factory.mktemp("widget-real") / "answers.jsonl",
        }
    )
    app = create_app(settings, pipeline=real_pipeline)
    with live_server(app) as url:
        yield ApiServer(url, app)
