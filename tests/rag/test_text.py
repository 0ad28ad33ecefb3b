"""The light stemmer: word families meet, words of other families stay apart."""

from __future__ import annotations

import pytest

from rag.text import stem


@pytest.mark.parametrize(
    ("forms", "stemmed"),
    [
        (("regularised", "regularisation", "regularized"), "regularis"),
        (("migrants", "migrant"), "migrant"),
        # The nouns in -tention of verbs in -tain.
        (("detain", "detained", "detains", "detention", "detentions"), "detain"),
        (("retain", "retention"), "retain"),
        (("abstain", "abstention"), "abstain"),
    ],
)
def test_a_word_family_has_one_stem(forms: tuple[str, ...], stemmed: str) -> None:
    assert {stem(form) for form in forms} == {stemmed}


def test_nouns_of_tend_verbs_stay_apart_from_tain_verbs() -> None:
    assert stem("attention") != stem("attained")
    assert stem("contention") != stem("contained")
    assert stem("intention") == "intention"
