"""An answer as plain text: each source by its report, section and anchor, the title once."""

from __future__ import annotations

from rag.plain_text import answer_as_text, source_place
from rag.types import Answer, Citation, Hit, Passage

TITLE = "Latveria National Report on Migration 2022"


def citation(n: int, section: str | None) -> Citation:
    return Citation(
        n=n,
        anchor=f"latveria#p{n}",
        doc="latveria",
        doc_title=TITLE,
        section=section,
        page=None,
        text="Latveria issued 700 permits.",
        quote="Latveria issued 700 permits.",
    )


def test_a_source_names_its_title_once_when_it_has_no_section_of_its_own() -> None:
    assert source_place(TITLE, None) == TITLE
    assert source_place(TITLE, "") == TITLE
    assert source_place(TITLE, " latveria national report on  migration 2022") == TITLE
    assert source_place(TITLE, "Labour migration") == f"{TITLE}, Labour migration"


def test_sources_and_closest_passages_do_not_repeat_the_title_or_say_no_section() -> None:
    answered = Answer(
        question="How many permits?",
        answer="Latveria issued 700 permits [1] [2] [3].",
        abstained=False,
        citations=(citation(1, TITLE), citation(2, None), citation(3, "Labour migration")),
        hits=(),
        model="fake",
    )
    assert answer_as_text(answered).splitlines()[2:] == [
        "Sources:",
        f"  [1] {TITLE} (latveria#p1)",
        '      "Latveria issued 700 permits."',
        f"  [2] {TITLE} (latveria#p2)",
        '      "Latveria issued 700 permits."',
        f"  [3] {TITLE}, Labour migration (latveria#p3)",
        '      "Latveria issued 700 permits."',
    ]
    passage = Passage("latveria#p1", "latveria", TITLE, TITLE, "Text.", 0, 5, "h")
    refused = Answer(
        question="Who?",
        answer="The indexed reports do not answer this.",
        abstained=True,
        citations=(),
        hits=(Hit(passage, 0.1, 0),),
        model="fake",
    )
    assert answer_as_text(refused).splitlines()[-1] == f"  - {TITLE} (latveria#p1)"
