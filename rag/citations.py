"""Citation verification: every sentence shown to an official is supported by its source.

The model writes text with `[n]` markers that point at the numbered evidence sentences of its
prompt. Each answer sentence is checked against the sentences it cites: a sentence whose
content words are not found in a cited source is re-attached to a source that does contain
them, or dropped. Markers are renumbered in order of appearance and resolve to `Citation`
objects whose quote is the verbatim evidence sentence. When no sentence survives, the answer
falls back to the best evidence sentences themselves, quoted and cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from rag.mentions import COUNT_WORDS, has_answer_kind, missing_names, name_phrases
from rag.questions import DATE, NUMBER, PLACES, YEAR, QuestionProfile, names_in
from rag.text import (
    STOPWORDS,
    content_terms,
    normalise_whitespace,
    quote_through,
    split_sentences,
    words,
)
from rag.types import Citation, Evidence

# The one marker format of a verified answer: "[3]".
CITATION_MARKER = re.compile(r"\[(\d+)\]")
# What models actually write: "[1]", "[1, 2]", "[Source 1]", "【1】".
_RAW_MARKER = re.compile(r"[\[【]\s*(?:sources?\s*)?(\d+(?:\s*(?:,|and)\s*\d+)*)\s*[\]】]", re.I)
# Share of a sentence's content words that must occur in its cited sources: all of them.
# At 0.6 SmolLM2's "The Network sent 28 UNECE Member States…" passed for "28 UNECE Member
# States… submitted reports to the Network", and words such as "a significant issue" were
# added to what Human Rights Watch documented. A word the source lacks is a claim it does not
# make; the answer then quotes the source instead.
MIN_SUPPORT = 1.0
# A second sentence joins an extractive answer when it is at least this relevant (relative).
COMPANION_RELEVANCE = 0.75
# Sentences with fewer content words say nothing checkable ("Yes.", "See above.").
MIN_CLAIM_TERMS = 2


@dataclass(frozen=True)
class VerifiedAnswer:
    text: str
    citations: tuple[Citation, ...]


def support(claim: str, source: str) -> float:
    """Share of `claim`'s distinct content terms that occur in `source` (0..1)."""
    terms = set(content_terms(claim))
    if not terms:
        return 0.0
    return len(terms & set(content_terms(source))) / len(terms)


def supports(source: str, claim: str, common_words: Collection[str]) -> bool:
    """Whether `source` supports `claim`: it holds most of the claim's content words, and
    every name and number the claim states. A small model that writes "particularly in
    Canada" or "30 countries" into a sentence otherwise copied from its source adds the
    very facts an official would act on. `common_words`, the words the corpus also writes
    in lower case, tell a name opening the claim ("Canada reported…") from a word
    capitalised only to open it."""
    if support(claim, source) < MIN_SUPPORT:
        return False
    if missing_names(names_in(claim, common_words), [source]):
        return False
    return set(_FIGURE.findall(claim)) <= set(_FIGURE.findall(source))


# A figure as a report writes it: "28", "1.2", "2,340", "2021".
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """The sentence without markers, and the source numbers it cited, in order."""
    numbers: list[int] = []
    for match in _RAW_MARKER.finditer(sentence):
        numbers.extend(int(n) for n in re.findall(r"\d+", match.group(1)))
    bare = normalise_whitespace(_RAW_MARKER.sub(" ", sentence))
    bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
    return bare, list(dict.fromkeys(numbers))


def verify_answer(
    raw_text: str, evidence: Sequence[Evidence], common_words: Collection[str]
) -> VerifiedAnswer:
    """Keep the sentences of `raw_text` that their sources support, cited; drop the rest.
    `common_words` are the words the corpus also writes in lower case (see `supports`)."""
    kept: list[tuple[str, list[int]]] = []
    if not evidence:
        return VerifiedAnswer(text="", citations=())
    for sentence in split_sentences(normalise_whitespace(raw_text)):
        bare, cited = parse_markers(sentence)
        if len(set(content_terms(bare))) < MIN_CLAIM_TERMS:
            continue
        valid = [n for n in cited if 1 <= n <= len(evidence)]
        supporting = [n for n in valid if supports(evidence[n - 1].sentence, bare, common_words)]
        if not supporting:
            scores = [support(bare, item.sentence) for item in evidence]
            best = max(range(len(evidence)), key=scores.__getitem__)
            if supports(evidence[best].sentence, bare, common_words):
                supporting = [best + 1]
        if supporting and bare not in (text for text, _ in kept):
            # A sentence copied up to where its source breaks off ("…whilst"), or from
            # where the extract starts it, is marked as the quote of it would be.
            cut_off = any(_ends_where_cut_off(bare, evidence[n - 1]) for n in supporting)
            kept.append((_with_marks(bare.rstrip(" .") if cut_off else bare, cut_off), supporting))
    return _number(kept, evidence)


def extractive_answer(evidence: Sequence[Evidence]) -> VerifiedAnswer:
    """The best evidence sentence quoted and cited, with the next-best sentence of the same
    passage when it is nearly as relevant (an answer is often split over two sentences:
    "…considered regularisation. Italy, Moldova and Portugal reported…"); two sentences
    that follow one another are one quote."""
    if not evidence:
        return VerifiedAnswer(text="", citations=())
    quoted = _joined_if_adjacent(quoted_evidence(evidence))
    return _number(
        [(_marked_if_cut_off(item), [n]) for n, item in enumerate(quoted, start=1)],
        quoted,
    )


def quoted_evidence(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The sentences of `evidence` an extractive answer quotes, in reading order: the best,
    and the next-best sentence of its passage when that is nearly as relevant
    (`COMPANION_RELEVANCE` of it)."""
    if not evidence:
        return []
    best = evidence[0]
    chosen = [best]
    for item in evidence[1:]:
        if item.passage.anchor == best.passage.anchor:
            if item.relevance >= COMPANION_RELEVANCE * best.relevance:
                chosen.append(item)
            break
    return sorted(chosen, key=lambda item: best.passage.text.find(item.sentence))


def documents_answer(evidence: Sequence[Evidence]) -> VerifiedAnswer:
    """Which documents say it: each document of `evidence` (one sentence per document,
    see `rag.evidence.documents_answering`) named by its title, with its sentence quoted
    and cited, a line each."""
    parts = [(_titled(item), [n]) for n, item in enumerate(evidence, start=1)]
    return _number(parts, evidence, separator="\n")


def with_other_documents(
    verified: VerifiedAnswer, evidence: Sequence[Evidence], profile: QuestionProfile
) -> VerifiedAnswer:
    """`verified`, with the sentences of the other documents that answer too, when a
    "Which states…" question is asked of several reports (`evidence` holds one sentence
    per answering document, see `rag.evidence.documents_answering`).

    A national report rarely names its own state in the sentence that answers ("The Fair
    Recruitment Regulation prohibits…"), and the answer from one report hides the others
    that answer too. Each part is headed by its document's title, which names the state."""
    if profile.expects != PLACES or not verified.citations:
        return verified
    cited_documents = {citation.doc for citation in verified.citations}
    others = [item for item in evidence if item.passage.doc_id not in cited_documents]
    if not others or len(cited_documents) > 1:
        return verified
    return _with_titled_quotes(verified, others)


def _with_titled_quotes(
    verified: VerifiedAnswer, items: Sequence[Evidence], lead: str = ""
) -> VerifiedAnswer:
    """`verified` from one report, headed by that report's title, then each of `items`
    quoted and cited under its own report's title, a line each; `lead` opens the first
    added line ("The reports differ. ")."""
    text = f"{short_title(verified.citations[0].doc_title)}: {verified.text}\n{lead}"
    citations = list(verified.citations)
    lines = []
    for item in items:
        number = len(citations) + 1
        body, end = _sentence_body(_titled(item))
        lines.append(f"{body} [{number}]{end}")
        citations.append(_citation(number, item))
    return VerifiedAnswer(text=text + "\n".join(lines), citations=tuple(citations))


def short_title(title: str) -> str:
    """How an answer names a report: its title up to a colon, when that part is a name of a
    few words ("Republic of Ruritania: Voluntary National Review on the Implementation of…"
    → "Republic of Ruritania"); otherwise the whole title. The sources list gives it whole."""
    head = title.split(":", 1)[0].strip()
    if head != title and 1 <= len(head.split()) <= SHORT_TITLE_WORDS:
        return head
    return title


def _titled(item: Evidence) -> str:
    """The evidence sentence headed by its document's title."""
    return f"{short_title(item.passage.doc_title)}: {_marked_if_cut_off(item)}"


def _joined_if_adjacent(items: Sequence[Evidence]) -> list[Evidence]:
    """Two sentences that follow one another in their paragraph, as one quote: one marker
    and one source, where two markers would list the same passage twice."""
    if len(items) != 2:
        return list(items)
    first, second = items
    joined = quote_through(first.passage.text, first.sentence, second.sentence)
    # Anything but spaces between them is another sentence: they do not follow one another.
    if joined is None or joined[len(first.sentence) : -len(second.sentence)].strip():
        return list(items)
    return [replace(first, sentence=joined)]


# A title's part before its colon names the report in an answer when it has at most this
# many words.
SHORT_TITLE_WORDS = 6
# A figure of another report is quoted beside the answer's when its sentence is at least
# this relevant (relative to the best evidence) and written about the same thing.
RIVAL_RELEVANCE = 0.6


def with_rival_figure(
    verified: VerifiedAnswer,
    evidence: Sequence[Evidence],
    profile: QuestionProfile,
    about: Sequence[str] = (),
    counts_asked: Callable[[str], bool] | None = None,
) -> VerifiedAnswer:
    """`verified`, with more quotes when other reports give different figures.

    A how-many or when question answered from one report hides what another indexed report
    says: asked the same thing in other words, the assistant would quote the other figure.
    Each evidence sentence of a document the answer does not cite that holds a number (or
    date) of its own, is nearly as relevant as the best one and, for a number, is written
    with a word the answer's figure is written with, names what the question names and the
    answer's passage names (in its passage, heading or title), is quoted and cited too, one per
    document, after "The reports differ." and each under its document's title, so the
    official sees every figure and its source. `about`: see
    `rag.mentions.names_of_some_documents`. `counts_asked`: whether a sentence counts what
    a how-many question counts (`rag.evidence.counts_the_counted_thing`); a rival count must.
    """
    if profile.expects not in (NUMBER, DATE) or not evidence or not verified.citations:
        return verified
    cited_documents = {citation.doc for citation in verified.citations}
    figures = {figure for citation in verified.citations for figure in _figures(citation.quote)}
    # A figure of the same thing is written with the same words beside it ("USD … billion",
    # "… members", "… per cent"); "1,920 Ruritanian nationals" is no rival to "USD 2.9
    # billion". Dates need no such check: the question says what they date.
    cited_context = {
        word for citation in verified.citations for word in _figure_context(citation.quote)
    }
    # The names of `about` (the question's names that some, not all, report titles hold)
    # that the answer's report has in its title: a rival speaks of them too, in its words
    # or its title; Grand Fenwick's contribution is no rival to Ruritania's. A sentence that
    # repeats the answer's own figure agrees with it, whatever else it lists (the Network's
    # "… and Ruritania contributed EUR 400,000").
    first = verified.citations[0]
    named = [name for name in about if not missing_names([name], [first.doc_title])]
    # The question's names that the answer's quote, passage, heading or title mention: a
    # rival is about them too, wherever its report names them. Two reports titled "National
    # Migration Report" may be about two states; Kurland's 1,450 visas are no rival to
    # Elbonia's 900 when nothing around them names Elbonia.
    asked = name_phrases(profile.names, profile.question)
    answer_names = [name for name in asked if not missing_names([name], [_labelled(first)])]
    # The answer's figure: the first in its first quote that is not a year.
    answer_figure = next((f for f in _FIGURE.findall(first.quote) if not YEAR.fullmatch(f)), None)
    least = RIVAL_RELEVANCE * evidence[0].relevance
    rivals: list[Evidence] = []
    for item in evidence:
        if (
            item.passage.doc_id not in cited_documents
            and item.relevance >= least
            and has_answer_kind(item.sentence, profile.expects, profile.question)
            and not _figures(item.sentence) <= figures
            and answer_figure not in _figures(item.sentence)
            and not missing_names(named, [f"{item.passage.doc_title} {item.sentence}"])
            and not missing_names(answer_names, [item.passage.labelled(item.passage.text)])
            and (profile.expects == DATE or cited_context & _figure_context(item.sentence))
            and (counts_asked is None or counts_asked(item.sentence))
        ):
            rivals.append(item)
            cited_documents.add(item.passage.doc_id)
            figures |= _figures(item.sentence)
    if not rivals or len({citation.doc for citation in verified.citations}) > 1:
        return verified
    return _with_titled_quotes(verified, rivals, lead="The reports differ. ")


def _labelled(citation: Citation) -> str:
    """The cited passage after its document's title and section heading (as
    `Passage.labelled` reads a passage)."""
    return f"{citation.doc_title} {citation.section or ''} {citation.text}"


def _figures(sentence: str) -> set[str]:
    """The figures of `sentence`: "28", "1.2", "2,340", "2021", and counts written as words
    ("nine")."""
    return set(_FIGURE.findall(sentence)) | {
        word for word in re.findall(r"[a-z]+", sentence.lower()) if word in COUNT_WORDS
    }


def _figure_context(sentence: str) -> set[str]:
    """The words written beside the figures of `sentence` that are not years: the word
    before each and the two after it, stopwords left out ("USD 2.9 billion in" → "usd",
    "billion"; "28 members" → "members"; "nine Migrant Resource Centres" → "migrant",
    "resource")."""
    tokens = re.findall(r"\d+(?:[.,]\d+)*|[^\W\d_]+", sentence.lower())
    context: set[str] = set()
    for position, token in enumerate(tokens):
        if (token[0].isdigit() and not YEAR.fullmatch(token)) or token in COUNT_WORDS:
            for word in (
                tokens[max(0, position - 1) : position] + tokens[position + 1 : position + 3]
            ):
                if not word[0].isdigit() and word not in STOPWORDS and word not in COUNT_WORDS:
                    context.add(word)
    return context


def _sentence_body(text: str) -> tuple[str, str]:
    """A sentence without its footnote marks and closing punctuation, and that punctuation
    ("." if none)."""
    text = _REPEATED_END.sub(r"\1", FOOTNOTE_MARK.sub("", text))
    return (text[:-1], text[-1]) if text[-1:] in ".!?" else (text, ".")


# A footnote mark the report's text kept: superscript digits after punctuation or a word
# ("…on the Network website.⁹", "Member States⁶"), not a unit's power ("km²"). In an answer
# it would read "website.⁹ [1]."; the quote in the citation keeps it, verbatim.
FOOTNOTE_MARK = re.compile(r"(?:(?<=[.,;:!?)\]”\"’])|(?<=[A-Za-z]{3}))[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
# "website.⁹." without its mark.
_REPEATED_END = re.compile(r"([.!?])[.\s]+$")


# How a sentence the source breaks off ends: a conjunction, preposition or article, a comma,
# or a word hyphenated across a page ("…in response to the pandemic, whilst").
_CUT_OFF = re.compile(
    r"(?:\b(?:whilst|while|although|whereas|including|and|or|but|of|to|the|a|an|in|for|with|"
    r"by|as|that|which|at|on|from)|[-,])\s*$",
    re.IGNORECASE,
)


def _ends_where_cut_off(claim: str, item: Evidence) -> bool:
    """Whether `claim` ends with the last word of `item`'s sentence, which the source breaks
    off there."""
    source_words = words(item.sentence)
    return _breaks_off(item) and bool(source_words) and words(claim)[-1:] == source_words[-1:]


def _marked_if_cut_off(item: Evidence) -> str:
    """The evidence sentence, marked where it is incomplete (`_with_marks`)."""
    return _with_marks(item.sentence, _breaks_off(item))


def _breaks_off(item: Evidence) -> bool:
    """Whether the source breaks `item`'s sentence off: mid-clause, or, ending its passage,
    with no closing punctuation ("stakeholders from across"). A heading has no closing
    punctuation either, but text follows it."""
    sentence = item.sentence
    ends_passage = item.passage.text.rstrip().endswith(sentence.rstrip())
    return bool(_CUT_OFF.search(sentence)) or (ends_passage and not _CLOSED.search(sentence))


def _with_marks(sentence: str, cut_off: bool) -> str:
    """`sentence` with " …" after it when its source breaks it off, and "… " before it when
    it starts in lower case (the extract skipped its start), so that an answer shows a quote
    is incomplete rather than closing it with a full stop."""
    if cut_off:
        sentence = f"{sentence} …"
    if sentence[:1].islower():
        sentence = f"… {sentence}"
    return sentence


# How a whole sentence ends: a full stop, question or exclamation mark, a colon or semicolon
# closing a list item, a closing quote or bracket, or a footnote mark.
_CLOSED = re.compile(r"[.!?;:\"”’)\]⁰¹²³⁴⁵⁶⁷⁸⁹]\s*$")


def _number(
    sentences: Sequence[tuple[str, list[int]]],
    evidence: Sequence[Evidence],
    separator: str = " ",
) -> VerifiedAnswer:
    """Join sentences with markers renumbered 1, 2, … in order of first appearance."""
    numbering: dict[int, int] = {}
    parts: list[str] = []
    for text, sources in sentences:
        markers = "".join(f"[{numbering.setdefault(s, len(numbering) + 1)}]" for s in sources)
        body, end = _sentence_body(text)
        parts.append(f"{body} {markers}{end}")
    citations = tuple(
        _citation(number, evidence[source - 1]) for source, number in numbering.items()
    )
    return VerifiedAnswer(text=separator.join(parts), citations=citations)


def _citation(number: int, item: Evidence) -> Citation:
    passage = item.passage
    return Citation(
        n=number,
        anchor=passage.anchor,
        doc=passage.doc_id,
        doc_title=passage.doc_title,
        section=passage.section,
        page=passage.page,
        text=passage.text,
        quote=item.sentence,
    )


def check_citations(
    answer_text: str, citations: Sequence[Citation], anchors: set[str]
) -> list[str]:
    """Contract violations of an answer (empty when sound): markers without a citation,
    citations of passages that were not retrieved, quotes not verbatim in their passage."""
    problems: list[str] = []
    numbers = {citation.n for citation in citations}
    for marker in sorted({int(n) for n in CITATION_MARKER.findall(answer_text)}):
        if marker not in numbers:
            problems.append(f"marker [{marker}] has no citation")
    for citation in citations:
        if citation.anchor not in anchors:
            problems.append(f"citation [{citation.n}] cites {citation.anchor}, not retrieved")
        if normalise_whitespace(citation.quote) not in normalise_whitespace(citation.text):
            problems.append(f"citation [{citation.n}] quote is not verbatim in its passage")
    return problems
