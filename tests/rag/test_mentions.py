"""What a sentence states for a question: answers of the expected kind, and mentions of the
question's names, years and numbered references."""

from __future__ import annotations

import pytest

from rag.mentions import (
    has_answer_kind,
    joined_names,
    mentions_any,
    missing_joined_names,
    missing_literals,
    missing_name_phrases,
    missing_names,
    name_phrases,
    names_of_some_documents,
    names_office_holder,
    words_counted,
)
from rag.questions import DATE, DURATION, LABEL, NAMES, NUMBER, PLACES, names_in


def test_missing_literals_accept_references_listed_together() -> None:
    texts = ["Roundtable 3: Objectives 4, 8, 11 and 13", "Belgium introduced it in 2019."]
    assert missing_literals(["Objective 11", "Objective 13", "2019"], texts) == []
    assert missing_literals(["Objective 1", "Roundtable 1", "2018"], texts) == [
        "Objective 1",
        "Roundtable 1",
        "2018",
    ]


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
        ("Permits are issued for more than 90 days.", DURATION, True),
        ("Training lasts three to six months.", DURATION, True),
        ("Interpretation was available throughout the meeting.", DURATION, True),
        ("A number of projects were launched in 2019.", DURATION, False),
        ("Anything at all.", None, True),
    ],
)
def test_answer_kind_in_sentence(sentence: str, kind: str | None, expected: bool) -> None:
    assert has_answer_kind(sentence, kind) is expected


def test_missing_names_match_words_not_spelling() -> None:
    texts = ["The COVID-19 pandemic in Europe", "Portugal's initiative"]
    assert missing_names(["COVID", "Europe's", "Portugal", "Denmark"], texts) == ["Denmark"]
    assert missing_names(["Objective"], ["Roundtable 3: Objectives 4, 8 and 11"]) == []


def test_a_name_in_another_form_is_a_place_and_its_adjective_only() -> None:
    texts = ["Sweden and Belgium reported it.", "The General Assembly endorsed it."]
    assert missing_names(["Swedish", "Belgian", "Geneva"], texts) == ["Geneva"]


def test_missing_name_phrases_are_the_names_as_the_question_writes_them() -> None:
    texts = [
        "UNECE Member States reported to the United Nations.",
        "Russia, the United Kingdom and Italy reported.",
    ]
    for question, missing in [
        # Each word is the report's ("United Nations", "Member States"), the name is not.
        ("What did the United States report?", ["United States"]),
        ("What did the Member States of the United Nations report?", []),
        ("What did the UNECE Member State report?", []),
        # A missing word is named within its name.
        ("What did the Russian Federation report?", ["Russian Federation"]),
        ("What did Italy and Denmark report?", ["Denmark"]),
        ("What did the United Kingdom report?", []),
    ]:
        names = names_in(question)
        assert missing_name_phrases(names, question, texts) == missing, question


def test_numbers_that_label_are_not_counts() -> None:
    assert not has_answer_kind("Objective 11 concerns borders.", NUMBER)
    assert has_answer_kind("A total of 28 UNECE Member States reported.", NUMBER)
    # A list of labels labels throughout; a preposition opening a sentence labels nothing.
    heading = "Roundtable 3: Objectives 4, 8, 9, 10 and 21"
    assert not has_answer_kind(heading, NUMBER, "How many states took part in Roundtable 3?")
    assert has_answer_kind("In 2 countries: Greece and Croatia.", NUMBER)
    # A heading's number, with its full stop or bracket, or as a subsection's "3.2".
    for heading in ("10. The Corridor Reintegration Fund", "2) Returns", "3.2 Returns fell"):
        assert not has_answer_kind(heading, NUMBER), heading
    assert has_answer_kind("12 States reported a fund.", NUMBER)
    assert has_answer_kind("1.5 million migrants left.", NUMBER)
    # A month and its year before a count are a date, not a list of labels.
    assert has_answer_kind("By March 2022, nine member states had signed.", NUMBER)
    assert has_answer_kind("On 1 January 2021, 186,400 migrants held permits.", NUMBER)


def test_days_of_the_month_and_lengths_of_time_are_not_counts() -> None:
    question = "How many people took part on 13 November?"
    assert not has_answer_kind("It opened on 12 November 2020.", NUMBER, question)
    assert not has_answer_kind("It opened on November 12, 2020.", NUMBER, question)
    assert has_answer_kind("On 12 November, 300 people took part.", NUMBER, question)
    stay = "Nationals wishing to stay for more than 90 days may apply."
    assert not has_answer_kind(stay, NUMBER, "How many nationals received a permit?")
    assert has_answer_kind(stay, NUMBER, "How many days may they stay?")


def test_a_list_of_labels_answers_how_many_of_the_labelled_things() -> None:
    heading = "Roundtable 3: Objectives 4, 8, 9, 10 and 21"
    assert has_answer_kind(heading, NUMBER, "How many objectives did Roundtable 3 cover?")


def test_names_kind_wants_a_name_the_question_lacks() -> None:
    question = "Which states regularised migrants?"
    common = {"many", "so", "the"}
    assert has_answer_kind("Italy and the Republic of Moldova reported it.", PLACES, question)
    assert not has_answer_kind("Many Member States reported it.", PLACES, question, common)
    assert not has_answer_kind("So did the UNECE and the GCM network.", PLACES, question, common)
    # A web address names no place.
    platform = "funds “Geldtransfair.de”, where users compare costs for 35 countries."
    assert not has_answer_kind(platform, PLACES, "Which country runs WIDU.africa?", common)


def test_names_count_as_mentioned_in_related_forms() -> None:
    texts = ["The United Kingdom, Sweden and Tunisia; research by UNHCR in Portugal."]
    names = ["UK's", "Swedish", "Tunisian", "UN", "Portuguese", "EU", "Dutch", "Denmark"]
    # Adjectives of places named, acronyms spelled by initials or opening a longer acronym;
    # not a name merely sharing a letter or two ("Denmark", "Dutch").
    assert missing_names(names, texts) == ["EU", "Dutch", "Denmark"]
    # An acronym of words written in lower case, plural or not; not one of words that
    # merely follow one another across a stopword or a comma.
    comments = ["Eighteen non-governmental organisations, two trade unions and the chamber."]
    assert missing_names(["NGOs", "NGO", "OTT", "UTC"], comments) == ["OTT", "UTC"]


def test_names_kind_ignores_words_the_corpus_also_writes_in_lower_case() -> None:
    question = "Who served as Rapporteur for the meeting?"
    sentence = "In view of the pandemic, the Network opted for a virtual format in December."
    assert has_answer_kind(sentence, NAMES, question)
    # "network" also occurs in lower case: capitalised here as a title, it names no one;
    # a month is a date, not a name; "In" opens the sentence.
    assert not has_answer_kind(sentence, NAMES, question, common_words={"network", "view"})
    assert has_answer_kind("It was chaired by Ms Rossi.", NAMES, question, {"network"})
    # A name opening the sentence is a name; a common word opening it is not.
    states = "Which states regularised migrants?"
    assert has_answer_kind("Italy and the others regularised.", PLACES, states, {"the"})
    assert not has_answer_kind("Several regularised.", PLACES, states, {"several"})


def test_names_kind_wants_a_name_not_in_the_question_in_any_form() -> None:
    question = "With which Tunisian cities are Milan and Turin cooperating?"
    assert not has_answer_kind(
        "The cities of Milan and Turin work with Tunisia.", PLACES, question, {"the"}
    )
    assert has_answer_kind("Milan works with Sousse in Tunisia.", PLACES, question)
    # An adjective of a place names no place: which Tunisian cities, the report does not say.
    italian = "The Italian cities of Milan and Turin work with cities in Tunisia."
    assert not has_answer_kind(italian, PLACES, question, {"the"})
    assert not has_answer_kind("Danish and Maltese officials agreed.", PLACES, question, {"the"})
    # A word the corpus writes in lower case in the plural is no name in the singular.
    heading = "iv. GCM Regional Review report"
    question = "Which states opposed the GCM?"
    assert not has_answer_kind(heading, PLACES, question, {"regional", "reviews"})
    assert has_answer_kind(heading, PLACES, question, {"regional", "reports"})
    # A name asked for by "who" may be any name.
    assert has_answer_kind(italian, NAMES, "Who cooperates with Tunisia?", {"the"})
    # A word broken at a line end ("State-") is no name of its own.
    assert not has_answer_kind(
        "Reviews follow a State- led approach.", PLACES, "Which states?", {"reviews"}
    )


def test_office_holder_is_named_within_the_title_or_beside_it() -> None:
    question = "What is the name of the UN Special Rapporteur on the Human Rights of Migrants?"
    common = {"the", "said", "expressed", "concern", "summary", "report", "is", "available"}

    def named(sentence: str) -> bool:
        return names_office_holder(sentence, "Special Rapporteur", question, common)

    # The title spelled out names no one the question does not.
    assert not named(
        "The United Nations Special Rapporteur on the Human Rights of Migrants expressed concern."
    )
    assert named("The Special Rapporteur, Felipe González Morales, said so.")
    assert named("Felipe González Morales, the UN Special Rapporteur, said so.")
    assert named("The Special Rapporteur (Felipe González Morales) said so.")
    assert named("The Special Rapporteur for the region was Felipe González Morales.")
    assert not named("The Special Rapporteur's summary report is available.")
    assert not named("In March 2020, the Special Rapporteur, together with the EU, said so.")
    assert not named("The Special Rapporteur expressed concern about Greece and Italy.")
    assert not named("Sweden funds the Network.")


def test_label_kind_wants_the_numbered_part_asked_for() -> None:
    question = "Which objective deals with returns?"
    assert has_answer_kind("Objective 21: Cooperate in facilitating safe return", LABEL, question)
    assert not has_answer_kind("Roundtable 3: Objectives 4, 8 and 21", LABEL, "Which section?")
    assert not has_answer_kind("Returns were discussed at length.", LABEL, question)


def test_the_words_after_a_count_say_what_it_counts() -> None:
    children = (
        "In 2021, Sylvania registered 2,340 unaccompanied and separated children at the border, "
        "27 per cent more than in 2020."
    )
    question = "How many asylum applications did Sylvania receive?"
    assert words_counted(children, question) == [
        "unaccompanied",
        "separated",
        "children",
        "per",
        "cent",
    ]
    # Number words count too; scale words are part of the figure, not what it counts.
    assert words_counted("Eighteen organisations took part.", "") == [
        "organisations",
        "took",
        "part",
    ]
    amount = "It received USD 2.9 billion in remittances."
    assert words_counted(amount, "") == ["remittances", "remittances"]  # "2.9", "billion"
    # Labels count nothing, unless the question counts the labelled things.
    roundtable = "Roundtable 3: Objectives 4, 8, 9 and 21"
    assert words_counted(roundtable, "How many states took part?") == []
    assert words_counted(roundtable, "How many objectives did it cover?") == ["Objectives"]


def test_names_some_report_titles_hold_pin_a_question_to_those_reports() -> None:
    titles = [
        "Republic of Ruritania: Voluntary National Review (2021)",
        "Kingdom of Sylvania: Thematic Report on Labour Mobility (2022)",
        "Regional Review of the Global Compact for Migration",
    ]
    names = ("Ruritania's", "Global", "Compact", "Freedonia", "States")
    # Freedonia has no report; "States" names no particular state.
    assert names_of_some_documents(names, titles) == ["Ruritania's", "Global", "Compact"]
    # A name every title holds tells no report apart.
    assert names_of_some_documents(["Ruritania"], titles[:1]) == []


def test_a_mention_of_any_name_in_any_form() -> None:
    assert mentions_any(["Sylvania"], "Sylvanian employers must provide housing.")
    assert mentions_any(["UNECE"], "the United Nations Economic Commission for Europe")
    assert not mentions_any(["Sylvania", "Borduria"], "Ruritania opened nine centres.")
    assert not mentions_any([], "Ruritania opened nine centres.")


def test_names_as_the_question_writes_them() -> None:
    question = "Did Grand Fenwick's unit or Sylvania give to the Corridor Reintegration Fund?"
    names = ["Grand", "Fenwick's", "Sylvania", "Corridor", "Reintegration", "Fund"]
    assert name_phrases(names, question) == [
        "Grand Fenwick",
        "Sylvania",
        "Corridor Reintegration Fund",
    ]
    # A possessive ends a name; a dash joins two.
    question = "Does Freedonia's Diaspora Council cover the Sylvania–Ruritania Agreement?"
    names = ["Freedonia's", "Diaspora", "Council", "Sylvania", "Ruritania", "Agreement"]
    assert name_phrases(names, question) == [
        "Freedonia",
        "Diaspora Council",
        "Sylvania Ruritania Agreement",
    ]


def test_an_amount_of_money_answers_how_much_never_how_many() -> None:
    sentence = "Ruritania contributed EUR 400,000 and Sylvania EUR 1.2 million to the Fund."
    assert has_answer_kind(sentence, NUMBER, "How much did Ruritania contribute to the Fund?")
    assert not has_answer_kind(sentence, NUMBER, "How many members does the Fund have?")
    assert has_answer_kind("The Fund has 31 members.", NUMBER, "How many members does it have?")
    # A capitalised word that is no currency still labels: "Objective 11".
    assert not has_answer_kind("Objective 11 concerns borders.", NUMBER, "How much?")


def test_names_joined_by_a_preposition_are_one_name() -> None:
    assert joined_names("Which reports mention the Global Compact on Refugees?") == [
        "Compact on Refugees"
    ]
    assert joined_names("What did the Council of Europe's envoy say?") == ["Council of Europe's"]
    assert joined_names("Which of the States reported on Italy?") == []
    apart = "The Global Compact for Migration builds on the Declaration for Refugees."
    assert missing_joined_names(["Compact on Refugees"], [apart]) == ["Compact on Refugees"]
    # The short form of a name is found in its long form, and a possessive in its plain one.
    long_form = "the Global Compact for Safe, Orderly and Regular Migration"
    assert missing_joined_names(["Compact for Migration"], [long_form]) == []
    assert missing_joined_names(["Council of Europe's"], ["the Council of  Europe"]) == []
