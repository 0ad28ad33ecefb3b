"""Tests for eval.metrics: hand-computed cases and edge cases for every metric."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from eval.metrics import (
    CITATION_MARKER,
    QuestionScore,
    aggregate,
    answer_word_count,
    invalid_citations,
    key_fact_recall,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
    score_question,
    token_f1,
)
from rag.text import normalise_whitespace

# --------------------------------------------------------------------------- helpers


def test_citation_marker_matches_only_bracketed_integers() -> None:
    assert CITATION_MARKER.findall("a [1] b [23]. [x] [ 4] [1,2] [5]") == ["1", "23", "5"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a \n\t b   c ", "a b c"),
        ("x\u00a0\u00a0y", "x y"),
        ("", ""),
        (" \n ", ""),
        ("single", "single"),
    ],
)
def test_normalise_whitespace(text: str, expected: str) -> None:
    assert normalise_whitespace(text) == expected


# --------------------------------------------------------------------------- retrieval

RANKING = ["p1", "p2", "p3", "p4", "p5"]


@pytest.mark.parametrize(("k", "expected"), [(1, 0.0), (2, 0.0), (3, 1.0), (10, 1.0)])
def test_recall_at_k_counts_a_hit_within_top_k(k: int, expected: float) -> None:
    assert recall_at_k(RANKING, {"p3"}, k) == expected


def test_recall_at_k_is_one_when_any_of_several_gold_is_in_top_k() -> None:
    assert recall_at_k(RANKING, {"p5", "p2", "missing"}, 2) == 1.0


def test_recall_at_k_with_empty_gold_or_ranking_is_zero() -> None:
    assert recall_at_k(RANKING, set(), 5) == 0.0
    assert recall_at_k([], {"p1"}, 5) == 0.0


def test_recall_at_k_rejects_k_below_one() -> None:
    with pytest.raises(ValueError):
        recall_at_k(RANKING, {"p1"}, 0)


def test_reciprocal_rank_with_gold_at_rank_three() -> None:
    assert reciprocal_rank(RANKING, {"p3"}) == pytest.approx(1 / 3)


def test_reciprocal_rank_uses_the_first_gold_anchor() -> None:
    assert reciprocal_rank(RANKING, {"p4", "p2"}) == pytest.approx(0.5)


def test_reciprocal_rank_without_gold_in_ranking_is_zero() -> None:
    assert reciprocal_rank(RANKING, {"other"}) == 0.0
    assert reciprocal_rank([], {"p1"}) == 0.0
    assert reciprocal_rank(RANKING, set()) == 0.0


def test_ndcg_with_single_gold_at_rank_two() -> None:
    assert ndcg_at_k(RANKING, {"p2"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(RANKING, {"p2"}) == pytest.approx(0.6309298)


def test_ndcg_with_gold_at_rank_one_is_one() -> None:
    assert ndcg_at_k(RANKING, {"p1"}) == pytest.approx(1.0)


def test_ndcg_with_two_gold_at_ranks_one_and_three() -> None:
    # DCG = 1 + 1/log2(4) = 1.5; ideal DCG = 1 + 1/log2(3).
    assert ndcg_at_k(RANKING, {"p1", "p3"}) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(RANKING, {"p1", "p3"}) == pytest.approx(0.9197207)


def test_ndcg_ideal_is_capped_at_k_relevant_items() -> None:
    # Three gold anchors but k = 2: the ideal has two relevant items, DCG has one.
    assert ndcg_at_k(RANKING, {"p1", "x", "y"}, k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_counts_a_gold_anchor_ranked_twice_only_once() -> None:
    assert ndcg_at_k(["p1", "p1", "p2"], {"p1"}) == pytest.approx(1.0)


def test_ndcg_ignores_gold_beyond_k() -> None:
    ranking = [f"p{i}" for i in range(1, 12)]
    assert ndcg_at_k(ranking, {"p11"}) == 0.0
    assert ndcg_at_k(ranking, {"p10"}) == pytest.approx(1 / math.log2(11))
    assert ndcg_at_k(RANKING, {"p3"}, k=2) == 0.0


def test_ndcg_with_empty_gold_is_zero() -> None:
    assert ndcg_at_k(RANKING, set()) == 0.0


def test_ndcg_rejects_k_below_one() -> None:
    with pytest.raises(ValueError):
        ndcg_at_k(RANKING, {"p1"}, k=0)


# --------------------------------------------------------------------------- key facts


def test_key_fact_recall_counts_satisfied_groups() -> None:
    text = "The limit is 50 km/h in towns [1]."
    facts = [["50 km/h", "fifty"], ["motorways"], ["TOWNS"]]
    assert key_fact_recall(text, facts, abstained=False) == pytest.approx(2 / 3)


def test_key_fact_recall_normalises_whitespace_and_case() -> None:
    text = "It is Fifty\n   KILOMETRES an hour."
    assert key_fact_recall(text, [["fifty  kilometres"]], abstained=False) == 1.0


def test_key_fact_recall_ignores_markers_inside_a_fact() -> None:
    text = "It follows UN Regulation [2] 79."
    assert key_fact_recall(text, [["regulation 79"]], abstained=False) == 1.0


def test_key_fact_recall_of_abstention_is_zero() -> None:
    text = "I cannot answer; the documents mention 50 km/h only in passing."
    assert key_fact_recall(text, [["50 km/h"]], abstained=True) == 0.0


def test_key_fact_recall_with_no_key_facts() -> None:
    assert key_fact_recall("anything", [], abstained=False) == 1.0
    assert key_fact_recall("anything", [], abstained=True) == 0.0


def test_key_fact_recall_blank_alternatives_never_match() -> None:
    assert key_fact_recall("the limit", [["", "  "], ["limit"], []], abstained=False) == (
        pytest.approx(1 / 3)
    )


def test_key_fact_recall_with_nothing_satisfied_is_zero() -> None:
    assert key_fact_recall("nothing relevant", [["a fact"], ["b fact"]], abstained=False) == 0.0


# --------------------------------------------------------------------------- token F1


def test_token_f1_removes_articles_punctuation_and_markers() -> None:
    # prediction -> [speed, limit, is, 50, kmh]; reference -> [speedlimit, of, 50, kmh]
    # overlap 2: precision 2/5, recall 2/4, F1 = 4/9.
    prediction = "The speed limit is 50 km/h [1]."
    reference = "a speed-limit of 50 km/h"
    assert token_f1(prediction, reference) == pytest.approx(4 / 9)


def test_token_f1_identical_after_normalisation_is_one() -> None:
    assert token_f1("The cat sat.", "a cat, sat!") == pytest.approx(1.0)
    assert token_f1("an apple", "Apple") == pytest.approx(1.0)


def test_token_f1_removes_only_whole_word_articles() -> None:
    assert token_f1("theory", "ory") == 0.0
    assert token_f1("the theory", "theory") == pytest.approx(1.0)


def test_token_f1_counts_overlap_as_a_multiset() -> None:
    # overlap min(3, 1) = 1: precision 1/3, recall 1/2, F1 = 0.4.
    assert token_f1("red red red", "red blue") == pytest.approx(0.4)
    # overlap min(2, 2) = 2 (a set overlap would give 1): precision 1, recall 2/3, F1 = 0.8.
    assert token_f1("red red", "red red blue") == pytest.approx(0.8)


def test_token_f1_strips_citation_markers_from_prediction() -> None:
    # Without stripping, "[2]" would add a second "2" token and give F1 2/3.
    assert token_f1("[2] 2", "2") == pytest.approx(1.0)


def test_token_f1_treats_unicode_punctuation_as_punctuation() -> None:
    assert token_f1("the vehicle\u2019s brakes \u2014 checked", "vehicle's brakes checked") == (
        pytest.approx(1.0)
    )


def test_token_f1_with_no_overlap_is_zero() -> None:
    assert token_f1("blue sky", "green grass") == 0.0


def test_token_f1_empty_cases() -> None:
    assert token_f1("", "") == 1.0
    assert token_f1("The.", "a") == 1.0
    assert token_f1("[1]", "answer") == 0.0
    assert token_f1("answer", "") == 0.0


# --------------------------------------------------------------------------- word count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The limit is 50 km/h [1].", 5),
        ("word[1]word", 2),
        ("[1][2]", 0),
        ("", 0),
        ("Yes \u2014 it applies [3] everywhere.", 4),
    ],
)
def test_answer_word_count(text: str, expected: int) -> None:
    assert answer_word_count(text) == expected


# --------------------------------------------------------------------------- citations


def _citation(n: int, anchor: str, text: str, quote: str) -> dict[str, Any]:
    return {"n": n, "anchor": anchor, "doc": "doc", "section": None, "text": text, "quote": quote}


def _answer(text: str, citations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "question": "q?",
        "answer": text,
        "abstained": False,
        "citations": citations,
        "passages": [{"anchor": a, "text": "", "score": 1.0} for a in ("p1", "p2", "p3")],
        "model": "m",
        "timings_ms": {"retrieval": 1.0, "first_token": 2.0, "total": 3.0},
    }


GOOD_1 = _citation(1, "p1", "The limit is 50 km/h.", "limit is 50")
GOOD_2 = _citation(2, "p2", "It applies in\n  built-up   areas.", "applies in built-up\tareas")


def test_valid_answer_has_no_invalid_citations() -> None:
    # GOOD_2's quote only matches its text after whitespace normalisation.
    assert invalid_citations(_answer("Limit is 50 [1] in towns [2].", [GOOD_1, GOOD_2])) == 0


def test_answer_without_citations_or_markers_is_valid() -> None:
    assert invalid_citations(_answer("No markers here.", [])) == 0


def test_citation_without_marker_is_not_a_break() -> None:
    assert invalid_citations(_answer("Limit is 50 [1].", [GOOD_1, GOOD_2])) == 0


def test_marker_without_citation_counts_once_per_number() -> None:
    text = "Limit is 50 [1] [3], as [3] and [4] say."
    assert invalid_citations(_answer(text, [GOOD_1])) == 2


def test_quote_not_verbatim_is_a_break() -> None:
    bad = _citation(1, "p1", "The limit is 50 km/h.", "limit was 50")
    assert invalid_citations(_answer("x [1]", [bad])) == 1


def test_quote_match_is_case_sensitive() -> None:
    bad = _citation(1, "p1", "The limit is 50 km/h.", "The Limit")
    assert invalid_citations(_answer("x [1]", [bad])) == 1


def test_empty_quote_is_a_break() -> None:
    bad = _citation(1, "p1", "The limit is 50 km/h.", " \n ")
    assert invalid_citations(_answer("x [1]", [bad])) == 1


def test_anchor_not_among_passages_is_a_break() -> None:
    bad = _citation(1, "p9", "The limit is 50 km/h.", "limit is 50")
    assert invalid_citations(_answer("x [1]", [bad])) == 1


def test_citation_breaking_two_rules_counts_once() -> None:
    bad = _citation(1, "p9", "The limit is 50 km/h.", "not in the text")
    assert invalid_citations(_answer("x [1]", [bad])) == 1


def test_breaks_add_up_across_rules() -> None:
    bad_anchor = _citation(2, "p9", "The limit is 50 km/h.", "limit is 50")
    text = "a [1] b [2] c [5]"
    assert invalid_citations(_answer(text, [GOOD_1, bad_anchor])) == 2


# --------------------------------------------------------------------------- score_question

GOLD_ITEM: dict[str, Any] = {
    "id": "q1",
    "question": "What is the speed limit in towns?",
    "answer": "A 50 km/h limit applies in towns.",
    "key_facts": [["50 km/h"], ["towns"], ["motorways"]],
    "evidence": ["The limit is 50 km/h."],
    "answerable": True,
}


def _full_answer() -> dict[str, Any]:
    return {
        "question": GOLD_ITEM["question"],
        "answer": "The limit is 50 km/h [1] in towns [2] [3].",
        "abstained": False,
        "citations": [
            _citation(1, "p2", "The limit is 50 km/h.", "limit is 50 km/h"),
            _citation(2, "p3", "Towns are built-up areas.", "towns are built-up"),  # not verbatim
        ],
        "passages": [
            {"anchor": a, "text": "", "score": s}
            for a, s in (("p1", 0.9), ("p2", 0.8), ("p3", 0.7), ("p4", 0.6))
        ],
        "model": "m",
        "timings_ms": {"retrieval": 12.0, "first_token": 210.0, "total": 1234.5},
    }


def test_score_question_computes_every_field() -> None:
    score = score_question(GOLD_ITEM, {"p2", "p4"}, _full_answer())

    assert score.id == "q1"
    assert score.answerable is True
    assert score.abstained is False
    assert score.recall_at_1 == 0.0
    assert score.recall_at_3 == 1.0
    assert score.recall_at_5 == 1.0
    assert score.reciprocal_rank == pytest.approx(0.5)
    # Gold at ranks 2 and 4; the ideal puts both at ranks 1 and 2.
    expected_ndcg = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert score.ndcg_at_10 == pytest.approx(expected_ndcg)
    assert score.key_fact_recall == pytest.approx(2 / 3)
    # prediction [limit, is, 50, kmh, in, towns] vs [50, kmh, limit, applies, in, towns]
    assert score.token_f1 == pytest.approx(5 / 6)
    assert score.cited_anchors == ("p2", "p3")
    assert score.cited_gold == 1
    assert score.n_citations == 2
    assert score.cites_gold is True
    # marker [3] has no citation; citation 2's quote is not verbatim.
    assert score.invalid == 2
    assert score.latency_ms == 1234.5
    assert score.first_token_ms == 210.0
    assert score.answer_words == 7


def test_score_question_counts_duplicate_citations_of_a_gold_anchor() -> None:
    answer = _full_answer()
    answer["answer"] = "The limit is 50 km/h [1] [2]."
    answer["citations"] = [
        _citation(1, "p2", "The limit is 50 km/h.", "limit is 50"),
        _citation(2, "p2", "The limit is 50 km/h.", "50 km/h"),
    ]
    score = score_question(GOLD_ITEM, {"p2"}, answer)
    assert score.cited_anchors == ("p2", "p2")
    assert score.cited_gold == 2
    assert score.n_citations == 2
    assert score.invalid == 0


def test_score_question_without_citations() -> None:
    answer = _full_answer()
    answer["answer"] = "The limit is 50 km/h."
    answer["citations"] = []
    score = score_question(GOLD_ITEM, {"p2"}, answer)
    assert score.cited_anchors == ()
    assert score.cited_gold == 0
    assert score.n_citations == 0
    assert score.cites_gold is False
    assert score.invalid == 0


def test_score_question_abstention_on_answerable_item_scores_zero_answer_quality() -> None:
    answer = _full_answer()
    answer.update(abstained=True, answer="The limit in towns is not stated.", citations=[])
    del answer["timings_ms"]["first_token"]
    score = score_question(GOLD_ITEM, {"p2"}, answer)
    assert score.abstained is True
    assert score.key_fact_recall == 0.0
    assert score.token_f1 == 0.0
    assert score.first_token_ms is None
    assert score.answer_words == 7


def test_score_question_abstention_on_unanswerable_item() -> None:
    gold = {**GOLD_ITEM, "id": 7, "answer": "", "key_facts": [], "answerable": False}
    answer = _full_answer()
    answer.update(abstained=True, answer="Not in the documents.", citations=[])
    answer["timings_ms"]["first_token"] = None
    score = score_question(gold, set(), answer)
    assert score.id == "7"
    assert score.answerable is False
    assert score.recall_at_5 == 0.0
    assert score.reciprocal_rank == 0.0
    assert score.ndcg_at_10 == 0.0
    assert score.key_fact_recall == 0.0
    assert score.token_f1 == 1.0
    assert score.first_token_ms is None


def test_question_score_is_frozen() -> None:
    score = score_question(GOLD_ITEM, {"p2"}, _full_answer())
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.invalid = 0  # type: ignore[misc]


# --------------------------------------------------------------------------- percentile


def test_percentile_median_of_even_length_list_interpolates() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)


def test_percentile_interpolates_between_neighbours() -> None:
    # position (4 - 1) * 0.95 = 2.85 -> 30 + 0.85 * (40 - 30)
    assert percentile([10.0, 20.0, 30.0, 40.0], 95) == pytest.approx(38.5)


def test_percentile_bounds_and_single_value() -> None:
    values = [5.0, 1.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 50) == 3.0
    assert percentile([7.0], 95) == 7.0


def test_percentile_rejects_empty_input_and_bad_q() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([1.0], -1)


# --------------------------------------------------------------------------- aggregate


def _score(**fields: Any) -> QuestionScore:
    defaults: dict[str, Any] = {
        "id": "q",
        "answerable": True,
        "abstained": False,
        "recall_at_1": 0.0,
        "recall_at_3": 0.0,
        "recall_at_5": 0.0,
        "reciprocal_rank": 0.0,
        "ndcg_at_10": 0.0,
        "key_fact_recall": 0.0,
        "token_f1": 0.0,
        "cited_anchors": (),
        "cited_gold": 0,
        "n_citations": 0,
        "cites_gold": False,
        "invalid": 0,
        "latency_ms": 100.0,
        "first_token_ms": None,
        "answer_words": 0,
    }
    return QuestionScore(**{**defaults, **fields})


def _mixed_run() -> list[QuestionScore]:
    return [
        _score(
            id="a1",
            recall_at_1=1.0,
            recall_at_3=1.0,
            recall_at_5=1.0,
            reciprocal_rank=1.0,
            ndcg_at_10=1.0,
            key_fact_recall=1.0,
            token_f1=0.8,
            cited_anchors=("g", "g", "x"),
            cited_gold=2,
            n_citations=3,
            cites_gold=True,
            latency_ms=100.0,
            first_token_ms=10.0,
        ),
        _score(
            id="a2",
            recall_at_3=1.0,
            recall_at_5=1.0,
            reciprocal_rank=0.5,
            ndcg_at_10=0.5,
            key_fact_recall=0.5,
            token_f1=0.4,
            cited_anchors=("x",),
            n_citations=1,
            invalid=2,
            latency_ms=200.0,
        ),
        _score(
            id="a3",
            abstained=True,
            recall_at_5=1.0,
            reciprocal_rank=0.2,
            ndcg_at_10=0.3,
            latency_ms=300.0,
            first_token_ms=30.0,
        ),
        _score(
            id="u1",
            answerable=False,
            abstained=True,
            invalid=1,
            latency_ms=400.0,
            first_token_ms=40.0,
        ),
        # Its citation is outside citation precision, which covers answerable questions only.
        _score(
            id="u2",
            answerable=False,
            cited_anchors=("y",),
            n_citations=1,
            invalid=1,
            latency_ms=1000.0,
        ),
    ]


def test_aggregate_mixed_run() -> None:
    # Rounded values compare exactly: rounding to 4 decimals is part of the contract.
    assert aggregate(_mixed_run()) == {
        "n": 5,
        "n_answerable": 3,
        "retrieval": {
            "recall@1": 0.3333,
            "recall@3": 0.6667,
            "recall@5": 1.0,
            "mrr": 0.5667,
            "ndcg@10": 0.6,
        },
        "answer": {"key_fact_recall": 0.5, "token_f1": 0.4},
        # 2 of the 4 citations in answerable answers are gold; 1 of 3 answers cites gold.
        "citations": {"precision": 0.5, "recall": 0.3333, "invalid": 4},
        # TP = u1, FP = a3, FN = u2; correct: a1, a2, u1.
        "abstention": {"precision": 0.5, "recall": 0.5, "accuracy": 0.6},
        # p95 position 4 * 0.95 = 3.8 -> 400 + 0.8 * 600
        "latency_ms": {"p50": 300.0, "p95": 880.0, "first_token_p50": 30.0},
    }


def test_aggregate_when_every_answerable_question_is_abstained() -> None:
    scores = [
        _score(id="a1", abstained=True, recall_at_5=1.0, latency_ms=10.0),
        _score(id="a2", abstained=True, latency_ms=20.0, first_token_ms=5.0),
    ]
    result = aggregate(scores)
    assert result["retrieval"]["recall@5"] == 0.5
    assert result["answer"] == {"key_fact_recall": 0.0, "token_f1": 0.0}
    # No citations were made: precision is 0.0, not a vacuous 1.0.
    assert result["citations"] == {"precision": 0.0, "recall": 0.0, "invalid": 0}
    # Two false positives; recall is 1.0 because there is nothing unanswerable to catch.
    assert result["abstention"] == {"precision": 0.0, "recall": 1.0, "accuracy": 0.0}
    assert result["latency_ms"] == {"p50": 15.0, "p95": 19.5, "first_token_p50": 5.0}


def test_aggregate_with_only_unanswerable_questions_all_abstained() -> None:
    scores = [
        _score(id="u1", answerable=False, abstained=True, invalid=1),
        _score(id="u2", answerable=False, abstained=True),
    ]
    assert aggregate(scores) == {
        "n": 2,
        "n_answerable": 0,
        "retrieval": {
            "recall@1": 0.0,
            "recall@3": 0.0,
            "recall@5": 0.0,
            "mrr": 0.0,
            "ndcg@10": 0.0,
        },
        "answer": {"key_fact_recall": 0.0, "token_f1": 0.0},
        "citations": {"precision": 0.0, "recall": 0.0, "invalid": 1},
        "abstention": {"precision": 1.0, "recall": 1.0, "accuracy": 1.0},
        "latency_ms": {"p50": 100.0, "p95": 100.0, "first_token_p50": None},
    }


def test_aggregate_abstention_when_nothing_is_abstained() -> None:
    only_answerable = aggregate([_score(), _score()])
    assert only_answerable["abstention"] == {"precision": 1.0, "recall": 1.0, "accuracy": 1.0}

    with_unanswerable = aggregate([_score(), _score(answerable=False)])
    assert with_unanswerable["abstention"] == {"precision": 0.0, "recall": 0.0, "accuracy": 0.5}


def test_aggregate_counts_duplicate_citations_in_precision() -> None:
    scores = [
        _score(cited_anchors=("g", "g"), cited_gold=2, n_citations=2, cites_gold=True),
        _score(cited_anchors=("x",), n_citations=1),
    ]
    assert aggregate(scores)["citations"] == {"precision": 0.6667, "recall": 0.5, "invalid": 0}


def test_aggregate_of_no_scores() -> None:
    result = aggregate([])
    assert result["n"] == 0
    assert result["n_answerable"] == 0
    assert result["abstention"] == {"precision": 1.0, "recall": 1.0, "accuracy": 0.0}
    assert result["latency_ms"] == {"p50": 0.0, "p95": 0.0, "first_token_p50": None}


def test_aggregate_from_score_question_end_to_end() -> None:
    score = score_question(GOLD_ITEM, {"p2", "p4"}, _full_answer())
    result = aggregate([score])
    assert result["retrieval"]["ndcg@10"] == 0.6509
    assert result["answer"] == {"key_fact_recall": 0.6667, "token_f1": 0.8333}
    assert result["citations"] == {"precision": 0.5, "recall": 1.0, "invalid": 2}
    assert result["latency_ms"] == {"p50": 1234.5, "p95": 1234.5, "first_token_p50": 210.0}
