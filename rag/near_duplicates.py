"""Near-duplicate documents: one report indexed twice from two files whose bytes differ (a
revised edition, the same text as .md and .txt, a PDF and its Word original).

Files with the same bytes are already indexed once (`rag.corpus`); these are not, and then
answers cite both and "Which reports…?" lists both. Two documents are compared by their
word 5-grams ("shingles", Broder 1997), read from their passages: the share of the shorter
document's shingles that the other also holds. A copy, however converted, shares nearly
all of them; an edited sentence loses only the few shingles that span its changes; text
added to one edition lowers nothing, since the share is of the shorter one. Distinct reports
on the same topics share set phrases only ("the Global Compact for Safe, Orderly and
Regular Migration").

Two reports written to one template (a ministry's "National Migration Report" for each of two
states) share most shingles too, but not their figures: one state granted 900 visas, the
other 1,450. An edition keeps most of its figures, so a pair is flagged only when the other
document also holds the shorter one's figures, in the same share; a document without figures
(years aside, which reports of one period share) is judged by its shingles alone.

Deterministic and cheap: shingles are hashed to 64-bit integers with numpy, and only the
shingles that several documents hold are counted, pair by pair.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from rag.questions import YEAR
from rag.text import PARAGRAPH_BREAK, words

# Words per shingle. Measured on the six reports of eval/multidoc's index (the seed and the
# five fictional ones): the largest share between two of them is 0.089 with 3 words, 0.055
# with 4, 0.040 with 5 and 0.033 with 6; longer shingles make each edited word cost more.
SHINGLE_WORDS = 5
# Documents sharing at least this share of the shorter one's shingles are flagged. Measured
# with SHINGLE_WORDS on those six reports: at most 0.040 between any two of them; 1.000
# between a report and its conversion to another format (.md as .txt; HTML, PDF and Word as
# text); with sentences rewritten at random (10 draws a report), 0.88 or more for 3
# sentences, 0.68 for a fifth of them, 0.58 for 30 %, 0.50 to 0.68 for 40 % and 0.35 to
# 0.58 for half. So an edition is flagged until some 40 % of its sentences are rewritten,
# and the threshold is 12 times the largest share between distinct reports.
NEAR_DUPLICATE_SHARE = 0.5
# Odd 64-bit multiplier of the polynomial hash that combines a shingle's word ids (the
# golden-ratio constant); arithmetic wraps around modulo 2**64.
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# A figure as written: "900", "1,450", "5.9".
_FIGURE = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class NearDuplicate:
    """Two documents that hold largely the same text: `shared` (0..1) of the shingles of
    `shorter` (the one with fewer; of two as long, the first by id) are also in `other`."""

    shorter: str
    other: str
    shared: float


def as_percent(share: float) -> str:
    """`share` (0..1) as a whole percentage rounded down, so that a text not wholly shared
    never reads "100%"."""
    return f"{round(share * 1000) // 10}%"


def find_near_duplicates(
    texts_by_document: Mapping[str, Iterable[str]], threshold: float = NEAR_DUPLICATE_SHARE
) -> list[NearDuplicate]:
    """The pairs of documents (ids of `texts_by_document`, each with its passages' texts)
    sharing at least `threshold` of the shorter one's shingles, most similar first (then by
    id). The share is rounded to 3 decimals, so that it reads the same wherever it is kept."""
    vocabulary: dict[str, int] = {}
    doc_ids = sorted(texts_by_document)
    shingles = [_shingles(texts_by_document[doc_id], vocabulary) for doc_id in doc_ids]
    shared = _shared_counts(shingles)
    found = []
    figures = [_figures(texts_by_document[doc_id]) for doc_id in doc_ids]
    for (first, second), count in shared.items():
        sizes = (len(shingles[first]), len(shingles[second]))
        share = round(count / min(sizes), 3)
        if share < threshold:
            continue
        shorter, other = (first, second) if sizes[0] <= sizes[1] else (second, first)
        own = figures[shorter]
        if own and len(own & figures[other]) < threshold * len(own):
            continue
        found.append(NearDuplicate(doc_ids[shorter], doc_ids[other], share))
    return sorted(found, key=lambda pair: (-pair.shared, pair.shorter, pair.other))


def near_duplicates_of(pairs: Iterable[NearDuplicate]) -> dict[str, tuple[tuple[str, float], ...]]:
    """For each document in `pairs`, the other documents it nearly duplicates, with their
    shares, by id."""
    partners: dict[str, list[tuple[str, float]]] = {}
    for pair in pairs:
        partners.setdefault(pair.shorter, []).append((pair.other, pair.shared))
        partners.setdefault(pair.other, []).append((pair.shorter, pair.shared))
    return {doc_id: tuple(sorted(found)) for doc_id, found in partners.items()}


def _figures(texts: Iterable[str]) -> set[str]:
    """The numbers written in `texts` ("900", "1,450", "5.9"), years left out."""
    return {
        figure for text in texts for figure in _FIGURE.findall(text) if not YEAR.fullmatch(figure)
    }


def _shingles(texts: Iterable[str], vocabulary: dict[str, int]) -> np.ndarray:
    """The distinct hashed shingles of `texts`. None crosses from one paragraph to the next
    (a heading is a paragraph): formats part a heading from its text differently (Markdown's
    passages hold it, plain text's stand alone). A paragraph shorter than a shingle is one
    shingle of its own."""
    parts = []
    paragraphs = (paragraph for text in texts for paragraph in PARAGRAPH_BREAK.split(text))
    for paragraph in paragraphs:
        ids = np.array(
            [vocabulary.setdefault(word, len(vocabulary) + 1) for word in words(paragraph)],
            dtype=np.uint64,
        )
        if not len(ids):
            continue
        width = min(SHINGLE_WORDS, len(ids))
        count = len(ids) - width + 1
        hashes = np.zeros(count, dtype=np.uint64)
        for offset in range(width):
            hashes = hashes * _MULTIPLIER + ids[offset : offset + count]
        parts.append(hashes)
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.uint64)


def _shared_counts(shingles: list[np.ndarray]) -> Counter[tuple[int, int]]:
    """How many shingles each pair of documents (by position, lower first) shares: only
    shingles held by several documents are visited, so distinct reports cost little."""
    hashes = np.concatenate([*shingles, np.zeros(0, dtype=np.uint64)])
    owners = np.repeat(np.arange(len(shingles)), [len(part) for part in shingles])
    order = np.argsort(hashes, kind="stable")  # stable: owners stay ascending within a hash
    hashes, owners = hashes[order], owners[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    ends = np.r_[starts[1:], len(hashes)]
    several = ends - starts > 1
    counts: Counter[tuple[int, int]] = Counter()
    for start, end in zip(starts[several].tolist(), ends[several].tolist(), strict=True):
        counts.update(itertools.combinations(owners[start:end].tolist(), 2))
    return counts
