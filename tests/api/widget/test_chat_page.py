"""The chat page at / on fake components: only the verified `done` answer is shown, never the
model's streamed draft; abstentions; readable errors (busy, a question over the length
limit) after which the chat still works; copying an answer with its references; a
conversation that survives a reload; and markup in a passage shown as text."""

from __future__ import annotations

import httpx
import pytest

from rag.settings import MAX_QUESTION_CHARS
from tests.api.conftest import FAKE_QUESTION, GATE_TIMEOUT_S
from tests.api.widget.conftest import (
    MARKUP,
    MARKUP_QUESTION,
    PHONE,
    ApiServer,
    ChatUi,
    DraftingServer,
)
from tests.conftest import REGULARISATION_TEXT

pytestmark = pytest.mark.browser

ABSTAINING_QUESTION = "What is the recommended dose of ibuprofen?"
SEED_TITLE = (
    "Regional Review of the Global Compact for Safe, Orderly and Regular Migration "
    "Member States of the United Nations Economic Commission for Europe"
)
# Records every piece of text the chat ever puts on screen, however briefly: added text
# nodes and elements, and text changed in place.
RECORD_SHOWN_TEXT = """() => {
    window.shownText = [];
    new MutationObserver((mutations) => {
        for (const mutation of mutations) {
            if (mutation.type === "characterData") window.shownText.push(mutation.target.data);
            for (const node of mutation.addedNodes) window.shownText.push(node.textContent);
        }
    }).observe(document.getElementById("chat").shadowRoot,
               {childList: true, subtree: true, characterData: true});
}"""
CHECKING = "Checking the answer against the reports…"
TOO_LONG = "Questions are limited to 2,000 characters; shorten it."


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def page_ui(ui: ChatUi, fake_server: ApiServer) -> ChatUi:
    ui.page.goto(f"{fake_server.url}/")
    ui.page.locator(".chat").wait_for()
    return ui


def test_only_the_verified_answer_is_shown_never_the_models_draft(
    ui: ChatUi, drafting_server: DraftingServer
) -> None:
    ui.page.goto(f"{drafting_server.url}/")
    ui.page.locator(".chat").wait_for()
    ui.page.evaluate(RECORD_SHOWN_TEXT)
    box = ui.page.locator("textarea")
    box.fill(FAKE_QUESTION)
    box.press("Enter")
    assert drafting_server.generator.drafted.wait(GATE_TIMEOUT_S), "the model never wrote"
    # The whole draft has been streamed as `token` events: the chat shows none of it, and
    # says that it is checking.
    ui.page.wait_for_timeout(300)  # time to draw the tokens, had the chat meant to
    assert "2024" not in ui.chat.inner_text()
    pending = ui.page.locator("article.answer[data-state=streaming]")
    pending.get_by_text(CHECKING).wait_for()
    assert ui.page.get_by_role("status").inner_text() == CHECKING

    drafting_server.generator.gate.set()
    answer = ui.answers().first
    answer.wait_for()
    (done,) = ui.stored_answers()
    assert done["mode"] == "extractive"  # verification dropped the invented claim
    assert flat(answer.locator(".answer-text").inner_text()) == flat(done["answer"])
    assert REGULARISATION_TEXT in done["answer"]
    shown = ui.page.evaluate("window.shownText")
    assert CHECKING in shown
    invented = [text for text in shown if "2024" in text or "new policy" in text]
    assert invented == [], "unverified text reached the screen"
    assert ui.page.locator("[data-state=streaming]").count() == 0
    assert ui.page.get_by_role("log").get_attribute("aria-busy") == "false"


def test_the_page_starts_in_the_question_box(page_ui: ChatUi) -> None:
    page_ui.page.wait_for_function(
        "() => document.getElementById('chat').shadowRoot.activeElement !== null"
    )
    assert page_ui.focused()["tag"] == "textarea"


def test_an_answer_shows_its_citations_and_sources(page_ui: ChatUi) -> None:
    answer = page_ui.ask(FAKE_QUESTION)
    (done,) = page_ui.stored_answers()
    assert flat(answer.locator(".answer-text").inner_text()) == flat(done["answer"])
    assert answer.locator("button.cite").all_inner_texts() == ["[1]"]
    # The full stop after the marker is held to it, so that it never wraps onto a line alone.
    assert done["answer"].endswith("[1].")
    assert answer.locator(".cite-group").all_inner_texts() == ["[1]."]
    assert answer.locator(".cite-group").evaluate("(e) => getComputedStyle(e).whiteSpace") == (
        "nowrap"
    )
    sources = answer.locator("ol.sources li")
    assert sources.count() == len(done["citations"]) == 1
    citation = done["citations"][0]
    # One report's sources name it once, above them, and each its section.
    assert answer.locator(".sources-heading").inner_text() == f"Sources, all in {SEED_TITLE}"
    assert flat(sources.first.inner_text()) == f"{citation['section']} {citation['anchor']}"


def test_each_part_of_a_question_of_several_is_answered_under_its_own_question(
    page_ui: ChatUi,
) -> None:
    second = "When was the GCM adopted by Member States?"
    answer = page_ui.ask(f"{FAKE_QUESTION} {second}")
    (done,) = page_ui.stored_answers()
    assert [part["question"] for part in done["parts"]] == [FAKE_QUESTION, second]
    headings = answer.locator(".part-question")
    assert headings.all_inner_texts() == [FAKE_QUESTION, second]
    assert headings.evaluate_all(
        "(found) => found.map((e) => [e.tagName, getComputedStyle(e).fontWeight])"
    ) == [["STRONG", "600"], ["STRONG", "600"]]
    assert flat(answer.locator(".answer-text").inner_text()) == flat(done["answer"])
    markers = sorted(set(answer.locator("button.cite").all_inner_texts()))
    assert markers == [f"[{citation['n']}]" for citation in done["citations"]]
    assert len(markers) >= 2  # each part cites its own passage

    # The first part's citation shows its passage below that part, above the second.
    first, second_part = answer.locator(".answer-part").all()
    first.locator("button.cite").first.click()
    passage = answer.locator("section.passage")
    passage.wait_for()
    assert passage.evaluate("(e) => e.previousElementSibling.classList.contains('answer-part')")
    first_box, passage_box = first.bounding_box(), passage.bounding_box()
    second_box = second_part.bounding_box()
    assert first_box and passage_box and second_box
    assert first_box["y"] + first_box["height"] <= passage_box["y"]
    assert passage_box["y"] + passage_box["height"] <= second_box["y"]
    # A source in the list shows it below the answer, as for an answer of one part.
    answer.locator("button.source").first.click()
    assert passage.evaluate("(e) => e.previousElementSibling.classList.contains('answer-text')")


# The chat's rendering of `answer` (a JSON answer) as `article`, with links that go nowhere.
RENDERED = """const context = {
        id: (name) => `test-${name}`,
        passageHref: () => "#",
        onOpenPassage: () => {},
        onCopy: () => {},
    };
    const article = GcmRagChat.parts.answers.renderAnswer(answer, null, context);"""


# Draws `answer` as the chat does and returns the texts of its part headings and its text,
# a paragraph a part.
RENDER_ANSWER = (
    "(answer) => {\n    "
    + RENDERED
    + """
    return [
        [...article.querySelectorAll(".part-question")].map((e) => e.textContent),
        [...article.querySelectorAll(".answer-text, .answer-part")]
            .filter((e) => !e.querySelector(".answer-part"))
            .map((e) => e.textContent),
    ];
}"""
)
CITATION = {
    "n": 1,
    "anchor": "gcm-unece-2020#p22",
    "doc": "gcm-unece-2020",
    "doc_title": "Review",
    "section": None,
    "page": None,
    "text": "Italy did. Why regularise?",
    "quote": "Why regularise?",
}


def _answer(text: str, parts: list) -> dict:  # type: ignore[type-arg]
    return {
        "question": "Q",
        "answer": text,
        "abstained": False,
        "mode": "extractive",
        "weak_evidence": False,
        "citations": [CITATION],
        "parts": parts,
        "passages": [],
    }


def test_part_headings_come_from_the_parts_never_from_a_line_that_asks(page_ui: ChatUi) -> None:
    # A quoted line that asks, with text below it, is no part's question.
    text = "Italy did [1]. The report asks:\nWhy regularise?\nIt answers below [1]."
    assert page_ui.page.evaluate(RENDER_ANSWER, _answer(text, [])) == [[], [text]]
    parts = [
        {
            "question": "Which states regularised migrants",  # headed as sent, no "?" needed
            "answer": "Italy [1]. It asks:\nWhy regularise?",
            "abstained": False,
            "abstention_reason": None,
            "citation_numbers": [1],
        },
        {
            "question": "Who chaired the meeting?",
            "answer": "The indexed reports do not answer this part of the question.",
            "abstained": True,
            "abstention_reason": None,
            "citation_numbers": [],
        },
    ]
    joined = "\n\n".join(f"{part['question']}\n{part['answer']}" for part in parts)
    assert page_ui.page.evaluate(RENDER_ANSWER, _answer(joined, parts)) == [
        ["Which states regularised migrants", "Who chaired the meeting?"],
        [f"{part['question']}\n{part['answer']}" for part in parts],
    ]


def test_a_source_in_the_list_opens_the_same_passage_as_its_marker(page_ui: ChatUi) -> None:
    answer = page_ui.ask(FAKE_QUESTION)
    citation = page_ui.stored_answers()[0]["citations"][0]
    marker = answer.locator("button.cite")
    source = answer.locator("button.source")
    source.click()
    passage = answer.locator("section.passage")
    assert flat(passage.locator(".text").inner_text()) == flat(citation["text"])
    assert flat(passage.locator("mark").inner_text()) == flat(citation["quote"])
    assert marker.get_attribute("aria-expanded") == source.get_attribute("aria-expanded") == "true"
    marker.click()  # the same passage: the second activation closes it
    assert passage.is_hidden()
    assert marker.get_attribute("aria-expanded") == "false"


def test_an_abstention_says_so_and_offers_the_closest_passages(page_ui: ChatUi) -> None:
    answer = page_ui.ask(ABSTAINING_QUESTION)
    (done,) = page_ui.stored_answers()
    assert done["abstained"] is True
    assert answer.get_attribute("data-abstained") == "true"
    assert answer.locator(".abstention-heading").inner_text() == (
        "The indexed reports do not answer this"
    )
    assert answer.locator("button.cite").count() == 0
    closest = answer.locator("ol.closest li")
    assert closest.count() == len(done["passages"]) == 5
    for item, passage in zip(closest.all(), done["passages"], strict=True):
        assert passage["anchor"] in item.inner_text()
    closest.nth(1).locator("button").click()
    shown = answer.locator("section.passage")
    assert flat(shown.locator(".text").inner_text()) == flat(done["passages"][1]["text"])
    assert shown.locator(".passage-title").inner_text() == SEED_TITLE  # from /api/documents
    assert shown.locator("mark").count() == 0
    page_ui.screenshot("abstention.png")


def test_an_answer_on_weak_evidence_carries_a_caution(
    page_ui: ChatUi, ui: ChatUi, cautious_server: ApiServer
) -> None:
    answer = page_ui.ask(FAKE_QUESTION)
    (done,) = page_ui.stored_answers()
    assert done["weak_evidence"] is False
    assert answer.locator(".weak-evidence").count() == 0

    ui.page.goto(f"{cautious_server.url}/")
    ui.page.locator(".chat").wait_for()
    answer = ui.ask(FAKE_QUESTION)
    done = ui.stored_answers()[-1]
    assert done["weak_evidence"] is True and done["abstained"] is False
    caution = answer.locator(".weak-evidence")
    assert caution.get_attribute("role") == "note"
    assert "may not answer it" in caution.inner_text()
    assert answer.locator("button.cite").count() == len(done["citations"]) > 0


def test_a_busy_server_says_when_to_retry_and_the_retry_answers(
    page_ui: ChatUi, fake_server: ApiServer
) -> None:
    # RAG_QUEUE_SIZE is 1 here: holding the one place makes the server answer 503.
    held = fake_server.service.generation.admit()
    try:
        with page_ui.page.expect_response(lambda r: r.url.endswith("/api/ask")) as refused:
            error = page_ui.ask(FAKE_QUESTION)
        assert refused.value.status == 503
        retry_after = int(refused.value.headers["retry-after"])
        assert error.get_attribute("data-kind") == "busy"
        assert error.get_attribute("role") == "alert"
        assert "The assistant is busy answering other questions." in error.inner_text()
        seconds = "second" if retry_after == 1 else "seconds"
        assert f"Try again in {retry_after} {seconds}." in error.inner_text()
        assert page_ui.page.locator("textarea").input_value() == FAKE_QUESTION
        page_ui.screenshot("error-busy.png")
    finally:
        held.release()
    error.get_by_role("button", name="Try again").click()
    answer = page_ui.answers().first
    answer.wait_for()
    assert page_ui.page.locator(".turn.error").count() == 0
    assert page_ui.page.locator(".question-text").all_inner_texts() == [FAKE_QUESTION]
    assert page_ui.page.locator("textarea").input_value() == ""


def test_a_question_over_the_limit_is_held_back_in_plain_words(
    page_ui: ChatUi, fake_server: ApiServer
) -> None:
    limit = httpx.get(f"{fake_server.url}/api/health").json()["max_question_chars"]
    assert limit == MAX_QUESTION_CHARS == 2000
    box = page_ui.page.locator("textarea")
    counter = page_ui.page.locator(".count")
    counter.filter(has_text="0 of 2,000 characters").wait_for()  # once health has answered
    assert counter.get_attribute("id") in (box.get_attribute("aria-describedby") or "").split()
    asked: list[str] = []
    page_ui.page.on("request", lambda request: asked.append(request.url))
    too_long = "Which states regularised migrants? " * 60
    box.fill(too_long)
    assert box.input_value() == too_long, "nothing is cut off"
    assert counter.inner_text() == "2,100 of 2,000 characters"
    assert box.get_attribute("aria-invalid") == "true"
    status = page_ui.page.locator(".status")
    assert status.inner_text() == TOO_LONG
    box.press("Enter")
    assert status.inner_text() == TOO_LONG
    assert not any(url.endswith("/api/ask") for url in asked), "not sent"
    assert page_ui.page.locator(".turn").count() == 0
    page_ui.screenshot("question-too-long.png")

    box.fill(FAKE_QUESTION)
    assert box.get_attribute("aria-invalid") is None
    assert status.text_content() == ""
    answer = page_ui.ask(FAKE_QUESTION)
    assert answer.get_attribute("data-abstained") == "false"
    assert counter.inner_text() == "0 of 2,000 characters"


def test_the_apis_refusal_of_a_long_question_reads_plainly(
    ui: ChatUi, fake_server: ApiServer
) -> None:
    # Fault: the limit never arrives, so the question goes to the API, which refuses it.
    ui.page.route("**/api/health", lambda route: route.abort())
    ui.page.goto(f"{fake_server.url}/")
    ui.page.locator(".chat").wait_for()
    too_long = "Which states regularised migrants? " * 60
    refused = httpx.post(f"{fake_server.url}/api/ask", json={"question": too_long, "stream": True})
    assert (refused.status_code, refused.json()["rule"]) == (422, "string_too_long")
    error = ui.ask(too_long)
    assert error.get_attribute("role") == "alert"
    assert error.inner_text().startswith("This question is too long; shorten it.")
    assert refused.json()["error"] not in error.inner_text()
    assert "String should have" not in ui.chat.inner_text()
    assert ui.page.locator("textarea").input_value() == too_long.strip()  # to shorten
    answer = ui.ask(FAKE_QUESTION)
    assert answer.get_attribute("data-abstained") == "false"


def test_copy_answer_with_references(page_ui: ChatUi, fake_server: ApiServer) -> None:
    page_ui.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=fake_server.url)
    answer = page_ui.ask(FAKE_QUESTION)
    (done,) = page_ui.stored_answers()
    citation = done["citations"][0]
    answer.get_by_role("button", name="Copy answer with references").click()
    page_ui.page.get_by_role("status").filter(has_text="Copied").wait_for()
    copied = page_ui.page.evaluate("navigator.clipboard.readText()")
    assert copied.splitlines() == [
        f"Question: {FAKE_QUESTION}",
        "",
        f"Answer: {done['answer']}",
        "",
        "References:",
        f"[1] {SEED_TITLE} — {citation['section']}, {citation['anchor']}",
        f'    "{citation["quote"]}"',
    ]
    # An answer about the collection cites nothing, so it is copied without a references list.
    listing = page_ui.ask("Which reports do you have?")
    listed = page_ui.stored_answers()[1]
    assert listed["citations"] == []
    listing.get_by_role("button", name="Copy answer with references").click()
    page_ui.page.get_by_role("status").filter(has_text="Copied").wait_for()
    copied = page_ui.page.evaluate("navigator.clipboard.readText()")
    assert copied == f"Question: Which reports do you have?\n\nAnswer: {listed['answer']}"


def test_copy_works_without_the_clipboard_api(page_ui: ChatUi, fake_server: ApiServer) -> None:
    """Plain-HTTP intranet pages have no navigator.clipboard: the textarea fallback copies."""
    page_ui.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=fake_server.url)
    page_ui.page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})"
    )
    page_ui.page.reload()
    assert page_ui.page.evaluate("navigator.clipboard === undefined")
    answer = page_ui.ask(FAKE_QUESTION)
    copy = answer.get_by_role("button", name="Copy answer with references")
    copy.click()
    page_ui.page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert page_ui.focused()["class"] == "copy"
    reader = page_ui.context.new_page()
    reader.goto(f"{fake_server.url}/")
    copied = reader.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"Question: {FAKE_QUESTION}\n")
    assert page_ui.stored_answers()[0]["citations"][0]["quote"] in copied


def test_the_conversation_survives_a_reload_until_new_conversation(page_ui: ChatUi) -> None:
    page_ui.ask(FAKE_QUESTION)
    page_ui.ask(ABSTAINING_QUESTION)
    before = page_ui.page.locator(".log").inner_text()
    page_ui.page.reload()
    page_ui.answers().nth(1).wait_for()
    assert page_ui.answers().count() == 2
    assert page_ui.page.locator(".log").inner_text() == before
    page_ui.page.get_by_role("button", name="New conversation").click()
    assert page_ui.page.locator(".turn").count() == 0
    assert page_ui.page.locator(".intro").is_visible()
    # The chat keeps no memory of earlier questions, and says so before the first.
    assert "answered on its own" in page_ui.page.locator(".intro").inner_text()
    assert page_ui.focused()["tag"] == "textarea"
    page_ui.page.reload()
    page_ui.page.locator(".intro").wait_for()
    assert page_ui.page.locator(".turn").count() == 0
    assert page_ui.stored_answers() == []


# Where the last question and the log are on screen, and how far the log is scrolled.
LATEST_IN_VIEW = """() => {
    const root = document.getElementById("chat").shadowRoot;
    const log = root.querySelector(".log");
    const questions = root.querySelectorAll(".question");
    const latest = questions[questions.length - 1].getBoundingClientRect();
    const view = log.getBoundingClientRect();
    return {scrolled: log.scrollTop, room: log.scrollHeight - log.clientHeight,
            top: latest.top - view.top, bottom: view.bottom - latest.bottom};
}"""


def test_a_reload_opens_the_conversation_at_the_latest_answer(page_ui: ChatUi) -> None:
    page_ui.page.set_viewport_size(PHONE)
    for _ in range(3):
        page_ui.ask(FAKE_QUESTION)
    page_ui.page.reload()
    page_ui.answers().nth(2).wait_for()
    page_ui.page.wait_for_timeout(300)  # time for the styles, and any scrolling, to settle
    shown = page_ui.page.evaluate(LATEST_IN_VIEW)
    assert shown["room"] > 0, "the conversation should overflow the phone's screen"
    assert shown["scrolled"] > 0, "opened at the top of the conversation"
    # The latest question is on screen, its answer below it.
    assert shown["top"] >= 0 and shown["bottom"] > 0, shown


def test_markup_in_a_passage_is_shown_as_text_and_runs_nothing(page_ui: ChatUi) -> None:
    answer = page_ui.ask(MARKUP_QUESTION)
    assert MARKUP in answer.locator(".answer-text").inner_text()
    answer.locator("button.cite").first.click()
    assert MARKUP in answer.locator("section.passage .text").inner_text()
    question_with_markup = "<script>alert(2)</script> What did the screening desk pin?"
    page_ui.ask(question_with_markup)
    assert page_ui.page.locator(".question-text").nth(1).inner_text() == question_with_markup
    page_ui.page.reload()  # drawn again from sessionStorage
    page_ui.answers().nth(1).wait_for()
    assert MARKUP in page_ui.answers().first.locator(".answer-text").inner_text()
    injected = page_ui.page.evaluate(
        "document.getElementById('chat').shadowRoot.querySelectorAll('img, script').length"
    )
    assert injected == 0
    page_ui.page.wait_for_timeout(300)  # time for a broken image's onerror, had one been made
    assert page_ui.dialogs == []


# Draws `answer` as the chat does, opens citation [1], and returns the source list's texts,
# the open passage's place line and the briefing-note text.
RENDER_SOURCES = (
    "(answer) => {\n    "
    + RENDERED
    + """
    document.body.appendChild(article);
    article.querySelector("button.cite").click();
    const texts = (selector) => [...article.querySelectorAll(selector)].map((e) => e.textContent);
    const references = GcmRagChat.parts.text.answerWithReferences(answer);
    article.remove();
    return [texts("button.source"), texts("section.passage .meta"), references];
}"""
)


def test_a_source_whose_section_is_its_title_or_none_names_the_title_once(
    page_ui: ChatUi,
) -> None:
    latveria = "Latveria National Report on Migration 2022"
    cafe = "Café report of Graustark"
    citations = [
        {**CITATION, "n": 1, "anchor": "latveria#p1", "doc_title": latveria, "section": latveria},
        {**CITATION, "n": 2, "anchor": "cafe#p1", "doc_title": cafe, "section": None},
        {**CITATION, "n": 3, "anchor": "cafe#p2", "doc_title": cafe, "section": "Visas"},
    ]
    answer = {**_answer("Italy did [1] [2] [3].", []), "citations": citations}
    sources, place, references = page_ui.page.evaluate(RENDER_SOURCES, answer)
    assert sources == [latveria, cafe, f"{cafe} — Visas"]
    assert place == ["latveria#p1"]  # no "Section: …" repeating the title above it
    assert references.splitlines()[-6::2] == [
        f"[1] {latveria}, latveria#p1",
        f"[2] {cafe}, cafe#p1",
        f"[3] {cafe} — Visas, cafe#p2",
    ]
