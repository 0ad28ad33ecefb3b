"""The chat's "Search in" list, on fake components: shown when several documents are
indexed, labelled and worked by keyboard, in the order of their titles (numbers in them
counted as numbers); the chosen document is sent with each question and named beside it;
hidden with one document."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Request

from api.app import create_app
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, live_server
from tests.api.widget.conftest import PHONE, ApiServer, ChatUi
from tests.conftest import ingest_seeds

pytestmark = pytest.mark.browser

SEED = "gcm-unece-2020"
NOTE = "screening-note"


def asked_bodies(ui: ChatUi) -> list[dict[str, object]]:
    """The JSON bodies the chat posts to /api/ask from now on."""
    bodies: list[dict[str, object]] = []

    def record(request: Request) -> None:
        if request.url.endswith("/api/ask"):
            bodies.append(json.loads(request.post_data or "{}"))

    ui.page.on("request", record)
    return bodies


def test_a_question_can_be_limited_to_one_report_by_keyboard(
    ui: ChatUi, fake_server: ApiServer
) -> None:
    titles = {
        d["doc"]: d["title"]
        for d in httpx.get(f"{fake_server.url}/api/documents").json()["documents"]
    }
    assert sorted(titles) == [SEED, NOTE]
    ui.page.goto(f"{fake_server.url}/")
    choice = ui.page.get_by_label("Search in")
    choice.wait_for()  # shown once /api/documents has answered
    assert choice.locator("option").all_inner_texts() == ["All reports", titles[SEED], titles[NOTE]]
    assert choice.input_value() == ""
    bodies = asked_bodies(ui)

    # From the question box, Shift+Tab reaches the list; the arrow keys choose.
    ui.page.locator("textarea").focus()
    ui.page.keyboard.press("Shift+Tab")
    assert ui.focused()["tag"] == "select"
    ui.page.keyboard.press("ArrowDown")
    ui.page.keyboard.press("ArrowDown")
    assert choice.input_value() == NOTE
    ui.screenshot("search-in.png")

    refused = ui.ask(FAKE_QUESTION)
    assert bodies == [{"question": FAKE_QUESTION, "stream": True, "documents": [NOTE]}]
    assert refused.locator(".abstention-heading").inner_text() == (
        "The chosen report does not answer this"
    )
    assert ui.page.locator(".question .scope-note").all_inner_texts() == [f"in {titles[NOTE]}"]
    (stored,) = ui.stored_answers()
    assert stored["abstained"] is True
    assert {passage["doc"] for passage in stored["passages"]} == {NOTE}

    choice.select_option("")
    answer = ui.ask(FAKE_QUESTION)
    assert bodies[1] == {"question": FAKE_QUESTION, "stream": True}
    assert answer.get_attribute("data-abstained") == "false"
    assert ui.page.locator(".question .scope-note").count() == 1
    # A reload keeps which report each question was asked of.
    ui.page.reload()
    ui.page.locator(".question").nth(1).wait_for()
    assert ui.page.locator(".question .scope-note").all_inner_texts() == [f"in {titles[NOTE]}"]
    assert ui.page.locator(".abstention-heading").inner_text() == (
        "The chosen report does not answer this"
    )
    # The seed report's long title is cut by the list, never widening a phone's chat.
    choice.select_option(SEED)
    ui.page.set_viewport_size(PHONE)
    assert not ui.overflows()
    ui.screenshot("search-in-phone.png")


@pytest.fixture
def one_document_server(fake_index: Settings) -> Iterator[str]:
    with live_server(create_app(fake_index)) as url:
        yield url


def test_with_one_document_there_is_nothing_to_choose(ui: ChatUi, one_document_server: str) -> None:
    with ui.page.expect_response(lambda r: r.url.endswith("/api/documents")) as listed:
        ui.page.goto(f"{one_document_server}/")
    assert [d["doc"] for d in listed.value.json()["documents"]] == [SEED]
    ui.page.locator("textarea").wait_for()
    assert ui.page.locator(".scope").is_hidden()
    bodies = asked_bodies(ui)
    ui.ask(FAKE_QUESTION)
    assert bodies == [{"question": FAKE_QUESTION, "stream": True}]


@pytest.fixture
def annexes_server(fake_settings: Settings) -> Iterator[str]:
    """Annexes 1, 2, 10 and 11 of a report, whose ids sort as text: 1, 10, 11, 2."""
    for number in (2, 10, 1, 11):
        (fake_settings.seeds_dir / f"annex-{number}.md").write_text(
            f"# Annex {number}\n\nAnnex {number} lists the returns of quarter {number}.\n"
        )
    ingest_seeds(fake_settings)
    with live_server(create_app(fake_settings)) as url:
        yield url


def test_reports_are_listed_with_their_numbers_in_order(ui: ChatUi, annexes_server: str) -> None:
    listed = httpx.get(f"{annexes_server}/api/documents").json()["documents"]
    assert [d["doc"] for d in listed if d["doc"].startswith("annex")] == [
        "annex-1",
        "annex-10",
        "annex-11",
        "annex-2",
    ]
    ui.page.goto(f"{annexes_server}/")
    choice = ui.page.get_by_label("Search in")
    choice.wait_for()
    titles = choice.locator("option").all_inner_texts()
    assert titles[:5] == ["All reports", "Annex 1", "Annex 2", "Annex 10", "Annex 11"]
