"""The chat on the real bundled models: the page answers the headline question and its
citation [1] opens the regularisation passage, with the quote highlighted and a link that
shows it in its document; the widget, embedded with its one tag on a page of another origin,
answers too. Screenshots of both, at desktop width, at 360 px and at 200 % zoom, go to
test-artifacts/widget/."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.api.widget.conftest import (
    DESKTOP,
    PHONE,
    REAL_ANSWER_TIMEOUT_MS,
    ZOOMED,
    ApiServer,
    ChatUi,
    HostPages,
    embed_tag,
)
from tests.conftest import HEADLINE_QUESTION, REGULARISATION_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REGULARISING_STATES = "Italy, the Republic of Moldova and Portugal"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_page_answer_cites_the_regularisation_passage(
    ui: ChatUi, real_widget_server: ApiServer
) -> None:
    ui.page.goto(f"{real_widget_server.url}/")
    answer = ui.ask(HEADLINE_QUESTION, timeout_ms=REAL_ANSWER_TIMEOUT_MS)
    assert answer.get_attribute("data-abstained") == "false"
    (done,) = ui.stored_answers()
    assert flat(answer.locator(".answer-text").inner_text()) == flat(done["answer"])

    answer.locator("button.cite", has_text="[1]").first.click()
    passage = answer.locator("section.passage")
    passage.wait_for()
    first = next(citation for citation in done["citations"] if citation["n"] == 1)
    assert REGULARISING_STATES in passage.inner_text()
    assert REGULARISATION_TEXT in first["text"]
    assert flat(passage.locator("mark").inner_text()) == flat(first["quote"])
    assert first["doc_title"] in passage.inner_text()
    assert first["anchor"] in passage.inner_text()
    assert first["section"] in passage.inner_text()
    link = passage.get_by_role("link")
    href = link.get_attribute("href") or ""
    assert parse_qs(urlsplit(href).fragment) == {
        "passage": [first["anchor"]],
        "quote": [first["quote"]],
    }
    assert "%23" in href
    linked = httpx.get(
        f"{real_widget_server.url}/api/passages/{quote(first['anchor'], safe='')}", timeout=30
    ).json()
    assert (linked["anchor"], linked["text"]) == (first["anchor"], first["text"])
    ui.screenshot("page-desktop.png")
    link.click()
    reader = ui.page.locator("section.reader")
    reader.locator("mark").wait_for()
    assert first["doc_title"] in reader.inner_text()
    assert flat(reader.locator(".text").inner_text()) == flat(linked["text"])
    reader.get_by_role("button", name="Back to the conversation").click()
    answer.wait_for()

    for size, name in ((PHONE, "page-360.png"), (ZOOMED, "page-zoom-200.png")):
        ui.page.set_viewport_size(size)
        assert not ui.overflows(), name
        send = ui.page.get_by_role("button", name="Send").bounding_box()
        assert send is not None and send["x"] + send["width"] <= size["width"]
        ui.screenshot(name)
    ui.page.set_viewport_size(DESKTOP)


def test_widget_on_another_origin_opens_and_answers(
    ui: ChatUi, real_widget_server: ApiServer, host_pages: HostPages
) -> None:
    url = host_pages.add(
        "real-embed.html",
        "<h1>Migration unit</h1><p>Briefing notes, contacts and the assistant.</p>"
        + embed_tag(real_widget_server.url),
    )
    assert host_pages.origin != real_widget_server.url  # the API is cross-origin: CORS applies
    ui.page.goto(url)
    launcher = ui.page.get_by_role("button", name="Ask the reports")
    dialog = ui.page.get_by_role("dialog", name="Ask the migration reports")
    assert launcher.get_attribute("aria-expanded") == "false"
    ui.screenshot("widget-closed.png")
    launcher.click()
    dialog.wait_for()
    assert launcher.get_attribute("aria-expanded") == "true"

    answer = ui.ask(HEADLINE_QUESTION, timeout_ms=REAL_ANSWER_TIMEOUT_MS)
    assert answer.get_attribute("data-abstained") == "false"
    (done,) = ui.stored_answers()
    assert done["citations"], done
    answer.locator("button.cite").first.click()
    passage = answer.locator("section.passage")
    assert flat(done["citations"][0]["quote"]) in flat(passage.inner_text())
    ui.screenshot("widget-desktop.png")

    ui.page.set_viewport_size(PHONE)
    assert not ui.overflows()
    box = ui.page.locator(".panel").bounding_box()
    assert box is not None and (box["x"], box["width"]) == (0, PHONE["width"])
    ui.screenshot("widget-360.png")
    ui.page.set_viewport_size(ZOOMED)
    assert not ui.overflows()
    ui.screenshot("widget-zoom-200.png")
