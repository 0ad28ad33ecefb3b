"""Evidence selection: the few sentences of the retrieved passages that answer the question.

The bundled model reads about 240 prompt tokens a second, so the prompt carries sentences,
not whole paragraphs: fewer tokens before the first word, and less for a small model to
parrot. Each sentence is a verbatim substring of its passage, so it can be quoted as is.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np

from rag.chunking import document_heading
from rag.citations import COMPANION_RELEVANCE, quoted_evidence
from rag.embedding import Embedder
from rag.mentions import (
    as_written,
    has_answer_kind,
    joined_names,
    mentions_any,
    missing_joined_names,
    missing_literals,
    missing_name_phrases,
    missing_names,
    name_phrases,
    names_office_holder,
    words_counted,
)
from rag.questions import (
    DATE,
    DOCUMENTS,
    LABEL,
    NEGATED,
    NUMBER,
    PLACES,
    TITLE,
    QuestionProfile,
    names_in,
)
from rag.retrieval import Retriever, lexical_terms
from rag.text import (
    content_terms,
    is_english,
    normalise_whitespace,
    quote_through,
    split_sentences,
    stem,
    words,
)
from rag.types import Evidence, Hit

# Sentences shorter than this are page-break fragments or headings, not evidence.
MIN_SENTENCE_WORDS = 4
# Relevance weights: the sentence's own similarity to the question, the share of the
# question's content words it contains, and the retrieval rank of its passage (a sentence
# that names the answer often shares few words with the question; its paragraph does, and
# hybrid retrieval ranked the paragraph with both signals).
SENTENCE_WEIGHT = 0.45
COVERAGE_WEIGHT = 0.25
PASSAGE_WEIGHT = 0.05
# Bonus for a sentence holding the kind of answer the question asks for (a date, a number),
# and for one stating the numbered reference the question asks about ("Objective 12").
ANSWER_KIND_BONUS = 0.10
REFERENCE_BONUS = 0.10
# A question asking for a title ("What is the title of Objective 11?") is answered by a
# section heading, whatever a body sentence about the same objective shares with it.
HEADING_BONUS = 1.0
# A document answers a question asking which reports (or states) say something when its best
# sentence is at least this share of the best document's, in relevance or in the question's
# words it holds (`documents_answering`).
DOCUMENT_SHARE = 0.75
# …and its passage holds at least this share of the question's subject, rarity-weighted.
# On the development questions the passages of reports that mention the subject hold 0.45
# or more of it; those that do not, 0.33 at most (the subject's rarest word missing).
MIN_SUBJECT_COVERAGE = 0.4
# …or its sentence is this close to the subject in meaning (MiniLM): a paraphrase shares
# few words ("selling government securities to nationals living abroad" for a diaspora
# bond). On the development sets the subjects no report discusses reach 0.56 at most.
SUBJECT_SIMILARITY = 0.6
# A word written after a count says it counts what a how-many question asks about when its
# MiniLM similarity to the counted words is at least this ("nations" ~ "countries" 0.79;
# "asylum applications" ~ "children" 0.16). Chosen on the development sets, where the
# counts that answer score 0.59 or more and the others 0.38 at most.
COUNTED_SIMILARITY = 0.5


def select_evidence(
    profile: QuestionProfile,
    hits: Sequence[Hit],
    retriever: Retriever,
    max_sentences: int,
    one_per_document: bool = False,
    about: Sequence[str] = (),
) -> list[Evidence]:
    """The `max_sentences` most relevant sentences of `hits` for the question `profile`
    describes, most relevant first; the first may run on into the sentence after it
    (`with_continuation`). With `one_per_document`, the most relevant sentence of each
    document. With `about`, only sentences of a document whose title names one of those
    names, or under a heading or in words that name one (`rag.mentions.
    names_of_some_documents`).

    Relevance mixes the embedding similarity of sentence and question (sentence vectors come
    from the index; nothing but the question is embedded), the share of the question's
    content words the sentence contains, and its passage's retrieval rank.
    """
    candidates: list[tuple[Hit, str]] = []
    candidate_vectors: list[np.ndarray] = []
    passage_sentences: dict[str, list[str]] = {}
    seen: set[str] = set()
    for hit in hits:
        sentences, vectors = _sentences_with_vectors(hit, retriever)
        passage_sentences[hit.passage.anchor] = sentences
        # A document's title restates its subject and answers nothing: the title its loader
        # chose, and the heading printed above its first paragraph when that differs (an
        # HTML page's <title> is often not its <h1>).
        heading = document_heading(hit.passage)
        for sentence, vector in zip(sentences, vectors, strict=True):
            flat = normalise_whitespace(sentence)
            is_document_title = flat[:200] == hit.passage.doc_title or flat == heading
            if (
                len(words(sentence)) >= MIN_SENTENCE_WORDS
                and sentence not in seen
                and not is_document_title
                and (not about or _is_about(about, hit, sentence))
            ):
                seen.add(sentence)
                candidates.append((hit, sentence))
                candidate_vectors.append(vector)
    if not candidates:
        return []
    question, expects, references = profile.question, profile.expects, profile.references
    question_vector = retriever.query_vector(question)
    sentence_similarity = np.clip(np.vstack(candidate_vectors) @ question_vector, 0.0, 1.0)
    question_terms = lexical_terms(question)
    common_words = retriever.common_words()

    def bonus(hit: Hit, sentence: str) -> float:
        """Rewards for holding what the question asks for: an answer of the expected kind
        (only a heading answers for a title, or for which objective…), and the numbered
        reference it names."""
        names_reference = bool(references) and not missing_literals(references, [sentence])
        is_heading = normalise_whitespace(sentence) == normalise_whitespace(
            hit.passage.section or ""
        )
        if expects == TITLE:
            kind_bonus = HEADING_BONUS * is_heading
        elif expects == LABEL:
            kind_bonus = HEADING_BONUS * (is_heading and has_answer_kind(sentence, LABEL, question))
        else:
            kind_found = expects is not None and has_answer_kind(
                sentence, expects, question, common_words
            )
            kind_bonus = ANSWER_KIND_BONUS * kind_found
        return kind_bonus + REFERENCE_BONUS * names_reference

    scored = []
    for (hit, sentence), similarity in zip(candidates, sentence_similarity, strict=True):
        coverage = retriever.weighted_coverage(question_terms, lexical_terms(sentence))
        match = SENTENCE_WEIGHT * float(similarity) + COVERAGE_WEIGHT * coverage
        scored.append(
            Evidence(
                passage=hit.passage,
                sentence=sentence,
                relevance=match + PASSAGE_WEIGHT / (1 + hit.rank) + bonus(hit, sentence),
                match=match / (SENTENCE_WEIGHT + COVERAGE_WEIGHT),
            )
        )
    scored.sort(key=lambda evidence: -evidence.relevance)
    if one_per_document:
        scored = _best_of_each_document(scored)
    if not scored:
        return []
    best = with_continuation(scored[0], passage_sentences[scored[0].passage.anchor], question)
    rest = [item for item in scored[1:] if item.sentence not in best.sentence]
    return [best, *rest][:max_sentences]


def _is_about(names: Sequence[str], hit: Hit, sentence: str) -> bool:
    """Whether `sentence` of `hit` is from a document titled with one of `names`, or names
    one itself or in its heading."""
    return mentions_any(names, hit.passage.labelled(sentence))


def documents_answering(
    question: str,
    evidence: Sequence[Evidence],
    retriever: Retriever,
    mentioning: bool = False,
) -> list[Evidence]:
    """Of `evidence`, one sentence per document (most relevant first), the sentences of the
    documents that say what the question asks about.

    A document qualifies when its sentence is nearly as relevant as the best one
    (`DOCUMENT_SHARE` of its relevance) or holds nearly as much of the question's subject,
    its words weighted by rarity (the same share of the most any of them holds): a report
    that mentions a health firewall in passing ranks well below the one about it, yet
    mentions it. With `mentioning` (a question asking which reports mention something), its
    passage must also hold at least `MIN_SUBJECT_COVERAGE` of the subject and two of its
    words, if it has two (or its sentence be `SUBJECT_SIMILARITY` close to it in meaning, for
    a subject worded otherwise), so that asked which reports mention cryptocurrency
    remittances, the reports that speak of remittances only are not listed, nor, for
    detention of children, a report on immigration detention that never names children; and
    its passage, heading or title must name what the question
    names: asked which reports mention the Global Compact on Refugees, a report on the
    Global Compact for Migration holds most of the subject's words, but not the name."""
    if not evidence:
        return []
    named = name_phrases(names_in(question), question) if mentioning else []
    joined = joined_names(question) if mentioning else []
    wanted = subject_terms(question)
    coverage = [
        retriever.weighted_coverage(wanted, lexical_terms(item.sentence)) for item in evidence
    ]
    passage_terms = [lexical_terms(item.passage.headed_text) for item in evidence]
    in_passage = [retriever.weighted_coverage(wanted, terms) for terms in passage_terms]
    similarity = [1.0] * len(evidence)
    if mentioning:
        vectors = retriever.embedder.embed(
            [_asked_about(question) or question, *(item.sentence for item in evidence)]
        )
        similarity = [float(value) for value in vectors[1:] @ vectors[0]]
    # How many of the subject's words each passage holds: one word of two tells the topic
    # ("immigration detention"), not the subject ("detention of children").
    terms_held = [len(set(wanted) & set(terms)) for terms in passage_terms]
    least_relevance = DOCUMENT_SHARE * evidence[0].relevance
    least_coverage = DOCUMENT_SHARE * max(coverage)
    return [
        item
        for item, covered, passage_covered, similar, held in zip(
            evidence, coverage, in_passage, similarity, terms_held, strict=True
        )
        if (item.relevance >= least_relevance or (covered > 0 and covered >= least_coverage))
        and (
            not mentioning
            or (passage_covered >= MIN_SUBJECT_COVERAGE and held >= min(2, len(set(wanted))))
            or similar >= SUBJECT_SIMILARITY
        )
        and not _misses_names(named, joined, item.passage.labelled(item.passage.text))
    ]


def _misses_names(names: Sequence[str], joined: Sequence[str], text: str) -> bool:
    """Whether `text` leaves out one of the question's `names` or `joined` names."""
    return bool(missing_names(names, [text]) or missing_joined_names(joined, [text]))


def subject_terms(question: str) -> list[str]:
    """The lexical terms of a which-reports question's subject: "reports", "mention",
    "describe" and the like left out, since any report reports and mentions."""
    return [term for term in lexical_terms(question) if term not in _ASKING_FOR_DOCUMENTS]


def unmentioned(question: str, evidence: Sequence[Evidence]) -> str:
    """Why no report is listed for a which-reports question: none holds enough of the
    words of its subject ("preparing citizens before they leave…"), which they may word
    otherwise. Lexical coverage cannot tell an absent subject from a paraphrased one, so
    the reason says which words were looked for rather than that no report mentions it."""
    subject = _asked_about(question)
    if not subject:
        found: set[str] = set()
        for item in evidence:
            found |= set(lexical_terms(item.passage.headed_text))
        missing = set(subject_terms(question)) - found
        subject = " ".join(word for word in words(question) if set(lexical_terms(word)) & missing)
    return f"no report uses enough of the words of “{subject}”; the reports may word it otherwise"


# "Which reports mention a health firewall?" → "a health firewall".
_ASKED_ABOUT = re.compile(
    r"\b(?:mention(?:s|ed)?|describe[sd]?|discuss(?:es|ed)?|refer(?:s|red)?\s+to|cover(?:s|ed)?|"
    r"address(?:es|ed)?|say\s+about|talk\s+about|deal\s+with)\s+(?P<subject>[^?]+)",
    re.IGNORECASE,
)


def _asked_about(question: str) -> str:
    """The subject of a which-reports question ("…mention a health firewall?" → "a health
    firewall"), or "" when it is not written after a verb of mentioning."""
    asked = _ASKED_ABOUT.search(question)
    return asked.group("subject").strip() if asked else ""


_ASKING_FOR_DOCUMENTS = frozenset(
    stem(word)
    for word in """report reports document documents review reviews publication publications
    source sources mention mentions mentioned describe describes described refer refers
    referred discuss discusses discussed say says said talk talks cover covers covered
    address addresses addressed""".split()
)


def _best_of_each_document(scored: Sequence[Evidence]) -> list[Evidence]:
    """The first sentence of each document in `scored` (most relevant first) that is not a
    section heading, or its first heading when it has nothing else: "5. The Corridor
    Reintegration Fund" shows that a report mentions the Fund, and hides what it says."""
    best: dict[str, Evidence] = {}
    for item in scored:
        kept = best.get(item.passage.doc_id)
        if kept is None or (_is_heading(kept) and not _is_heading(item)):
            best[item.passage.doc_id] = item
    return sorted(best.values(), key=scored.index)


def _is_heading(item: Evidence) -> bool:
    return normalise_whitespace(item.sentence) == normalise_whitespace(item.passage.section or "")


# A sentence that goes on about the one before it opens with a pronoun ("He specifically
# called for…"), or with a definite noun phrase whose noun the one before holds ("…published
# a note on… The note aims to…"). "It was noted that…" opens a new point instead.
_PRONOUN_OPENING = re.compile(r"^(?:He|She|It|They|This|These|Its|Their|His|Her)\b")
_EXPLETIVE_OPENING = re.compile(r"^It\s+(?:is|was|has\s+been|had\s+been)\s+[a-z]+ed\b")
_DEFINITE_OPENING = re.compile(r"^(?:The|This|These|Such)\s+([a-z]+)\b")


def with_continuation(best: Evidence, sentences: Sequence[str], question: str) -> Evidence:
    """`best`, extended by the next sentence of its passage (`sentences`, in order) when that
    sentence continues it and holds a word of the question that `best` lacks.

    The answer to "What did the Special Rapporteur specifically call for?" is "He
    specifically called for…", which names no rapporteur: the sentence before it wins on
    relevance and says everything but the answer. The two are quoted together, verbatim.
    """
    try:
        following = sentences[sentences.index(best.sentence) + 1]
    except (ValueError, IndexError):
        return best
    if not _continues(best.sentence, following):
        return best
    unmatched = set(content_terms(question)) - set(content_terms(best.sentence))
    if not any(_same_word(term, other) for term in unmatched for other in content_terms(following)):
        return best
    # A new paragraph starts a new point, whatever its first word.
    joined = quote_through(best.passage.text, best.sentence, following)
    return best if joined is None else replace(best, sentence=joined)


def _continues(previous: str, sentence: str) -> bool:
    """Whether `sentence` refers back to `previous` from its first words."""
    if _PRONOUN_OPENING.match(sentence):
        return not _EXPLETIVE_OPENING.match(sentence)
    definite = _DEFINITE_OPENING.match(sentence)
    if definite is None:
        return False
    return stem(definite.group(1)) in {stem(word) for word in words(previous)}


def _same_word(term: str, other: str) -> bool:
    """Whether two stems are of one word: equal, or one (of four letters or more) a prefix of
    the other, as the stemmer leaves "convene" and "convened" as "convene" and "conven"."""
    shorter, longer = sorted((term, other), key=len)
    return term == other or (len(shorter) >= 4 and longer.startswith(shorter))


def _sentences_with_vectors(hit: Hit, retriever: Retriever) -> tuple[list[str], np.ndarray]:
    """A passage's sentences and their vectors: stored in the index, or embedded now."""
    position = retriever.index.position(hit.passage.anchor)
    if position is not None:
        sentences, vectors = retriever.index.sentences_of(position)
        if vectors is not None:
            return sentences, vectors
    sentences = split_sentences(hit.passage.text)
    return sentences, retriever.embedder.embed(sentences)


def abstention_reason(
    profile: QuestionProfile,
    hits: Sequence[Hit],
    evidence: Sequence[Evidence],
    threshold: float,
    common_words: Collection[str],
    embedder: Embedder | None = None,
) -> str | None:
    """Why the retrieved passages cannot answer the question, or None when they may.
    `common_words` are the words the corpus also writes in lower case, which tell names
    from capitalised words (`Retriever.common_words`). With `embedder`, a how-many question
    also needs a sentence counting what it asks about (`counts_what_is_asked`).

    Checked before any generation, so an abstention costs no model time.
    """
    if not is_english(profile.question):
        return "the question is not in English; the reports are searched in English"
    if profile.expects == DOCUMENTS and NEGATED.search(profile.question):
        return (
            "the assistant lists the reports that mention something, not those that leave "
            "it out; ask which reports mention it"
        )
    if not evidence:
        return "no passage was retrieved"
    if max(item.match for item in evidence) < threshold:
        return "no passage is close enough to the question"
    texts = [hit.passage.labelled(hit.passage.text) for hit in hits]
    absent = missing_name_phrases(profile.names, profile.question, texts)
    absent += missing_literals(profile.literals, texts)
    if absent:
        return f"the closest passages do not mention {', '.join(absent)}"
    # The best sentence is what the answer will rest on; evidence selection already prefers
    # sentences holding a number or date, so when even the best one has none, the number
    # or date asked for is not in the passages. A duration is preferred too but not
    # required: a length of time is often stated in words no pattern lists ("for as long as
    # needed", "over the long term"), and requiring one refused an answerable held-out
    # question while refusing no unanswerable one there.
    if profile.expects in (DATE, NUMBER) and not has_answer_kind(
        evidence[0].sentence, profile.expects, profile.question
    ):
        return f"the closest passages give no {profile.expects}"
    # The sentences an answer could quote: "Which countries…" wants a state, country or city
    # named in one; when none names one the question does not ("several countries", "cities
    # in Tunisia"), the report does not say which. Likewise for who holds an office.
    best = evidence[0].relevance
    quotable_evidence = [item for item in evidence if item.relevance >= COMPANION_RELEVANCE * best]
    quotable = [item.sentence for item in quotable_evidence]
    if profile.expects == PLACES and not any(
        has_answer_kind(item.sentence, PLACES, profile.question, common_words)
        for item in quoted_evidence(evidence)
    ):
        return "the closest passages name no state, country or city"
    if profile.office and not any(
        names_office_holder(sentence, profile.office, profile.question, common_words)
        for sentence in quotable
    ):
        return f"the closest passages do not name the {profile.office}"
    # "What did Canada report about family reunification?" answered by a sentence about
    # family reunification that never names Canada would put words in Canada's mouth.
    # A heading counts: the actor may be named once, above the passage; so does a title:
    # Freedonia's own review rarely names Freedonia in the sentence.
    unnamed = as_written(
        missing_names(
            profile.actor, [item.passage.labelled(item.sentence) for item in quotable_evidence]
        ),
        name_phrases(profile.names, profile.question),
    )
    if unnamed:
        return f"the sentences that could answer do not mention {', '.join(unnamed)}"
    # "How many asylum applications…?" answered by "2,340 unaccompanied children" gives a
    # count of something else.
    if (
        profile.counted
        and embedder is not None
        and not counts_what_is_asked(profile, quotable, embedder)
    ):
        return f"the closest passages count no {' '.join(profile.counted)}"
    return None


def counts_what_is_asked(
    profile: QuestionProfile, sentences: Sequence[str], embedder: Embedder
) -> bool:
    """Whether one of `sentences` counts what the how-many question of `profile` counts: a
    word written after one of its counts (`words_counted`) is a form of a counted word
    ("organisations", "Objectives"), or close to the counted words in meaning ("countries"
    for "nations": MiniLM similarity `COUNTED_SIMILARITY` or more)."""
    found = list(dict.fromkeys(w for s in sentences for w in words_counted(s, profile.question)))
    if not found:
        return False
    counted_stems = [stem(word.lower()) for word in profile.counted]
    if any(_same_word(asked, stem(word.lower())) for asked in counted_stems for word in found):
        return True
    vectors = embedder.embed([" ".join(profile.counted), *profile.counted, *found])
    asked, written = vectors[: len(profile.counted) + 1], vectors[len(profile.counted) + 1 :]
    return float(np.max(asked @ written.T)) >= COUNTED_SIMILARITY


def counts_the_counted_thing(profile: QuestionProfile, sentence: str, embedder: Embedder) -> bool:
    """Whether `sentence` counts the thing a how-many question counts, not only something
    described like it: a word written after one of its counts (`words_counted`) is a form of
    the last counted word, the head of the counted phrase in English ("seasonal work
    permits" → "permits"), or close to it in meaning (`COUNTED_SIMILARITY`). "15,000 seasonal
    workers" shares "seasonal" with "seasonal work permits" and counts people, not permits.
    Any sentence does for a question that counts nothing."""
    if not profile.counted:
        return True
    head = replace(profile, counted=profile.counted[-1:])
    return counts_what_is_asked(head, [sentence], embedder)
