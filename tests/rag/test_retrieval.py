"""Retrieval: score fusion, and dense/BM25/hybrid rankings on the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import RagError, UnknownDocumentError
from rag.factory import build_embedder, load_configured_index
from rag.retrieval import Retriever, fuse_scores, lexical_terms
from rag.settings import Settings
from tests.conftest import (
    HEADLINE_QUESTION,
    REGULARISATION_TEXT,
    ROOT,
    SEED_REPORT,
    ingest_seeds,
)


def test_fusion_keeps_a_dominant_lexical_margin() -> None:
    # BM25 scores passage 3 far above any other; dense does not rank it at all. Rank fusion
    # with the same weights would put passage 1 first (1/61 + 3/62 > 3/61).
    dense = [(1, 0.60), (2, 0.59), (4, 0.50)]
    lexical = [(3, 9.0), (1, 2.0), (2, 1.8)]
    fused = fuse_scores([dense, lexical], weights=[1.0, 3.0], floors=[None, 0.0])
    assert [position for position, _ in fused] == [3, 1, 2, 4]
    assert fused[0][1] == pytest.approx(3.0)
    assert fused[1][1] == pytest.approx(1.0 + 3.0 * 2.0 / 9.0)
    assert fused[3][1] == pytest.approx(0.0)


def test_fusion_scales_a_ranking_of_equal_scores_to_one() -> None:
    assert fuse_scores([[(5, 0.4), (6, 0.4)]], weights=[2.0], floors=[None]) == [
        (5, pytest.approx(2.0)),
        (6, pytest.approx(2.0)),
    ]


def test_unknown_mode_is_refused(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    with pytest.raises(RagError, match="dense, bm25, hybrid"):
        Retriever(index, build_embedder(fake_index), mode="magic")


def test_bm25_ignores_passages_without_shared_words(fake_index: Settings) -> None:
    retriever = Retriever(load_configured_index(fake_index), build_embedder(fake_index), "bm25")
    assert retriever.retrieve("zzzz qqqq", 5) == []
    hits = retriever.retrieve("regularisation Moldova Portugal", 3)
    assert REGULARISATION_TEXT in hits[0].passage.text
    assert [hit.rank for hit in hits] == [0, 1, 2]


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_finds_the_regularisation_paragraph(real_settings: Settings, mode: str) -> None:
    retriever = Retriever(load_configured_index(real_settings), build_embedder(real_settings), mode)
    hits = retriever.retrieve(HEADLINE_QUESTION, 5)
    assert any(REGULARISATION_TEXT in hit.passage.text for hit in hits)


@pytest.mark.integration
def test_hybrid_finds_a_paraphrase(real_settings: Settings) -> None:
    retriever = Retriever(load_configured_index(real_settings), build_embedder(real_settings))
    hits = retriever.retrieve(
        "Which governments gave undocumented people legal status in the pandemic?", 5
    )
    assert any(REGULARISATION_TEXT in hit.passage.text for hit in hits)


@pytest.mark.integration
def test_hybrid_keeps_the_one_paragraph_bm25_singles_out(real_settings: Settings) -> None:
    # Dense retrieval ranks other paragraphs on migrants' status above it; BM25 scores it
    # three times above any other. Rank fusion left it sixth, out of the five answered from.
    retriever = Retriever(load_configured_index(real_settings), build_embedder(real_settings))
    hits = retriever.retrieve("Which states regularised migrants?", 5)
    assert any(REGULARISATION_TEXT in hit.passage.text for hit in hits)


def test_numbered_references_are_one_lexical_term() -> None:
    terms = lexical_terms("What is the title of Objective 12 and resolution 73/195?")
    assert "objective#12" in terms
    assert "resolution#73/195" in terms


def test_a_number_joined_to_a_name_is_no_term_of_its_own() -> None:
    # "COVID-19" weighs as "COVID" does: as two terms it pulled every sentence on the
    # pandemic above the one listing the states that regularised migrants during it.
    assert lexical_terms("regularised during COVID-19") == lexical_terms("regularised during COVID")
    assert "19" in lexical_terms("resolution of 19 December")


def test_weighted_fusion_can_silence_a_ranking() -> None:
    dense = [(1, 0.9), (2, 0.8)]
    lexical = [(2, 12.0), (3, 10.0)]
    assert fuse_scores([dense, lexical], weights=[1.0, 0.0], floors=[None, 0.0]) == [
        (1, pytest.approx(1.0)),
        (2, pytest.approx(0.0)),
        (3, pytest.approx(0.0)),
    ]


def test_lexical_confidence_weights_question_terms_by_rarity(fake_index: Settings) -> None:
    retriever = Retriever(load_configured_index(fake_index), build_embedder(fake_index))
    question = "regularisation Moldova Portugal zzzqqq"
    confidence = retriever.lexical_confidence(question, retriever.lexical(question, 5))
    found = ["regularis", "moldova", "portugal"]
    expected = sum(map(retriever.idf, found)) / sum(map(retriever.idf, [*found, "zzzqqq"]))
    assert confidence == pytest.approx(expected)
    assert 0 < confidence < 1
    # An unseen word is the rarest of all; one in every passage counts for little.
    assert retriever.idf("zzzqqq") > retriever.idf("portugal") > retriever.idf("member")
    assert retriever.lexical_confidence("zzzqqq", []) == 0.0


def test_dense_scores_a_passage_by_its_best_sentence(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    retriever = Retriever(index, build_embedder(fake_index), "dense")
    position = next(i for i, p in enumerate(index.passages) if REGULARISATION_TEXT in p.text)
    sentence = next(s for s in index.sentences_of(position)[0] if REGULARISATION_TEXT in s)
    ranking = dict(retriever.dense(sentence, 10))
    assert ranking[position] == pytest.approx(1.0, abs=1e-5)


def test_passages_stating_a_numbered_reference_come_first(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    retriever = Retriever(index, build_embedder(fake_index))
    question = "What is the title of GCM Objective 12?"
    heading = next(i for i, p in enumerate(index.passages) if p.text.startswith("Objective 12:"))
    others = [(i, 0.5) for i in range(len(index.passages)) if i != heading][:4]
    reordered = retriever.stating_references_first(question, [*others, (heading, 0.1)])
    assert reordered == [(heading, 0.1), *others]
    # Passages filed under the heading but not stating it keep their places behind it.
    assert retriever.retrieve(question, 5)[0].passage.text.startswith("Objective 12:")
    assert retriever.stating_references_first("Which states regularised?", others) == others


def test_each_documents_best_passage_can_come_first(fake_settings: Settings) -> None:
    (fake_settings.seeds_dir / "brief.md").write_text(
        "# Brief\n\nRegularisation was considered in one paragraph of this brief.\n",
        encoding="utf-8",
    )
    ingest_seeds(fake_settings)
    retriever = Retriever(load_configured_index(fake_settings), build_embedder(fake_settings))
    question = "Which reports mention regularisation?"
    ranked = [hit.passage.doc_id for hit in retriever.retrieve(question, 40)]
    first_brief = ranked.index("brief")
    assert first_brief > 1  # the seed report's passages outrank the brief's
    per_document = retriever.retrieve(question, 40, one_per_document=True)
    assert [hit.passage.doc_id for hit in per_document[:2]] == ["gcm-unece-2020", "brief"]
    # Only the order changes: the same passages, the rest in their order.
    assert sorted(hit.passage.anchor for hit in per_document) == sorted(
        hit.passage.anchor for hit in retriever.retrieve(question, 40)
    )


def test_passages_about_a_named_state_can_come_first(fake_settings: Settings) -> None:
    (fake_settings.seeds_dir / "sylvania.md").write_text(
        "# Sylvania Review\n\nRegularisation was considered in this review.\n", encoding="utf-8"
    )
    ingest_seeds(fake_settings)
    retriever = Retriever(load_configured_index(fake_settings), build_embedder(fake_settings))
    question = "Did Sylvania consider regularisation?"
    ranked = retriever.retrieve(question, 20)
    about = retriever.retrieve(question, 20, about=["Sylvania"])
    assert about[0].passage.doc_id == "sylvania"
    assert [hit.passage.anchor for hit in about[1:]] == [
        hit.passage.anchor for hit in ranked if hit.passage.doc_id != "sylvania"
    ][:19]
    assert retriever.document_titles() == {"Sylvania Review", ranked[0].passage.doc_title} | {
        hit.passage.doc_title for hit in ranked
    }


def test_common_words_are_those_written_in_lower_case(fake_index: Settings) -> None:
    retriever = Retriever(load_configured_index(fake_index), build_embedder(fake_index))
    common = retriever.common_words()
    assert {"migrants", "regularisation", "objectives", "regional"} <= common
    assert not {"portugal", "moldova", "italy"} & common


# A small second document: each paragraph names regularisation, far less fully than the seed
# report's paragraph about it. The second paragraph's two sentences each share one word of
# FILTER_QUESTION, so its whole-paragraph vector is closer to it than either sentence.
BRIEF = (
    "# Brief\n\nRegularisation of migrants was discussed by the ministry.\n\n"
    "Regularisation was debated at length. The pandemic delayed the decision.\n"
)
FILTER_QUESTION = "Which states instituted regularisation in the pandemic?"


def with_brief(settings: Settings) -> Retriever:
    (settings.seeds_dir / "brief.md").write_text(BRIEF, encoding="utf-8")
    ingest_seeds(settings)
    return Retriever(load_configured_index(settings), build_embedder(settings))


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_a_document_filter_ranks_only_the_chosen_documents_passages(
    fake_settings: Settings, mode: str
) -> None:
    retriever = with_brief(fake_settings)
    retriever.mode = mode
    brief = [p.anchor for p in retriever.index.passages if p.doc_id == "brief"]
    # Unfiltered, the seed report's paragraph comes first: one passage would be all seed.
    assert retriever.retrieve(FILTER_QUESTION, 1)[0].passage.doc_id == "gcm-unece-2020"
    (best,) = retriever.retrieve(FILTER_QUESTION, 1, documents=["brief"])
    assert best.passage.doc_id == "brief"
    hits = retriever.retrieve(FILTER_QUESTION, 5, documents=["brief"])
    assert hits[0] == best
    assert sorted(hit.passage.anchor for hit in hits) == sorted(brief)
    assert [hit.rank for hit in hits] == list(range(len(brief)))
    both = retriever.retrieve(FILTER_QUESTION, 50, documents=["brief", "gcm-unece-2020"])
    assert both == retriever.retrieve(FILTER_QUESTION, 50)


def test_dense_search_scores_every_passage_of_a_chosen_document(fake_settings: Settings) -> None:
    retriever = with_brief(fake_settings)
    positions = retriever.positions_of(["brief"])
    assert positions is not None
    assert [retriever.index.passages[p].doc_id for p in positions] == ["brief"] * 2
    everything = dict(retriever.dense(FILTER_QUESTION, len(retriever.index.passages)))
    chosen = retriever.dense(FILTER_QUESTION, len(positions), positions)
    assert sorted(position for position, _ in chosen) == positions
    for position, score in chosen:
        assert score == pytest.approx(everything[position], abs=1e-6)
    # The nearest passage of the whole index is the seed report's. Cut to one passage, the
    # chosen document's best is still scored by its whole-paragraph similarity, which is
    # above either sentence's: a nearest-one search filtered afterwards would have lost it.
    query = retriever.query_vector(FILTER_QUESTION)
    (nearest, _), *_ = retriever.index.search(query, 1)
    assert retriever.index.passages[nearest].doc_id == "gcm-unece-2020"
    two_sentences = positions[-1]
    passage_similarity = float(retriever.index.vectors[two_sentences] @ query)
    assert passage_similarity > max(retriever.index.search_sentences(query)[p] for p in positions)
    assert retriever.dense(FILTER_QUESTION, 1, positions) == [
        (two_sentences, pytest.approx(passage_similarity, abs=1e-6))
    ]
    assert [p for p, _ in retriever.lexical(FILTER_QUESTION, 1, positions)] == [two_sentences]


def test_chosen_documents_must_be_indexed(fake_settings: Settings) -> None:
    retriever = with_brief(fake_settings)
    assert retriever.chosen_documents(None) is None
    assert retriever.chosen_documents([]) is None
    assert retriever.chosen_documents(("brief", "brief")) == frozenset({"brief"})
    with pytest.raises(UnknownDocumentError) as error:
        retriever.chosen_documents(["brief", "ruritania", "atlantis"])
    assert str(error.value) == (
        "no documents 'atlantis', 'ruritania' in the index (indexed: brief, gcm-unece-2020); "
        "name documents by the ids 'rag docs list' or GET /api/documents shows"
    )
    assert (error.value.unknown, error.value.known) == (
        ["atlantis", "ruritania"],
        ["brief", "gcm-unece-2020"],
    )


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_a_small_chosen_report_is_searched_among_larger_ones(
    real_settings: Settings, tmp_path: Path, mode: str
) -> None:
    # The fictional Ruritania review (18 passages) beside the seed report (45), on the real
    # embedder: each filter fills all five places from its own document, and within
    # Ruritania's the passage stating its remittances comes first.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for source in (SEED_REPORT, ROOT / "eval" / "multidoc" / "ruritania-vnr-2021.md"):
        shutil.copy(source, seeds / source.name)
    settings = real_settings.model_copy(
        update={"seeds_dir": seeds, "index_dir": tmp_path / "index", "retrieval": mode}
    )
    ingest_seeds(settings)
    retriever = Retriever(load_configured_index(settings), build_embedder(settings), mode)
    question = "How much did personal remittances reach in 2020?"
    assert retriever.retrieve(HEADLINE_QUESTION, 1)[0].passage.doc_id == "gcm-unece-2020"
    hits = retriever.retrieve(question, 5, documents=["ruritania-vnr-2021"])
    assert len(hits) == 5
    assert {hit.passage.doc_id for hit in hits} == {"ruritania-vnr-2021"}
    assert "USD 2.4 billion" in hits[0].passage.text
    seed_only = retriever.retrieve(question, 5, documents=["gcm-unece-2020"])
    assert {hit.passage.doc_id for hit in seed_only} == {"gcm-unece-2020"}
