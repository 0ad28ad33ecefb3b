"""Questions of several parts: where they split, and how the parts' answers join."""

from __future__ import annotations

import pytest

from rag.citations import check_citations
from rag.compound import joined_answer, split_question
from rag.factory import build_pipeline
from rag.pipeline import ABSTENTION_TEXT
from rag.settings import Settings
from rag.types import Answer, AnswerPart, Citation, Hit, Passage

REGULARISATION = "Which states instituted regularisation in the pandemic?"
DENMARK = "What did Denmark report about family reunification?"


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Which states regularised migrants during COVID and when was the GCM adopted?",
            ("Which states regularised migrants during COVID?", "When was the GCM adopted?"),
        ),
        (
            "When was the GCM adopted, and how many Member States submitted reports?",
            ("When was the GCM adopted?", "How many Member States submitted reports?"),
        ),
        (
            "When was the GCM adopted? Does the report mention Frontex?",
            ("When was the GCM adopted?", "Does the report mention Frontex?"),
        ),
        # A request stays a request: no question mark after "Compare…".
        (
            "Compare the approaches of Italy and Portugal to regularisation, and what did "
            "Sweden report?",
            (
                "Compare the approaches of Italy and Portugal to regularisation.",
                "What did Sweden report?",
            ),
        ),
        (
            "In which city was the GCM adopted, and how many Member States submitted reports?",
            ("In which city was the GCM adopted?", "How many Member States submitted reports?"),
        ),
        (
            "Which states cited police training with IOM, when did GRETA first visit Turkey, "
            "and what did Belgium introduce in 2019?",
            (
                "Which states cited police training with IOM?",
                "When did GRETA first visit Turkey?",
                "What did Belgium introduce in 2019?",
            ),
        ),
        (
            "What did Italy report; which states reported detention and who chaired the meeting?",
            (
                "What did Italy report?",
                "Which states reported detention?",
                "Who chaired the meeting?",
            ),
        ),
        # Two full questions with the same opening split as before.
        (
            "How many states regularised migrants and how many states detained children?",
            ("How many states regularised migrants?", "How many states detained children?"),
        ),
        (
            "Which states regularise migrants and when was the GCM adopted?",
            ("Which states regularise migrants?", "When was the GCM adopted?"),
        ),
        # An irregular past is a verb: the first part is a question of its own.
        (
            "Which states gave support, and which states regularised migrants during COVID?",
            ("Which states gave support?", "Which states regularised migrants during COVID?"),
        ),
        # After a question mark, a request is a part too (its verb is no name).
        (
            "When was the GCM adopted? Compare the approaches of Spain and Sweden.",
            ("When was the GCM adopted?", "Compare the approaches of Spain and Sweden."),
        ),
        # More parts than are answered: all are returned, the pipeline answers the first.
        (
            "What is A here? What is B here? What is C here? What is D here?",
            ("What is A here?", "What is B here?", "What is C here?", "What is D here?"),
        ),
    ],
)
def test_a_question_splits_into_parts_that_stand_alone(question: str, parts: tuple) -> None:
    assert split_question(question) == parts


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "How many stakeholders and how many states submitted reports?",
            ("How many stakeholders submitted reports?", "How many states submitted reports?"),
        ),
        # After an auxiliary; a first word ending in -ed is the phrase's own.
        (
            "How many unaccompanied children and how many adults were returned?",
            ("How many unaccompanied children were returned?", "How many adults were returned?"),
        ),
        # A capitalised word ending in -ed is a name, not a verb.
        (
            "Which states and which United Nations agencies reported detention?",
            (
                "Which states reported detention?",
                "Which United Nations agencies reported detention?",
            ),
        ),
        (
            "What measures and what laws were adopted in 2019?",
            ("What measures were adopted in 2019?", "What laws were adopted in 2019?"),
        ),
        (
            "How much money and how much time was spent on returns?",
            ("How much money was spent on returns?", "How much time was spent on returns?"),
        ),
        # An irregular past starts the predicate too.
        (
            "How many stakeholders and how many states took part in the consultations?",
            (
                "How many stakeholders took part in the consultations?",
                "How many states took part in the consultations?",
            ),
        ),
        # A phrase alone at the end takes the predicate of the part before it.
        (
            "How many states submitted reports and how many stakeholders?",
            ("How many states submitted reports?", "How many stakeholders submitted reports?"),
        ),
        # A list: each phrase takes the predicate the last one ends with.
        (
            "How many stakeholders, how many states and how many UN bodies submitted reports?",
            (
                "How many stakeholders submitted reports?",
                "How many states submitted reports?",
                "How many UN bodies submitted reports?",
            ),
        ),
    ],
)
def test_a_question_phrase_alone_shares_the_predicate_of_the_part_after_it(
    question: str, parts: tuple
) -> None:
    assert split_question(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "Which states regularised migrants during COVID?",
        # Coordinated names or verbs are one question.
        "What did Italy and Portugal do during the pandemic?",
        # A short tail is part of the question.
        "Which states regularised migrants and why?",
        "Where and when was the validation meeting held?",
        # A clause opened by a question word is not a question, nor, without a list joined
        # by "and", one after a comma.
        "What did Belgium introduce in 2019, when the pandemic began?",
        "Which states reported detention, which the Rapporteur criticised, and why?",
        "What does the report say about who funds and how the project works?",
        # A part that refers back to an earlier one cannot be asked alone.
        "Which states regularised migrants and why did they do it?",
        "When was the GCM adopted? Who negotiated it?",
        # A question phrase alone whose predicate cannot be found: no verb form where it
        # would start, no neighbour of the same form ("how much" before "how many"), or a
        # phrase too long to be sure it holds no verb.
        "How many stakeholders and how many states attend the consultations?",
        "How much money and how many states submitted reports?",
        "How many civil society organisations and how many states submitted reports?",
    ],
)
def test_a_question_stays_whole_when_its_parts_cannot_stand_alone(question: str) -> None:
    assert split_question(question) == (question,)


def _citation(n: int, anchor: str, quote: str) -> Citation:
    return Citation(n, anchor, "doc", "Doc", None, None, f"{quote} More text.", quote)


def _hit(anchor: str, rank: int) -> Hit:
    passage = Passage(anchor, "doc", "Doc", None, "text", 0, 4, "hash")
    return Hit(passage, 1.0 - rank / 10, rank)


def _answer(question: str, text: str, citations: tuple, anchors: list[str]) -> Answer:
    hits = tuple(_hit(anchor, rank) for rank, anchor in enumerate(anchors))
    return Answer(question, text, False, citations, hits, "fake", mode="extractive")


def test_joined_answer_numbers_markers_across_parts_and_shares_a_repeated_quote() -> None:
    first = _answer(
        "Which states?",
        "Italy and Portugal [1]. Also Moldova [2].",
        (_citation(1, "d#p1", "Italy and Portugal."), _citation(2, "d#p2", "Also Moldova.")),
        ["d#p1", "d#p2"],
    )
    second = _answer(
        "When?",
        "In 2018 [1], as said [2].",
        (_citation(1, "d#p3", "In 2018."), _citation(2, "d#p2", "Also Moldova.")),
        ["d#p3", "d#p2"],
    )
    second = Answer(**{**second.__dict__, "mode": "generated", "weak_evidence": True})
    answer = joined_answer("Which states? When?", [first, second], "fake", {})
    assert answer.answer == (
        "Which states?\nItaly and Portugal [1]. Also Moldova [2].\n\n"
        "When?\nIn 2018 [3], as said [2]."
    )
    assert [(c.n, c.anchor) for c in answer.citations] == [(1, "d#p1"), (2, "d#p2"), (3, "d#p3")]
    assert [(hit.rank, hit.passage.anchor) for hit in answer.hits] == [
        (0, "d#p1"),
        (1, "d#p2"),
        (2, "d#p3"),
    ]
    assert answer.parts == (
        AnswerPart(
            "Which states?", "Italy and Portugal [1]. Also Moldova [2].", False, None, (1, 2)
        ),
        AnswerPart("When?", "In 2018 [3], as said [2].", False, None, (3, 2)),
    )
    assert (answer.abstained, answer.mode, answer.weak_evidence) == (False, "generated", True)
    anchors = {hit.passage.anchor for hit in answer.hits}
    assert check_citations(answer.answer, answer.citations, anchors) == []


def test_a_refused_part_says_so_with_its_reason_and_all_refused_is_a_refusal() -> None:
    answered = _answer("Which states?", "Italy [1].", (_citation(1, "d#p1", "Italy."),), ["d#p1"])
    refused = Answer(
        "Who chaired it?", ABSTENTION_TEXT, True, (), (), "fake", mode="abstained",
        abstention_reason="the closest passages name no one",
    )  # fmt: skip
    answer = joined_answer("Q", [answered, refused], "fake", {})
    assert answer.answer == (
        "Which states?\nItaly [1].\n\nWho chaired it?\n"
        "The indexed reports do not answer this part of the question "
        "(the closest passages name no one)."
    )
    assert not answer.abstained and answer.abstention_reason is None
    refused_part = AnswerPart(
        "Who chaired it?",
        "The indexed reports do not answer this part of the question "
        "(the closest passages name no one).",
        True,
        "the closest passages name no one",
        (),
    )
    assert answer.parts == (
        AnswerPart("Which states?", "Italy [1].", False, None, (1,)),
        refused_part,
    )
    both = joined_answer("Q", [refused, refused], "fake", {})
    assert both.abstained and both.answer == ABSTENTION_TEXT and both.citations == ()
    # Each part's refusal stays readable beside the one refusal of the whole.
    assert both.parts == (refused_part, refused_part)
    assert both.abstention_reason == (
        "no part of the question is answered (“Who chaired it?”: the closest passages name "
        "no one; “Who chaired it?”: the closest passages name no one)"
    )


def test_the_pipeline_answers_each_part_and_streams_one_list_of_passages(
    fake_index: Settings,
) -> None:
    pipeline = build_pipeline(fake_index)
    events = list(pipeline.stream(f"{REGULARISATION[:-1]}, and {DENMARK[0].lower()}{DENMARK[1:]}"))
    kinds = [event.kind for event in events]
    assert kinds.count("passages") == 1 and kinds[0] == "passages"
    assert kinds[-2:] == ["citations", "done"]
    answer = events[-1].data
    whole = pipeline.ask(REGULARISATION)
    # The first part is answered as if asked alone; the second is refused, saying why.
    assert answer.answer == (
        f"{REGULARISATION}\n{whole.answer}\n\n{DENMARK}\n"
        "The indexed reports do not answer this part of the question "
        "(the closest passages do not mention Denmark)."
    )
    assert answer.citations == whole.citations == events[-2].data
    assert answer.parts == (
        AnswerPart(
            REGULARISATION,
            whole.answer,
            False,
            None,
            tuple(citation.n for citation in whole.citations),
        ),
        AnswerPart(
            DENMARK,
            "The indexed reports do not answer this part of the question "
            "(the closest passages do not mention Denmark).",
            True,
            "the closest passages do not mention Denmark",
            (),
        ),
    )
    assert whole.parts == ()
    assert [hit.passage.anchor for hit in events[0].data] == [
        hit.passage.anchor for hit in answer.hits
    ]
    assert answer.timings_ms["total"] >= answer.timings_ms["first_token"] > 0


def test_parts_after_the_first_three_are_not_asked_and_say_so(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    answer = pipeline.ask(f"{REGULARISATION} {REGULARISATION} {REGULARISATION} {DENMARK}")
    assert [part.question for part in answer.parts] == [REGULARISATION] * 3 + [DENMARK]
    assert not answer.abstained
    assert pipeline.generator.calls == 3  # type: ignore[attr-defined]
    # Not "the reports do not answer": the fourth part was never asked.
    assert answer.parts[3] == AnswerPart(
        DENMARK,
        "Not answered (only the first 3 parts of a question are answered; ask this one on "
        "its own).",
        True,
        "only the first 3 parts of a question are answered; ask this one on its own",
        (),
    )
    assert answer.answer.endswith(f"{DENMARK}\n{answer.parts[3].answer}")


def test_closing_the_stream_early_ends_the_model_stream_and_asks_no_further_part(
    fake_index: Settings,
) -> None:
    pipeline = build_pipeline(fake_index)
    streamed: list[str] = []

    def stream_chat(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        streamed.append("started")
        try:
            yield "Italy, the Republic of Moldova and Portugal [1]."
        finally:
            streamed.append("closed")  # where llama-cpp's lock is released

    pipeline.generator.stream_chat = stream_chat  # type: ignore[method-assign]
    stream = pipeline.stream(f"{REGULARISATION} When was the GCM adopted by Member States?")
    kinds = []
    for event in stream:
        kinds.append(event.kind)
        if event.kind == "token":
            break
    stream.close()
    assert kinds == ["passages", "token"]
    assert streamed == ["started", "closed"]
