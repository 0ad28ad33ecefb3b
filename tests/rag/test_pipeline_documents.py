"""The pipeline asked within some documents: evidence, abstention, rival figures and the
reports listed come from the chosen documents only; no documents means all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import UnknownDocumentError
from rag.factory import build_pipeline
from rag.pipeline import ABSTENTION_TEXT_CHOSEN, ABSTENTION_TEXT_CHOSEN_ONE
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT, ingest_seeds

SEED = "gcm-unece-2020"
QUESTION = "Which states instituted regularisation in the pandemic?"
SYLVANIA_FACT = "Sylvania instituted a regularisation programme for migrants in 2021."
FREEDONIA_FACT = "Freedonia opened 14 one-stop integration centres in provincial capitals."


def add_reports(settings: Settings, **reports: str) -> None:
    """Index the seed report with one Markdown report per keyword: id=its one sentence."""
    for doc_id, sentence in reports.items():
        title = doc_id.replace("_", " ").title()
        (settings.seeds_dir / f"{doc_id.replace('_', '-')}.md").write_text(
            f"# {title}\n\n{sentence}\n", encoding="utf-8"
        )
    ingest_seeds(settings)


def without_timings(answer: dict) -> dict:  # type: ignore[type-arg]
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def test_the_chosen_document_answers_although_another_matches_better(
    fake_settings: Settings,
) -> None:
    add_reports(fake_settings, sylvania_review=SYLVANIA_FACT)
    pipeline = build_pipeline(fake_settings)
    everywhere = pipeline.ask(QUESTION)
    assert everywhere.hits[0].passage.doc_id == SEED
    assert everywhere.citations[0].doc == SEED

    answer = pipeline.ask(QUESTION, documents=["sylvania-review"])
    assert not answer.abstained
    assert {hit.passage.doc_id for hit in answer.hits} == {"sylvania-review"}
    assert [(c.doc, c.quote) for c in answer.citations] == [("sylvania-review", SYLVANIA_FACT)]
    assert REGULARISATION_TEXT not in answer.answer


def test_abstains_when_the_chosen_document_does_not_answer(fake_settings: Settings) -> None:
    add_reports(fake_settings, freedonia_review=FREEDONIA_FACT, sylvania_review=SYLVANIA_FACT)
    pipeline = build_pipeline(fake_settings)
    assert not pipeline.ask(QUESTION).abstained

    answer = pipeline.ask(QUESTION, documents=["freedonia-review"])
    assert answer.abstained
    assert answer.answer == ABSTENTION_TEXT_CHOSEN_ONE
    assert answer.abstention_reason == "no passage is close enough to the question"
    assert {hit.passage.doc_id for hit in answer.hits} == {"freedonia-review"}
    assert pipeline.generator.calls == 1  # type: ignore[attr-defined]  # the unfiltered one
    several = pipeline.ask(
        "What did Atlantis report about its ports?", documents=["freedonia-review", SEED]
    )
    assert several.answer == ABSTENTION_TEXT_CHOSEN


def test_no_rival_figure_from_a_document_not_chosen(fake_settings: Settings) -> None:
    rival = "A total of 31 UNECE Member States and 17 stakeholders submitted reports."
    add_reports(fake_settings, network_brief=rival)
    pipeline = build_pipeline(fake_settings)
    question = "How many UNECE Member States submitted reports to the Network?"
    assert [c.doc for c in pipeline.ask(question).citations] == [SEED, "network-brief"]

    answer = pipeline.ask(question, documents=[SEED])
    assert [c.doc for c in answer.citations] == [SEED]
    assert "28 UNECE Member States" in answer.answer
    assert "31" not in answer.answer


def test_which_reports_and_which_states_list_only_chosen_documents(
    fake_settings: Settings,
) -> None:
    briefs = {
        "freedonia_brief": "Freedonia issued 14,500 seasonal worker visas for harvest work.",
        "sylvania_brief": "Sylvania opened a seasonal worker visas scheme for harvest work.",
        "ruritania_brief": "Ruritania bans recruitment fees for seasonal workers since 2020.",
    }
    add_reports(fake_settings, **briefs)
    pipeline = build_pipeline(fake_settings)
    question = "Which reports mention seasonal worker visas for harvest work?"
    assert {c.doc for c in pipeline.ask(question).citations} == {
        "freedonia-brief",
        "sylvania-brief",
    }
    answer = pipeline.ask(question, documents=["sylvania-brief", "ruritania-brief"])
    assert [(c.doc, c.quote) for c in answer.citations] == [
        ("sylvania-brief", briefs["sylvania_brief"])
    ]
    states = pipeline.ask(
        "Which states issued seasonal worker visas?", documents=["freedonia-brief"]
    )
    assert [c.doc for c in states.citations] == ["freedonia-brief"]


@pytest.mark.parametrize("documents", [None, [], (), set()])
def test_no_documents_means_every_document(fake_settings: Settings, documents: object) -> None:
    add_reports(fake_settings, sylvania_review=SYLVANIA_FACT)
    pipeline = build_pipeline(fake_settings)
    expected = without_timings(pipeline.ask(QUESTION).to_dict())
    assert without_timings(pipeline.ask(QUESTION, documents=documents).to_dict()) == expected  # type: ignore[arg-type]


def test_unknown_documents_are_refused_before_any_work(fake_index: Settings) -> None:
    pipeline = build_pipeline(fake_index)
    events = pipeline.stream(QUESTION, documents=[SEED, "ruritania"])
    with pytest.raises(
        UnknownDocumentError, match=r"^no document 'ruritania' in the index \("
    ) as error:
        next(events)
    assert error.value.known == [SEED]
    assert pipeline.generator.calls == 0  # type: ignore[attr-defined]
    assert pipeline.check_documents([SEED]) == frozenset({SEED})


@pytest.mark.integration
def test_which_reports_lists_a_report_that_words_the_subject_otherwise(tmp_path: Path) -> None:
    """A paraphrase shares few of the report's words; its meaning (MiniLM) lists the report,
    and a subject no report discusses is still refused."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "fenwick.md").write_text(
        "# Fenwick Social Security Brief\n\nGrand Fenwick's social security agreements allow "
        "migrant workers to carry their pension rights home.\n",
        encoding="utf-8",
    )
    (seeds / "freedonia.md").write_text(
        "# Freedonia Integration Brief\n\nFreedonia opened 14 one-stop integration centres "
        "in provincial capitals.\n",
        encoding="utf-8",
    )
    settings = Settings(
        seeds_dir=seeds,
        index_dir=tmp_path / "index",
        generator="fake",
        audit_log=tmp_path / "answers.jsonl",
    )
    ingest_seeds(settings)
    pipeline = build_pipeline(settings)

    kept = pipeline.ask(
        "Which reports discuss letting migrant workers keep their retirement rights when they "
        "go back home?"
    )
    assert [citation.doc for citation in kept.citations] == ["fenwick"]
    absent = pipeline.ask("Which reports mention a tax on remittances sent abroad?")
    assert absent.abstained
