"""The widget embedded with its one tag on intranet pages of another origin, on fake
components: keyboard-only use, styles that cross neither way, the CORS allow-list, an
unreachable server, and the optional API key."""

from __future__ import annotations

import pytest

from tests.api.conftest import FAKE_QUESTION, free_port
from tests.api.widget.conftest import PHONE, ApiServer, ChatUi, HostPages, embed_tag

pytestmark = pytest.mark.browser

# An intranet stylesheet that would spoil any widget whose styles it could reach.
HOSTILE_STYLES = """<style>
  html { font-size: 10px; }
  * { color: rgb(200, 0, 0) !important; font-family: "Courier New", monospace !important;
      letter-spacing: 2px !important; }
  button { background: rgb(255, 0, 0) !important; padding: 9px !important; }
  .chat, .panel, .launcher { display: none !important; }
</style>"""
HOST_CONTENT = "<h1>Migration unit</h1><p id='host-text'>Briefing notes.</p>"
HOST_BUTTON = "<button id='host-button' type='button'>Print</button>"
# What the host page's own elements look like; the widget must not change any of it.
HOST_LOOK = """() => ["#host-text", "#host-button", "h1", "body"].map((selector) => {
    const style = getComputedStyle(document.querySelector(selector));
    return [selector, style.color, style.fontFamily, style.fontSize, style.letterSpacing,
            style.backgroundColor, style.padding, style.margin, style.lineHeight];
})"""


def inside(ui: ChatUi, selector: str, script: str) -> object:
    """Evaluate `script` (a function of the element) on `selector` in the widget's shadow root."""
    return ui.page.evaluate(
        f"""() => {{
            const element = document.querySelector("gcm-rag-widget").shadowRoot
                .querySelector({selector!r});
            return ({script})(element);
        }}"""
    )


def tab_to(ui: ChatUi, css_class: str, key: str = "Tab", limit: int = 20) -> dict[str, object]:
    """Press `key` until the focused element has `css_class`."""
    for _ in range(limit):
        ui.page.keyboard.press(key)
        focused = ui.focused()
        if css_class in str(focused["class"]).split():
            return focused
    raise AssertionError(f"{key} never reached .{css_class}; last: {ui.focused()}")


def test_keyboard_only_open_ask_read_a_citation_and_close(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    url = host_pages.add("keyboard.html", HOST_CONTENT + HOST_BUTTON + embed_tag(fake_server.url))
    ui.page.goto(url)
    launcher = ui.page.get_by_role("button", name="Ask the reports")
    launcher.wait_for()  # shown once the chat is on screen: it has not taken the focus
    assert ui.focused()["tag"] == "body"  # unlike the page at /, which starts in its box
    focused = tab_to(ui, "launcher")
    assert focused["outline"] == "solid 3px"  # focus is visible

    ui.page.keyboard.press("Enter")
    ui.page.get_by_role("dialog").wait_for()
    assert ui.focused()["tag"] == "textarea"
    # The question limit comes from /api/health, across origins, once the panel opens.
    ui.page.locator(".count").filter(has_text="0 of 2,000 characters").wait_for()
    ui.page.keyboard.type(FAKE_QUESTION)
    ui.page.keyboard.press("Enter")
    answer = ui.answers().first
    answer.wait_for()

    focused = tab_to(ui, "cite", key="Shift+Tab")
    assert (focused["text"], focused["expanded"]) == ("[1]", "false")
    assert focused["outline"] == "solid 3px"
    ui.page.keyboard.press("Enter")
    passage = answer.locator("section.passage")
    passage.wait_for()
    assert ui.focused()["expanded"] == "true"
    ui.page.keyboard.press("Tab")
    assert ui.focused()["tag"] == "a"  # the link to the passage comes next
    anchor = ui.stored_answers()[0]["citations"][0]["anchor"]
    assert ui.focused()["text"] == f"Open passage {anchor}"

    ui.page.keyboard.press("Escape")
    assert ui.page.get_by_role("dialog").is_hidden()
    assert ui.focused()["class"] == "launcher"
    assert launcher.get_attribute("aria-expanded") == "false"
    ui.page.keyboard.press("Enter")  # reopened: the conversation is still there
    assert ui.answers().count() == 1
    assert ui.focused()["tag"] == "textarea"


def test_styles_cross_neither_way(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    control = host_pages.add("control.html", HOST_CONTENT + HOST_BUTTON, head=HOSTILE_STYLES)
    embedding = host_pages.add(
        "hostile.html", HOST_CONTENT + HOST_BUTTON + embed_tag(fake_server.url), head=HOSTILE_STYLES
    )
    ui.page.goto(control)
    look_without_widget = ui.page.evaluate(HOST_LOOK)
    ui.page.goto(embedding)
    launcher = ui.page.get_by_role("button", name="Ask the reports")
    launcher.wait_for()
    style = (
        "(e) => { const s = getComputedStyle(e); return [s.color, s.backgroundColor, "
        "s.fontFamily.split(',')[0], s.fontSize, s.letterSpacing, s.display]; }"
    )
    assert inside(ui, ".launcher", style) == [
        "rgb(255, 255, 255)",
        "rgb(31, 78, 121)",
        "system-ui",
        "16px",
        "normal",
        "flex",
    ]
    launcher.click()
    ui.ask(FAKE_QUESTION)
    assert ui.page.evaluate(HOST_LOOK) == look_without_widget
    assert inside(ui, ".answer-text", style) == [
        "rgb(27, 31, 36)",
        "rgba(0, 0, 0, 0)",
        "system-ui",
        "16px",
        "normal",
        "block",
    ]
    assert inside(ui, ".panel", style)[5] == "block"
    ui.screenshot("widget-hostile-page.png")

    ui.page.reload()  # the panel stays open, and the conversation with it
    ui.answers().first.wait_for()
    assert ui.page.get_by_role("dialog").is_visible()


def test_a_page_outside_the_cors_allow_list_is_refused(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    url = host_pages.add("elsewhere.html", HOST_CONTENT + embed_tag(fake_server.url))
    # The same page under another name: http://localhost:… is not in RAG_CORS_ORIGINS.
    other_origin = url.replace("http://127.0.0.1:", "http://localhost:")
    assert other_origin != url
    ui.page.goto(other_origin)
    ui.page.get_by_role("button", name="Ask the reports").click()
    error = ui.ask(FAKE_QUESTION)
    assert error.get_attribute("data-kind") == "unreachable"
    assert "RAG_CORS_ORIGINS" in error.inner_text()


def test_an_unreachable_server_is_explained_and_the_panel_stays_usable(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    url = host_pages.add(
        "stopped.html",
        HOST_CONTENT
        + f'<script src="{fake_server.url}/widget.js" data-rag-url="{nowhere}"></script>',
    )
    ui.page.goto(url)
    ui.page.get_by_role("button", name="Ask the reports").click()
    error = ui.ask(FAKE_QUESTION)
    assert error.get_attribute("data-kind") == "unreachable"
    assert error.get_attribute("role") == "alert"
    assert "The assistant cannot be reached." in error.inner_text()
    assert nowhere in error.inner_text()
    ui.screenshot("error-unreachable.png")
    # Still usable: the question is back in the box, and asking again gives the same account.
    assert ui.page.locator("textarea").input_value() == FAKE_QUESTION
    assert ui.page.get_by_role("button", name="Send").get_attribute("aria-disabled") == "false"
    ui.page.locator("textarea").press("Enter")
    ui.page.locator(".turn.error").nth(1).wait_for()
    assert ui.page.get_by_role("dialog").is_visible()


def test_data_api_key_is_sent_when_the_server_wants_one(
    ui: ChatUi, keyed_server: ApiServer, host_pages: HostPages
) -> None:
    without_key = host_pages.add("no-key.html", HOST_CONTENT + embed_tag(keyed_server.url))
    with_key = host_pages.add(
        "key.html", HOST_CONTENT + embed_tag(keyed_server.url, api_key="intranet-key-7")
    )
    ui.page.goto(with_key)
    ui.page.get_by_role("button", name="Ask the reports").click()
    answer = ui.ask(FAKE_QUESTION)
    assert answer.get_attribute("data-abstained") == "false"
    assert ui.page.locator(".access").is_hidden()

    # Without data-api-key, the panel asks the reader for the key, in words for an official.
    ui.page.evaluate("sessionStorage.clear()")
    ui.page.goto(without_key)
    ui.page.get_by_role("button", name="Ask the reports").click()
    error = ui.ask(FAKE_QUESTION)
    assert error.get_attribute("data-kind") == "unauthorized"
    assert "This assistant needs an access key." in error.inner_text()
    assert "Authorization" not in error.inner_text()
    key_box = ui.page.get_by_label("Access key", exact=True)
    key_box.fill("intranet-key-7")
    key_box.press("Enter")
    answer = ui.answers().first
    answer.wait_for()
    assert answer.get_attribute("data-abstained") == "false"
    ui.screenshot("widget-access-key.png")

    ui.page.goto(with_key)
    ui.page.get_by_role("button", name="Ask the reports").wait_for()
    answer = ui.ask(FAKE_QUESTION)
    assert answer.get_attribute("data-abstained") == "false"


def test_the_reopened_panel_shows_the_latest_answer_after_a_reload(
    ui: ChatUi, fake_server: ApiServer, host_pages: HostPages
) -> None:
    ui.page.set_viewport_size(PHONE)
    ui.page.goto(host_pages.add("reload.html", HOST_CONTENT + embed_tag(fake_server.url)))
    ui.page.get_by_role("button", name="Ask the reports").click()
    for _ in range(3):
        ui.ask(FAKE_QUESTION)
    ui.page.reload()  # the panel was open: it opens again, with the conversation
    ui.answers().nth(2).wait_for()
    ui.page.wait_for_timeout(300)  # time for the styles, and any scrolling, to settle
    assert ui.focused()["tag"] == "body"  # reopened by itself: the page keeps the focus
    shown = inside(
        ui,
        ".log",
        """(log) => {
            const questions = log.querySelectorAll(".question");
            const latest = questions[questions.length - 1].getBoundingClientRect();
            const view = log.getBoundingClientRect();
            return {scrolled: log.scrollTop, top: latest.top - view.top,
                    bottom: view.bottom - latest.bottom};
        }""",
    )
    assert isinstance(shown, dict)
    assert shown["scrolled"] > 0, "opened at the top of the conversation"
    assert shown["top"] >= 0 and shown["bottom"] > 0, shown
