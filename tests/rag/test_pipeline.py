"""The pipeline with deterministic components: event order, abstention, the answer contract."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rag.citations import check_citations
from rag.embedding.hashing import HashingEmbedder
from rag.errors import InvalidQuestionError
from rag.evidence import abstention_reason, counts_what_is_asked, select_evidence
from rag.factory import build_embedder, build_pipeline
from rag.pipeline import ABSTENTION_TEXT
from rag.questions import profile_question
from rag.settings import Settings
from rag.types import Evidence
from tests.conftest import REGULARISATION_TEXT, ingest_seeds, one_passage
from tests.rag.test_chunking import BRIEF_OPENING, BRIEF_TITLE, write_brief


def test_events_come_in_order_and_done_is_the_answer(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    events = list(pipeline.stream("Which states instituted regularisation in the pandemic?"))
    kinds = [event.kind for event in events]
    assert kinds[0] == "passages"
    assert kinds[-2:] == ["citations", "done"]
    assert set(kinds[1:-2]) == {"token"}
    answer = events[-1].data
    streamed = "".join(event.data for event in events if event.kind == "token")
    assert answer.mode == "generated"
    # The fake model quotes source [1]; verification keeps it, so the text survives intact
    # but for the mark of where the report's sentence breaks off.
    assert streamed.endswith(", whilst [1].")
    assert answer.answer == streamed.replace(", whilst [1].", ", whilst … [1].")
    assert answer.citations == events[-2].data


def test_an_answer_is_flagged_when_its_best_evidence_matches_weakly(fake_index: Settings) -> None:
    question = "Which states instituted regularisation in the pandemic?"
    answer = build_pipeline(fake_index).ask(question)
    assert not answer.abstained
    best_match = answer_match(fake_index, question)
    stricter = fake_index.model_copy(update={"weak_evidence_match": best_match + 0.01})
    looser = fake_index.model_copy(update={"weak_evidence_match": best_match})
    assert build_pipeline(stricter).ask(question).weak_evidence is True
    assert build_pipeline(looser).ask(question).weak_evidence is False
    assert build_pipeline(stricter).ask(question).to_dict()["weak_evidence"] is True
    # An abstention rests on no evidence, so it carries no caution.
    refused = build_pipeline(stricter).ask("What did Denmark report about family reunification?")
    assert refused.abstained and refused.weak_evidence is False


def answer_match(settings: Settings, question: str) -> float:
    """The match of the best evidence sentence the pipeline selects for `question`."""
    pipeline = build_pipeline(settings)
    hits = pipeline.retriever.retrieve(question, settings.top_k)
    evidence = select_evidence(
        profile_question(question), hits, pipeline.retriever, settings.evidence_sentences
    )
    return evidence[0].match


def test_answer_cites_only_retrieved_passages_with_verbatim_quotes(fake_index: Settings) -> None:
    answer = build_pipeline(fake_index).ask(
        "Which states instituted regularisation in the pandemic?"
    )
    payload = answer.to_dict()
    anchors = {passage["anchor"] for passage in payload["passages"]}
    assert check_citations(answer.answer, answer.citations, anchors) == []
    assert any(REGULARISATION_TEXT in c["text"] for c in payload["citations"])
    assert payload["timings_ms"]["total"] >= payload["timings_ms"]["first_token"] > 0


def test_unrelated_question_abstains_without_calling_the_model(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    answer = pipeline.ask("What is the recommended dosage of ibuprofen for adults?")
    assert answer.abstained
    assert answer.answer == ABSTENTION_TEXT
    assert answer.citations == ()
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]
    assert answer.hits, "the closest passages are still offered for reading"


def test_model_text_that_fails_verification_falls_back_to_quotes(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)

    def unsupported(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        yield "Bananas are a fruit rich in potassium."

    pipeline.generator.stream_chat = unsupported  # type: ignore[method-assign]
    answer = pipeline.ask("Which states instituted regularisation in the pandemic?")
    assert answer.mode == "extractive"
    assert "Bananas" not in answer.answer
    assert answer.citations and all(c.quote in c.text for c in answer.citations)


@pytest.mark.parametrize(
    "question", ["", "   \n\t", "x" * 2001, "\udcff\udcfe what", "Which states\x00 regularised?"]
)
def test_invalid_questions_are_refused(fake_index: Settings, question: str) -> None:
    with pytest.raises(InvalidQuestionError):
        build_pipeline(fake_index).ask(question)


def test_a_control_character_is_named_with_its_place(fake_index: Settings) -> None:
    with pytest.raises(InvalidQuestionError) as refused:
        build_pipeline(fake_index).ask("When was\x1b[31m the GCM adopted?")
    assert str(refused.value) == (
        "the question holds a control character (U+001B at character 9), "
        "which no question contains; remove it (tabs and line breaks may stay)"
    )
    # Tabs and line breaks are text.
    assert not build_pipeline(fake_index).ask("When was the GCM\r\n\tadopted?").abstained


def test_abstention_names_a_missing_name(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    answer = pipeline.ask("What did Denmark report about family reunification?")
    assert answer.abstained
    assert answer.abstention_reason == "the closest passages do not mention Denmark"
    # A name used as an adjective counts as much: the report names no Danish city at all.
    answer = pipeline.ask("Which Danish city hosts a taskforce on migrant inclusion?")
    assert answer.abstention_reason == "the closest passages do not mention Danish"
    # The report's "United Nations" and "Member States" do not mention the United States.
    answer = pipeline.ask("What did the United States report about family reunification?")
    assert answer.abstention_reason == "the closest passages do not mention United States"
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]


def test_a_question_in_capitals_is_answered_as_in_lower_case(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    question = "How many UNECE Member States submitted voluntary reports?"
    shouted = question.upper()
    answer = pipeline.ask(shouted)
    # Read as written, "MEMBER STATES SUBMITTED VOLUNTARY REPORTS" was a name no passage has.
    assert not answer.abstained, answer.abstention_reason
    assert answer.answer == pipeline.ask(question).answer
    assert "28 UNECE Member States" in answer.answer
    assert answer.question == shouted


def test_a_state_the_reports_never_name_is_refused_in_lower_case_too(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    for question in [
        "what did denmark report about family reunification?",
        "WHAT DID DENMARK REPORT?",
    ]:
        answer = pipeline.ask(question)
        assert answer.abstention_reason == "the closest passages do not mention Denmark"
        assert answer.question == question


def test_a_question_in_another_script_is_refused_with_the_reason(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    answer = pipeline.ask("Какие государства легализовали мигрантов во время COVID?")
    assert answer.abstained
    assert answer.abstention_reason is not None
    assert "not in English" in answer.abstention_reason
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]
    # A name in its own script does not make an English question foreign.
    answer = pipeline.ask("Which states regularised migrants, as reported by Молдова?")
    assert not answer.abstained
    # Latin letters, but French, Spanish or German function words.
    for question in (
        "Quels pays ont régularisé les migrants pendant la pandémie ?",
        "¿Qué países regularizaron a los migrantes durante la pandemia?",
        "Welche Staaten haben Migranten während der Pandemie legalisiert?",
    ):
        refused = pipeline.ask(question)
        assert refused.abstention_reason is not None, question
        assert "not in English" in refused.abstention_reason, question
    # A foreign word or two in an English question is no sign of another language.
    answer = pipeline.ask("Which states regularised migrants, the sans-papiers of la France?")
    assert answer.abstention_reason is None or "English" not in answer.abstention_reason


def test_a_rival_figure_in_another_report_is_quoted_beside_the_answer(
    fake_settings: Settings,
) -> None:
    rival = "A total of 31 UNECE Member States and 17 stakeholders submitted reports."
    (fake_settings.seeds_dir / "ministry-brief.md").write_text(
        f"# Ministry brief on the Network\n\n{rival}\n", encoding="utf-8"
    )
    ingest_seeds(fake_settings)
    answer = build_pipeline(fake_settings).ask(
        "How many UNECE Member States submitted reports to the Network?"
    )
    assert [citation.doc for citation in answer.citations] == ["gcm-unece-2020", "ministry-brief"]
    assert "28 UNECE Member States" in answer.answer
    assert answer.answer.endswith(f"{rival[:-1]} [2].")


def test_which_reports_lists_each_document_with_its_own_quote(fake_settings: Settings) -> None:
    briefs = {
        "freedonia-brief": "Freedonia issued 14,500 seasonal worker visas for harvest work.",
        "sylvania-brief": "Sylvania opened a seasonal worker visas scheme for harvest work.",
    }
    for name, sentence in briefs.items():
        (fake_settings.seeds_dir / f"{name}.md").write_text(
            f"# {name.title()}\n\n{sentence}\n", encoding="utf-8"
        )
    ingest_seeds(fake_settings)
    pipeline = build_pipeline(fake_settings)
    answer = pipeline.ask("Which reports mention seasonal worker visas for harvest work?")

    assert sorted(citation.doc for citation in answer.citations) == sorted(briefs)
    for citation in answer.citations:
        assert citation.quote == briefs[citation.doc]
        assert f"{citation.doc_title}: {citation.quote[:-1]} [{citation.n}]." in answer.answer
    assert answer.mode == "extractive"
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]


def test_a_question_about_the_collection_is_answered_from_the_index_records(
    fake_settings: Settings,
) -> None:
    (fake_settings.seeds_dir / "freedonia-brief.md").write_text(
        "# Freedonia Brief\n\nFreedonia issued 14,500 seasonal worker visas for harvest work.\n",
        encoding="utf-8",
    )
    ingest_seeds(fake_settings)
    pipeline = build_pipeline(fake_settings)
    seed_title = pipeline.retriever.index.documents["gcm-unece-2020"].title
    events = list(pipeline.stream("Which reports do you have?"))
    assert [event.kind for event in events] == ["passages", "citations", "done"]
    answer = events[-1].data
    assert answer.answer == (
        "2 reports are indexed (from the index's own records, not from the reports' text):\n"
        "1. Freedonia Brief (id: freedonia-brief)\n"
        f"2. {seed_title} (id: gcm-unece-2020)"
    )
    assert (answer.mode, answer.abstained, answer.weak_evidence) == ("index", False, False)
    assert answer.citations == () and answer.hits == ()
    assert check_citations(answer.answer, answer.citations, set()) == []
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]

    within = pipeline.ask("How many reports are indexed?", documents=["freedonia-brief"])
    assert within.answer.splitlines()[-1] == (
        "This question was asked within 1 only; the list is of every indexed report."
    )
    # Which reports say something is still answered from what they say.
    mentions = pipeline.ask("Which reports mention seasonal worker visas for harvest work?")
    assert mentions.mode == "extractive"
    assert [citation.doc for citation in mentions.citations] == ["freedonia-brief"]


def test_which_reports_is_refused_for_a_subject_none_mentions_or_a_negation(
    fake_settings: Settings,
) -> None:
    (fake_settings.seeds_dir / "brief.md").write_text(
        "# Remittances Brief\n\n## 2. Remittances and diaspora investment\n\n"
        "Remittances reached USD 2 billion.\n",
        encoding="utf-8",
    )
    ingest_seeds(fake_settings)
    pipeline = build_pipeline(fake_settings)

    crypto = pipeline.ask("Which reports mention cryptocurrency remittances?")
    assert crypto.abstained
    assert crypto.abstention_reason == (
        "no report uses enough of the words of “cryptocurrency remittances”; the reports may "
        "word it otherwise"
    )
    remittances = pipeline.ask("Which reports mention remittances?")
    # A document's heading shows it mentions the subject; its sentence says what about it.
    assert {citation.doc: citation.quote for citation in remittances.citations}["brief"] == (
        "Remittances reached USD 2 billion."
    )
    # Names joined by a preposition are one name: the seed holds "Global Compact" and
    # "Refugees" (in "Declaration for Refugees"), but not the Global Compact on Refugees.
    refugees = pipeline.ask("Which reports mention the Global Compact on Refugees?")
    assert refugees.abstained
    assert pipeline.ask("Which reports mention the Global Compact for Migration?").citations
    negated = pipeline.ask("Which reports do not mention remittances?")
    assert negated.abstained
    assert negated.abstention_reason is not None
    assert negated.abstention_reason.startswith("the assistant lists the reports that mention")
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]


def test_which_states_is_answered_from_each_report_under_its_title(
    fake_settings: Settings,
) -> None:
    briefs = {
        "ruritania-review": "The Fair Recruitment Regulation bans recruitment fees for migrants.",
        "sylvania-review": "The Labour Code bans recruitment fees for migrants since 2020.",
    }
    for name, sentence in briefs.items():
        title = name.replace("-", " ").title()
        (fake_settings.seeds_dir / f"{name}.md").write_text(
            f"# {title}\n\n{sentence}\n", encoding="utf-8"
        )
    ingest_seeds(fake_settings)
    answer = build_pipeline(fake_settings).ask("Which states ban recruitment fees for migrants?")

    assert sorted(citation.doc for citation in answer.citations) == sorted(briefs)
    assert answer.answer.startswith(f"{answer.citations[0].doc_title}: ")
    assert f"{answer.citations[1].doc_title}: {answer.citations[1].quote[:-1]} [2]." in (
        answer.answer
    )


def test_a_question_naming_a_state_is_answered_from_its_report_or_not_at_all(
    fake_settings: Settings,
) -> None:
    reviews = {
        "ruritania-review": (
            "Ruritania Review",
            "The Health Circular establishes a firewall between clinics and immigration "
            "enforcement.",
        ),
        "sylvania-review": ("Sylvania Review", "Sylvania has established consular offices abroad."),
    }
    for name, (title, sentence) in reviews.items():
        (fake_settings.seeds_dir / f"{name}.md").write_text(
            f"# {title}\n\n{sentence}\n", encoding="utf-8"
        )
    ingest_seeds(fake_settings)
    pipeline = build_pipeline(fake_settings)

    ruritania = pipeline.ask("What firewall has Ruritania established against enforcement?")
    assert [citation.doc for citation in ruritania.citations] == ["ruritania-review"]
    # Sylvania's report says nothing of a firewall: Ruritania's firewall is not Sylvania's.
    sylvania = pipeline.ask("What firewall has Sylvania established against enforcement?")
    assert sylvania.abstained
    assert sylvania.abstention_reason == (
        "the closest passage, in Ruritania Review, is not about Sylvania"
    )


def test_abstention_when_a_how_many_question_meets_no_number() -> None:
    text = "Italy, the Republic of Moldova and Portugal reported having instituted regularisation."
    passage, hits, best = one_passage(text)
    evidence = [best]
    how_many = profile_question("How many migrants did Portugal regularise?")
    which = profile_question("Which states did regularise migrants?")
    assert (
        abstention_reason(how_many, hits, evidence, 0.2, frozenset())
        == "the closest passages give no number"
    )
    assert abstention_reason(which, hits, evidence, 0.2, frozenset()) is None
    assert (
        abstention_reason(which, hits, evidence, 0.7, frozenset())
        == "no passage is close enough to the question"
    )
    assert abstention_reason(which, hits, [], 0.2, frozenset()) == "no passage was retrieved"
    # Only the best sentence counts: a number further down does not answer "how many".
    counted = Evidence(passage, "A total of 28 states reported.", relevance=0.5, match=0.5)
    assert abstention_reason(how_many, hits, [*evidence, counted], 0.2, frozenset()) == (
        "the closest passages give no number"
    )
    assert abstention_reason(how_many, hits, [counted, *evidence], 0.2, frozenset()) is None


def test_abstention_when_no_count_is_of_what_the_question_counts() -> None:
    text = "In 2021 Sylvania registered 2,340 unaccompanied children at its borders."
    _, hits, best = one_passage(text)
    embedder = HashingEmbedder()
    asylum = profile_question("How many asylum applications did Sylvania register in 2021?")
    children = profile_question("How many children did Sylvania register in 2021?")

    assert abstention_reason(asylum, hits, [best], 0.2, frozenset(), embedder) == (
        "the closest passages count no asylum applications"
    )
    assert abstention_reason(children, hits, [best], 0.2, frozenset(), embedder) is None
    # Without an embedder the check is not made.
    assert abstention_reason(asylum, hits, [best], 0.2, frozenset()) is None


@pytest.mark.integration
def test_a_count_of_something_close_in_meaning_answers(real_settings: Settings) -> None:
    embedder = build_embedder(real_settings)
    countries = ["Attendees joined from over 30 countries, mostly within the region."]
    assert counts_what_is_asked(
        profile_question("From how many nations did people connect?"), countries, embedder
    )
    children = ["Sylvania registered 2,340 unaccompanied and separated children."]
    assert not counts_what_is_asked(
        profile_question("How many asylum applications did Sylvania receive?"), children, embedder
    )


def test_deadlines_want_a_date_budgets_a_number_and_a_duration_is_only_preferred() -> None:
    passage, hits, best = one_passage("Portugal regularised migrants through a simple procedure.")

    def reason(question: str) -> str | None:
        return abstention_reason(profile_question(question), hits, [best], 0.2, frozenset())

    assert reason("What was the deadline for Portugal's procedure?") == (
        "the closest passages give no date"
    )
    assert reason("What was the budget of Portugal's procedure?") == (
        "the closest passages give no number"
    )
    assert reason("How long did Portugal's procedure take?") is None


def test_abstention_when_no_quotable_sentence_names_the_actor_asked_about() -> None:
    text = "Family reunification was a prominent theme. Canada reported longer waiting times."
    passage, hits, _ = one_passage(text)
    theme = Evidence(passage, "Family reunification was a prominent theme.", 0.9, 0.6)
    canada = Evidence(passage, "Canada reported longer waiting times.", 0.5, 0.4)
    question = profile_question("What did Canada report about family reunification?")

    def reason(evidence: list[Evidence]) -> str | None:
        return abstention_reason(question, hits, evidence, 0.2, frozenset())

    # Canada is in the passage, but only in a sentence too weak to be quoted.
    assert reason([theme, canada]) == "the sentences that could answer do not mention Canada"
    assert reason([canada, theme]) is None
    # A heading above the sentence names the actor for it.
    headed = replace(passage, section="Canada: family reunification")
    assert reason([replace(theme, passage=headed)]) is None
    # So does the title of Canada's own report, whose sentences seldom name Canada.
    titled = replace(passage, doc_title="Canada: National Review 2021")
    assert reason([replace(theme, passage=titled)]) is None


def test_generated_answer_must_rest_on_the_best_evidence(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)

    def quotes_the_second_source(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        second = messages[-1]["content"].split("\n[2] ")[1].split("\n")[0]
        yield second.rstrip(".") + " [2]."

    pipeline.generator.stream_chat = quotes_the_second_source  # type: ignore[method-assign]
    events = list(pipeline.stream("Which states instituted regularisation in the pandemic?"))
    answer = events[-1].data
    # The model's sentence is true (it quotes source [2]) but not what ranked first: the
    # answer falls back to the best evidence.
    assert answer.mode == "extractive"
    assert REGULARISATION_TEXT in answer.answer


def test_title_question_is_answered_by_the_heading(fake_index: Settings) -> None:
    answer = build_pipeline(fake_index).ask("What is the title of GCM Objective 12?")
    assert not answer.abstained
    assert answer.citations[0].quote.startswith(
        "Objective 12: Strengthen certainty and predictability in migration procedures"
    )


def test_which_objective_question_is_answered_by_its_heading(fake_index: Settings) -> None:
    answer = build_pipeline(fake_index).ask(
        "Under which numbered objective does the compact deal with return and readmission?"
    )
    assert not answer.abstained
    assert answer.citations[0].quote.startswith(
        "Objective 21: Cooperate in facilitating safe and dignified return and readmission"
    )


def test_the_heading_printed_as_a_documents_title_is_never_evidence(
    fake_settings: Settings, tmp_path: Path
) -> None:
    settings = fake_settings.model_copy(update={"seeds_dir": tmp_path / "briefs"})
    write_brief(settings.seeds_dir)
    ingest_seeds(settings)
    pipeline = build_pipeline(settings)
    question = "What is the minimum wage for seasonal workers in Freedonia?"
    hits = pipeline.retriever.retrieve(question, 10)
    evidence = select_evidence(profile_question(question), hits, pipeline.retriever, 50)
    sentences = {item.sentence for item in evidence}
    # Every sentence of the three documents could be quoted, but not their title heading.
    assert BRIEF_TITLE not in sentences
    assert BRIEF_OPENING in sentences


def test_abstention_when_a_year_or_numbered_reference_is_never_stated() -> None:
    text = "Roundtable 3: Objectives 4, 8 and 11. Belgium introduced new policies in 2019."
    passage, hits, best = one_passage(text)
    evidence = [best]

    def reason(question: str) -> str | None:
        return abstention_reason(profile_question(question), hits, evidence, 0.2, frozenset())

    assert reason("Which objectives did Roundtable 1 discuss?") == (
        "the closest passages do not mention Roundtable 1"
    )
    assert reason("What did Belgium introduce in 2011?") == (
        "the closest passages do not mention 2011"
    )
    assert reason("Which roundtable discussed Objective 11?") is None
    assert reason("What did Belgium introduce in 2019?") is None


def test_abstention_when_no_quotable_sentence_names_the_states_asked_for() -> None:
    text = "The review found that several states had changed their rules for the pandemic."
    passage, hits, several = one_passage(text)
    which = profile_question("Which states changed their rules for the pandemic?")
    assert abstention_reason(which, hits, [several], 0.2, frozenset()) == (
        "the closest passages name no state, country or city"
    )
    # A sentence of its passage nearly as relevant as the best one is quoted with it, so its
    # names count…
    named = Evidence(passage, "Italy and Portugal changed their rules.", relevance=0.8, match=0.6)
    assert abstention_reason(which, hits, [several, named], 0.2, frozenset()) is None
    # …but not one of another passage, which the answer does not quote ("A total of 28 UNECE
    # Member States…" for "Which states reported on return?")…
    elsewhere = replace(named, passage=replace(passage, anchor="doc#p2"))
    assert abstention_reason(which, hits, [several, elsewhere], 0.2, frozenset()) is not None
    # …nor a name in a sentence far less relevant than the best.
    weak = Evidence(passage, "Italy and Portugal changed their rules.", relevance=0.5, match=0.6)
    assert abstention_reason(which, hits, [several, weak], 0.2, frozenset()) is not None
    # Who-questions are answered by bodies described as often as named: no such abstention.
    who = profile_question("Who changed their rules for the pandemic?")
    assert abstention_reason(who, hits, [several], 0.2, frozenset()) is None


def test_abstention_when_no_quotable_sentence_names_the_office_holder() -> None:
    text = "The Rapporteur's summary report is available on the Network website."
    passage, hits, mentioned = one_passage(text)
    who = profile_question("Who served as Rapporteur for the meeting?")
    common = frozenset({"summary", "report", "network", "website"})
    assert abstention_reason(who, hits, [mentioned], 0.2, common) == (
        "the closest passages do not name the Rapporteur"
    )
    named = Evidence(passage, "The Rapporteur, Ana Ruiz, closed it.", relevance=0.8, match=0.6)
    assert abstention_reason(who, hits, [mentioned, named], 0.2, common) is None
