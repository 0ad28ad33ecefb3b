"""Several reports, from the session-11 audit: another report's figure is quoted as a rival
only when it is about what the question names and counts what it counts; a which-reports
listing needs the subject, not its topic."""

from __future__ import annotations

from rag.factory import build_pipeline
from rag.settings import Settings
from tests.conftest import ingest_seeds

ELBONIA = "Elbonia granted 900 humanitarian visas in 2021."
KURLAND = "Kurland granted 1,450 humanitarian visas in 2021."


def write_report(settings: Settings, name: str, title: str, *paragraphs: str) -> None:
    """A Markdown report `name`.md titled `title`, of `paragraphs`."""
    body = "\n\n".join(paragraphs)
    (settings.seeds_dir / f"{name}.md").write_text(
        f"---\ntitle: {title}\n---\n# {title}\n\n{body}\n", encoding="utf-8"
    )


def write_template_reports(settings: Settings) -> None:
    """Two reports of one template and title, about two states."""
    for name, state, fact in (("elbonia", "Elbonia", ELBONIA), ("kurland", "Kurland", KURLAND)):
        write_report(
            settings,
            name,
            "National Migration Report",
            f"This is a fictional document written for a test, by the State of {state}.",
            fact,
        )
    ingest_seeds(settings)


def test_a_rival_figure_is_about_the_state_the_question_names(fake_settings: Settings) -> None:
    write_template_reports(fake_settings)
    pipeline = build_pipeline(fake_settings)
    # Kurland's report, titled as Elbonia's is, never names Elbonia: its 1,450 is no rival.
    answer = pipeline.ask("How many humanitarian visas did Elbonia grant in 2021?")
    assert [(c.doc, c.quote) for c in answer.citations] == [("elbonia", ELBONIA)]
    assert "differ" not in answer.answer
    # Asked of no state, the two figures differ.
    answer = pipeline.ask("How many humanitarian visas were granted in 2021?")
    assert {(c.doc, c.quote) for c in answer.citations} == {
        ("elbonia", ELBONIA),
        ("kurland", KURLAND),
    }
    assert "The reports differ." in answer.answer


def test_a_rival_count_counts_what_the_question_counts(fake_settings: Settings) -> None:
    permits = "In 2020 Zembla issued 13,900 seasonal work permits, most of them in agriculture."
    workers = (
        "In 2020, 15,000 seasonal workers from Zembla were employed in Latveria, which issued "
        "their work permits."
    )
    write_report(fake_settings, "zembla", "Zembla Review 2021", permits)
    write_report(fake_settings, "latveria", "Latveria Report 2022", workers)
    ingest_seeds(fake_settings)
    pipeline = build_pipeline(fake_settings)
    question = "How many seasonal work permits did Zembla issue in 2020?"
    answer = pipeline.ask(question)
    # Workers employed abroad are not permits issued, though written with the same words.
    assert [(c.doc, c.quote) for c in answer.citations] == [("zembla", permits)]
    # Another report's count of permits is a rival.
    other = "Zembla issued 14,200 seasonal work permits in 2020, by the Network's count."
    write_report(fake_settings, "network", "Network Report 2021", other)
    ingest_seeds(fake_settings)
    answer = build_pipeline(fake_settings).ask(question)
    assert [(c.doc, c.quote) for c in answer.citations] == [
        ("zembla", permits),
        ("network", other),
    ]
    assert "The reports differ." in answer.answer


def test_which_reports_lists_the_subject_not_its_topic(fake_settings: Settings) -> None:
    children = "Zembla does not detain children for migration purposes."
    alternatives = "Latveria introduced alternatives to immigration detention in 2020."
    write_report(fake_settings, "zembla", "Zembla Review 2021", children)
    write_report(fake_settings, "latveria", "Latveria Report 2022", alternatives)
    ingest_seeds(fake_settings)
    answer = build_pipeline(fake_settings).ask("Which reports mention detention of children?")
    cited = {citation.doc: citation.quote for citation in answer.citations}
    # "detain" is the verb of "detention"; detention alone is not detention of children.
    assert cited.get("zembla") == children
    assert "latveria" not in cited
