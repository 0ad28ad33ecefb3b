"""Question analysis: the answer kind a question expects and the names it relies on."""

from __future__ import annotations

import pytest

from rag.questions import DATE, NAMES, NUMBER, has_answer_kind, missing_names, profile_question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the GCM adopted?", DATE),
        ("On what date did the meeting convene?", DATE),
        ("In which year was the declaration adopted?", DATE),
        ("How many member states submitted reports?", NUMBER),
        ("How much funding did the taskforce receive?", NUMBER),
        ("What was the total volume of remittances?", NUMBER),
        ("How much support was there for partnership?", None),
        ("What measure did a number of states consider?", None),
        ("Which states regularised migrants?", NAMES),
        ("Who published the note?", NAMES),
        ("What did Portugal launch?", None),
    ],
)
def test_expected_answer_kind(question: str, expected: str | None) -> None:
    assert profile_question(question).expects == expected


def test_names_skip_question_words() -> None:
    profile = profile_question(
        "What did Portugal and the UNHCR say about COVID-19 in Europe's east?"
    )
    assert profile.names == ("Portugal", "UNHCR", "COVID", "Europe's")


@pytest.mark.parametrize(
    ("sentence", "kind", "expected"),
    [
        ("A total of 28 Member States reported.", NUMBER, True),
        ("Twelve states reported.", NUMBER, True),
        ("The COVID-19 pandemic changed this.", NUMBER, False),
        ("In 2019 the review began.", NUMBER, False),
        ("In 2019 the review began.", DATE, True),
        ("It met on 12 November.", DATE, True),
        ("It met after the pandemic.", DATE, False),
        ("Anything at all.", None, True),
    ],
)
def test_answer_kind_in_sentence(sentence: str, kind: str | None, expected: bool) -> None:
    assert has_answer_kind(sentence, kind) is expected


def test_missing_names_match_words_not_spelling() -> None:
    texts = ["The COVID-19 pandemic in Europe", "Portugal's initiative"]
    assert missing_names(["COVID", "Europe's", "Portugal", "Denmark"], texts) == ["Denmark"]


def test_numbers_that_label_are_not_counts() -> None:
    assert not has_answer_kind("Objective 11 concerns borders.", NUMBER)
    assert has_answer_kind("A total of 28 UNECE Member States reported.", NUMBER)


def test_names_kind_wants_a_name_the_question_lacks() -> None:
    question = "Which states regularised migrants?"
    assert has_answer_kind("Italy and the Republic of Moldova reported it.", NAMES, question)
    assert not has_answer_kind("Many Member States reported it.", NAMES, question)
    assert not has_answer_kind("So did the UNECE and the GCM network.", NAMES, question)
