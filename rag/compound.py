"""Questions of several parts ("Which states regularised migrants during COVID, and when was
the GCM adopted?"): split into their parts, each part answered on its own, and the answers
joined into one, each part under its own question, with citation markers numbered across
the parts.

Asked whole, such a question retrieved the closest passages of one part: the answer dropped
the other part without saying so, or a check meant for one part (what a how-many part
counts) refused both. A part is only split off when it reads as a question by itself: it
opens with a question word (or, after a question mark, an auxiliary: "Does the report…"),
has a few words, and refers back to no earlier part ("…and why did they do it?" is kept
whole, since "they" is only known from the first part).

A part that is a question phrase alone shares the predicate of the part after it: "How many
stakeholders and how many states submitted reports?" asks "How many stakeholders submitted
reports?" and "How many states submitted reports?" (see `_with_shared_predicates`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from rag.citations import CITATION_MARKER
from rag.questions import IRREGULAR_PAST
from rag.types import Answer, AnswerPart, Citation, Hit

# Parts answered at most: each costs a generation. Those after are refused, saying so.
MAX_PARTS = 3
# "…and why?" or "Which states and when?" is one question with a short tail, not two.
MIN_PART_WORDS = 3

_QUESTION_WORD = r"(?:what|which|who|whom|whose|when|where|why|how)"
_AUXILIARY = r"(?:is|are|was|were|does|do|did|has|have|had|can|could|should|will|would)"
# "…and how the project works" is a clause of the first question, not a second one.
_CLAUSE_OPENING = r"(?:the|a|an|this|that|these|those|its|their|it|they|to|he|she|we|you)"
_PART_AFTER_AND = re.compile(
    rf"\s*[,;]?\s+and\s+(?={_QUESTION_WORD}\b(?!\s+{_CLAUSE_OPENING}\b))"
    rf"|\s*;\s+(?={_QUESTION_WORD}\b)",
    re.IGNORECASE,
)
# "Which states…, when did GRETA…, and what did Belgium…?": a list of questions, its last
# joined by "and", the others by commas. "Which" and "who" after a comma open a relative
# clause more often than a question, so they do not start a part there.
_PART_AFTER_COMMA = re.compile(
    rf",\s+(?=(?:what|when|where|why|how)\b(?!\s+{_CLAUSE_OPENING}\b))", re.IGNORECASE
)
# After a question mark, any sentence is a part: a question or a request ("When was the GCM
# adopted? Compare the approaches of Spain and Sweden.").
_PART_AFTER_QUESTION_MARK = re.compile(rf"(?<=\?)\s+(?=(?i:{_QUESTION_WORD}|{_AUXILIARY})\b|[A-Z])")
# The question phrases that coordinate with a predicate shared: "How many stakeholders and
# how many states submitted reports?", "Which states and which agencies reported detention?"
_PHRASE_OPENING = re.compile(r"\s*(how\s+many|how\s+much|which|what)\s+", re.IGNORECASE)
# A word that shows a verb, without a tagger: an auxiliary, or a lower-case past form
# ("submitted", "regularised", and the irregular ones a report's questions use: "gave",
# "took part"); "United Nations" is a name.
_AUXILIARY_WORD = re.compile(_AUXILIARY)
_VERB_FORM = re.compile(rf"{_AUXILIARY}|[a-z]{{2,}}ed|{IRREGULAR_PAST}")
# A question phrase of more words than this ("How many civil society organisations") may
# hold its own verb in the present tense ("Which states regularise migrants"): where its
# phrase ends cannot be told (see `_with_shared_predicates`).
MAX_PHRASE_WORDS = 2
# Words that point back to something named in an earlier part.
_REFERS_BACK = re.compile(
    r"\b(?:it|its|they|them|their|theirs|this|these|those|such|he|she|him|his|her|hers)\b",
    re.IGNORECASE,
)


def split_question(question: str) -> tuple[str, ...]:
    """The parts of `question`, each written as a question of its own, or `(question,)`
    when it has one part (or parts that cannot stand alone). There may be more than
    `MAX_PARTS`: the caller answers that many (`unanswered_part`)."""
    parts: list[str] = []
    for sentence in _PART_AFTER_QUESTION_MARK.split(question.strip()):
        shared = _with_shared_predicates(_parts_of_sentence(sentence))
        if shared is None:
            return (question,)
        parts += shared
    if len(parts) < 2:
        return (question,)
    if any(len(part.split()) < MIN_PART_WORDS for part in parts):
        return (question,)
    if any(_REFERS_BACK.search(part) for part in parts[1:]):
        return (question,)
    return tuple(_as_question(part) for part in parts)


def _parts_of_sentence(sentence: str) -> list[str]:
    """The questions one sentence joins with "and" (or ";"), and, when it does, those its
    list joins with commas before the "and"."""
    *listed, last = _PART_AFTER_AND.split(sentence)
    if not listed:
        return [last]
    return [part for item in listed for part in _PART_AFTER_COMMA.split(item)] + [last]


def _with_shared_predicates(parts: list[str]) -> list[str] | None:
    """`parts` of one sentence, each that is a question phrase alone ("How many
    stakeholders") given the predicate of a neighbouring part opening with the same
    question words: of the part after it ("how many stakeholders and how many states
    submitted reports" → "How many stakeholders submitted reports"), or, for the last
    part, of the part before it ("how many states submitted reports and how many
    stakeholders?"). None when a phrase alone has no such neighbour, or the neighbour shows
    no verb where its predicate would start: the question is then asked whole rather than
    with a part that asks nothing ("How much money?").

    A part is a question phrase alone when, after "how many", "how much", "which" or
    "what", none of its words shows a verb (`_VERB_FORM`: an auxiliary, a past form,
    regular or not), but for a first word ending in -ed ("how many unaccompanied
    children"). Such a phrase of more than `MAX_PHRASE_WORDS` words may still hold a verb
    in the present tense: beside a part of the same form the question is then asked whole,
    and otherwise it is taken for a question of its own. The predicate starts at the
    first word that shows a verb, after at least one word of its own phrase ("how many
    states | submitted reports", "how many adults | were returned", "how many states |
    took part")."""
    shared = list(parts)
    for position in range(len(shared) - 1, -1, -1):
        opening, words = _question_phrase(shared[position])
        if opening is None or not words or _shows_verb(words):
            continue
        neighbour = position + 1 if position + 1 < len(shared) else position - 1
        if neighbour < 0:
            continue  # the only part: a short question, asked as it is
        neighbour_opening, neighbour_words = _question_phrase(shared[neighbour])
        coordinated = neighbour_opening == opening
        if len(words) > MAX_PHRASE_WORDS:
            if coordinated:
                return None  # a phrase, or a question with a verb in the present tense
            continue  # "Which states regularise migrants", before "when was…"
        start = _first_verb(neighbour_words, after=1) if coordinated else None
        if start is None:
            return None
        predicate = " ".join(neighbour_words[start:])
        shared[position] = f"{shared[position].rstrip(' ,;?')} {predicate}"
    return shared


def _question_phrase(part: str) -> tuple[str | None, list[str]]:
    """The question words `part` opens with ("how many"), in lower case, and its words after
    them; (None, []) when it opens with none of `_PHRASE_OPENING`'s."""
    opening = _PHRASE_OPENING.match(part)
    if opening is None:
        return None, []
    return " ".join(opening.group(1).lower().split()), part[opening.end() :].split()


def _first_verb(words: Sequence[str], after: int) -> int | None:
    """The position of the first of `words` from position `after` on that shows a verb."""
    for position in range(after, len(words)):
        if _VERB_FORM.fullmatch(words[position].strip(",;:.?!")):
            return position
    return None


def _shows_verb(words: Sequence[str]) -> bool:
    """Whether a question phrase's `words` show a verb: an auxiliary anywhere, or a past
    form after the first word (which may be an adjective: "unaccompanied children")."""
    first = words[0].strip(",;:.?!")
    return _AUXILIARY_WORD.fullmatch(first) is not None or _first_verb(words, after=1) is not None


# A question word or auxiliary among the first words: "When was…", "In which city…", "For
# how long…"; "Compare the approaches…" and "List the objectives…" ask as requests.
_ASKS = re.compile(rf"^(?:\S+\s+){{0,2}}(?:{_QUESTION_WORD}|{_AUXILIARY})\b", re.IGNORECASE)


def _as_question(part: str) -> str:
    """A part with a capital first letter, ending as it asks: a question mark after a
    question ("When was the GCM adopted?"), a full stop after a request ("Compare the
    approaches of Italy and Portugal.")."""
    part = part.strip().rstrip(" ,;?.")
    ending = "?" if _ASKS.match(part) else "."
    return f"{part[:1].upper()}{part[1:]}{ending}"


# The answer's mode, by how much model work the parts' answers involve.
_MODE_ORDER = ("generated", "extractive", "index", "abstained")


def joined_answer(
    question: str,
    answers: Sequence[Answer],
    model: str,
    timings_ms: dict[str, float | None],
) -> Answer:
    """One answer to `question` from the answers to its parts: each part's question on a
    line, its answer (or its refusal and why) below, markers renumbered so that one passage
    quoted for two parts keeps one number; the same parts, as data, in `Answer.parts`.
    Refused, as the parts are, when every part is."""
    hits = merged_hits([answer.hits for answer in answers])
    numbers: dict[tuple[str, str], int] = {}
    citations: list[Citation] = []
    parts: list[AnswerPart] = []
    for answer in answers:
        if answer.abstained:
            why = f" ({answer.abstention_reason})" if answer.abstention_reason else ""
            parts.append(
                AnswerPart(
                    question=answer.question,
                    answer=f"{_part_refusal(answer.answer)}{why}.",
                    abstained=True,
                    abstention_reason=answer.abstention_reason,
                    citation_numbers=(),
                )
            )
            continue
        renumbered: dict[int, int] = {}
        for citation in answer.citations:
            key = (citation.anchor, citation.quote)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(dataclasses.replace(citation, n=numbers[key]))
            renumbered[citation.n] = numbers[key]
        parts.append(
            AnswerPart(
                question=answer.question,
                answer=_renumbered(answer.answer, renumbered),
                abstained=False,
                abstention_reason=None,
                citation_numbers=tuple(dict.fromkeys(renumbered.values())),
            )
        )
    if all(part.abstained for part in parts):
        reasons = "; ".join(
            f"“{part.question}”: {part.abstention_reason or 'not answered'}" for part in parts
        )
        return Answer(
            question=question,
            answer=answers[0].answer,  # the parts were asked of the same reports
            abstained=True,
            citations=(),
            hits=hits,
            model=model,
            timings_ms=timings_ms,
            mode="abstained",
            abstention_reason=f"no part of the question is answered ({reasons})",
            parts=tuple(parts),
        )
    return Answer(
        question=question,
        answer="\n\n".join(f"{part.question}\n{part.answer}" for part in parts),
        abstained=False,
        citations=tuple(citations),
        hits=hits,
        model=model,
        timings_ms=timings_ms,
        mode=min((answer.mode for answer in answers), key=_mode_rank),
        weak_evidence=any(answer.weak_evidence for answer in answers),
        parts=tuple(parts),
    )


def _renumbered(text: str, numbers: dict[int, int]) -> str:
    """`text` with each marker `[n]` made `[numbers[n]]`."""
    return CITATION_MARKER.sub(lambda marker: f"[{numbers[int(marker.group(1))]}]", text)


def _mode_rank(mode: str) -> int:
    return _MODE_ORDER.index(mode) if mode in _MODE_ORDER else len(_MODE_ORDER)


def unanswered_part(part: str, model: str) -> Answer:
    """The refusal of a part after the first `MAX_PARTS`, which is not asked (four questions
    in one were refused whole, with the reason of one of them). It says that it was not
    asked, not that the reports do not answer it."""
    return Answer(
        question=part,
        answer="Not answered.",
        abstained=True,
        citations=(),
        hits=(),
        model=model,
        timings_ms={},
        mode="abstained",
        abstention_reason=(
            f"only the first {MAX_PARTS} parts of a question are answered; ask this one on its own"
        ),
    )


def _part_refusal(refusal: str) -> str:
    """ "The indexed reports do not answer this question." said of one part."""
    return refusal.rstrip(".").replace("this question", "this part of the question")


def merged_hits(rankings: Sequence[Sequence[Hit]]) -> tuple[Hit, ...]:
    """The passages of `rankings`, each once (first place kept), ranked in that order."""
    seen: dict[str, Hit] = {}
    for ranking in rankings:
        for hit in ranking:
            seen.setdefault(hit.passage.anchor, hit)
    return tuple(dataclasses.replace(hit, rank=rank) for rank, hit in enumerate(seen.values()))
