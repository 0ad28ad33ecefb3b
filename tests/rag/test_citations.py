"""Citation verification: supported sentences stay cited, unsupported ones go."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.citations import (
    CITATION_MARKER,
    VerifiedAnswer,
    check_citations,
    documents_answer,
    extractive_answer,
    parse_markers,
    short_title,
    supports,
    verify_answer,
    with_other_documents,
    with_rival_figure,
)
from rag.questions import profile_question
from rag.types import Evidence, Passage

PARAGRAPH = (
    "The COVID-19 pandemic has prompted a number of UNECE Member States to consider "
    "regularisation as a policy measure. Italy, the Republic of Moldova and Portugal reported "
    "having instituted regularisation in response to the pandemic."
)
OTHER = "Sweden supports a collaboration with IFAD to utilize remittances for development."
# The words the corpus also writes in lower case: what a capitalised word opening a claim can
# be besides a name.
COMMON = frozenset(re.findall(r"\b[a-z]+\b", f"{PARAGRAPH} {OTHER}")) | {"several"}


def passage(anchor: str, text: str) -> Passage:
    return Passage(anchor, "doc", "Doc", "Roundtable 3", text, 0, len(text), "hash")


def evidence() -> list[Evidence]:
    first, second = PARAGRAPH.split(". ", 1)
    regularisation = passage("doc#p22", PARAGRAPH)
    return [
        Evidence(regularisation, second, relevance=0.6, match=0.4),
        Evidence(regularisation, first + ".", relevance=0.5, match=0.5),
        Evidence(passage("doc#p30", OTHER), OTHER, relevance=0.2, match=0.1),
    ]


def test_supported_sentence_keeps_its_citation_and_quote() -> None:
    verified = verify_answer(
        "Italy, Moldova and Portugal instituted regularisation [1].", evidence(), COMMON
    )
    assert verified.text == "Italy, Moldova and Portugal instituted regularisation [1]."
    [citation] = verified.citations
    assert citation.n == 1
    assert citation.anchor == "doc#p22"
    assert citation.quote == evidence()[0].sentence
    assert citation.quote in citation.text


def test_unsupported_sentence_is_dropped() -> None:
    raw = "Italy, Moldova and Portugal instituted regularisation [1]. France deported everyone [1]."
    verified = verify_answer(raw, evidence(), COMMON)
    assert "France" not in verified.text
    assert len(verified.citations) == 1


def test_a_name_or_number_the_source_does_not_state_fails_the_sentence() -> None:
    # Nearly every word is the source's; the name and the number added are not.
    raw = (
        "Italy, Moldova and Portugal instituted regularisation in response to the pandemic "
        "[1]. Italy, Moldova, Portugal and Spain instituted regularisation [1]. Italy, "
        "Moldova and Portugal instituted regularisation for 3 years [1]."
    )
    verified = verify_answer(raw, evidence(), COMMON)
    assert verified.text == (
        "Italy, Moldova and Portugal instituted regularisation in response to the pandemic [1]."
    )
    # Every content word must be the source's: "goes to" and "Swedish" are not.
    assert not supports(
        OTHER, "Swedish support goes to a collaboration with IFAD on remittances.", COMMON
    )
    assert supports(OTHER, "Sweden supports a collaboration with IFAD on remittances.", COMMON)


def test_a_name_opening_the_claim_must_be_stated_too() -> None:
    # "Canada" opens the sentence and the corpus never writes it in lower case: a name.
    claim = "Canada reported having instituted regularisation in response to the pandemic."
    assert not supports(PARAGRAPH, claim, COMMON)
    assert supports(PARAGRAPH, claim.replace("Canada", "Portugal"), COMMON)
    # A common word capitalised to open the sentence is checked as a word, not as a name.
    opening = "Reported having instituted regularisation in response to the pandemic."
    assert supports(PARAGRAPH, opening, COMMON)


def test_wrongly_cited_sentence_is_reattached_to_its_real_source() -> None:
    verified = verify_answer(
        "Sweden supports a collaboration with IFAD on remittances [1].", evidence(), COMMON
    )
    assert verified.text == "Sweden supports a collaboration with IFAD on remittances [1]."
    assert verified.citations[0].anchor == "doc#p30"


def test_markers_are_renumbered_in_order_of_appearance() -> None:
    raw = "Sweden supports IFAD on remittances [3]. Italy, Moldova and Portugal regularised [1]."
    verified = verify_answer(raw, evidence(), COMMON)
    assert CITATION_MARKER.findall(verified.text) == ["1", "2"]
    assert [c.anchor for c in verified.citations] == ["doc#p30", "doc#p22"]


def test_marker_out_of_range_does_not_survive() -> None:
    verified = verify_answer("Italy, Moldova and Portugal regularised [7].", evidence(), COMMON)
    assert CITATION_MARKER.findall(verified.text) == ["1"]
    assert verified.citations[0].anchor == "doc#p22"


def test_text_without_claims_yields_nothing() -> None:
    assert verify_answer("Yes. [1]", evidence(), COMMON).citations == ()
    assert verify_answer("", evidence(), COMMON).text == ""
    assert verify_answer("Italy regularised [1].", [], COMMON).citations == ()


def test_model_marker_styles_are_understood() -> None:
    assert parse_markers("Italy acted [1, 2].") == ("Italy acted.", [1, 2])
    assert parse_markers("Italy acted [Source 3].") == ("Italy acted.", [3])
    assert parse_markers("Italy acted【2】 and [2].") == ("Italy acted and.", [2])


def test_extractive_answer_quotes_the_best_sentences_in_reading_order() -> None:
    verified = extractive_answer(evidence())
    # The runner-up is from the same paragraph and nearly as relevant: both are quoted, in
    # the order the report has them, and as they follow one another, as one quote.
    assert verified.text == f"{PARAGRAPH[:-1]} [1]."
    assert [c.quote for c in verified.citations] == [PARAGRAPH]
    assert check_citations(verified.text, verified.citations, {"doc#p22"}) == []


def test_extractive_answer_quotes_sentences_apart_in_their_paragraph_separately() -> None:
    first, second = PARAGRAPH.split(". ", 1)
    between = "Others are considering it."
    text = f"{first}. {between} {second}"
    regularisation = passage("doc#p22", text)
    verified = extractive_answer(
        [
            Evidence(regularisation, second, relevance=0.6, match=0.4),
            Evidence(regularisation, first + ".", relevance=0.5, match=0.5),
        ]
    )
    assert verified.text == f"{first} [1]. {second[:-1]} [2]."
    assert [c.quote for c in verified.citations] == [first + ".", second]
    assert check_citations(verified.text, verified.citations, {"doc#p22"}) == []


def test_extractive_answer_marks_a_sentence_the_source_breaks_off() -> None:
    cut = "Italy and Portugal reported having instituted regularisation, whilst"
    heading = "Objective 12: Strengthen certainty and predictability in migration procedures"
    for sentence, expected in [
        (cut, f"{cut} … [1]."),
        ("Reviews are led by the State-", "Reviews are led by the State- … [1]."),
        # A heading has no full stop either, but nothing is missing from it.
        (heading, f"{heading} [1]."),
        # The extract ends its passage mid-phrase, or starts it mid-sentence.
        (
            "Bristol gathers stakeholders from across",
            "Bristol gathers stakeholders from across … [1].",
        ),
        (
            "countries through the platform reach 35 states.",
            "… countries through the platform reach 35 states [1].",
        ),
    ]:
        text = f"{sentence}\n\nThe next paragraph." if sentence == heading else sentence
        verified = extractive_answer([Evidence(passage("doc#p1", text), sentence, 1, 1)])
        assert verified.text == expected
        assert verified.citations[0].quote == sentence  # the quote stays verbatim


def test_a_model_sentence_copied_up_to_where_the_source_breaks_off_is_marked_too() -> None:
    cut = "Italy and Portugal reported having instituted regularisation, whilst"
    source = [Evidence(passage("doc#p1", cut), cut, 1, 1)]
    for written in (f"{cut} [1].", f"{cut}. [1]"):
        assert verify_answer(written, source, COMMON).text == f"{cut} … [1]."
    started = "telephone line and email service within the National Police, as Turkey said."
    mid_way = [Evidence(passage("doc#p1", started), started, 1, 1)]
    assert verify_answer(started, mid_way, COMMON).text == f"… {started[:-1]} [1]."
    # A sentence that ends elsewhere is the model's own ending, left as it wrote it.
    assert verify_answer(
        "Italy and Portugal reported having instituted regularisation [1].", source, COMMON
    ).text == ("Italy and Portugal reported having instituted regularisation [1].")


def test_footnote_marks_are_left_out_of_the_answer_but_kept_in_the_quote() -> None:
    for sentence, expected in [
        ("The summary is available on the Network website.⁹", "website [1]."),
        ("Member States⁶ and stakeholders met in the region.", "Member States and"),
        # A unit's power is no footnote mark.
        ("The camp covers 12 km² of desert near the border.", "12 km² of"),
    ]:
        verified = extractive_answer([Evidence(passage("doc#p1", sentence), sentence, 1, 1)])
        assert expected in verified.text
        assert verified.citations[0].quote == sentence


def test_check_citations_names_every_breach() -> None:
    verified = verify_answer("Italy, Moldova and Portugal regularised [1].", evidence(), COMMON)
    assert check_citations("Italy regularised [1][2].", verified.citations, {"doc#p22"}) == [
        "marker [2] has no citation"
    ]
    assert check_citations(verified.text, verified.citations, {"doc#p1"}) == [
        "citation [1] cites doc#p22, not retrieved"
    ]


def test_a_different_figure_in_another_report_is_quoted_too() -> None:
    ours = "Personal remittances received by Ruritania reached USD 1.2 billion in 2021."
    theirs = "In 2021 the Ruritanian diaspora sent home USD 1.9 billion in remittances."
    agreeing = "Remittances to Ruritania were USD 1.2 billion in 2021, the central bank says."
    first = Evidence(passage("review#p2", ours), ours, relevance=0.8, match=0.7)
    other = Evidence(
        Passage("brief#p3", "brief", "Brief", None, theirs, 0, len(theirs), "h"),
        theirs,
        relevance=0.7,
        match=0.6,
    )
    same = replace(other, sentence=agreeing, passage=replace(other.passage, text=agreeing))
    how_much = profile_question("How much did Ruritania receive in remittances in 2021?")
    verified = extractive_answer([first, other])

    with_both = with_rival_figure(verified, [first, other], how_much)
    assert with_both.text == (
        f"Doc: {ours[:-1]} [1].\nThe reports differ. Brief: {theirs[:-1]} [2]."
    )
    assert [(c.n, c.anchor, c.quote) for c in with_both.citations] == [
        (1, "review#p2", ours),
        (2, "brief#p3", theirs),
    ]
    assert check_citations(with_both.text, with_both.citations, {"review#p2", "brief#p3"}) == []
    # A third report with a third figure (written as a word) is quoted too, once.
    nine = "Ruritania received nine billion in remittances, the Network says."
    third = Evidence(
        Passage("network#p1", "network", "Network", None, nine, 0, len(nine), "h"),
        nine,
        relevance=0.5,
        match=0.5,
    )
    all_three = with_rival_figure(verified, [first, other, third, other], how_much)
    assert [c.doc for c in all_three.citations] == ["doc", "brief", "network"]
    assert all_three.text.endswith(f"[2].\nNetwork: {nine[:-1]} [3].")
    # The same figure, a weaker sentence, or a question asking for no figure: one quote.
    assert with_rival_figure(verified, [first, same], how_much) == verified
    weaker = replace(other, relevance=0.4)
    assert with_rival_figure(verified, [first, weaker], how_much) == verified
    what = profile_question("What did Ruritania receive in remittances in 2021?")
    assert with_rival_figure(verified, [first, other], what) == verified
    # A figure of something else, however relevant the sentence, is no rival.
    returns = "In 2021, 1,920 Ruritanian nationals returned from abroad."
    returned = replace(other, sentence=returns, passage=replace(other.passage, text=returns))
    assert with_rival_figure(verified, [first, returned], how_much) == verified


def test_a_documents_answer_names_and_quotes_each_document() -> None:
    sentences = {
        "freedonia": "Freedonia issued 14,500 seasonal worker visas in 2021.",
        "sylvania": "Sylvania signed a seasonal worker agreement with Freedonia.",
    }
    evidence = [
        Evidence(
            Passage(f"{doc}#p1", doc, doc.title(), None, text, 0, len(text), "h"),
            text,
            relevance=relevance,
            match=relevance,
        )
        for (doc, text), relevance in zip(sentences.items(), (0.8, 0.7), strict=True)
    ]

    answer = documents_answer(evidence)
    assert answer.text == (
        "Freedonia: Freedonia issued 14,500 seasonal worker visas in 2021 [1].\n"
        "Sylvania: Sylvania signed a seasonal worker agreement with Freedonia [2]."
    )
    assert [(c.n, c.doc, c.quote) for c in answer.citations] == [
        (1, "freedonia", sentences["freedonia"]),
        (2, "sylvania", sentences["sylvania"]),
    ]
    assert documents_answer([]) == VerifiedAnswer(text="", citations=())


def test_other_reports_answering_a_which_states_question_are_quoted_under_their_titles() -> None:
    texts = {
        "ruritania": "The Fair Recruitment Regulation prohibits charging recruitment fees.",
        "sylvania": "Employers may not charge workers any recruitment fee.",
    }
    evidence = [
        Evidence(
            Passage(f"{doc}#p1", doc, f"{doc.title()} review", None, text, 0, len(text), "h"),
            text,
            relevance=relevance,
            match=relevance,
        )
        for (doc, text), relevance in zip(texts.items(), (0.8, 0.7), strict=True)
    ]
    which_states = profile_question("Which states have banned recruitment fees?")
    verified = extractive_answer(evidence[:1])

    answer = with_other_documents(verified, evidence, which_states)
    assert answer.text == (
        "Ruritania review: The Fair Recruitment Regulation prohibits charging recruitment "
        "fees [1].\nSylvania review: Employers may not charge workers any recruitment fee [2]."
    )
    assert [(c.n, c.doc) for c in answer.citations] == [(1, "ruritania"), (2, "sylvania")]
    assert check_citations(answer.text, answer.citations, {"ruritania#p1", "sylvania#p1"}) == []
    # No other report answers, or a question asks for no states: the answer as it was.
    assert with_other_documents(verified, evidence[:1], which_states) == verified
    what = profile_question("What did the reports say about recruitment fees?")
    assert with_other_documents(verified, evidence, what) == verified


def test_an_answer_names_a_report_by_its_title_up_to_a_colon() -> None:
    ruritania = "Republic of Ruritania: Voluntary National Review on the Implementation (2021)"
    assert short_title(ruritania) == "Republic of Ruritania"
    # No colon, or a long part before it: the whole title.
    seed = "Regional Review of the Global Compact for Migration"
    assert short_title(seed) == seed
    long_head = "A Report of the Ministry of Labour and Social Affairs: Annex"
    assert short_title(long_head) == long_head


def test_a_rival_figure_speaks_of_what_the_answer_names_and_differs_from_it() -> None:
    def sentence(doc: str, title: str, text: str, relevance: float) -> Evidence:
        return Evidence(
            Passage(f"{doc}#p1", doc, title, None, text, 0, len(text), "h"),
            text,
            relevance,
            relevance,
        )

    ours = sentence("rur", "Ruritania Review", "Ruritania gave EUR 400,000 to the Fund.", 0.8)
    how_much = profile_question("How much did Ruritania give to the Fund?")
    verified = extractive_answer([ours])
    about = ["Ruritania"]  # a name some report titles hold
    # Another state's contribution is no rival to Ruritania's.
    fenwick = sentence(
        "gf", "Grand Fenwick", "Grand Fenwick gave EUR 1.2 million to the Fund.", 0.7
    )
    assert with_rival_figure(verified, [ours, fenwick], how_much, about) == verified
    # A list that repeats Ruritania's figure agrees with it.
    listing = "Fenwick gave EUR 950,000 and Ruritania gave EUR 400,000 to the Fund."
    agreeing = sentence("net", "Network", listing, 0.7)
    assert with_rival_figure(verified, [ours, agreeing], how_much, about) == verified
    # A report giving Ruritania another figure differs.
    other = sentence("net", "Network", "Ruritania gave EUR 450,000 to the Fund.", 0.7)
    rival = with_rival_figure(verified, [ours, other], how_much, about)
    assert [c.doc for c in rival.citations] == ["rur", "net"]
    # Without `about`, the question's own names still rule Grand Fenwick's figure out: the
    # answer's passage names Ruritania, and nothing around Grand Fenwick's does.
    assert with_rival_figure(verified, [ours, fenwick], how_much) == verified
    # Asked of no state, Grand Fenwick's figure passes for a rival.
    how_much_all = profile_question("How much was given to the Fund?")
    rival = with_rival_figure(verified, [ours, fenwick], how_much_all)
    assert [c.doc for c in rival.citations] == ["rur", "gf"]
    # A rival names the state in its passage, heading or title, not only in its sentence.
    heading = "Ruritania's partners"
    titled = replace(fenwick, passage=replace(fenwick.passage, section=heading))
    assert [c.doc for c in with_rival_figure(verified, [ours, titled], how_much).citations] == [
        "rur",
        "gf",
    ]


def test_a_rival_count_counts_what_the_question_counts() -> None:
    def sentence(doc: str, text: str, relevance: float) -> Evidence:
        return Evidence(
            Passage(f"{doc}#p1", doc, doc.title(), None, text, 0, len(text), "h"),
            text,
            relevance,
            relevance,
        )

    ours = sentence("zembla", "Zembla issued 13,900 seasonal work permits in 2020.", 0.8)
    workers = sentence("latveria", "Zembla sent 15,000 seasonal workers in 2020.", 0.7)
    how_many = profile_question("How many seasonal work permits did Zembla issue in 2020?")
    verified = extractive_answer([ours])
    assert [c.doc for c in with_rival_figure(verified, [ours, workers], how_many).citations] == [
        "zembla",
        "latveria",
    ]

    def counts_permits(text: str) -> bool:
        return "permits" in text

    assert with_rival_figure(verified, [ours, workers], how_many, counts_asked=counts_permits) == (
        verified
    )
