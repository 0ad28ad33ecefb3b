"""The question-answering pipeline: retrieve → select evidence → generate → verify.

`Pipeline.stream` yields events as the answer is produced (passages before generation, text
deltas while the model writes, then the verified citations and answer); `Pipeline.ask`
returns the final `Answer`. The streamed deltas are the model's raw text; the `done` answer
is the authority, since verification may drop or re-cite sentences.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rag.citations import (
    VerifiedAnswer,
    documents_answer,
    extractive_answer,
    verify_answer,
    with_other_documents,
    with_rival_figure,
)
from rag.collection import COLLECTION_MODE, collection_answer
from rag.compound import (
    MAX_PARTS,
    joined_answer,
    merged_hits,
    split_question,
    unanswered_part,
)
from rag.embedding import Embedder
from rag.errors import InvalidQuestionError
from rag.evidence import (
    abstention_reason,
    counts_the_counted_thing,
    documents_answering,
    select_evidence,
    unmentioned,
)
from rag.generation import Generator
from rag.mentions import has_answer_kind, name_phrases, names_of_some_documents
from rag.prompting import NOT_IN_SOURCES, build_messages, fit_evidence
from rag.questions import (
    COLLECTION,
    DATE,
    DOCUMENTS,
    NUMBER,
    PLACES,
    QuestionProfile,
    profile_question,
    recased,
    with_unknown_actor_named,
)
from rag.retrieval import Retriever
from rag.settings import MAX_QUESTION_CHARS
from rag.text import CONTROL_CHARACTER, content_terms
from rag.types import Answer, Evidence, Hit

ABSTENTION_TEXT = "The indexed reports do not answer this question."
# With the question limited to some reports, the refusal says only those were searched.
ABSTENTION_TEXT_CHOSEN = "The chosen reports do not answer this question."
ABSTENTION_TEXT_CHOSEN_ONE = "The chosen report does not answer this question."


@dataclass(frozen=True)
class PipelineConfig:
    """Plain values the pipeline runs with (taken from `Settings` at the edge)."""

    top_k: int = 5
    evidence_sentences: int = 3
    max_answer_tokens: int = 80
    abstain_threshold: float = 0.2
    # Below this match of the best evidence sentence an answer is flagged as weakly
    # supported: on the development sets (dev, dev2 to dev5) a quarter of such SmolLM2
    # answers were right, against three quarters above it, and half of them answered a
    # question the reports do not answer.
    weak_evidence_match: float = 0.33


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: "passages", "token", "citations" or "done"."""

    kind: str
    data: Any


# Share of the best evidence sentence's new information (its content words that are not
# in the question) that a generated answer must carry. Chosen on the dev split.
MIN_EVIDENCE_COVERAGE = 0.7
# Evidence from or about the report a question names is used when it is at least this
# relevant, relative to the closest evidence of any report (`Pipeline._not_about`).
ABOUT_SHARE = 0.8
# The most documents a "Which reports mention…?" answer lists.
MAX_DOCUMENTS_LISTED = 8


def rests_on_best_evidence(
    profile: QuestionProfile,
    verified: VerifiedAnswer,
    evidence: list[Evidence],
    common_words: Collection[str],
) -> bool:
    """Whether a verified generated answer cites the most relevant evidence sentence, carries
    most of what that sentence adds to the question, and, for a how-many or when question,
    states a number or date.

    Small models often write a true, supported sentence about the wrong thing (they quote a
    weaker source that shares the question's words), or restate the question. Each sentence
    is already supported by what it cites; this checks that the answer says what the best
    evidence says.
    """
    if not verified.citations or not evidence:
        return False
    best = evidence[0].sentence
    if not any(citation.quote == best for citation in verified.citations):
        return False
    new_information = set(content_terms(best)) - set(content_terms(profile.question))
    if new_information:
        carried = new_information & set(content_terms(verified.text))
        if len(carried) / len(new_information) < MIN_EVIDENCE_COVERAGE:
            return False
    return has_answer_kind(verified.text, profile.expects, profile.question, common_words)


def validate_question(question: str) -> str:
    """The question stripped, or `InvalidQuestionError` when empty, too long, not UTF-8 or
    holding a control character.

    Bytes on a command line that are not UTF-8 arrive as lone surrogates (as does a JSON
    "\\udcff" escape), which the tokenizers reject with a TypeError deep inside the pipeline."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestionError("the question is empty", "ask a question in words")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuestionError(
            "the question is not UTF-8 text",
            "type or pass it as UTF-8 (check the encoding of the terminal or script)",
        ) from None
    control = CONTROL_CHARACTER.search(question)
    if control:
        raise InvalidQuestionError(
            f"the question holds a control character (U+{ord(control.group()):04X} at "
            f"character {control.start() + 1}), which no question contains",
            "remove it (tabs and line breaks may stay)",
        )
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long",
            f"shorten it to at most {MAX_QUESTION_CHARS}",
        )
    return question.strip()


class Pipeline:
    """Answers questions over one loaded index with one generator."""

    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        config: PipelineConfig | None = None,
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.config = config or PipelineConfig()

    @property
    def embedder(self) -> Embedder:
        """The embedder retrieval uses (questions and evidence share it)."""
        return self.retriever.embedder

    def warm_up(self) -> None:
        """Load every model and build the lexical index now, so that the first question's
        timings measure answering rather than loading."""
        self.generator.load()
        self.retriever.retrieve("warm up", 1)  # builds BM25 (hybrid and bm25 modes)
        # Loads the embedder in every mode; cached, so hybrid retrieval's own call is reused.
        self.retriever.query_vector("warm up")

    def check_documents(self, documents: Collection[str] | None) -> frozenset[str] | None:
        """The document ids a question may be limited to, as a set (None: all documents),
        or `UnknownDocumentError` naming the ids not in the index. `stream` checks them
        too; callers that must refuse before starting (the HTTP API) call this first."""
        return self.retriever.chosen_documents(documents)

    def ask(
        self, question: str, k: int | None = None, documents: Collection[str] | None = None
    ) -> Answer:
        """The verified answer to `question`, from the documents with ids in `documents`
        only (None or empty: every document)."""
        answer: Answer | None = None
        for event in self.stream(question, k, documents):
            if event.kind == "done":
                answer = event.data
        assert answer is not None
        return answer

    def stream(
        self, question: str, k: int | None = None, documents: Collection[str] | None = None
    ) -> Iterator[StreamEvent]:
        """Events of the answer to `question`, ending with `done` and the `Answer`. With
        `documents` (ids), only their passages are retrieved, so that evidence, citations,
        rival figures and the reports listed all come from them."""
        question = validate_question(question)
        chosen = self.check_documents(documents)
        # A question in capitals is read in the reports' own case, and a lower-case actor
        # the reports never name as a name ("what did kazakhstan report…"); the answer keeps
        # the question as asked.
        read = recased(question, self.retriever.common_words(), self.retriever.proper_forms())
        parts = tuple(
            with_unknown_actor_named(part, self.retriever.uses) for part in split_question(read)
        )
        if len(parts) == 1:
            read = parts[0]
        if len(parts) > 1:
            events = self._stream_parts(read, parts, k, chosen)
        else:
            events = self._stream_one(read, k, chosen)
        for event in events:
            if event.kind == "done" and read != question:
                event = StreamEvent("done", dataclasses.replace(event.data, question=question))
            yield event

    def _stream_parts(
        self,
        question: str,
        parts: Sequence[str],
        k: int | None,
        chosen: frozenset[str] | None,
    ) -> Iterator[StreamEvent]:
        """Events of the answer to a question of several `parts` (`rag.compound`): every
        part's passages first, as one list, then each part answered in turn."""
        started = time.perf_counter()
        streams = [self._stream_one(part, k, chosen) for part in parts[:MAX_PARTS]]
        try:
            # Each part's stream opens with its passages, before any generation.
            rankings = [next(stream).data for stream in streams]
            timings: dict[str, float | None] = {"retrieval": (time.perf_counter() - started) * 1000}
            yield StreamEvent("passages", merged_hits(rankings))
            answers: list[Answer] = []
            for stream in streams:
                for event in stream:
                    if event.kind == "token":
                        timings.setdefault("first_token", (time.perf_counter() - started) * 1000)
                        yield event
                    elif event.kind == "done":
                        answers.append(event.data)
        finally:
            for stream in streams:
                stream.close()
        answers += [unanswered_part(part, self.generator.name) for part in parts[MAX_PARTS:]]
        timings["total"] = (time.perf_counter() - started) * 1000
        timings.setdefault("first_token", timings["total"])
        answer = joined_answer(question, answers, self.generator.name, timings)
        yield StreamEvent("citations", answer.citations)
        yield StreamEvent("done", answer)

    def _refusal(self, chosen: Collection[str] | None) -> str:
        """What a refusal says, for the reports the question was limited to (if any)."""
        if not chosen:
            return ABSTENTION_TEXT
        return ABSTENTION_TEXT_CHOSEN_ONE if len(chosen) == 1 else ABSTENTION_TEXT_CHOSEN

    def _stream_one(
        self, question: str, k: int | None, chosen: frozenset[str] | None
    ) -> collections.abc.Generator[StreamEvent, None, None]:
        """Events of the answer to a question of one part; it opens with the passages."""
        started = time.perf_counter()
        timings: dict[str, float | None] = {}

        def elapsed_ms() -> float:
            return (time.perf_counter() - started) * 1000

        profile = profile_question(question)
        if profile.expects == COLLECTION:
            # About the index, not the reports: its records answer, with nothing retrieved.
            yield StreamEvent("passages", ())
            verified = VerifiedAnswer(
                collection_answer(self.retriever.index.documents, chosen), citations=()
            )
            yield from self._finish(question, (), verified, COLLECTION_MODE, timings, elapsed_ms)
            return
        lists_documents = profile.expects == DOCUMENTS
        # Which reports say it, or which states did it: each report may answer.
        across_documents = profile.expects in (DOCUMENTS, PLACES)
        # A question naming Ruritania, with Ruritania's own review among the reports, is
        # answered from that review or from sentences naming Ruritania.
        about = names_of_some_documents(
            name_phrases(profile.names, question), self.retriever.document_titles()
        )
        k = k or self.config.top_k
        hits = tuple(
            self.retriever.retrieve(
                question,
                max(k, MAX_DOCUMENTS_LISTED) if lists_documents else k,
                one_per_document=across_documents,
                about=about,
                documents=chosen,
            )
        )
        timings["retrieval"] = elapsed_ms()
        yield StreamEvent("passages", hits)

        evidence = select_evidence(
            profile,
            hits,
            self.retriever,
            MAX_DOCUMENTS_LISTED if lists_documents else self.config.evidence_sentences,
            one_per_document=lists_documents,
            about=about,
        )
        timings["evidence"] = elapsed_ms()
        common_words = self.retriever.common_words()
        reason = abstention_reason(
            profile,
            hits,
            evidence,
            self.config.abstain_threshold,
            common_words,
            self.retriever.embedder,
        )
        if reason is None and about:
            reason = self._not_about(profile, about, evidence, hits, chosen)
        # A list of documents, each with its own quote, is what the answer to "Which
        # reports…" is: a model would cite one of them.
        answering: list[Evidence] = []
        if reason is None and lists_documents:
            answering = documents_answering(question, evidence, self.retriever, mentioning=True)
            if not answering:
                reason = unmentioned(question, evidence)
        if reason is not None:
            yield from self._finish(
                question,
                hits,
                None,
                "abstained",
                timings,
                elapsed_ms,
                abstention_reason=reason,
                refusal=self._refusal(chosen),
            )
            return

        if lists_documents:
            yield from self._finish(
                question, hits, documents_answer(answering), "extractive", timings, elapsed_ms
            )
            return
        evidence = fit_evidence(
            question,
            evidence,
            self.generator.count_tokens,
            self.generator.context_tokens - self.config.max_answer_tokens,
        )
        raw_parts: list[str] = []
        first_token: float | None = None
        for delta in self.generator.stream_chat(
            build_messages(question, evidence), self.config.max_answer_tokens
        ):
            if first_token is None:
                first_token = elapsed_ms()
            raw_parts.append(delta)
            yield StreamEvent("token", delta)
        timings["first_token"] = first_token
        timings["generation"] = elapsed_ms()

        verified, mode = self._verify(profile, "".join(raw_parts), evidence, common_words)
        if profile.expects in (NUMBER, DATE):
            # Each report's best sentence too: a third report's figure may rank below the
            # few sentences the model was given.
            best_of_each = self._best_of_each_document(profile, hits)
            verified = with_rival_figure(
                verified,
                [*evidence, *best_of_each],
                profile,
                about,
                counts_asked=lambda sentence: counts_the_counted_thing(
                    profile, sentence, self.retriever.embedder
                ),
            )
        if across_documents:
            verified = self._with_other_documents(profile, hits, verified, about)
        weak = evidence[0].match < self.config.weak_evidence_match
        yield from self._finish(
            question, hits, verified, mode, timings, elapsed_ms, weak_evidence=weak
        )

    def _not_about(
        self,
        profile: QuestionProfile,
        about: Sequence[str],
        evidence: Sequence[Evidence],
        hits: Sequence[Hit],
        chosen: Collection[str] | None,
    ) -> str | None:
        """Why the evidence from or about `about` cannot answer, or None: there is none, or
        it is much less relevant (under `ABOUT_SHARE` of it) than the closest evidence of
        any report. "What firewall has Sylvania established…?" is then not answered with
        another state's firewall, nor with Sylvania's nearest sentence on something else."""
        closest = select_evidence(
            profile,
            self.retriever.retrieve(profile.question, len(hits), documents=chosen),
            self.retriever,
            1,
        )
        if not closest:
            return None
        if evidence and evidence[0].relevance >= ABOUT_SHARE * closest[0].relevance:
            return None
        return (
            f"the closest passage, in {closest[0].passage.doc_title}, is not about "
            f"{' or '.join(about)}"
        )

    def _with_other_documents(
        self,
        profile: QuestionProfile,
        hits: tuple[Hit, ...],
        verified: VerifiedAnswer,
        about: Sequence[str],
    ) -> VerifiedAnswer:
        """`verified`, with the best sentence of each other document that answers too."""
        best_of_each = self._best_of_each_document(profile, hits, about)
        answering = documents_answering(profile.question, best_of_each, self.retriever)
        return with_other_documents(verified, answering, profile)

    def _best_of_each_document(
        self, profile: QuestionProfile, hits: Sequence[Hit], about: Sequence[str] = ()
    ) -> list[Evidence]:
        """The most relevant sentence of each document of `hits` (see `select_evidence`)."""
        return select_evidence(
            profile, hits, self.retriever, MAX_DOCUMENTS_LISTED, one_per_document=True, about=about
        )

    def _verify(
        self,
        profile: QuestionProfile,
        raw_text: str,
        evidence: list[Evidence],
        common_words: Collection[str],
    ) -> tuple[VerifiedAnswer, str]:
        """The model's verified text when it answers from the best evidence; otherwise the
        best evidence itself, quoted and cited."""
        if NOT_IN_SOURCES.lower() not in raw_text.lower():
            verified = verify_answer(raw_text, evidence, common_words)
            if rests_on_best_evidence(profile, verified, evidence, common_words):
                return verified, "generated"
        # The model's text failed verification, wandered to weaker sources, or refused
        # although the evidence is relevant: quote the best evidence instead.
        return extractive_answer(evidence), "extractive"

    def _finish(
        self,
        question: str,
        hits: tuple[Hit, ...],
        verified: VerifiedAnswer | None,
        mode: str,
        timings: dict[str, float | None],
        elapsed_ms: Any,
        abstention_reason: str | None = None,
        weak_evidence: bool = False,
        refusal: str = ABSTENTION_TEXT,
    ) -> Iterator[StreamEvent]:
        citations = verified.citations if verified else ()
        yield StreamEvent("citations", citations)
        timings.setdefault("first_token", None)
        timings["total"] = elapsed_ms()
        if timings["first_token"] is None:
            timings["first_token"] = timings["total"]
        yield StreamEvent(
            "done",
            Answer(
                question=question,
                answer=verified.text if verified else refusal,
                abstained=verified is None,
                citations=citations,
                hits=hits,
                model=self.generator.name,
                timings_ms=timings,
                mode=mode,
                abstention_reason=abstention_reason,
                weak_evidence=weak_evidence,
            ),
        )
