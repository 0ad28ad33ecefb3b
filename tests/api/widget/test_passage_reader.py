"""Reading a cited passage in its document, on fake components: "Open passage" shows the
passage in the chat (title, section, place in the document, the quote highlighted, links to
its neighbours), not the API's JSON; in the page at / its address is a fragment of the page,
so Back returns to the conversation and the address opens the passage; with keys on it is
fetched with the chat's key; in the widget it opens in the panel."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.api.conftest import FAKE_QUESTION
from tests.api.widget.conftest import PHONE, ApiServer, ChatUi, HostPages, embed_tag

pytestmark = pytest.mark.browser

KEY = "intranet-key-7"  # the keyed_server's key
SEED_TITLE = (
    "Regional Review of the Global Compact for Safe, Orderly and Regular Migration "
    "Member States of the United Nations Economic Commission for Europe"
)


def flat(text: str) -> str:
    return " ".join(text.split())


def passage_json(server: ApiServer, anchor: str, **headers: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/passages/{quote(anchor, safe='')}", headers=headers)
    assert response.status_code == 200, response.text
    passage: dict[str, Any] = response.json()
    return passage


def fragment_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).fragment)


def test_open_passage_shows_it_in_its_document_and_back_returns(
    ui: ChatUi, fake_server: ApiServer
) -> None:
    ui.page.goto(f"{fake_server.url}/")
    answer = ui.ask(FAKE_QUESTION)
    citation = ui.stored_answers()[0]["citations"][0]
    answer.locator("button.cite").click()
    link = answer.get_by_role("link", name=f"Open passage {citation['anchor']}")
    href = link.get_attribute("href") or ""
    assert href.startswith("#passage=")
    assert fragment_of(href) == {"passage": [citation["anchor"]], "quote": [citation["quote"]]}
    stored = passage_json(fake_server, citation["anchor"])

    link.click()
    reader = ui.page.locator("section.reader")
    reader.locator("mark").wait_for()
    assert ui.page.locator(".log").is_hidden() and ui.page.locator(".composer").is_hidden()
    assert reader.get_by_role("heading").inner_text() == SEED_TITLE
    assert ui.focused()["class"] == "reader-title"
    shown = reader.inner_text()
    assert f"Section: {citation['section']}" in shown
    place = f"{stored['position']} of {stored['document_passages']} in this report"
    assert f"Passage {citation['anchor']} · {place}" in shown
    assert flat(reader.locator(".text").inner_text()) == flat(stored["text"])
    assert flat(reader.locator("mark").inner_text()) == flat(citation["quote"])
    assert fragment_of(ui.page.url)["passage"] == [citation["anchor"]]
    assert "{" not in shown  # a page for readers, not JSON
    ui.screenshot("passage-reader.png")

    # The next passage, by its link; Back returns to the cited one, quote highlighted.
    reader.get_by_role("link", name="Next passage").click()
    following = passage_json(fake_server, stored["next"])
    reader.get_by_text(following["anchor"]).wait_for()
    assert flat(reader.locator(".text").inner_text()) == flat(following["text"])
    assert reader.locator("mark").count() == 0
    assert reader.get_by_role("link", name="Previous passage").get_attribute("href") == (
        f"#passage={quote(citation['anchor'], safe='')}"
    )
    ui.page.go_back()
    reader.locator("mark").wait_for()
    assert citation["anchor"] in reader.inner_text()

    # "Back to the conversation": the conversation as it was, the page's own address, and
    # the focus on the link that opened the passage.
    reader.get_by_role("button", name="Back to the conversation").click()
    reader.wait_for(state="hidden")
    assert ui.page.locator(".log").is_visible()
    assert urlsplit(ui.page.url).fragment == ""
    assert ui.focused()["text"] == f"Open passage {citation['anchor']}"
    # Forward opens it again: the reader is part of the page's history.
    ui.page.go_forward()
    reader.locator("mark").wait_for()
    ui.page.set_viewport_size(PHONE)
    assert not ui.overflows()
    ui.screenshot("passage-reader-360.png")
    # The API's JSON stays, for systems.
    assert stored["anchor"] == citation["anchor"]


def test_an_address_of_a_passage_opens_it_and_asks_for_the_key_when_keys_are_on(
    ui: ChatUi, keyed_server: ApiServer
) -> None:
    anchor = "gcm-unece-2020#p22"
    stored = passage_json(keyed_server, anchor, **{"X-API-Key": KEY})
    keys_sent: list[str | None] = []
    ui.page.on(
        "request",
        lambda request: (
            keys_sent.append(request.headers.get("x-api-key"))
            if "/api/passages/" in request.url
            else None
        ),
    )
    ui.page.goto(f"{keyed_server.url}/#passage={quote(anchor, safe='')}")
    reader = ui.page.locator("section.reader")
    error = reader.locator(".turn.error")
    error.wait_for()
    assert error.get_attribute("data-kind") == "unauthorized"
    assert ui.focused()["tag"] == "input"  # the key, asked for as the page opens
    key_box = ui.page.get_by_label("Access key", exact=True)
    assert key_box.is_visible()
    key_box.fill(KEY)
    key_box.press("Enter")
    reader.locator(".text").wait_for()
    assert flat(reader.locator(".text").inner_text()) == flat(stored["text"])
    assert reader.get_by_role("heading").inner_text() == SEED_TITLE
    assert keys_sent == [None, KEY]
    assert ui.focused()["class"] == "reader-title"
    # Opened on a passage, the page goes back to its bare address and the conversation.
    reader.get_by_role("button", name="Back to the conversation").click()
    assert ui.page.locator(".log").is_visible()
    assert urlsplit(ui.page.url).fragment == ""
    assert ui.focused()["tag"] == "textarea"


def test_in_the_widget_a_passage_opens_in_the_panel(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    url = host_pages.add("reader.html", "<h1>Migration unit</h1>" + embed_tag(fake_server.url))
    ui.page.goto(url)
    ui.page.get_by_role("button", name="Ask the reports").click()
    answer = ui.ask(FAKE_QUESTION)
    citation = ui.stored_answers()[0]["citations"][0]
    answer.locator("button.cite").click()
    link = answer.get_by_role("link", name=f"Open passage {citation['anchor']}")
    href = link.get_attribute("href") or ""
    # Opened in a new tab, it is the assistant's own page on the passage.
    assert href.startswith(f"{fake_server.url}/#passage=")
    assert fragment_of(href)["passage"] == [citation["anchor"]]
    link.click()
    reader = ui.page.get_by_role("dialog").locator("section.reader")
    reader.locator("mark").wait_for()
    assert flat(reader.locator("mark").inner_text()) == flat(citation["quote"])
    assert ui.page.url == url  # the intranet page's address is left alone
    reader.get_by_role("button", name="Back to the conversation").click()
    assert ui.page.locator(".log").is_visible()
    assert ui.focused()["text"] == f"Open passage {citation['anchor']}"
