"""Question analysis: what kind of answer a question expects, and which names, years and
numbered references ("Objective 12") it relies on.

Used twice: to prefer evidence sentences of the expected kind ("How many…" wants a
number, "How long…" a duration, "What is the title of…" or "Which objective…" a heading),
and to abstain when no retrieved passage could answer — a question about a date with no
date in the evidence, a "which countries…" question whose evidence names none, a question
about who holds an office whose evidence names no one beside the title, or a question
about a country, a year or a roundtable the retrieved passages never mention. The rules
are about English question forms, not about any report's content.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from rag.text import normalise_whitespace, stem, words

DATE = "date"
NUMBER = "number"
DURATION = "duration"
NAMES = "name"
PLACES = "place"
TITLE = "title"
LABEL = "label"

_EXPECTS_DATE = re.compile(
    r"^\s*(?:when|by when|since when)\b"
    r"|\b(?:what|which|on what|in what) (?:date|year|month|day|deadline)s?\b"
    # "What was the deadline for…": a deadline is a date.
    r"|^\s*what (?:is|was|are|were) the (?:\w+\s+)?(?:date|deadline)s?\b",
    re.IGNORECASE,
)
# "How long does… take?", "For how long is… valid?", "What is the duration of…?".
_EXPECTS_DURATION = re.compile(
    r"^\s*(?:for\s+)?how long\b"
    r"|^\s*what (?:is|was|are|were) the (?:\w+\s+)?(?:duration|length)s? of\b",
    re.IGNORECASE,
)
_EXPECTS_NUMBER = re.compile(
    r"\bhow many\b|\bhow much (?:money|funding|funds|financing|budget|aid|does|did|do|is|was)\b"
    # "What was the total volume of…", but not "Which official… the large number of…":
    # the quantity must be what the question asks for.
    r"|^\s*(?:what|which)\s+(?:(?:is|was|are|were)\s+)?(?:the\s+)?(?:\w+\s+)?"
    r"(?:number|percentage|proportion|share|amount|volume|sum|total|figure|budget|cost|price|fee|"
    r"funding) of\b",
    re.IGNORECASE,
)
# "What is the title of Objective 12?": a section heading is the answer.
_EXPECTS_TITLE = re.compile(r"\b(?:title|heading)s?\b", re.IGNORECASE)
# Words that may stand between "which" and the noun it asks about ("which two countries",
# "which specific Tunisian cities"), but not a verb ("What are Member States urged…").
_MODIFIERS = (
    r"(?:(?!(?:is|are|was|were|do|does|did|has|have|had|can|could|should|would|will|may|"
    r"might|must)\b)[\w'’-]+\s+){0,2}?"
)
# The question may open with a preposition ("In which city…") or a phrase ending in one
# ("At the borders of which countries…").
_WHICH = (
    r"^\s*(?:(?:[\w'’-]+\s+){0,3}?(?:in|with|from|to|by|for|of|at|on|among|between|under)\s+)?"
    r"(?:which|what)\s+"
)
# "Which objective deals with returns?", "Under which numbered objective…": a numbered
# part of the report, named by its heading ("Objective 21: Cooperate in facilitating safe
# and dignified return…"), is the answer.
_EXPECTS_LABEL = re.compile(
    _WHICH + r"(?:numbered\s+|specific\s+)?(?P<part>objective|roundtable|chapter|section|"
    r"annex)s?\b",
    re.IGNORECASE,
)
# "Which states…", "in which city…": a named state, country or city is the answer.
_EXPECTS_PLACES = re.compile(
    _WHICH + _MODIFIERS + r"(?:states?|countr(?:y|ies)|governments?|nations?|cit(?:y|ies)|"
    r"municipalit(?:y|ies)|towns?)\b",
    re.IGNORECASE,
)
# "Which agencies…", "who…", "what is the name of…": names, but bodies are as often
# described as named ("UN agencies", "local authorities"), so only preferred in evidence.
_EXPECTS_NAMES = re.compile(
    _WHICH + _MODIFIERS + r"(?:organi[sz]ations?|agenc(?:y|ies)|institutions?|partners?)\b"
    r"|^\s*whom?\b|\bwhat is the name of\b",
    re.IGNORECASE,
)
# "What is the name of the Special Rapporteur…", "Who served as Rapporteur…": the question
# names an office by its title and asks who holds it. The capture is the title's core, its
# capitalised words before any "of", "on" or "for" ("Special Rapporteur"); a leading
# acronym ("UN") is left out, since the report may spell it out.
_ASKS_OFFICE_HOLDER = re.compile(
    r"^\s*(?i:what (?:is|was) the name of|who (?:is|was|served as|acted as|acts as))\s+"
    r"(?i:the\s+)?(?:[A-Z]{2,}['’]?s?\s+)*(?P<office>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)\b(?!['’])"
)
# An office holder is named beside the title: in apposition after it ("the Special
# Rapporteur, Felipe González Morales, said…", "the Rapporteur (Ms Ana Ruiz)"), after a
# copula ("The Rapporteur for the meeting was Ambassador Jane Smith"), or before it ("Ana
# Ruiz, the Rapporteur,"). A short lower-case qualifier may follow the title ("for the
# meeting"); the name is looked for in the three words after the comma, bracket or copula.
# "What did Canada report about…?", "How has Sweden supported…?", "Why did the Network
# propose…?": the question asks what a named actor did or said, so an answer must name it.
# The capture is the capitalised words after the auxiliary.
_ASKS_ABOUT_ACTOR = re.compile(
    r"^\s*(?i:what|how|why|which\s+\w+|in what way)\s+"
    r"(?i:did|does|do|has|have|had|is|was|are|were)\s+(?i:the\s+)?"
    r"(?P<actor>[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*)"
)
_NAMED_AFTER = re.compile(
    r"^(?:\s+[a-z]+){0,4}?\s*(?:,|\(|:|\s(?:is|was|are|were)\b)\s*(?P<name>(?:\S+\s*){1,3})"
)
_NAMED_BEFORE = re.compile(r"(?P<name>(?:\S+\s+){0,2}\S+)\s*,\s*(?:the\s+|a\s+)?$")
# Capitalised words of intergovernmental prose that name no particular state or body.
_INSTITUTIONAL_WORDS = frozenset("member members states state united nations".split())
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH = "(?:" + "|".join(_MONTHS) + ")"
_HAS_DATE = re.compile(rf"\b(?:1[89]|20)\d{{2}}\b|\b{_MONTH}\b", re.IGNORECASE)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve dozen dozens twenty thirty "
    "forty fifty hundred hundreds thousand thousands million millions billion percent half"
).split()
# A count or amount: digits that are not a year (1800-2099) nor part of a name like
# "COVID-19", or a number word.
_HAS_NUMBER = re.compile(
    r"(?<![\w-])(?!(?:1[89]|20)\d\d\b)\d[\d,.]*(?![\w-])|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b",
    re.IGNORECASE,
)
_TIME_UNIT = r"(?:second|minute|hour|day|week|fortnight|month|year|decade)s?"
# A length of time: a number of time units ("90 days", "three to six months"), or a span
# stated without one ("throughout the consultations", "until the end of 2021",
# "permanently").
_HAS_DURATION = re.compile(
    r"(?:\d[\d,.]*|\b(?:a|an|"
    + "|".join(_NUMBER_WORDS)
    + r"))(?:[\s-]+\S+){0,2}?[\s-]+"
    + _TIME_UNIT
    + r"\b|\b(?:throughout|until|till|since|permanent(?:ly)?|indefinite(?:ly)?)\b",
    re.IGNORECASE,
)
# A number that is not a count: a day of the month ("12 November", "November 12") or a
# number of time units ("for more than 90 days"), unless time is what is counted.
_DAY_OF_MONTH = re.compile(rf"^\s+{_MONTH}\b|\b{_MONTH}\s+$", re.IGNORECASE)
_TIME_UNIT_AFTER = re.compile(rf"^\s*(?:\w+\s+)?{_TIME_UNIT}\b", re.IGNORECASE)
_COUNTS_TIME = re.compile(rf"\bhow many\s+(?:\w+\s+)?{_TIME_UNIT}\b", re.IGNORECASE)
# Capitalised words that open questions or are capitalised for grammar, not as names.
_NOT_NAMES = frozenset(
    """what which who whom whose when where why how does do did is are was were has have had
    can could should would will may might the a an in on at of for to by from with and or
    i if please tell list name give describe explain according apart besides""".split()
)
_NAME = re.compile(r"\b[A-Z][A-Za-z'’-]*[A-Za-z]\b|\b[A-Z]{2,}\b")
# Years and numbered references ("in 2019", "Roundtable 1", "Objective 12") pin a question to
# one thing: passages that never state them are about another year or another roundtable.
_YEAR = re.compile(r"(?:1[89]|20)\d{2}")
_LITERAL = re.compile(rf"\b{_YEAR.pattern}\b|\b([A-Z][a-z]{{2,}})s? (\d+)\b")
# What joins the numbers of a list of labels: "Objectives 4, 8 and 9".
_LIST_SEPARATOR = r"\s*(?:,|and|&)\s*"


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for: an answer kind (DATE, NUMBER, DURATION, PLACES, NAMES,
    TITLE, LABEL or None), the names in it, the years and numbered references it is pinned
    to, its text, the office whose holder it asks for ("Special Rapporteur"), if any, and
    the names of the actor whose deeds or words it asks about ("What did Canada report…"
    → "Canada"), if any."""

    expects: str | None
    names: tuple[str, ...]
    literals: tuple[str, ...] = ()
    question: str = ""
    office: str = ""
    actor: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        """The numbered references ("Objective 12", "Roundtable 3"): the literals but years."""
        return tuple(literal for literal in self.literals if not _YEAR.fullmatch(literal))


def profile_question(question: str) -> QuestionProfile:
    expects = DATE if _EXPECTS_DATE.search(question) else None
    if expects is None and _EXPECTS_DURATION.search(question):
        expects = DURATION
    if expects is None and _EXPECTS_NUMBER.search(question):
        expects = NUMBER
    if expects is None and _EXPECTS_PLACES.search(question):
        expects = PLACES
    if expects is None and _EXPECTS_NAMES.search(question):
        expects = NAMES
    if expects is None and _EXPECTS_TITLE.search(question):
        expects = TITLE
    if expects is None and _EXPECTS_LABEL.search(question) and not _LITERAL.search(question):
        expects = LABEL
    names = names_in(question)
    literals = tuple(dict.fromkeys(filter(None, map(_literal, _LITERAL.finditer(question)))))
    office = _ASKS_OFFICE_HOLDER.search(question)
    actor = _ASKS_ABOUT_ACTOR.search(question)
    return QuestionProfile(
        expects=expects,
        names=names,
        literals=literals,
        question=question,
        office=office.group("office") if office else "",
        actor=tuple(
            name
            for name in names
            if actor and name in actor.group("actor") and name.lower() not in _INSTITUTIONAL_WORDS
        ),
    )


def names_in(text: str, common_words: Collection[str] | None = None) -> tuple[str, ...]:
    """The names `text` relies on: capitalised words and acronyms, but not the question
    words, prepositions and the like, nor a first word capitalised only because it opens
    the text. Without `common_words` (the words the corpus also writes in lower case) an
    opening word is taken for such a word; with them, one the corpus never writes in lower
    case is a name ("Canada reported…")."""
    return tuple(
        dict.fromkeys(
            name
            for match in _NAME.finditer(text)
            if match.group(0).lower() not in _NOT_NAMES
            and not (
                _capitalised_as_first_word(text, match)
                and (common_words is None or match.group(0).lower() in common_words)
            )
            for name in [_name_part(match.group(0))]
            if name
        )
    )


def _literal(match: re.Match[str]) -> str:
    """A year or numbered reference; "Which 2016 declaration" holds a year, not a label."""
    word, number = match.group(1), match.group(2)
    if word is not None and word.lower() in _NOT_NAMES:
        return number if _YEAR.fullmatch(number) else ""
    return match.group(0)


def _capitalised_as_first_word(question: str, match: re.Match[str]) -> bool:
    """Whether the match is the question's first word written like any word opening a
    sentence ("Roughly how many…", "Under which…"): capitalised by grammar, so no sign of a
    name. Acronyms ("UNHCR") and words with inner capitals or digits still count."""
    word = match.group(0)
    return not question[: match.start()].strip() and word[1:].islower()


def _name_part(word: str) -> str:
    """The name in a hyphenated word: its capitalised parts ("Africa-focused" → "Africa",
    "COVID-19" stays whole); the lower-case parts say something about the name, not which."""
    parts = word.split("-")
    kept = [part for part in parts if part[:1].isupper() or part[:1].isdigit()]
    return "-".join(kept)


def has_answer_kind(
    sentence: str,
    kind: str | None,
    question: str = "",
    common_words: Collection[str] = frozenset(),
) -> bool:
    """Whether `sentence` contains something of the expected kind (always true for None);
    for NAMES and PLACES, a proper name that the question does not already mention.

    `common_words` are the words the corpus also writes in lower case: capitalised, they
    open a sentence, a heading or a programme's title ("The", "Objectives", "the
    Network"), not a name.
    """
    if kind in (NAMES, PLACES):
        return any(
            name.lower() not in _INSTITUTIONAL_WORDS
            and name.lower() not in common_words
            and missing_names([name], [question])
            for name in _proper_names(sentence)
        )
    if kind == LABEL:
        asked = _EXPECTS_LABEL.search(question)
        part = asked.group("part") if asked else r"[A-Z][a-z]+"
        return re.search(rf"\b{part}s?\s+\d+", sentence, re.IGNORECASE) is not None
    if kind == DATE:
        return _HAS_DATE.search(sentence) is not None
    if kind == NUMBER:
        return any(
            _is_count(sentence, match, question) for match in _HAS_NUMBER.finditer(sentence)
        ) or _lists_what_is_counted(sentence, question)
    if kind == DURATION:
        return _HAS_DURATION.search(sentence) is not None
    return True


def names_office_holder(
    sentence: str, office: str, question: str, common_words: Collection[str]
) -> bool:
    """Whether `sentence` names who holds `office`: a name the question does not hold, within
    the office's full title as the sentence writes it ("United Nations Special Rapporteur on
    the Human Rights of Migrants") or beside it (see `_NAMED_AFTER`). "The Rapporteur's
    summary report is available…" and "the Special Representative …, together with the EU
    Agency" mention the office and name no one."""
    capitalised = r"[A-Z][\w'’-]*"
    joined = r"\s+(?:(?:of|on|for|and|the)\s+)*"
    title = rf"(?:{capitalised}\s+)*{re.escape(office)}(?:{joined}{capitalised})*"
    for found in re.finditer(rf"\b{title}\b", sentence):
        after = _NAMED_AFTER.match(sentence[found.end() :])
        before = _NAMED_BEFORE.search(sentence[: found.start()])
        nearby = [found.group(0)] + [match.group("name") for match in (after, before) if match]
        if any(has_answer_kind(text, NAMES, question, common_words) for text in nearby):
            return True
    return False


def _name_words(text: str) -> set[str]:
    """Stemmed words of `text` with hyphenated words also split ("COVID-19" → "covid", "19")
    and possessives dropped ("Europe's" → "europe"). A final "e" is dropped too, since the
    stemmer keeps it in "objective" but not in "objectives"."""
    found: set[str] = set()
    for word in words(text):
        word = re.sub(r"['’]s$", "", word)
        for part in {word, *word.split("-")} - {""}:
            found.add(stem(part).removesuffix("e"))
    return found


def _proper_names(sentence: str) -> list[str]:
    """Capitalised words, not acronyms (which are mostly programmes and institutions rather
    than the states or bodies a list question asks for), nor the question words and the like
    that open a sentence ("In", "The": `has_answer_kind` also drops the corpus's common
    words)."""
    found = re.findall(r"(?<![\w-])[A-Z][a-z][A-Za-z'’-]+", sentence)
    names = (_name_part(re.sub(r"['’]s$", "", name).rstrip("-")) for name in found)
    return [
        name
        for name in names
        if name and name.lower() not in _MONTHS and name.lower() not in _NOT_NAMES
    ]


def _is_count(sentence: str, number: re.Match[str], question: str) -> bool:
    """Whether `number` in `sentence` may count what `question` asks about: not a label
    ("Objective 11"), nor a day of the month ("12 November"), nor a number of days, months
    or years unless the question counts those ("How many years…")."""
    before, after = sentence[: number.start()], sentence[number.end() :]
    if _is_label(sentence, number.start()):
        return False
    if number.group(0)[:1].isdigit() and (
        _DAY_OF_MONTH.match(after) or _DAY_OF_MONTH.search(before)
    ):
        return False
    return not _TIME_UNIT_AFTER.match(after) or _COUNTS_TIME.search(question) is not None


def _is_label(sentence: str, start: int) -> bool:
    """Whether the number at `start` labels something ("Objective 11", "Roundtable 3")
    rather than counting: it follows a capitalised word, or continues a list of labels
    ("Objectives 4, 8 and 9")."""
    found = _LABEL_BEFORE.search(sentence[:start])
    return found is not None and found.group(1).lower() not in _NOT_NAMES


_LABEL_BEFORE = re.compile(rf"\b([A-Z][A-Za-z]*)\s+(?:\d+{_LIST_SEPARATOR})*$")
_LABEL_LIST = re.compile(rf"\b([A-Z][a-z]+)\s+\d+(?:{_LIST_SEPARATOR}\d+)+")


def _lists_what_is_counted(sentence: str, question: str) -> bool:
    """Whether `sentence` lists labels of the things a how-many question counts: "How many
    objectives…" is answered by counting "Objectives 4, 8, 9 and 21"."""
    asked = {stem(word) for word in words(question)}
    return any(
        stem(match.group(1).lower()) in asked and match.group(1).lower() not in _MONTHS
        for match in _LABEL_LIST.finditer(sentence)
    )


# A name in another form shares a stem of at least this many letters, and this share of the
# shorter word, with a capitalised word of the text ("Swedish" ~ "Sweden", "Tunisian" ~
# "Tunisia", "Portuguese" ~ "Portugal").
MIN_SHARED_PREFIX = 4
MIN_SHARED_SHARE = 0.6


def missing_names(names: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The names none of `texts` mention, compared by stemmed words, case-insensitively.

    A name also counts as mentioned in a related form: an adjective of a place named in the
    text ("Swedish", "Tunisian"), or an acronym spelled by the initials of capitalised words
    ("UK" for "United Kingdom") or opening a longer acronym ("UN" in "UNHCR").
    """
    texts = list(texts)
    vocabulary: set[str] = set()
    for text in texts:
        vocabulary |= _name_words(text)
    capitalised = {word.lower() for text in texts for word in re.findall(r"\b[A-Z][a-z]+", text)}
    acronyms = {word for text in texts for word in re.findall(r"\b[A-Z]{2,}\b", text)}
    acronyms |= {initials for text in texts for initials in _initials(text)}

    def mentioned(name: str) -> bool:
        if _name_words(name) <= vocabulary:
            return True
        bare = re.sub(r"['’]s$", "", name)
        if bare.isupper():
            return any(acronym.startswith(bare) for acronym in acronyms)
        return any(_related_forms(bare.lower(), word) for word in capitalised)

    return [name for name in names if not mentioned(name)]


def _initials(text: str) -> set[str]:
    """The initials of every run of two to five capitalised words ("United Kingdom" → "UK");
    "of", "for", "and" and "on" inside a run are skipped ("High Commissioner for Refugees"
    → "HCR")."""
    found = set()
    run: list[str] = []
    for word in re.findall(r"[A-Za-z]+", text) + [""]:
        if word[:1].isupper():
            run.append(word[0])
            continue
        if word in ("of", "for", "and", "on") and run:
            continue
        for start in range(len(run)):
            for end in range(start + 2, min(start + 5, len(run)) + 1):
                found.add("".join(run[start:end]))
        run = []
    return found


def _related_forms(name: str, word: str) -> bool:
    shared = len(os.path.commonprefix([name, word]))
    return shared >= MIN_SHARED_PREFIX and shared >= MIN_SHARED_SHARE * min(len(name), len(word))


def missing_literals(literals: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The years and numbered references none of `texts` states. A reference also counts
    when listed with others ("Objective 11" in "Objectives 4, 8, 11 and 13")."""
    joined = " ".join(normalise_whitespace(text) for text in texts)
    missing = []
    for literal in literals:
        label = _LITERAL.fullmatch(literal)
        if label and label.group(1):
            word, number = label.group(1), label.group(2)
            pattern = rf"\b{word}s?\s+(?:[\d.]+{_LIST_SEPARATOR})*{number}\b"
        else:
            pattern = rf"\b{re.escape(literal)}\b"
        if re.search(pattern, joined, re.IGNORECASE) is None:
            missing.append(literal)
    return missing
