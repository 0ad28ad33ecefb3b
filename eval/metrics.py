"""Metric functions for the offline evaluation of the question-answering assistant.

The evaluation runner pairs each gold item with the assistant's serialised answer
(`Answer.to_dict()`) and with the item's *gold anchors* (the retrieved-passage anchors that
overlap the item's evidence, which the runner computes). This module turns one such triple
into a `QuestionScore` and a run's scores into the summary dict written to the report. It
covers retrieval quality (recall@k, reciprocal rank, nDCG), answer quality (key-fact recall,
SQuAD-style token F1), citation quality (precision, recall, contract breaks), abstention
and latency. Every function is pure and uses only the standard library.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rag.text import normalise_whitespace

CITATION_MARKER = re.compile(r"\[(\d+)\]")

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_ROUND_TO = 4


def _strip_markers(text: str) -> str:
    # A space, not "", so that "fact[1]next" does not fuse two words into one.
    return CITATION_MARKER.sub(" ", text)


# --------------------------------------------------------------------------- retrieval


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def recall_at_k(ranked_anchors: Sequence[str], gold: set[str], k: int) -> float:
    """Return 1.0 if any gold anchor is among the first `k` ranked anchors, else 0.0.

    This is "hit rate" recall: one relevant passage is enough to ground an answer.
    Raises `ValueError` when `k` < 1.
    """
    _check_k(k)
    return 1.0 if any(anchor in gold for anchor in ranked_anchors[:k]) else 0.0


def reciprocal_rank(ranked_anchors: Sequence[str], gold: set[str]) -> float:
    """Return 1 / (1-based rank of the first gold anchor), or 0.0 when none is ranked."""
    for position, anchor in enumerate(ranked_anchors, start=1):
        if anchor in gold:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked_anchors: Sequence[str], gold: set[str], k: int = 10) -> float:
    """Return binary-relevance nDCG over the first `k` ranked anchors.

    DCG sums 1 / log2(rank + 1) over the 1-based ranks of gold anchors; the ideal DCG puts
    min(len(gold), k) relevant items at the top. A gold anchor ranked twice counts only at
    its first rank, so the score cannot exceed 1.0. Returns 0.0 when `gold` is empty.
    Raises `ValueError` when `k` < 1.
    """
    _check_k(k)
    if not gold:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for position, anchor in enumerate(ranked_anchors[:k], start=1):
        if anchor in gold and anchor not in seen:
            seen.add(anchor)
            dcg += 1.0 / math.log2(position + 1)
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(gold), k) + 1))
    return dcg / ideal


# --------------------------------------------------------------------------- answers


def key_fact_recall(answer_text: str, key_facts: list[list[str]], abstained: bool) -> float:
    """Return the share of key-fact groups the answer text satisfies.

    A group is satisfied when any of its strings occurs in the answer, compared
    case-insensitively after whitespace normalisation and after removing `[n]` markers
    (a marker placed inside a phrase must not hide the fact). Blank alternatives never
    match, so an empty or all-blank group is never satisfied.

    An abstention scores 0.0: it states no facts. An item with no key facts scores 1.0
    (nothing was required, so nothing is missing) unless the answer abstained.
    """
    if abstained:
        return 0.0
    if not key_facts:
        return 1.0
    haystack = normalise_whitespace(_strip_markers(answer_text)).casefold()
    satisfied = 0
    for group in key_facts:
        needles = (normalise_whitespace(fact).casefold() for fact in group)
        if any(needle and needle in haystack for needle in needles):
            satisfied += 1
    return satisfied / len(key_facts)


def _is_punctuation(char: str) -> bool:
    # ASCII punctuation as in the SQuAD script, plus Unicode punctuation so that curly
    # quotes and dashes in generated text are treated like their ASCII forms.
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def _squad_tokens(text: str) -> list[str]:
    lowered = text.lower()
    without_punctuation = "".join(char for char in lowered if not _is_punctuation(char))
    without_articles = _ARTICLES.sub(" ", without_punctuation)
    return without_articles.split()


def token_f1(prediction: str, reference: str) -> float:
    """Return SQuAD-style token F1 between a predicted and a reference answer.

    Both texts are lowercased, stripped of punctuation and of the articles a/an/the, and
    split on whitespace; `[n]` citation markers are removed from the prediction first.
    Overlap counts tokens as a multiset. When both token lists are empty the score is 1.0;
    when exactly one is empty it is 0.0.
    """
    predicted = _squad_tokens(_strip_markers(prediction))
    expected = _squad_tokens(reference)
    if not predicted or not expected:
        return 1.0 if predicted == expected else 0.0
    overlap = sum((Counter(predicted) & Counter(expected)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted)
    recall = overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def answer_word_count(answer_text: str) -> int:
    """Return the number of words in the answer text, not counting `[n]` markers.

    A whitespace-separated token counts as a word only if it has a letter or digit, so the
    "." left behind by removing the marker in "... [1]." is not a word.
    """
    return sum(
        1 for token in _strip_markers(answer_text).split() if any(c.isalnum() for c in token)
    )


# --------------------------------------------------------------------------- citations


def invalid_citations(answer: Mapping[str, Any]) -> int:
    """Count the ways an answer breaks the citation contract.

    One break is counted for:

    - each distinct marker number `[n]` in the answer text that has no citation with that
      `n` (a number repeated in the text counts once);
    - each citation whose anchor is not among the anchors of the answer's passages, or
      whose quote is empty or, after whitespace normalisation of both, is not a
      case-sensitive substring of the citation's text.

    A citation breaking several of these rules still counts once: the count is the number
    of faulty citations, not of faults.
    """
    citations: Sequence[Mapping[str, Any]] = answer.get("citations") or []
    passages: Sequence[Mapping[str, Any]] = answer.get("passages") or []
    cited_numbers = {citation.get("n") for citation in citations}
    marker_numbers = {int(n) for n in CITATION_MARKER.findall(answer.get("answer") or "")}
    breaks = len(marker_numbers - cited_numbers)

    passage_anchors = {passage.get("anchor") for passage in passages}
    for citation in citations:
        quote = normalise_whitespace(citation.get("quote") or "")
        text = normalise_whitespace(citation.get("text") or "")
        if citation.get("anchor") not in passage_anchors or not quote or quote not in text:
            breaks += 1
    return breaks


# --------------------------------------------------------------------------- per question


@dataclass(frozen=True)
class QuestionScore:
    """All metrics for one gold item and the assistant's answer to it."""

    id: str
    answerable: bool
    abstained: bool
    recall_at_1: float
    recall_at_3: float
    recall_at_5: float
    reciprocal_rank: float
    ndcg_at_10: float
    key_fact_recall: float
    token_f1: float
    # Anchors of the answer's citations in citation order, duplicates kept.
    cited_anchors: tuple[str, ...]
    cited_gold: int
    n_citations: int
    cites_gold: bool
    invalid: int
    latency_ms: float
    first_token_ms: float | None
    answer_words: int


def score_question(
    gold_item: Mapping[str, Any], gold_anchors: set[str], answer: Mapping[str, Any]
) -> QuestionScore:
    """Score one answer against its gold item.

    The ranking is the answer's passages in order; `gold_anchors` are the anchors the runner
    found to overlap the item's evidence. Token F1 of an abstention is computed as if the
    prediction were empty (the SQuAD 2.0 no-answer convention): 0.0 against a non-empty
    reference, 1.0 against an empty one. Latency is `timings_ms["total"]`; the first-token
    time is `timings_ms.get("first_token")`, which may be missing or None.
    """
    ranking = [passage["anchor"] for passage in answer.get("passages") or []]
    abstained = bool(answer["abstained"])
    answer_text: str = answer.get("answer") or ""
    cited_anchors = tuple(citation["anchor"] for citation in answer.get("citations") or [])
    cited_gold = sum(1 for anchor in cited_anchors if anchor in gold_anchors)
    timings: Mapping[str, Any] = answer["timings_ms"]
    first_token = timings.get("first_token")

    return QuestionScore(
        id=str(gold_item["id"]),
        answerable=bool(gold_item["answerable"]),
        abstained=abstained,
        recall_at_1=recall_at_k(ranking, gold_anchors, 1),
        recall_at_3=recall_at_k(ranking, gold_anchors, 3),
        recall_at_5=recall_at_k(ranking, gold_anchors, 5),
        reciprocal_rank=reciprocal_rank(ranking, gold_anchors),
        ndcg_at_10=ndcg_at_k(ranking, gold_anchors, 10),
        key_fact_recall=key_fact_recall(answer_text, gold_item["key_facts"], abstained),
        token_f1=token_f1("" if abstained else answer_text, gold_item["answer"]),
        cited_anchors=cited_anchors,
        cited_gold=cited_gold,
        n_citations=len(cited_anchors),
        cites_gold=cited_gold > 0,
        invalid=invalid_citations(answer),
        latency_ms=float(timings["total"]),
        first_token_ms=None if first_token is None else float(first_token),
        answer_words=answer_word_count(answer_text),
    )


# --------------------------------------------------------------------------- aggregate


def percentile(values: Iterable[float], q: float) -> float:
    """Return the `q`-th percentile (0 <= q <= 100) of `values` by linear interpolation.

    This matches numpy's default method: the sorted values sit at positions 0..n-1 and the
    result is interpolated at position (n - 1) * q / 100, so the median of an even-length
    list is the mean of its two middle values. Raises `ValueError` for an empty input or a
    `q` outside [0, 100].
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _ratio(numerator: int, denominator: int, if_empty: float) -> float:
    return numerator / denominator if denominator else if_empty


def _rounded(metrics: Mapping[str, float | None]) -> dict[str, float | None]:
    return {name: None if v is None else round(v, _ROUND_TO) for name, v in metrics.items()}


def aggregate(scores: Sequence[QuestionScore]) -> dict[str, Any]:
    """Summarise a run's per-question scores; every float is rounded to 4 decimals.

    Returns::

        {"n", "n_answerable",
         "retrieval": {"recall@1", "recall@3", "recall@5", "mrr", "ndcg@10"},
         "answer": {"key_fact_recall", "token_f1"},
         "citations": {"precision", "recall", "invalid"},
         "abstention": {"precision", "recall", "accuracy"},
         "latency_ms": {"p50", "p95", "first_token_p50"}}

    - Retrieval and answer metrics are means over answerable questions (an abstention
      scores 0 for key-fact recall); with no answerable questions they are 0.0.
    - Citation precision is the share of all citations in answers to answerable questions
      that point at a gold passage, each duplicate counting; it is 0.0 when no citation
      was made, because an assistant that never cites has shown no precision. Citation
      recall is the share of answerable questions whose answer cites a gold passage (0.0
      with no answerable questions). `invalid` is the total contract breaks over all
      questions.
    - Abstention treats "unanswerable" as the positive class and abstaining as the
      positive prediction. Precision is 0.0 when nothing was abstained, except that it is
      1.0 when there were also no unanswerable questions (no abstention was called for, so
      none was wrong or missed). Recall is 1.0 when there are no unanswerable questions.
      Accuracy is the share of all questions where `abstained == not answerable`.
    - Latency percentiles use linear interpolation (see `percentile`) over all questions;
      `first_token_p50` is over questions with a first-token time and None if none has one.
      With no scores at all, p50 and p95 are 0.0.
    """
    answerable = [score for score in scores if score.answerable]
    n_unanswerable = len(scores) - len(answerable)

    retrieval = {
        "recall@1": _mean([s.recall_at_1 for s in answerable]),
        "recall@3": _mean([s.recall_at_3 for s in answerable]),
        "recall@5": _mean([s.recall_at_5 for s in answerable]),
        "mrr": _mean([s.reciprocal_rank for s in answerable]),
        "ndcg@10": _mean([s.ndcg_at_10 for s in answerable]),
    }
    answer = {
        "key_fact_recall": _mean([s.key_fact_recall for s in answerable]),
        "token_f1": _mean([s.token_f1 for s in answerable]),
    }

    n_citations = sum(s.n_citations for s in answerable)
    n_cited_gold = sum(s.cited_gold for s in answerable)
    citations = {
        "precision": _ratio(n_cited_gold, n_citations, if_empty=0.0),
        "recall": _mean([1.0 if s.cites_gold else 0.0 for s in answerable]),
    }

    true_pos = sum(1 for s in scores if s.abstained and not s.answerable)
    false_pos = sum(1 for s in scores if s.abstained and s.answerable)
    false_neg = sum(1 for s in scores if not s.abstained and not s.answerable)
    abstention = {
        "precision": _ratio(
            true_pos, true_pos + false_pos, if_empty=1.0 if n_unanswerable == 0 else 0.0
        ),
        "recall": _ratio(true_pos, true_pos + false_neg, if_empty=1.0),
        "accuracy": _mean([1.0 if s.abstained == (not s.answerable) else 0.0 for s in scores]),
    }

    latencies = [s.latency_ms for s in scores]
    first_tokens = [s.first_token_ms for s in scores if s.first_token_ms is not None]
    latency = {
        "p50": percentile(latencies, 50) if latencies else 0.0,
        "p95": percentile(latencies, 95) if latencies else 0.0,
        "first_token_p50": percentile(first_tokens, 50) if first_tokens else None,
    }

    return {
        "n": len(scores),
        "n_answerable": len(answerable),
        "retrieval": _rounded(retrieval),
        "answer": _rounded(answer),
        "citations": {**_rounded(citations), "invalid": sum(s.invalid for s in scores)},
        "abstention": _rounded(abstention),
        "latency_ms": _rounded(latency),
    }
