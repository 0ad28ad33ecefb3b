"""The plain data passed between stages."""

from __future__ import annotations

from rag.types import Passage


def test_a_passage_reads_its_text_under_its_heading_and_title() -> None:
    passage = Passage("doc#p2", "doc", "Ruritania Review", "2. Returns", "It fell.", 0, 8, "h")
    assert passage.headed_text == "2. Returns It fell."
    assert passage.labelled("It fell.") == "Ruritania Review 2. Returns It fell."
    untitled = Passage("doc#p1", "doc", "Ruritania Review", None, "Text.", 0, 5, "h")
    assert untitled.headed_text == " Text."
    assert untitled.labelled("Text.") == "Ruritania Review  Text."
