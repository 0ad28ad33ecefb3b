"""Question analysis: what kind of answer a question expects, and which names, years and
numbered references ("Objective 12") it relies on.

Used twice: to prefer evidence sentences of the expected kind ("How many…" wants a
number, "How long…" a duration, "What is the title of…" or "Which objective…" a heading),
and to abstain when no retrieved passage could answer — a question about a date with no
date in the evidence, a "which countries…" question whose evidence names none, a question
about who holds an office whose evidence names no one beside the title, or a question
about a country, a year or a roundtable the retrieved passages never mention. What a
sentence or passage states is read by `rag.mentions`. The rules are about English question
forms, not about any report's content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from rag.text import STOPWORDS

DATE = "date"
NUMBER = "number"
DURATION = "duration"
NAMES = "name"
PLACES = "place"
TITLE = "title"
LABEL = "label"
DOCUMENTS = "document"
COLLECTION = "collection"

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
    r"funding|rate) of\b"
    # "What interest rate does…", "What percentage of…": a rate asked for is a number too.
    r"|^\s*what\s+(?:\w+\s+)?(?:rate|percentage)\b",
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
# ("At the borders of which countries…"), or be a request for the list ("List the states
# that…", "Name all the countries…").
_WHICH = (
    r"^\s*(?:(?:[\w'’-]+\s+){0,3}?(?:in|with|from|to|by|for|of|at|on|among|between|under)\s+)?"
    r"(?:(?:which|what)\s+|(?:list|name)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?)"
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
# "Which reports mention…", "In which documents…": the answer is a list of the indexed
# documents, each with a sentence of its own as the evidence that it does.
_EXPECTS_DOCUMENTS = re.compile(
    _WHICH + r"(?:of\s+the\s+)?" + _MODIFIERS + r"(?:reports?|documents?|reviews?|publications?)\b"
    r"|^\s*(?:do|does) any (?:of the )?(?:other )?(?:reports?|documents?|reviews?)\b",
    re.IGNORECASE,
)
# "How many reports are indexed?", "Which documents do you have?", "What reports can you
# search?", "List the reports": about the collection itself, which the index's own records
# answer, not any passage. The whole question must be about it: a subject after the verb
# ("Which reports are available on detention?", "Which reports have data on returns?") or a
# verb of content ("Which reports mention…") makes it a question about the reports' text.
_COLLECTION_NOUN = r"(?:reports?|documents?|publications?|files)"
_HELD = r"(?:indexed|available|loaded|ingested|stored|searchable|included)"
_IN_THE_INDEX = (
    r"(?:in|within)\s+(?:the|your|this)\s+(?:index|collection|corpus|database|library|system)"
)
# "do you have", "can I ask about", "does the index hold".
_HOLDS = (
    r"(?:(?:do|can|could|did)\s+(?:you|we|i)|(?:do|does|can)\s+(?:the|your|this)\s+"
    r"(?:index|collection|corpus|database|library|system|assistant))\s+(?:have(?:\s+access\s+to)?|"
    r"hold|contain|include|cover|know(?:\s+(?:about|of))?|search(?:\s+in)?|see|access|use|read|"
    r"query|consult|ask\s+about|answer\s+from)"
)
_COLLECTION_TAIL = (
    rf"(?:\s+(?:here|now|currently|at\s+the\s+moment|right\s+now|{_HELD}|"
    rf"to\s+(?:search|query|me|you)|for\s+(?:me|searching)|{_IN_THE_INDEX}))*\s*[?.!]*\s*$"
)
_ASKS_ABOUT_COLLECTION = re.compile(
    r"^\s*(?:please[\s,]+)?(?:(?:can|could|would)\s+you\s+(?:please\s+)?)?(?:tell\s+me\s+)?"
    r"(?:"
    # "How many reports are indexed?", "Which documents do you have?"
    rf"(?:how\s+many|which|what)\s+(?:{_HELD}\s+)?{_COLLECTION_NOUN}\s+"
    rf"(?:(?:are|is)\s+(?:there|(?:currently\s+)?{_HELD}|{_IN_THE_INDEX})|{_HOLDS}|"
    r"(?:have|has)\s+(?:been|you|we)\s+(?:indexed|loaded|ingested|added|got)|"
    # "…tell me which reports you have", "…what documents you can search"
    r"(?:you|we|i)\s+(?:have|hold|(?:can|could)\s+(?:search|query|ask\s+about|see|access)))"
    # "What are the available reports?", "What are the documents in the index?"
    rf"|(?:what|which)\s+(?:are|is)\s+the\s+(?:{_HELD}\s+{_COLLECTION_NOUN}|"
    rf"{_COLLECTION_NOUN}\s+(?:(?:that\s+)?you\s+have|{_IN_THE_INDEX}|(?:you|i|we)\s+can\s+search))"
    # "List the reports", "Show me all the documents you have"
    rf"|(?:list|show|name|enumerate)(?:\s+me)?\s+(?:all\s+)?(?:of\s+)?(?:the\s+|your\s+)?"
    rf"(?:{_HELD}\s+)?{_COLLECTION_NOUN}(?:\s+(?:(?:that\s+)?you\s+have|(?:that\s+)?"
    rf"(?:are\s+)?{_HELD}|(?:you|i|we)\s+can\s+(?:search|query|ask\s+about)))?"
    r")" + _COLLECTION_TAIL,
    re.IGNORECASE,
)
# "Which reports do not mention…", "…say nothing about…": what reports leave out.
NEGATED = re.compile(r"\b(?:not|never|nothing|fails?\s+to|failed\s+to|without)\b|n['’]t\b", re.I)
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
# "What did Canada report about…?", "How has Sweden supported…?", "Why did the Network
# propose…?", "Did Spain regularise…?": the question asks what a named actor did or said,
# so an answer must name it.
# The capture is the capitalised words after the auxiliary.
_ASKS_ABOUT_ACTOR = re.compile(
    r"^\s*(?:(?i:what|how|why|which\s+\w+|in what way)\s+)?"
    r"(?i:did|does|do|has|have|had|is|was|are|were)\s+(?i:the\s+)?"
    r"(?P<actor>[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*)"
)
# "How many asylum applications did…", "How many of the compact's objectives were…": what
# is counted, the (up to three) words after "how many" before a verb or a preposition.
_COUNTED = re.compile(r"\bhow many\s+(?:of\s+the\s+)?(?P<counted>[^?.!]*)", re.IGNORECASE)
_AFTER_COUNTED = frozenset(
    """did do does were was are is have has had will would can could should may might must
    in of from to by for under on at with between across during since per""".split()
)
# Capitalised words of intergovernmental prose that name no particular state or body.
INSTITUTIONAL_WORDS = frozenset("member members states state united nations".split())
# Capitalised words that open questions or are capitalised for grammar, not as names.
NOT_NAMES = frozenset(
    """what which who whom whose when where why how does do did is are was were has have had
    can could should would will may might the a an in on at of for to by from with and or
    i if please tell list name give describe explain according apart besides""".split()
)
_NAME = re.compile(r"\b[A-Z][A-Za-z'’-]*[A-Za-z]\b|\b[A-Z]{2,}\b")
# Years and numbered references ("in 2019", "Roundtable 1", "Objective 12") pin a question to
# one thing: passages that never state them are about another year or another roundtable.
YEAR = re.compile(r"(?:1[89]|20)\d{2}")
# A day of a month pins a question to that day: "on 14 November 2020" is not "12-13 November".
MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_MONTH_WORDS = frozenset(MONTH_NAMES.split("|"))
LITERAL = re.compile(
    rf"\b{YEAR.pattern}\b|\b([A-Z][a-z]{{2,}})s? (\d+)\b|\b\d{{1,2}} (?:{MONTH_NAMES})\b"
)
# What joins the numbers of a list of labels: "Objectives 4, 8 and 9".
LIST_SEPARATOR = r"\s*(?:,|and|&)\s*"


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for: an answer kind (DATE, NUMBER, DURATION, PLACES, NAMES,
    TITLE, LABEL, DOCUMENTS, COLLECTION or None), the names in it, the years and numbered
    references it is pinned to, its text, the office whose holder it asks for ("Special
    Rapporteur"), if any, the names of the actor whose deeds or words it asks about ("What
    did Canada report…" → "Canada"), if any, and what a how-many question counts ("How
    many asylum applications did…" → "asylum", "applications")."""

    expects: str | None
    names: tuple[str, ...]
    literals: tuple[str, ...] = ()
    question: str = ""
    office: str = ""
    actor: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        """The numbered references ("Objective 12", "Roundtable 3"): the literals but years."""
        return tuple(literal for literal in self.literals if not YEAR.fullmatch(literal))


def profile_question(question: str) -> QuestionProfile:
    """What `question` asks for (`QuestionProfile`), read from its wording alone.

    A few regular expressions (about 50 µs a question), so retrieval and the pipeline each
    profile the question themselves rather than pass a profile through `retrieve`."""
    expects = None
    if _ASKS_ABOUT_COLLECTION.search(question):
        expects = COLLECTION
    elif _EXPECTS_DOCUMENTS.search(question):
        expects = DOCUMENTS
    if expects is None and _EXPECTS_DATE.search(question):
        expects = DATE
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
    if expects is None and _EXPECTS_LABEL.search(question) and not LITERAL.search(question):
        expects = LABEL
    names = names_in(question)
    literals = tuple(dict.fromkeys(filter(None, map(_literal, LITERAL.finditer(question)))))
    office = _ASKS_OFFICE_HOLDER.search(question)
    actor = _ASKS_ABOUT_ACTOR.search(question)
    return QuestionProfile(
        counted=counted_words(question),
        expects=expects,
        names=names,
        literals=literals,
        question=question,
        office=office.group("office") if office else "",
        actor=tuple(
            name
            for name in names
            if actor and name in actor.group("actor") and name.lower() not in INSTITUTIONAL_WORDS
        ),
    )


def counted_words(question: str) -> tuple[str, ...]:
    """What a how-many question counts: up to three words after "how many", up to the first
    auxiliary or preposition ("How many asylum applications did Sylvania receive?" →
    ("asylum", "applications")); empty for any other question."""
    found = _COUNTED.search(question)
    if found is None:
        return ()
    counted: list[str] = []
    for word in re.findall(r"[\w'’-]+", found.group("counted"))[:3]:
        if word.lower() in _AFTER_COUNTED:
            break
        counted.append(word)
    return tuple(counted)


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
            if match.group(0).lower() not in NOT_NAMES
            and not (
                _capitalised_as_first_word(text, match)
                and (common_words is None or match.group(0).lower() in common_words)
            )
            for name in [name_part(match.group(0))]
            if name
        )
    )


def _literal(match: re.Match[str]) -> str:
    """A year or numbered reference; "Which 2016 declaration" holds a year, not a label."""
    word, number = match.group(1), match.group(2)
    # "in 2019", and "November 2020", whose year is what pins it.
    if word is not None and (word.lower() in NOT_NAMES or word in _MONTH_WORDS):
        return number if YEAR.fullmatch(number) else ""
    return match.group(0)


def _capitalised_as_first_word(question: str, match: re.Match[str]) -> bool:
    """Whether the match is the first word of the question, or of a sentence in it ("…
    adopted? Compare the approaches…"), written like any word opening a sentence ("Roughly
    how many…", "Under which…"): capitalised by grammar, so no sign of a name. Acronyms
    ("UNHCR") and words with inner capitals or digits still count."""
    word = match.group(0)
    before = question[: match.start()].rstrip()
    return (not before or before[-1] in "?!.") and word[1:].islower()


def name_part(word: str) -> str:
    """The name in a hyphenated word: its capitalised parts ("Africa-focused" → "Africa",
    "COVID-19" stays whole); the lower-case parts say something about the name, not which."""
    parts = word.split("-")
    kept = [part for part in parts if part[:1].isupper() or part[:1].isdigit()]
    return "-".join(kept)


def numbered_part_asked(question: str) -> str | None:
    """The kind of numbered part a "which objective…" question asks for ("objective",
    "roundtable"), or None."""
    asked = _EXPECTS_LABEL.search(question)
    return asked.group("part") if asked else None


_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def recased(question: str, common_words: Collection[str], proper_forms: Mapping[str, str]) -> str:
    """`question` in the corpus's own case when it is written in capitals: "WHICH STATES
    REGULARISED MIGRANTS DURING COVID?" → "Which states regularised migrants during COVID?".

    Written in capitals, every word reads as a name, and names the passages lack refuse a
    question. A word the corpus writes in lower case (`common_words`) is lowered; one it
    only capitalises takes its written form (`proper_forms`: "UNECE", "Italy"); a word it
    never uses is lowered, as if the question had been typed in lower case. So a state the
    reports never name is as unknown in capitals as in lower case (`with_unknown_actor_named`
    then catches it as the actor: "WHAT DID DENMARK REPORT?"): capitalising unknown words
    instead made names of the many plain words a short report never uses ("HOW MANY…" →
    "Many"). A question with any lower-case letter is returned as it is."""
    if re.search(r"[a-z]", question) or not _WORD.search(question):
        return question

    def corpus_case(match: re.Match[str]) -> str:
        lower = match.group(0).lower()
        return lower if lower in common_words else proper_forms.get(lower, lower)

    text = _WORD.sub(corpus_case, question)
    first = _WORD.search(text)
    assert first is not None
    return text[: first.start()] + text[first.start()].upper() + text[first.start() + 1 :]


# "what did kazakhstan report…", "how has kazakhstan supported…": the word after the
# auxiliary is who did or said it (is/was are left out: "what is the budget…"; so is a
# word after "the": "what did the organisers give…" names no one).
_LOWER_CASE_ACTOR = re.compile(
    r"^\s*(?:(?:what|how|why|which\s+\w+|in\s+what\s+way)\s+)?(?:did|does|do|has|have|had)\s+"
    r"(?P<actor>[a-z][\w'’-]*)\s+[a-z]",
    re.IGNORECASE,
)


# The irregular past forms and participles of common verbs: without a tagger, what shows
# that a lower-case word is a verb ("took part", "have given") when no -ed does.
IRREGULAR_PAST = (
    r"(?:been|began|brought|built|came|chose|chosen|done|drew|driven|fell|felt|found|gave|"
    r"given|gone|got|grew|held|kept|knew|known|led|left|lost|made|meant|met|paid|put|ran|"
    r"rose|said|sat|saw|seen|sent|set|shown|sought|spent|spoke|stood|struck|taken|taught|"
    r"thought|told|took|understood|undertook|went|won|written|wrote)"
)
# A verb, not an actor, after the auxiliary: "Which states have banned…", "…has been…".
_PARTICIPLE = re.compile(rf"[a-z]+(?:ed|ing)|{IRREGULAR_PAST}")


def with_unknown_actor_named(question: str, corpus_uses: Callable[[str], bool]) -> str:
    """`question` with the actor of "what did kazakhstan report…?" capitalised when it is
    written in lower case and the corpus never uses the word: a name, then, which the
    reports never mention, and the question is refused as "What did Kazakhstan report…?"
    is. Names are told by their capitals; written in lower case, a state no report names
    was answered from the nearest sentence. A word the corpus uses ("what did migrants
    report…") or a pronoun ("what did they…") is left as it is."""
    found = _LOWER_CASE_ACTOR.match(question)
    if found is None:
        return question
    actor = found.group("actor")
    if (
        not actor.islower()
        or actor in NOT_NAMES
        or actor in STOPWORDS
        or _PARTICIPLE.fullmatch(actor)
        or corpus_uses(actor)
    ):
        return question
    start = found.start("actor")
    return question[:start] + actor.capitalize() + question[found.end("actor") :]
