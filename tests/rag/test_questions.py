"""Question analysis: the answer kind a question expects and the names it relies on."""

from __future__ import annotations

import pytest

from rag.questions import (
    COLLECTION,
    DATE,
    DOCUMENTS,
    DURATION,
    LABEL,
    NAMES,
    NUMBER,
    PLACES,
    TITLE,
    counted_words,
    numbered_part_asked,
    profile_question,
    recased,
    with_unknown_actor_named,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the GCM adopted?", DATE),
        ("On what date did the meeting convene?", DATE),
        ("In which year was the declaration adopted?", DATE),
        ("How many member states submitted reports?", NUMBER),
        ("How much funding did the taskforce receive?", NUMBER),
        ("What was the total volume of remittances?", NUMBER),
        ("What was the budget of the programme?", NUMBER),
        ("What is the unemployment rate of migrants in Sweden?", NUMBER),
        ("What interest rate does the diaspora bond pay?", NUMBER),
        ("What percentage of the participants were women?", NUMBER),
        ("How much support was there for partnership?", None),
        ("What is the added value of the compact?", None),
        ("What was the deadline for submitting reports?", DATE),
        ("How long does the procedure take?", DURATION),
        ("For how long is the permit valid?", DURATION),
        ("What is the duration of the fast-track programme?", DURATION),
        ("How many years does the permit last?", NUMBER),
        ("What measure did a number of states consider?", None),
        ("Which official voiced alarm over the large number of complaints?", None),
        ("Which states regularised migrants?", PLACES),
        ("Who published the note?", NAMES),
        ("What did Portugal launch?", None),
        ("What is the title of GCM Objective 12?", TITLE),
        ("In which city was the compact adopted?", PLACES),
        ("With which specific Tunisian cities do they cooperate?", PLACES),
        ("Which country's scheme was too small?", PLACES),
        ("At the borders of which countries was force used?", PLACES),
        ("What is the framework in which states cooperate?", None),
        ("Which two international agencies help?", NAMES),
        ("What is the name of the Special Rapporteur?", NAMES),
        ("Whom did the meeting convene?", NAMES),
        ("What are Member States urged to ensure?", None),
        ("Which objective is about clearer migration procedures?", LABEL),
        ("Under which numbered objective are returns dealt with?", LABEL),
        # Naming the objective asks about it, not which one it is.
        ("Which objective did Roundtable 3 cover first?", None),
        ("Which reports mention seasonal workers?", DOCUMENTS),
        ("In which documents is detention discussed?", DOCUMENTS),
        ("Which of the reviews give a figure for returns?", DOCUMENTS),
        ("Do any reports mention remittances?", DOCUMENTS),
        ("Which of the national reports mention climate change?", DOCUMENTS),
        ("What did Canada report about family reunification?", None),
        ("What does the report say about returns?", None),
    ],
)
def test_expected_answer_kind(question: str, expected: str | None) -> None:
    assert profile_question(question).expects == expected


@pytest.mark.parametrize(
    "question",
    [
        "How many reports are indexed?",
        "Which reports do you have?",
        "What documents can you search?",
        "List the reports",
        "list the reports.",
        "Which reports are indexed?",
        "How many documents do you have?",
        "What reports are available?",
        "Which documents are in the index?",
        "How many reports are there?",
        "How many indexed reports are there?",
        "What are the available reports?",
        "What are the documents in your collection?",
        "Please list all the documents you have",
        "Show me the reports",
        "Which reports can I ask about?",
        "Can you tell me which reports you have?",
        "What reports do you have access to?",
        "How many documents does the index hold?",
        "Which reports have been indexed?",
        "Which reports have you got?",
        "Which files are loaded right now?",
    ],
)
def test_questions_about_the_collection_itself(question: str) -> None:
    assert profile_question(question).expects == COLLECTION


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # About what the reports say, not which are indexed: a subject, or a verb of content.
        ("Which reports mention the health firewall?", DOCUMENTS),
        ("Which reports have data on remittances?", DOCUMENTS),
        ("Which reports are available on detention?", DOCUMENTS),
        ("Which documents do you have on return?", DOCUMENTS),
        ("Which reports do you have about remittances?", DOCUMENTS),
        ("What reports does Ruritania have?", DOCUMENTS),
        ("How many reports mention detention?", NUMBER),
        ("How many reports were submitted?", NUMBER),
        ("How many UNECE Member States and stakeholders submitted reports to the Network?", NUMBER),
        ("Where is the Rapporteur's summary report available?", None),
        # A request for a list asks as "Which…" does.
        ("List the reports that mention detention", DOCUMENTS),
        ("List the objectives of the Compact", LABEL),
        ("Which states are indexed in the data portal?", PLACES),
    ],
)
def test_questions_about_the_reports_text_are_not_about_the_collection(
    question: str, expected: str | None
) -> None:
    assert profile_question(question).expects == expected


@pytest.mark.parametrize(
    ("question", "actor"),
    [
        ("What did Canada report about family reunification?", ("Canada",)),
        ("Why did the Network propose a virtual format?", ("Network",)),
        ("How has Sweden's programme helped?", ("Sweden's",)),
        ("Did Spain regularise migrants during the pandemic?", ("Spain",)),
        # Member States are every state, not one actor; lower-case subjects name no one.
        ("What are Member States urged to ensure?", ()),
        ("What did some states report about returns?", ()),
        ("What is the title of Objective 12?", ()),
        ("Which states regularised migrants?", ()),
    ],
)
def test_actor_whose_deeds_are_asked_about(question: str, actor: tuple[str, ...]) -> None:
    assert profile_question(question).actor == actor


def test_names_skip_question_words() -> None:
    profile = profile_question(
        "What did Portugal and the UNHCR say about COVID-19 in Europe's east?"
    )
    assert profile.names == ("Portugal", "UNHCR", "COVID", "Europe's")


@pytest.mark.parametrize(
    ("question", "names"),
    [
        # Capitalised only because it opens the question.
        ("Roughly how many people joined each day?", ()),
        ("Under which UNHCR strategy is detention studied?", ("UNHCR",)),
        # An acronym opening the question is still a name.
        ("UNHCR research on detention: what did it find?", ("UNHCR",)),
        # The lower-case part of a hyphenated word says something about the name.
        ("Which platform has an Africa-focused domain?", ("Africa",)),
        ("What changed after COVID-19?", ("COVID",)),
    ],
)
def test_names_are_words_capitalised_as_names(question: str, names: tuple[str, ...]) -> None:
    assert profile_question(question).names == names


@pytest.mark.parametrize(
    ("question", "literals"),
    [
        ("What was the volume of remittances in 2019?", ("2019",)),
        ("Which GCM objectives were discussed in Roundtable 1?", ("Roundtable 1",)),
        ("Which 2016 declaration does the GCM build on?", ("2016",)),
        (
            "What did Objective 11 and Objective 21 have in common in 2020?",
            ("Objective 11", "Objective 21", "2020"),
        ),
        ("Which 12 states reported?", ()),
        # A day of a month pins the question to it; a month alone pins only its year.
        ("What happened at the meeting on 14 November 2020?", ("14 November", "2020")),
        ("What happened in November 2020?", ("2020",)),
    ],
)
def test_years_and_numbered_references_pin_a_question(
    question: str, literals: tuple[str, ...]
) -> None:
    assert profile_question(question).literals == literals


def test_numbered_references_leave_years_out() -> None:
    profile = profile_question("What did Roundtable 3 discuss in 2020?")
    assert profile.references == ("Roundtable 3",)


@pytest.mark.parametrize(
    ("question", "office"),
    [
        (
            "What is the name of the UN Special Rapporteur on the rights of migrants?",
            "Special Rapporteur",
        ),
        ("Who served as Rapporteur for the Regional Review?", "Rapporteur"),
        ("Who was the Special Representative of the Council of Europe?", "Special Representative"),
        # A description, an acronym's expansion or a possessive asks for no office holder.
        ("What is the name of the site where users compare costs?", ""),
        ("What is the full name of CGAP?", ""),
        ("Who is the Network's coordinator?", ""),
        ("Who chaired the opening segment?", ""),
    ],
)
def test_office_whose_holder_is_asked_for(question: str, office: str) -> None:
    assert profile_question(question).office == office


def test_numbered_part_asked_for() -> None:
    assert numbered_part_asked("Under which numbered objective are returns dealt with?") == (
        "objective"
    )
    assert numbered_part_asked("Which roundtables covered returns?") == "roundtable"
    assert numbered_part_asked("Which states regularised migrants?") is None


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("How many asylum applications did Sylvania receive?", ("asylum", "applications")),
        (
            "How many organisations took part in the consultations?",
            ("organisations", "took", "part"),
        ),
        ("How many of the compact's objectives were grouped?", ("compact's", "objectives")),
        ("From how many nations did people connect?", ("nations",)),
        ("How many people were relocated in 2021?", ("people",)),
        ("How much did Ruritania receive?", ()),
        ("Which states regularised migrants?", ()),
    ],
)
def test_what_a_how_many_question_counts(question: str, counted: tuple[str, ...]) -> None:
    assert counted_words(question) == counted
    assert profile_question(question).counted == counted


def test_a_question_in_capitals_is_read_in_the_corpus_case() -> None:
    common = {"states", "regularised", "migrants", "during", "which", "what", "did", "report"}
    proper = {"covid": "COVID", "unece": "UNECE", "italy": "Italy"}
    assert (
        recased("WHICH STATES REGULARISED MIGRANTS DURING COVID?", common, proper)
        == "Which states regularised migrants during COVID?"
    )
    # A word the corpus never uses reads as if typed in lower case.
    assert recased("WHAT DID ITALY REPORT ON VISAS?", common, proper) == (
        "What did Italy report on visas?"
    )
    assert recased("GCM?", common, {"gcm": "GCM"}) == "GCM?"
    # Any lower-case letter: the question is read as written.
    assert recased("Which STATES regularised migrants?", common, proper) == (
        "Which STATES regularised migrants?"
    )


@pytest.mark.parametrize(
    "question",
    [
        "List the states that regularised migrants during COVID.",
        "Name all the countries that noted 360° approaches.",
    ],
)
def test_a_request_for_the_list_of_states_expects_places(question: str) -> None:
    assert profile_question(question).expects == PLACES


def test_a_word_opening_a_sentence_inside_the_question_is_no_name() -> None:
    question = "When was the GCM adopted? Compare the approaches of Spain and Sweden."
    assert profile_question(question).names == ("GCM", "Spain", "Sweden")


def test_a_lower_case_actor_the_corpus_never_uses_is_read_as_a_name() -> None:
    used = {"portugal", "migrants", "organisers"}.__contains__
    assert with_unknown_actor_named("what did kazakhstan report on labour?", used) == (
        "what did Kazakhstan report on labour?"
    )
    assert with_unknown_actor_named("How has kazakstan supported returnees?", used) == (
        "How has Kazakstan supported returnees?"
    )
    # A word the corpus uses, a pronoun, a verb after the auxiliary, or a noun after "the"
    # names no one unknown.
    for question in [
        "what did portugal do to help migrants?",
        "what did migrants report about return?",
        "what did they report?",
        "which states have banned detention of children?",
        "what did the abbreviations stand for?",
        "What is the budget of the fund?",
    ]:
        assert with_unknown_actor_named(question, used) == question
