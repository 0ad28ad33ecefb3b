"""What a sentence or passage states, read for a question: an answer of the kind the
question expects (a date, a count, a length of time, a named place or body, a numbered
part of the report, who holds an office), and whether it mentions the question's names,
years and numbered references.

The question side (which kind, which names) is `rag.questions`; evidence selection and
abstention (`rag.evidence`), citation checks and the pipeline's acceptance of a model's
answer use both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence

from rag.questions import (
    DATE,
    DURATION,
    INSTITUTIONAL_WORDS,
    LABEL,
    LIST_SEPARATOR,
    LITERAL,
    MONTH_NAMES,
    NAMES,
    NOT_NAMES,
    NUMBER,
    PLACES,
    YEAR,
    name_part,
    names_in,
    numbered_part_asked,
)
from rag.text import STOPWORDS, normalise_whitespace, stem, words

# An office holder is named beside the title: in apposition after it ("the Special
# Rapporteur, Felipe González Morales, said…", "the Rapporteur (Ms Ana Ruiz)"), after a
# copula ("The Rapporteur for the meeting was Ambassador Jane Smith"), or before it ("Ana
# Ruiz, the Rapporteur,"). A short lower-case qualifier may follow the title ("for the
# meeting"); the name is looked for in the three words after the comma, bracket or copula.
_NAMED_AFTER = re.compile(
    r"^(?:\s+[a-z]+){0,4}?\s*(?:,|\(|:|\s(?:is|was|are|were)\b)\s*(?P<name>(?:\S+\s*){1,3})"
)
_NAMED_BEFORE = re.compile(r"(?P<name>(?:\S+\s+){0,2}\S+)\s*,\s*(?:the\s+|a\s+)?$")
_MONTHS = MONTH_NAMES.lower().split("|")
_MONTH = "(?:" + "|".join(_MONTHS) + ")"
_HAS_DATE = re.compile(rf"\b{YEAR.pattern}\b|\b{_MONTH}\b", re.IGNORECASE)
# Numbers written as words that count ("nine centres"), and words for a number or scale.
COUNT_WORDS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
).split()
_NUMBER_WORDS = [
    "one",
    *COUNT_WORDS,
    *"dozen dozens hundred hundreds thousand thousands million millions billion".split(),
    *"percent half".split(),
]
# A count or amount: digits that are not a year (1800-2099) nor part of a name like
# "COVID-19", or a number word.
_HAS_NUMBER = re.compile(
    rf"(?<![\w-])(?!{YEAR.pattern}\b)\d[\d,.]*(?![\w-])|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b",
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
# Words a text may put between a joined name's preposition and its second word.
JOINED_NAME_GAP = 5
_COUNTS_TIME = re.compile(rf"\bhow many\s+(?:\w+\s+)?{_TIME_UNIT}\b", re.IGNORECASE)


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
            name.lower() not in INSTITUTIONAL_WORDS
            and not _is_common(name.lower(), common_words)
            and not (kind == PLACES and _DEMONYM.search(name))
            and missing_names([name], [question])
            for name in _proper_names(sentence)
        )
    if kind == LABEL:
        part = numbered_part_asked(question) or r"[A-Z][a-z]+"
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


def _is_common(word: str, common_words: Collection[str]) -> bool:
    """Whether the corpus writes `word` in lower case, in the singular or the plural: the
    report writes "progress reviews", so the "Review" of "GCM Regional Review report" is a
    common word capitalised in a title, not a name."""
    return any(form in common_words for form in (word, f"{word}s", word.removesuffix("s")))


# "Italian", "Mediterranean", "Danish", "Maltese": a name's adjective, or a region's name,
# which tells no state, country or city ("the Italian cities of Milan and Turin … with
# cities in Tunisia" does not say which Tunisian cities). Narrower than the endings
# `_related_forms` accepts (`_ADJECTIVE_OF_PLACE`), which also hold states' own names
# ("Oman", "Pakistan", "Mali").
_DEMONYM = re.compile(r"(?:ian|ean|ish|ese)$")


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


def without_possessive(word: str) -> str:
    """`word` without a possessive ending ("Europe's" → "Europe", "Fenwick’s" → "Fenwick")."""
    return _POSSESSIVE.sub("", word)


_POSSESSIVE = re.compile(r"['’]s$")


def _name_words(text: str) -> set[str]:
    """Stemmed words of `text` with hyphenated words also split ("COVID-19" → "covid", "19")
    and possessives dropped ("Europe's" → "europe"). A final "e" is dropped too, since the
    stemmer keeps it in "objective" but not in "objectives"."""
    found: set[str] = set()
    for word in words(text):
        word = without_possessive(word)
        for part in {word, *word.split("-")} - {""}:
            found.add(stem(part).removesuffix("e"))
    return found


def _proper_names(sentence: str) -> list[str]:
    """Capitalised words, not acronyms (which are mostly programmes and institutions rather
    than the states or bodies a list question asks for), nor the question words and the like
    that open a sentence ("In", "The": `has_answer_kind` also drops the corpus's common
    words)."""
    # Not a web address's name ("Geldtransfair.de").
    found = re.findall(r"(?<![\w-])[A-Z][a-z][A-Za-z'’-]+\b(?!\.[a-z]{2,})", sentence)
    names = (name_part(without_possessive(name).rstrip("-")) for name in found)
    return [
        name
        for name in names
        if name and name.lower() not in _MONTHS and name.lower() not in NOT_NAMES
    ]


def _is_count(sentence: str, number: re.Match[str], question: str) -> bool:
    """Whether `number` in `sentence` may count what `question` asks about: not a label
    ("Objective 11"), nor a day of the month ("12 November"), nor a number of days, months
    or years unless the question counts those ("How many years…")."""
    before, after = sentence[: number.start()], sentence[number.end() :]
    if _is_label(sentence, number.start()):
        return False
    # An amount of money answers "how much", never "how many" ("How many members…?" is not
    # answered by "EUR 950,000").
    if _AMOUNT_BEFORE.search(before) and _COUNTS_THINGS.search(question):
        return False
    if number.group(0)[:1].isdigit() and (
        _DAY_OF_MONTH.match(after) or _DAY_OF_MONTH.search(before)
    ):
        return False
    return not _TIME_UNIT_AFTER.match(after) or _COUNTS_TIME.search(question) is not None


def words_counted(sentence: str, question: str) -> list[str]:
    """The words written after each count in `sentence` (up to `COUNTED_SPAN`, stopwords and
    number words left out), which say what it counts: "2,340 unaccompanied and separated
    children" → "unaccompanied", "separated", "children"; a list of labels a how-many
    question counts ("Objectives 4, 8 and 9") gives its label word."""
    found: list[str] = []
    for number in _HAS_NUMBER.finditer(sentence):
        if _is_count(sentence, number, question):
            following = re.findall(r"[^\W\d_][\w'’-]*", sentence[number.end() :])[:COUNTED_SPAN]
            found += [
                word
                for word in following
                if word.lower() not in STOPWORDS and word.lower() not in _NUMBER_WORDS
            ]
    asked = {stem(word) for word in words(question)}
    found += [
        match.group(1)
        for match in _LABEL_LIST.finditer(sentence)
        if stem(match.group(1).lower()) in asked
    ]
    return found


# What a count counts is written within this many words after it.
COUNTED_SPAN = 4


def _is_label(sentence: str, start: int) -> bool:
    """Whether the number at `start` labels something ("Objective 11", "Roundtable 3")
    rather than counting: it follows a capitalised word, continues a list of labels
    ("Objectives 4, 8 and 9"), or numbers a heading ("5. The Reintegration Fund"). A month
    and its year are a date before a count, not a list of labels ("By March 2022, nine
    member states…")."""
    if _SECTION_NUMBER.match(sentence[start:]) and not sentence[:start].strip():
        return True
    found = _LABEL_BEFORE.search(sentence[:start])
    return (
        found is not None
        and found.group(1).lower() not in NOT_NAMES
        and found.group(1).lower() not in _MONTHS
        and found.group(1) not in CURRENCY_CODES
    )


# "5. ", "2) ", "3.2 " before a capital: a heading's number ("12 States…" counts).
# "EUR 400,000", "USD 2.9 billion": an amount of money, not a label like "Objective 11".
CURRENCY_CODES = frozenset(
    "EUR USD GBP CHF SEK NOK DKK ISK PLN CZK HUF RON BGN RSD MKD ALL BAM MDL UAH BYN RUB "
    "GEL AMD AZN KZT KGS TJS TMT UZS TRY ILS CAD AUD JPY CNY".split()
)
_AMOUNT_BEFORE = re.compile(
    r"(?:\b(?:" + "|".join(CURRENCY_CODES) + r")|[€$£])\s*(?:\d[\d,.]*\s*)?$"
)
_COUNTS_THINGS = re.compile(r"\bhow many\b", re.IGNORECASE)
_SECTION_NUMBER = re.compile(r"(?:\d+[.)]|\d+(?:\.\d+)+\.?)\s+[A-Z]")
_LABEL_BEFORE = re.compile(rf"\b([A-Z][A-Za-z]*)\s+(?:\d+{LIST_SEPARATOR})*$")
_LABEL_LIST = re.compile(rf"\b([A-Z][a-z]+)\s+\d+(?:{LIST_SEPARATOR}\d+)+")


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
    lower_case_initials = {initials for text in texts for initials in _word_initials(text)}

    def mentioned(name: str) -> bool:
        if _name_words(name) <= vocabulary:
            return True
        bare = without_possessive(name)
        if " " in bare:
            # A name of several words ("Corridor Reintegration Fund") is mentioned by all of
            # them, not by a related form of one.
            return False
        # "NGOs" for "non-governmental organisations": an acronym of three letters or more,
        # plural or not, spelled by the initials of words written in lower case.
        spelled = re.fullmatch(r"([A-Z]{3,})s?", bare)
        if spelled and spelled.group(1) in lower_case_initials:
            return True
        if bare.isupper():
            return any(acronym.startswith(bare) for acronym in acronyms)
        return any(_related_forms(bare.lower(), word) for word in capitalised)

    return [name for name in names if not mentioned(name)]


def missing_name_phrases(names: Sequence[str], question: str, texts: Iterable[str]) -> list[str]:
    """The names of `question` (`names`, its capitalised words) that none of `texts`
    mention, each as the question writes it (`as_written`). A name made only of words that
    name no one by themselves ("United States": `INSTITUTIONAL_WORDS`) is mentioned only
    when written as such; the report's "United Nations" and "Member States" are no mention
    of the United States."""
    texts = list(texts)
    phrases = name_phrases(names, question)
    missing = as_written(missing_names(names, texts), phrases)
    for phrase in phrases:
        words_of_phrase = phrase.split()
        if (
            len(words_of_phrase) > 1
            and all(word.lower() in INSTITUTIONAL_WORDS for word in words_of_phrase)
            and not _written_together(words_of_phrase, texts)
        ):
            missing.append(phrase)
    return missing


def as_written(missing: Sequence[str], phrases: Sequence[str]) -> list[str]:
    """Each of the `missing` names within the name of several words the question writes it
    in (`phrases`, from `name_phrases`): "Russian Federation" when "Federation" is missing,
    not "Federation"."""
    found: list[str] = []
    for phrase in phrases:
        if set(missing).intersection(phrase.split()):
            found.append(phrase)
    covered = {word for phrase in found for word in phrase.split()}
    return found + [name for name in missing if name not in covered]


def _written_together(words_of_name: Sequence[str], texts: Iterable[str]) -> bool:
    """Whether one of `texts` writes the words one after another ("Member State" for
    "Member States" too), in any case."""
    pattern = r"\s+".join(rf"{re.escape(word.rstrip('s'))}s?" for word in words_of_name)
    return any(re.search(rf"\b{pattern}\b", text, re.IGNORECASE) for text in texts)


def joined_names(question: str) -> list[str]:
    """The names `question` joins with "of", "on" or "for" ("Global Compact on Refugees" →
    "Compact on Refugees"): the preposition makes the two one name, and a text holding
    both words apart ("the Global Compact for Migration… the Declaration for Refugees")
    does not mention it."""
    names = set(names_in(question))
    return [
        normalise_whitespace(joined)
        for joined, left, right in _JOINED_NAMES.findall(question)
        if left in names and right in names
    ]


def missing_joined_names(joined: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The joined names (`joined_names`) that none of `texts` writes joined: the second
    word at most `JOINED_NAME_GAP` words after the first and a preposition, so that the
    short form "Global Compact for Migration" is found in "Global Compact for Safe, Orderly
    and Regular Migration", and "Global Compact on Refugees" is not."""
    flat = [normalise_whitespace(text) for text in texts]
    missing = []
    for name in joined:
        left, *_, right = name.split(" ")
        right = without_possessive(right).removesuffix("s")
        pattern = re.compile(
            rf"\b{re.escape(left)}\s+(?:of|on|for)\s+(?:\S+\s+){{0,{JOINED_NAME_GAP}}}?"
            rf"{re.escape(right)}",
            re.IGNORECASE,
        )
        if not any(pattern.search(text) for text in flat):
            missing.append(name)
    return missing


# Lookahead, so that a name joined on both sides yields both joins ("Council of Europe on
# Migration").
_JOINED_NAMES = re.compile(r"\b(?=(([A-Z][\w'’-]*)\s+(?:of|on|for)\s+(?:the\s+)?([A-Z][\w'’-]*)))")


def names_of_some_documents(names: Iterable[str], titles: Collection[str]) -> list[str]:
    """The names of `names` that some, but not all, of the document `titles` mention.

    With Ruritania's own review indexed beside other reports, a question naming Ruritania
    asks what that review, or another report naming Ruritania, says: another state's
    report answering it would attribute that state's figures to Ruritania. A name every
    title holds ("Global Compact") tells no report apart."""
    owned = []
    for name in names:
        if name.lower() in INSTITUTIONAL_WORDS:
            continue
        mentioning = sum(not missing_names([name], [title]) for title in titles)
        if 0 < mentioning < len(titles):
            owned.append(name)
    return owned


def name_phrases(names: Sequence[str], question: str) -> list[str]:
    """`names` as `question` writes them: adjacent ones together and without a possessive
    ("Grand", "Fenwick's" → "Grand Fenwick"; "Corridor", "Reintegration", "Fund" → "Corridor
    Reintegration Fund"), so that a report is about the whole name, not about one of its
    words."""
    wanted = set(names)
    runs: list[list[str]] = []
    previous_was_name = False
    for bare in _name_words_of(question, wanted):
        plain = without_possessive(bare)
        if bare in wanted or plain in wanted:
            if previous_was_name:
                runs[-1].append(plain)
            else:
                runs.append([plain])
        # A possessive ends a name: "Freedonia's Diaspora Council" is Freedonia's council.
        previous_was_name = bare in wanted and plain == bare
    return list(dict.fromkeys(" ".join(run) for run in runs))


def _name_words_of(question: str, names: Collection[str]) -> list[str]:
    """The words of `question`, punctuation stripped, a word joining names with a dash split
    into them ("Sylvania–Ruritania" → "Sylvania", "Ruritania")."""
    found: list[str] = []
    for word in question.split():
        bare = word.strip("?,.;:!\"'()")
        parts = re.split(r"[-–—]", bare)
        if bare not in names and without_possessive(bare) not in names and len(parts) > 1:
            found += parts
        else:
            found.append(bare)
    return found


def mentions_any(names: Sequence[str], text: str) -> bool:
    """Whether `text` mentions one of `names` (as `missing_names` reads a mention). A name
    whose first letters the text lacks is not looked for further: this runs over every
    retrieved passage and sentence of a question naming a state."""
    lowered = text.lower()
    possible = [
        name for name in names if name.isupper() or name.lower()[:MIN_SHARED_PREFIX] in lowered
    ]
    return bool(possible) and len(missing_names(possible, [text])) < len(possible)


def _initials(text: str) -> set[str]:
    """The initials of every run of two to five capitalised words ("United Kingdom" → "UK");
    "of", "for", "and" and "on" inside a run are skipped ("High Commissioner for Refugees"
    → "HCR")."""
    found: set[str] = set()
    run: list[str] = []
    for word in re.findall(r"[A-Za-z]+", text) + [""]:
        if word[:1].isupper():
            run.append(word[0])
            continue
        if word in ("of", "for", "and", "on") and run:
            continue
        found |= _spelled(run, shortest=2)
        run = []
    return found


def _word_initials(text: str) -> set[str]:
    """The initials, in capitals, of every run of three to five words written in lower case
    ("non-governmental organisations" → "NGO": the parts of a hyphenated word count apart;
    "of", "for", "and" and "on" inside a run are skipped, as in `_initials`). Any other
    stopword, capitalised word or punctuation ends a run, so that an acronym is not read
    into words that merely follow one another."""
    found: set[str] = set()
    run: list[str] = []
    for token in re.findall(r"[A-Za-z]+|[^\sA-Za-z]", text) + [""]:
        if token.islower() and token not in STOPWORDS:
            run.append(token[0].upper())
            continue
        if token == "-" or (token in ("of", "for", "and", "on") and run):
            continue
        found |= _spelled(run, shortest=3)
        run = []
    return found


def _spelled(initials: list[str], shortest: int) -> set[str]:
    """Every acronym a run of words' `initials` spells, from `shortest` to five letters."""
    return {
        "".join(initials[start:end])
        for start in range(len(initials))
        for end in range(start + shortest, min(start + 5, len(initials)) + 1)
    }


def _related_forms(name: str, word: str) -> bool:
    """Whether `name` and `word` (lower case) are a place and its adjective: a long shared
    start, and one of them ends as adjectives of places do ("Sweden" ~ "Swedish", "Belgium"
    ~ "Belgian"); "Geneva" and "General" share as much, but neither is an adjective."""
    shared = len(os.path.commonprefix([name, word]))
    return (
        shared >= MIN_SHARED_PREFIX
        and shared >= MIN_SHARED_SHARE * min(len(name), len(word))
        and any(_ADJECTIVE_OF_PLACE.search(form) for form in (name, word))
    )


_ADJECTIVE_OF_PLACE = re.compile(r"(?:ish|ian|ean|ese|an|i|ic|k|ch)$")


def missing_literals(literals: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The years and numbered references none of `texts` states. A reference also counts
    when listed with others ("Objective 11" in "Objectives 4, 8, 11 and 13")."""
    joined = " ".join(normalise_whitespace(text) for text in texts)
    missing = []
    for literal in literals:
        label = LITERAL.fullmatch(literal)
        if label and label.group(1):
            word, number = label.group(1), label.group(2)
            pattern = rf"\b{word}s?\s+(?:[\d.]+{LIST_SEPARATOR})*{number}\b"
        else:
            pattern = rf"\b{re.escape(literal)}\b"
        if re.search(pattern, joined, re.IGNORECASE) is None:
            missing.append(literal)
    return missing
