"""The chat's reader of server-sent events (api.js `readEventStream`), fed a body in pieces
the way a network may deliver it: however the bytes are cut, every event arrives whole and
once, with line endings of "\\n", "\\r\\n" or "\\r" as the event-stream format allows."""

from __future__ import annotations

import json

import pytest

from tests.api.widget.conftest import ApiServer, ChatUi

pytestmark = pytest.mark.browser

# Reads a body made of `pieces` (lists of byte values) and returns the [name, data] events.
READ_PIECES = """async (pieces) => {
    const body = new ReadableStream({
        start(controller) {
            for (const piece of pieces) controller.enqueue(new Uint8Array(piece));
            controller.close();
        },
    });
    const events = [];
    await GcmRagChat.parts.api.readEventStream(body, (name, data) => events.push([name, data]));
    return events;
}"""
EVENTS = [
    ["passages", {"passages": [{"anchor": "gcm-unece-2020#p22"}]}],
    ["token", {"text": "Réfugiés…"}],
    ["done", {"answer": "Twelve states regularised migrants [1]."}],
]


def event_stream(line_end: str) -> bytes:
    blocks = (f"event: {name}{line_end}data: {json.dumps(data)}" for name, data in EVENTS)
    return "".join(block + line_end * 2 for block in blocks).encode()


@pytest.fixture
def chat_page(ui: ChatUi, fake_server: ApiServer) -> ChatUi:
    ui.page.goto(f"{fake_server.url}/")
    ui.page.locator(".chat").wait_for()
    return ui


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_events_arrive_whole_however_the_body_is_cut(chat_page: ChatUi, line_end: str) -> None:
    body = event_stream(line_end)
    assert chat_page.page.evaluate(READ_PIECES, [list(body)]) == EVENTS
    for cut in range(1, len(body)):
        pieces = [list(body[:cut]), list(body[cut:])]
        events = chat_page.page.evaluate(READ_PIECES, pieces)
        assert events == EVENTS, f"cut after {body[:cut]!r}"


def test_events_arrive_whole_from_one_byte_at_a_time(chat_page: ChatUi) -> None:
    body = event_stream("\r\n")
    assert chat_page.page.evaluate(READ_PIECES, [[byte] for byte in body]) == EVENTS
