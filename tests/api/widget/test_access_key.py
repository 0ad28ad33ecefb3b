"""The chat with API keys on (RAG_API_KEYS), on fake components: the page at / asks the
reader for an access key, says when a key is wrong, keeps the accepted one for the tab and
sends it as a header only, then answers the question the server refused; error messages
read as sentences for an official, not as HTTP instructions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Request, Route

from tests.api.conftest import FAKE_QUESTION
from tests.api.widget.conftest import ApiServer, ChatUi

pytestmark = pytest.mark.browser

KEY = "intranet-key-7"  # the keyed_server's key
NEEDED = "This assistant needs an access key; ask your administrator for one."
REJECTED = "That access key was not accepted. Check it, or ask your administrator for a new one."
# What an official must never be told to do.
HTTP_WORDS = ("Authorization", "X-API-Key", "Bearer", "header", "RAG_API_KEYS")


def kept_keys(ui: ChatUi) -> dict[str, str]:
    """Access keys the tab keeps in sessionStorage, by storage key."""
    kept: dict[str, str] = ui.page.evaluate(
        """() => Object.fromEntries(Object.keys(sessionStorage)
            .filter((key) => key.startsWith("gcm-rag-key:"))
            .map((key) => [key, sessionStorage.getItem(key)]))"""
    )
    return kept


def record_requests(ui: ChatUi) -> list[dict[str, Any]]:
    """Every request the tab makes from now on: URL and headers."""
    sent: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        sent.append({"url": request.url, "headers": request.headers})

    ui.page.on("request", record)
    return sent


def test_the_page_asks_for_a_key_checks_it_and_then_answers(
    ui: ChatUi, keyed_server: ApiServer
) -> None:
    sent = record_requests(ui)
    ui.page.goto(f"{keyed_server.url}/")
    # The document list is refused at load: the form is there before any question.
    key_box = ui.page.get_by_label("Access key", exact=True)
    key_box.wait_for()
    assert ui.page.locator(".access-title").inner_text() == NEEDED
    assert ui.focused()["tag"] == "input"
    ui.screenshot("access-key.png")

    error = ui.ask(FAKE_QUESTION)
    assert error.get_attribute("data-kind") == "unauthorized"
    assert error.locator(".error-title").inner_text() == "This assistant needs an access key."
    assert "enter it below" in error.inner_text()
    for word in HTTP_WORDS:
        assert word not in ui.chat.inner_text(), word
    assert ui.focused()["tag"] == "input"  # where the reader must type next

    key_box.fill("wrong-key")
    key_box.press("Enter")
    message = ui.page.locator(".access-message")
    message.filter(has_text="not accepted").wait_for()
    assert message.inner_text() == REJECTED
    assert key_box.get_attribute("aria-invalid") == "true"
    assert kept_keys(ui) == {}
    assert ui.page.locator(".turn.error").count() == 1

    key_box.fill(f" {KEY} ")  # pasted with spaces around
    key_box.press("Enter")
    answer = ui.answers().first
    answer.wait_for()  # the refused question, asked again with the key
    assert answer.get_attribute("data-abstained") == "false"
    assert ui.page.locator(".turn.error").count() == 0
    assert ui.page.locator(".question-text").all_inner_texts() == [FAKE_QUESTION]
    assert ui.page.locator(".access").is_hidden()
    assert kept_keys(ui) == {f"gcm-rag-key:{keyed_server.url}": KEY}
    assert ui.page.get_by_label("Search in").is_visible()  # the documents, listed with the key

    # A reload keeps the key for the tab: no form, and questions are answered.
    ui.page.reload()
    ui.answers().first.wait_for()
    assert ui.page.locator(".access").is_hidden()
    ui.ask("Which reports do you have?")
    assert ui.answers().count() == 2

    asked = [r for r in sent if r["url"].endswith("/api/ask")]
    assert [r["headers"].get("x-api-key") for r in asked] == [None, KEY, KEY]
    assert all(KEY not in r["url"] for r in sent), "the key went into a URL"
    assert all("authorization" not in r["headers"] for r in sent)


def test_a_kept_key_the_server_no_longer_accepts_is_asked_for_again(
    ui: ChatUi, keyed_server: ApiServer
) -> None:
    ui.page.goto(f"{keyed_server.url}/")
    ui.page.evaluate(
        "(url) => sessionStorage.setItem(`gcm-rag-key:${url}`, 'withdrawn-key')", keyed_server.url
    )
    ui.page.reload()
    message = ui.page.locator(".access-message")
    message.filter(has_text="not accepted").wait_for()
    assert message.inner_text() == REJECTED
    assert kept_keys(ui) == {}  # forgotten: it would only be refused again
    key_box = ui.page.get_by_label("Access key", exact=True)
    key_box.fill(KEY)
    key_box.press("Enter")
    ui.page.locator(".access").wait_for(state="hidden")
    assert ui.focused()["tag"] == "textarea"
    assert ui.page.get_by_role("status").inner_text() == "Access key accepted."
    answer = ui.ask(FAKE_QUESTION)
    assert answer.get_attribute("data-abstained") == "false"


def test_the_apis_error_messages_read_as_sentences(ui: ChatUi, fake_server: ApiServer) -> None:
    # Fault: the API refuses the question with a message and fix in its own lower case.
    def refuse(route: Route) -> None:
        body = {"error": "question: not a question", "rule": "odd", "fix": "ask it differently"}
        route.fulfill(status=422, content_type="application/json", body=json.dumps(body))

    ui.page.route("**/api/ask", refuse)
    ui.page.goto(f"{fake_server.url}/")
    error = ui.ask(FAKE_QUESTION)
    assert error.get_attribute("data-kind") == "invalid"
    assert error.locator("p").nth(1).inner_text() == (
        "Question: not a question. Ask it differently."
    )
