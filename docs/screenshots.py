"""Take again the screenshots the README shows, from a real server on the bundled models.

    .venv/bin/python docs/screenshots.py                 # into docs/, on loopback port 8766
    .venv/bin/python docs/screenshots.py --port 9001 --out /tmp/shots

It starts `rag serve` on a loopback port over the index in index/ (RAG_INDEX_DIR; run `rag
ingest` first), with an API key of its own so that the access-key form can be shown and an
audit log of its own so that its questions stay out of audit/, asks the question in a
headless Chromium (Debian's: `make browser-deps`; Playwright's own browser download is not
used), and stops the server at the end. It writes:

    access-key.png  the page at / asking for a key (the server runs with RAG_API_KEYS)
    page.png        the page at / answering, its first citation open
    reader.png      "Open passage": the cited passage in its document
    widget.png      the widget on an intranet page of another origin, the same answer

A real model writes the answer, so an answer that changes with the model, the index or the
code changes the pictures: look at them before committing. This is a script, not a test
(pytest collects tests/ only); it needs the development dependencies (`pip install -e
'.[dev]'`, for Playwright).
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from eval.bench_server import stop_process

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FloatRect, Locator, Page, ViewportSize

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = "127.0.0.1"
QUESTION = "Which states regularised migrants during COVID?"
# Wide enough for the page's column and the widget's panel beside its intranet page; narrow
# enough that the README shows the pictures without scaling them much.
VIEWPORT: ViewportSize = {"width": 1100, "height": 760}
START_TIMEOUT_S = 240
ANSWER_TIMEOUT_MS = 300_000


class ScreenshotError(Exception):
    """Something the person taking the screenshots can fix; the message says how."""


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if not CHROMIUM.exists():
        print(f"screenshots: {CHROMIUM} is missing; run 'make browser-deps'", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print(
            "screenshots: Playwright is not installed; run \"pip install -e '.[dev]'\"",
            file=sys.stderr,
        )
        return 2
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(12)  # this run's only: nobody else's key is ever shown
    try:
        with (
            intranet_pages() as intranet,
            served(arguments.port, key, intranet.origin) as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            try:
                shoot_page(browser, url, key, out)
                shoot_widget(browser, intranet.add_embedding_page(url), key, out)
            finally:
                browser.close()
    except ScreenshotError as error:
        print(f"screenshots: {error}", file=sys.stderr)
        return 2
    for name in ("access-key.png", "page.png", "reader.png", "widget.png"):
        print(out / name)
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="docs/screenshots.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8766,
        help="loopback port for the server it starts (default 8766; must be free)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs",
        help="folder for the PNG files (default: docs/ of this project)",
    )
    return parser.parse_args(argv)


# --- the server and the intranet page --------------------------------------------------


@contextmanager
def served(port: int, key: str, cors_origin: str) -> Iterator[str]:
    """`rag serve` on loopback `port`, taking `key` only and called from `cors_origin`,
    until it is ready; stopped on leaving. Yields its URL."""
    folder = Path(tempfile.mkdtemp(prefix="screenshots-"))
    log_path = folder / "server.log"
    environment = {
        **os.environ,
        "RAG_API_KEYS": key,
        "RAG_CORS_ORIGINS": cors_origin,
        "RAG_AUDIT_LOG": str(folder / "answers.jsonl"),
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, "-m", "rag.cli", "serve", "--host", LOOPBACK, "--port", str(port)]
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would stall it
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_until_ready(url, process, log_path)
        yield url
    finally:
        stop_process(process)


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ScreenshotError(
                f"'rag serve' exited with status {process.returncode}; fix what it says "
                f"(a port in use: choose another with --port){log_excerpt(log_path)}"
            )
        try:
            health: dict[str, Any] = httpx.get(f"{url}/api/health", timeout=5).json()
        except httpx.HTTPError:
            time.sleep(0.25)
            continue
        if not health["ready"]:
            raise ScreenshotError(
                f"the server is not ready: {health['problems']}; fix what it names "
                "(no index: run 'rag ingest')"
            )
        return
    raise ScreenshotError(
        f"the server was not ready within {START_TIMEOUT_S} s{log_excerpt(log_path)}"
    )


def log_excerpt(path: Path, lines: int = 12) -> str:
    """The last `lines` lines of the server's log, indented, after the file's name."""
    tail = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    return f"; the last lines of {path}:\n" + "\n".join(f"    {line}" for line in tail)


class IntranetPages:
    """A plain web server on its own loopback port, for a page that embeds the widget."""

    def __init__(self, origin: str, folder: Path) -> None:
        self.origin = origin
        self.folder = folder

    def add_embedding_page(self, api_url: str) -> str:
        """An intranet page with the README's one tag; its URL."""
        (self.folder / "unit.html").write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Migration unit</title></head><body><h1>Migration unit</h1>"
            "<p>Briefing notes, contacts and the assistant.</p>"
            f'<script src="{api_url}/widget.js" data-rag-url="{api_url}"></script>'
            "</body></html>",
            encoding="utf-8",
        )
        return f"{self.origin}/unit.html"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base's name
        pass


@contextmanager
def intranet_pages() -> Iterator[IntranetPages]:
    with tempfile.TemporaryDirectory(prefix="intranet-") as folder:
        (Path(folder) / "favicon.ico").write_bytes(b"")
        handler = functools.partial(QuietHandler, directory=folder)
        server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield IntranetPages(f"http://{LOOPBACK}:{server.server_address[1]}", Path(folder))
        finally:
            server.shutdown()
            server.server_close()


# --- the pictures ------------------------------------------------------------------------


def shoot_page(browser: Browser, url: str, key: str, out: Path) -> None:
    """The page at /: the key form, then the answer with [1] open, then its passage."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{url}/")
    # The document list is refused at load, so the form is there before any question.
    page.locator(".access input").wait_for()
    page.screenshot(path=str(out / "access-key.png"))
    enter_key(page, key)

    answer = ask(page, QUESTION)
    answer.locator("button.cite").first.click()
    passage = answer.locator("section.passage")
    passage.wait_for()
    page.screenshot(path=str(out / "page.png"))

    passage.get_by_role("link").first.click()
    reader = page.locator("section.reader")
    reader.locator("mark").wait_for()
    # Down to the links to the neighbouring passages, without the empty page below them.
    last = reader.locator(".neighbours").bounding_box()
    bottom = VIEWPORT["height"] if last is None else last["y"] + last["height"] + 32
    page.screenshot(path=str(out / "reader.png"), clip=clip(min(bottom, VIEWPORT["height"])))
    context.close()


def shoot_widget(browser: Browser, page_url: str, key: str, out: Path) -> None:
    """The widget opened on an intranet page, the same answer with [1] open."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(page_url)
    page.get_by_role("button", name="Ask the reports").click()
    page.locator(".access input").wait_for()
    enter_key(page, key)
    answer = ask(page, QUESTION)
    answer.locator("button.cite").first.click()
    answer.locator("section.passage").wait_for()
    # Opening the passage scrolled the panel down to it: back up to the question.
    page.locator(".log").evaluate("log => { log.scrollTop = 0; }")
    page.screenshot(path=str(out / "widget.png"))
    context.close()


def clip(height: float) -> FloatRect:
    """The top `height` pixels of the window, its whole width."""
    return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}


def enter_key(page: Page, key: str) -> None:
    box = page.locator(".access input")
    box.fill(key)
    box.press("Enter")
    page.locator(".access").wait_for(state="hidden")


def ask(page: Page, question: str) -> Locator:
    """Send `question` from the box; the settled answer (an error is a `ScreenshotError`)."""
    box = page.locator("textarea")
    box.fill(question)
    box.press("Enter")
    settled = page.locator("article.answer[data-state=done], .turn.error").first
    settled.wait_for(timeout=ANSWER_TIMEOUT_MS)
    if settled.get_attribute("data-state") != "done":
        raise ScreenshotError(f"the chat showed an error: {settled.inner_text()}")
    if settled.get_attribute("data-abstained") == "true":
        raise ScreenshotError(f"the assistant did not answer {question!r}: check the index")
    return settled


if __name__ == "__main__":
    sys.exit(main())
