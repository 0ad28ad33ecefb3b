"""Ingestion: every format into one index, incremental re-ingest (unchanged documents are not
embedded again), duplicates, name collisions, bad files skipped with a reason, and an index
that survives `rag ingest` being killed at any moment."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import random
import shutil
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.cli import EXIT_PARTIAL, main
from rag.embedding import Embedder
from rag.embedding.hashing import HashingEmbedder
from rag.factory import build_pipeline, index_config
from rag.index import PassageIndex, load_index
from rag.ingest import IngestReport, ingest
from rag.manifest import IndexConfig
from rag.pipeline import Pipeline
from rag.plain_text import answer_as_text
from rag.retrieval import Retriever
from rag.settings import Settings
from rag.text import split_sentences
from rag.types import Passage
from tests.conftest import ROOT, SEED_REPORT
from tests.rag.sample_documents import (
    DOCX_FACT,
    HTML_FACT,
    PDF_FACT,
    PDF_FACT_PAGE,
    PDF_FACT_QUESTION,
    write_blank_pdf,
    write_border_report,
    write_corrupt_pdf,
    write_encrypted_pdf,
    write_image_only_pdf,
    write_mixed_corpus,
)
from tests.rag.test_index import overwrite_middle

CONFIG = IndexConfig(embedding_model="hashing")


def texts_to_embed(passages: list[Passage]) -> int:
    """Embedding calls ingest owes these passages: each passage, and each of its sentences."""
    return len(passages) + sum(len(split_sentences(p.text)) for p in passages)


class CountingEmbedder:
    """An embedder (the hashing one by default) that counts what it is asked to embed."""

    def __init__(self, inner: Embedder | None = None) -> None:
        self.inner = inner or HashingEmbedder("hashing")
        self.calls = 0
        self.texts: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed(texts)


class Run:
    """One ingest run's report, log lines and embedder."""

    def __init__(
        self,
        paths: Sequence[Path],
        index_dir: Path,
        config: IndexConfig = CONFIG,
        embedder: CountingEmbedder | None = None,
    ) -> None:
        self.embedder = embedder or CountingEmbedder()
        self.log: list[str] = []
        self.report: IngestReport = ingest(
            list(paths), index_dir, config, self.embedder, progress=False, log=self.log.append
        )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_mixed_corpus(folder, SEED_REPORT)
    return folder


def index_files(index_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(index_dir.iterdir())}


def search(index: PassageIndex, question: str, k: int = 5) -> list[str]:
    hits = Retriever(index, HashingEmbedder("hashing"), "hybrid").retrieve(question, k)
    return [hit.passage.anchor for hit in hits]


# --- the mixed corpus -------------------------------------------------------------------


def test_every_format_is_ingested_into_one_index(corpus: Path, tmp_path: Path) -> None:
    run = Run([corpus], tmp_path / "index")
    assert sorted(run.report.added) == [
        "freedonia-report",
        "gcm-unece-2020",
        "ruritania-review",
        "zembla-portal",
    ]
    assert run.report.skipped == [] and run.log == []
    index = load_index(tmp_path / "index", CONFIG)
    assert run.report.passages_embedded == len(index.passages)
    assert len(run.embedder.texts) == texts_to_embed(index.passages)
    by_text = {
        fact: next(p for p in index.passages if fact in p.text)
        for fact in (PDF_FACT, DOCX_FACT, HTML_FACT)
    }
    assert by_text[PDF_FACT].doc_id == "ruritania-review"
    assert by_text[PDF_FACT].page == PDF_FACT_PAGE
    assert by_text[DOCX_FACT].page is None and by_text[HTML_FACT].page is None
    # The seed report keeps the anchors it had before other formats existed.
    assert index.passage("gcm-unece-2020#p24") is not None
    assert {p.page for p in index.passages if p.doc_id == "gcm-unece-2020"} == {None}


def test_pdf_passage_is_cited_with_its_page(
    corpus: Path,
    fake_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = fake_settings.model_copy(update={"seeds_dir": corpus})
    Run([corpus], settings.index_dir)
    answer = build_pipeline(settings).ask(PDF_FACT_QUESTION)
    assert not answer.abstained
    cited = next(c for c in answer.citations if c.doc == "ruritania-review")
    assert cited.page == PDF_FACT_PAGE
    assert cited.to_dict()["page"] == PDF_FACT_PAGE
    assert (
        f"{cited.doc_title}, 3. Labour migration, p. {PDF_FACT_PAGE} ({cited.anchor})"
        in answer_as_text(answer)
    )


@pytest.mark.integration
def test_acceptance_question_answered_only_in_the_pdf_cites_its_page(
    real_pipeline: Pipeline, real_settings: Settings, tmp_path: Path
) -> None:
    """The issue's acceptance on the real models: a folder with a PDF, a DOCX, an HTML page
    and the seed report; a question only the PDF answers; then a re-run that embeds nothing."""
    corpus = tmp_path / "corpus"
    write_mixed_corpus(corpus, SEED_REPORT)
    settings = real_settings.model_copy(update={"index_dir": tmp_path / "index"})
    config = index_config(settings)
    embedder = CountingEmbedder(real_pipeline.embedder)
    report = ingest([corpus], settings.index_dir, config, embedder, progress=False)
    assert len(report.added) == 4 and report.skipped == []
    pipeline = build_pipeline(
        settings, embedder=real_pipeline.embedder, generator=real_pipeline.generator
    )
    answer = pipeline.ask(PDF_FACT_QUESTION)
    assert not answer.abstained
    assert "4,812" in answer.answer
    cited = [c for c in answer.citations if "4,812 seasonal work permits" in c.quote]
    assert cited and cited[0].doc == "ruritania-review"
    assert cited[0].anchor.startswith("ruritania-review#p")
    assert cited[0].page == PDF_FACT_PAGE
    assert (
        f"{cited[0].doc_title}, 3. Labour migration, p. {PDF_FACT_PAGE} ({cited[0].anchor})"
        in answer_as_text(answer)
    )

    again = CountingEmbedder(real_pipeline.embedder)
    rerun = ingest([corpus], settings.index_dir, config, again, progress=False)
    assert again.calls == 0 and rerun.saved is False
    assert rerun.summary(settings.index_dir).endswith("nothing embedded.")


# --- incremental re-ingest --------------------------------------------------------------


def test_unchanged_corpus_embeds_nothing_and_leaves_the_files(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    before = index_files(tmp_path / "index")
    again = Run([corpus], tmp_path / "index")
    assert again.embedder.calls == 0
    assert again.report.saved is False
    assert sorted(again.report.unchanged) == sorted(
        ["freedonia-report", "gcm-unece-2020", "ruritania-review", "zembla-portal"]
    )
    assert again.report.summary(tmp_path / "index") == (
        "Index unchanged: 4 document(s) up to date, nothing embedded."
    )
    assert index_files(tmp_path / "index") == before


def test_changed_document_is_replaced_and_only_it_is_embedded(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    before = load_index(tmp_path / "index", CONFIG)
    page = corpus / "zembla-portal.html"
    page.write_text(page.read_text().replace("620 returnees", "985 returnees"), encoding="utf-8")
    run = Run([corpus], tmp_path / "index")
    after = load_index(tmp_path / "index", CONFIG)
    assert run.report.replaced == ["zembla-portal"] and run.report.added == []
    new_passages = [p for p in after.passages if p.doc_id == "zembla-portal"]
    assert run.embedder.texts and len(run.embedder.texts) == texts_to_embed(new_passages)
    texts = " ".join(p.text for p in new_passages)
    assert "985 returnees" in texts and "620 returnees" not in texts
    # The other documents keep their passages and their very vectors.
    for doc_id in ("ruritania-review", "gcm-unece-2020", "freedonia-report"):
        old_passages, old_vectors = before.vectors_of(doc_id)
        kept_passages, kept_vectors = after.vectors_of(doc_id)
        assert kept_passages == old_passages
        assert np.array_equal(kept_vectors, old_vectors)


def test_removed_file_is_gone_from_search_after_re_ingesting_its_folder(
    corpus: Path, tmp_path: Path
) -> None:
    Run([corpus], tmp_path / "index")
    question = "reintegration grant euros returnees"
    assert search(load_index(tmp_path / "index", CONFIG), question)[0].startswith("zembla-portal#")
    (corpus / "zembla-portal.html").unlink()
    run = Run([corpus], tmp_path / "index")
    assert run.report.removed == ["zembla-portal"] and run.embedder.calls == 0
    assert "removed: 'zembla-portal' (its file no longer exists)" in run.log
    index = load_index(tmp_path / "index", CONFIG)
    assert "zembla-portal" not in index.documents
    assert not any(anchor.startswith("zembla-portal#") for anchor in search(index, question, 20))


def test_documents_outside_the_ingested_paths_stay(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    (tmp_path / "elsewhere").mkdir()
    extra = tmp_path / "elsewhere" / "extra.md"
    extra.write_text("# Extra\n\nValoria signed a readmission agreement in 2021.\n")
    run = Run([extra], tmp_path / "index")
    assert run.report.added == ["extra"] and run.report.removed == []
    assert set(load_index(tmp_path / "index", CONFIG).documents) == {
        "extra",
        "freedonia-report",
        "gcm-unece-2020",
        "ruritania-review",
        "zembla-portal",
    }


def test_document_whose_file_outside_the_ingested_paths_is_gone_is_warned_about(
    corpus: Path, tmp_path: Path
) -> None:
    index_dir, extra = index_with_a_file_elsewhere(corpus, tmp_path)
    extra.unlink()
    run = Run([corpus], index_dir)
    assert run.report.removed == [] and run.report.saved is False
    assert run.log == [
        f"warning: 'extra' is still indexed but its file {extra.resolve()} no longer exists; "
        "'rag docs remove extra' drops it"
    ]
    assert "extra" in load_index(index_dir, CONFIG).documents


def test_incremental_index_equals_one_built_at_once(corpus: Path, tmp_path: Path) -> None:
    moved = tmp_path / "later"
    moved.mkdir()
    shutil.move(corpus / "freedonia-report.docx", moved / "freedonia-report.docx")
    Run([corpus], tmp_path / "step")
    Run([corpus, moved], tmp_path / "step")
    Run([corpus, moved], tmp_path / "once")
    step, once = load_index(tmp_path / "step", CONFIG), load_index(tmp_path / "once", CONFIG)
    assert step.passages == once.passages
    assert np.array_equal(step.vectors, once.vectors)
    assert step.documents == once.documents


# --- rebuilds ---------------------------------------------------------------------------


def index_with_a_file_elsewhere(corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The corpus ingested as a folder, then a file outside it by its path: 5 documents."""
    index_dir = tmp_path / "index"
    Run([corpus], index_dir)
    (tmp_path / "elsewhere").mkdir()
    extra = tmp_path / "elsewhere" / "extra.md"
    extra.write_text("# Extra\n\nValoria signed a readmission agreement in 2021.\n")
    Run([extra], index_dir)
    return index_dir, extra


def test_rebuild_for_another_setting_keeps_the_documents_the_old_index_listed(
    corpus: Path, tmp_path: Path
) -> None:
    index_dir, extra = index_with_a_file_elsewhere(corpus, tmp_path)
    before = load_index(index_dir, CONFIG).documents
    (corpus / "zembla-portal.html").unlink()
    # A new file whose plain id is a listed document's: the listed one keeps its id.
    newcomer = tmp_path / "elsewhere" / "ruritania-review.txt"
    newcomer.write_text("Ruritania briefing\n\nRuritania opened two border posts.\n")
    smaller = IndexConfig(embedding_model="hashing", max_passage_tokens=120)
    run = Run([extra, newcomer], index_dir, smaller)
    assert run.log[0].startswith("Rebuilding the index: ")
    assert "max_passage_tokens '200' (configured: '120')" in run.log[0]
    assert run.report.removed == ["zembla-portal"]
    assert (
        f"removed: 'zembla-portal' (its file {(corpus / 'zembla-portal.html').resolve()} no "
        "longer exists, so the rebuilt index cannot hold it)"
    ) in run.log
    rebuilt = load_index(index_dir, smaller).documents
    assert set(rebuilt) == set(before) - {"zembla-portal"} | {"ruritania-review-txt"}
    for doc_id in set(before) - {"zembla-portal"}:
        assert rebuilt[doc_id].path == before[doc_id].path
        assert rebuilt[doc_id].content_hash == before[doc_id].content_hash
    assert rebuilt["ruritania-review-txt"].path == str(newcomer.resolve())
    # The four listed documents still there are re-read, not new; the newcomer is new.
    assert sorted(run.report.reread) == sorted(set(before) - {"zembla-portal"})
    assert run.report.added == ["ruritania-review-txt"]
    passages = len(load_index(index_dir, smaller).passages)
    assert run.report.summary(index_dir) == (
        f"Rebuilt the index: re-read 4 document(s) it listed, added 1 new ({passages} passages "
        f"embedded); 1 removed; 5 document(s), {passages} passages in {index_dir}/."
    )


def test_rebuild_after_the_manifest_is_unreadable_says_what_it_lost(
    corpus: Path, tmp_path: Path
) -> None:
    index_dir, extra = index_with_a_file_elsewhere(corpus, tmp_path)
    (index_dir / "manifest.json").write_text('{"documents": ')
    run = Run([extra], index_dir)
    assert set(load_index(index_dir, CONFIG).documents) == {"extra"}
    assert run.report.added == ["extra"] and run.report.reread == []  # the listing is lost
    assert run.log[0].startswith(f"Rebuilding the index: {index_dir}/manifest.json is unreadable")
    assert run.log[1] == (
        f"warning: {index_dir}/manifest.json cannot be read, so the documents it listed are "
        "unknown: the rebuilt index holds only the documents under the paths given; ingest "
        "the others again by naming their files or folders"
    )


def test_corrupt_vectors_file_is_rebuilt_with_every_document(corpus: Path, tmp_path: Path) -> None:
    index_dir, extra = index_with_a_file_elsewhere(corpus, tmp_path)
    before = load_index(index_dir, CONFIG)
    vectors = next(index_dir.glob("vectors-*.faiss"))
    overwrite_middle(vectors)
    run = Run([extra], index_dir)
    assert run.log[0] == (
        f"Rebuilding the index: {index_dir}/{vectors.name} is corrupt (its SHA-256 differs "
        "from the one in manifest.json)."
    )
    assert run.report.saved and run.report.removed == [] and run.report.added == []
    assert run.report.summary(index_dir).startswith(
        f"Rebuilt the index: re-read {len(before.documents)} document(s) it listed, added 0 new "
    )
    after = load_index(index_dir, CONFIG)
    assert after.documents == before.documents
    assert after.passages == before.passages
    np.testing.assert_allclose(after.vectors, before.vectors, rtol=1e-6)


def store_absolute_paths(index_dir: Path) -> None:
    """Name every file in the manifest at `index_dir` absolutely, as manifests did before
    they named the files of the project folder relative to it."""
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["relative_paths"]
    for record in manifest["documents"].values():
        record["path"] = str(index_dir.parent / record["path"])
        record["duplicates"] = [str(index_dir.parent / d) for d in record["duplicates"]]
    path.write_text(json.dumps(manifest, indent=2))


def anchors_of(index_dir: Path) -> list[str]:
    return [passage.anchor for passage in load_index(index_dir, CONFIG).passages]


def test_rebuild_keeps_the_id_and_the_file_of_a_report_with_a_copy_elsewhere(
    tmp_path: Path,
) -> None:
    project, outside = tmp_path / "project", tmp_path / "other"
    (project / "seeds").mkdir(parents=True)
    outside.mkdir()
    seeds_copy = project / "seeds" / SEED_REPORT.name
    outside_copy = outside / SEED_REPORT.name
    shutil.copy(SEED_REPORT, seeds_copy)
    shutil.copy(SEED_REPORT, outside_copy)
    index_dir = project / "index"
    Run([project / "seeds"], index_dir)
    assert Run([outside_copy], index_dir).report.duplicates == [
        (str(outside_copy.resolve()), "gcm-unece-2020")
    ]
    before = anchors_of(index_dir)
    overwrite_middle(next(index_dir.glob("passages-*.jsonl")))
    # The copy elsewhere sorts first by path ("other" < "project"): it must not win.
    run = Run([project / "seeds"], index_dir)
    assert run.report.reread == ["gcm-unece-2020"] and run.report.added == []
    assert run.report.duplicates == [(str(outside_copy.resolve()), "gcm-unece-2020")]
    assert not any("is indexed as" in line for line in run.log)
    record = load_index(index_dir, CONFIG).documents["gcm-unece-2020"]
    assert record.path == str(seeds_copy.resolve())
    assert record.duplicates == (str(outside_copy.resolve()),)
    assert anchors_of(index_dir) == before


def test_rebuild_of_an_index_copied_from_another_checkout_reads_this_ones_file(
    tmp_path: Path,
) -> None:
    checkouts = {name: tmp_path / name for name in ("main", "work")}
    for checkout in checkouts.values():
        (checkout / "seeds").mkdir(parents=True)
        shutil.copy(SEED_REPORT, checkout / "seeds" / SEED_REPORT.name)
    Run([checkouts["main"] / "seeds"], checkouts["main"] / "index")
    # As manifests were written before they named the project's files relative to it.
    store_absolute_paths(checkouts["main"] / "index")
    before = anchors_of(checkouts["main"] / "index")
    index_dir = checkouts["work"] / "index"
    shutil.copytree(checkouts["main"] / "index", index_dir)
    overwrite_middle(next(index_dir.glob("passages-*.jsonl")))
    run = Run([checkouts["work"] / "seeds"], index_dir)
    # Not 'gcm-unece-2020-txt', and not read from the other checkout, nor named at all:
    # the copied manifest's files in the main checkout are this checkout's.
    assert run.report.reread == ["gcm-unece-2020"] and run.report.added == []
    assert run.report.duplicates == []
    record = load_index(index_dir, CONFIG).documents["gcm-unece-2020"]
    assert record.path == str((checkouts["work"] / "seeds" / SEED_REPORT.name).resolve())
    assert record.duplicates == ()
    assert anchors_of(index_dir) == before


# --- where the manifest says the files are -------------------------------------------------


def test_a_copied_project_reads_and_replaces_its_own_files(tmp_path: Path) -> None:
    original, copy = tmp_path / "project-a", tmp_path / "project-b"
    (original / "seeds").mkdir(parents=True)
    shutil.copy(SEED_REPORT, original / "seeds" / SEED_REPORT.name)
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("# Elsewhere\n\nValoria signed a readmission agreement in 2021.\n")
    Run([original / "seeds", elsewhere], original / "index")
    manifest = json.loads((original / "index" / "manifest.json").read_text())
    # Inside the project, relative to it; outside, where it is.
    assert manifest["documents"]["gcm-unece-2020"]["path"] == "seeds/gcm-unece-2020.txt"
    assert manifest["documents"]["elsewhere"]["path"] == str(elsewhere.resolve())
    shutil.copytree(original, copy)
    with open(copy / "seeds" / SEED_REPORT.name, "a", encoding="utf-8") as report:
        report.write("\nRuritania opened two border posts in 2021.\n")
    run = Run([copy / "seeds"], copy / "index")
    assert run.report.replaced == ["gcm-unece-2020"] and run.report.added == []
    documents = load_index(copy / "index", CONFIG).documents
    assert set(documents) == {"gcm-unece-2020", "elsewhere"}
    assert documents["gcm-unece-2020"].path == str((copy / "seeds" / SEED_REPORT.name).resolve())
    assert documents["elsewhere"].path == str(elsewhere.resolve())
    # The original project still reads its own, unchanged file.
    assert Run([original / "seeds"], original / "index").report.saved is False
    assert load_index(original / "index", CONFIG).documents["gcm-unece-2020"].path == str(
        (original / "seeds" / SEED_REPORT.name).resolve()
    )


def test_a_project_copied_with_an_old_manifest_reads_and_replaces_its_own_files(
    tmp_path: Path,
) -> None:
    original, copy = tmp_path / "project-a", tmp_path / "project-b"
    (original / "seeds").mkdir(parents=True)
    shutil.copy(SEED_REPORT, original / "seeds" / SEED_REPORT.name)
    Run([original / "seeds"], original / "index")
    store_absolute_paths(original / "index")  # as an earlier version wrote it
    shutil.copytree(original, copy)
    own_file = str((copy / "seeds" / SEED_REPORT.name).resolve())
    run = Run([copy / "seeds"], copy / "index")
    assert run.report.duplicates == [] and run.report.unchanged == ["gcm-unece-2020"]
    assert run.report.saved and run.embedder.calls == 0
    assert run.log == [
        f"note: {copy / 'index'}/manifest.json named the files in {original.resolve()}/, where "
        f"it was built, by absolute paths; this copy reads its own files at the same places "
        f"in {copy.resolve()}/, and the manifest now names them relative to that folder "
        "(nothing is embedded)"
    ]
    manifest = json.loads((copy / "index" / "manifest.json").read_text())
    assert manifest["documents"]["gcm-unece-2020"]["path"] == "seeds/gcm-unece-2020.txt"
    with open(own_file, "a", encoding="utf-8") as report:
        report.write("\nRuritania opened two border posts in 2021.\n")
    run = Run([copy / "seeds"], copy / "index")
    assert run.report.replaced == ["gcm-unece-2020"] and run.report.added == []
    assert run.report.near_duplicates == []
    documents = load_index(copy / "index", CONFIG).documents
    assert list(documents) == ["gcm-unece-2020"]
    assert documents["gcm-unece-2020"].path == own_file


def test_a_manifest_with_absolute_paths_loads_and_the_next_ingest_makes_them_relative(
    corpus: Path, tmp_path: Path
) -> None:
    shutil.copy(corpus / "ruritania-review.pdf", corpus / "z-copy.pdf")
    index_dir = tmp_path / "index"
    Run([corpus], index_dir)
    before = load_index(index_dir, CONFIG)
    store_absolute_paths(index_dir)
    legacy = load_index(index_dir, CONFIG)
    assert legacy.documents == before.documents and legacy.absolute_paths_stored
    run = Run([corpus], index_dir)
    assert run.report.saved and run.embedder.calls == 0
    assert run.log[-1] == (
        f"note: {index_dir}/manifest.json named the files in {tmp_path.resolve()}/ by absolute "
        "paths; it now names them relative to that folder, so that a copy of it reads its own "
        "files (nothing is embedded)"
    )
    manifest = json.loads((index_dir / "manifest.json").read_text())
    review = manifest["documents"]["ruritania-review"]
    assert (review["path"], review["duplicates"]) == (
        "corpus/ruritania-review.pdf",
        ["corpus/z-copy.pdf"],
    )
    after = load_index(index_dir, CONFIG)
    assert after.documents == before.documents and not after.absolute_paths_stored
    assert after.passages == before.passages
    assert Run([corpus], index_dir).report.saved is False


# --- duplicates, collisions, moves ------------------------------------------------------


def test_duplicate_under_another_name_is_indexed_once_with_a_notice(
    corpus: Path, tmp_path: Path
) -> None:
    copy = corpus / "second copy.pdf"  # sorts after the original, which is kept
    shutil.copy(corpus / "ruritania-review.pdf", copy)
    run = Run([corpus], tmp_path / "index")
    assert run.log == [
        f"duplicate: {copy.resolve()} has the same content as 'ruritania-review'; indexed once"
    ]
    index = load_index(tmp_path / "index", CONFIG)
    assert "second-copy" not in index.documents
    assert index.documents["ruritania-review"].duplicates == (str(copy.resolve()),)
    assert sum(PDF_FACT in p.text for p in index.passages) == 1
    again = Run([corpus], tmp_path / "index")
    assert again.report.saved is False and again.embedder.calls == 0
    assert again.report.duplicates == [(str(copy.resolve()), "ruritania-review")]


def test_of_two_new_identical_files_the_original_name_gives_the_id(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    original, copy = corpus / "borduria-notes.md", corpus / "borduria-notes-copy.md"
    original.write_text("# Borduria\n\nBorduria issued 900 visas in 2021.\n", encoding="utf-8")
    shutil.copy(original, copy)  # sorts first: '-' before '.'
    index_dir = tmp_path / "index"
    run = Run([corpus], index_dir)
    assert run.log == [
        f"duplicate: {copy.resolve()} has the same content as 'borduria-notes'; indexed once"
    ]
    assert anchors_of(index_dir) == ["borduria-notes#p1"]
    copy.unlink()
    run = Run([corpus], index_dir)
    assert run.log == [] and run.embedder.calls == 0
    assert load_index(index_dir, CONFIG).documents["borduria-notes"].duplicates == ()
    assert anchors_of(index_dir) == ["borduria-notes#p1"]


def test_a_document_whose_file_is_gone_is_read_from_its_copy_under_its_id(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    original, copy = corpus / "notes.md", corpus / "notes (1).md"
    original.write_text("# Notes\n\nBorduria issued 900 visas in 2021.\n", encoding="utf-8")
    shutil.copy(original, copy)
    index_dir = tmp_path / "index"
    Run([corpus], index_dir)
    original.unlink()
    run = Run([corpus], index_dir)
    assert run.log == [
        f"moved: 'notes' is now read from {copy.resolve()}, its identical copy, as its own "
        "file is gone; it keeps the id 'notes', so that the anchors its answers cite stay valid"
    ]
    assert run.embedder.calls == 0 and run.report.removed == []
    record = load_index(index_dir, CONFIG).documents["notes"]
    assert (record.path, record.duplicates) == (str(copy.resolve()), ())
    assert anchors_of(index_dir) == ["notes#p1"]


def test_copy_of_an_indexed_document_is_not_embedded(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    shutil.copy(corpus / "freedonia-report.docx", corpus / "a-copy.docx")
    run = Run([corpus], tmp_path / "index")
    assert run.embedder.calls == 0
    assert run.report.duplicates == [(str((corpus / "a-copy.docx").resolve()), "freedonia-report")]
    assert set(load_index(tmp_path / "index", CONFIG).documents) == set(run.report.unchanged)


def test_same_name_with_another_extension_gets_its_own_id(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    import docx

    briefing = docx.Document()  # the portal's name, other content
    briefing.add_paragraph("Zembla's consulates now issue visas within ten days.")
    briefing.save(str(corpus / "zembla-portal.docx"))
    run = Run([corpus], tmp_path / "index")
    assert run.report.added == ["zembla-portal-docx"]
    assert any("is indexed as 'zembla-portal-docx'" in line for line in run.log)
    index = load_index(tmp_path / "index", CONFIG)
    assert index.documents["zembla-portal"].path.endswith("zembla-portal.html")
    assert index.documents["zembla-portal-docx"].path.endswith("zembla-portal.docx")
    # Both stay distinct and their ids stable on the next run.
    assert Run([corpus], tmp_path / "index").report.saved is False


def test_same_name_in_two_folders_are_two_documents(tmp_path: Path) -> None:
    for country, fact in (
        ("serbia", "Serbia trained 40 border officers."),
        ("albania", "Albania opened 3 migrant resource centres."),
    ):
        (tmp_path / country).mkdir()
        (tmp_path / country / "report.txt").write_text(f"National report\n\n{fact}\n")
    run = Run([tmp_path / "serbia", tmp_path / "albania"], tmp_path / "index")
    assert run.report.added == ["report", "albania-report"]  # serbia/ is named first


def test_moved_file_keeps_its_document_without_embedding(corpus: Path, tmp_path: Path) -> None:
    Run([corpus], tmp_path / "index")
    (corpus / "archive").mkdir()
    target = corpus / "archive" / "ruritania-review.pdf"
    shutil.move(corpus / "ruritania-review.pdf", target)
    run = Run([corpus], tmp_path / "index")
    assert run.embedder.calls == 0
    assert run.report.moved == [("ruritania-review", str(target.resolve()))]
    assert run.report.removed == []
    assert load_index(tmp_path / "index", CONFIG).documents["ruritania-review"].path == str(
        target.resolve()
    )


# --- near-duplicates: one report in two files of different bytes -------------------------

NEAR_DUPLICATE_WARNING = (
    "warning: 'border-report' and 'border-report-txt' may be one report indexed twice "
    "(another edition or format): 100% of the text of 'border-report' is also in "
    "'border-report-txt', so answers may cite both; 'rag docs remove ID' drops the one not "
    "wanted (see 'rag docs list')"
)


def test_an_edition_in_another_format_is_indexed_and_flagged_on_every_run(
    corpus: Path, tmp_path: Path
) -> None:
    write_border_report(corpus)
    run = Run([corpus], tmp_path / "index")
    assert set(run.report.added) >= {"border-report", "border-report-txt"}
    assert [line for line in run.log if "may be one report" in line] == [NEAR_DUPLICATE_WARNING]
    documents = load_index(tmp_path / "index", CONFIG).documents
    assert documents["border-report"].near_duplicates == (("border-report-txt", 1.0),)
    assert documents["border-report-txt"].near_duplicates == (("border-report", 1.0),)
    # The distinct reports beside them are not marked.
    assert {d for d, r in documents.items() if r.near_duplicates} == {
        "border-report",
        "border-report-txt",
    }
    again = Run([corpus], tmp_path / "index")
    assert again.report.saved is False and again.embedder.calls == 0
    assert [line for line in again.log if "may be one report" in line] == [NEAR_DUPLICATE_WARNING]
    (corpus / "border-report.txt").unlink()
    removed = Run([corpus], tmp_path / "index")
    assert removed.report.removed == ["border-report-txt"]
    assert not any("may be one report" in line for line in removed.log)
    assert load_index(tmp_path / "index", CONFIG).documents["border-report"].near_duplicates == ()


def test_an_index_written_before_near_duplicates_is_marked_without_embedding(
    corpus: Path, tmp_path: Path
) -> None:
    write_border_report(corpus)
    index_dir = tmp_path / "index"
    Run([corpus], index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    for record in manifest["documents"].values():
        del record["near_duplicates"]
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    assert load_index(index_dir, CONFIG).documents["border-report"].near_duplicates == ()
    run = Run([corpus], index_dir)
    assert run.report.saved is True and run.embedder.calls == 0
    assert NEAR_DUPLICATE_WARNING in run.log
    documents = load_index(index_dir, CONFIG).documents
    assert documents["border-report"].near_duplicates == (("border-report-txt", 1.0),)


# --- bad input --------------------------------------------------------------------------


def write_bad_files(folder: Path) -> dict[str, str]:
    """One file of each kind the issue lists, and the reason each must be skipped with."""
    folder.mkdir(parents=True, exist_ok=True)
    write_corrupt_pdf(folder / "corrupt.pdf")
    write_encrypted_pdf(folder / "encrypted.pdf")
    write_image_only_pdf(folder / "scanned.pdf")
    write_blank_pdf(folder / "blank.pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 300)
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 3)
    (folder / "junk.md").write_bytes(b"\x00\x01binary" * 20)
    (folder / "junk.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    return {
        "corrupt.pdf": "the PDF is damaged and cannot be read",
        "encrypted.pdf": "the PDF is encrypted (password-protected)",
        "scanned.pdf": "the PDF has no text layer",
        "blank.pdf": "the PDF contains no text",
        "broken.docx": "the Word file is damaged and cannot be read",
        "junk.txt": "the file is binary, not text",
        "junk.md": "the file is binary, not text",
        "junk.html": "the file is binary, not text",
        "sheet.xlsx": "unsupported file type '.xlsx'",
    }


def test_each_bad_file_is_skipped_with_one_line_and_the_others_ingested(
    corpus: Path, tmp_path: Path
) -> None:
    reasons = write_bad_files(corpus)
    run = Run([corpus], tmp_path / "index")
    assert len(run.report.added) == 4
    assert run.report.summary(tmp_path / "index").endswith(
        f"in {tmp_path / 'index'}/; {len(reasons)} file(s) skipped (see above), not indexed."
    )
    assert len(run.log) == len(reasons)
    for name, reason in reasons.items():
        line = next(line for line in run.log if f"/{name}: " in line)
        assert line.startswith(f"skipped: {corpus / name}: {reason}")
        assert "\n" not in line


def test_cli_exit_status_says_files_were_skipped_and_the_index_is_intact(
    corpus: Path,
    fake_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "RAG_INDEX_DIR": fake_settings.index_dir,
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
    }.items():
        monkeypatch.setenv(name, str(value))
    assert main(["ingest", str(corpus)]) == 0
    before = index_files(fake_settings.index_dir)
    capsys.readouterr()
    bad = corpus.parent / "bad"
    reasons = write_bad_files(bad)
    assert main(["ingest", str(bad)]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(reasons) and "Traceback" not in captured.err
    assert captured.out.strip() == (
        f"Index unchanged: 4 document(s) up to date, nothing embedded; {len(reasons)} file(s) "
        "skipped (see above), not indexed."
    )
    assert index_files(fake_settings.index_dir) == before


def test_indexed_file_that_became_unreadable_keeps_its_indexed_version(
    corpus: Path, tmp_path: Path
) -> None:
    Run([corpus], tmp_path / "index")
    before = index_files(tmp_path / "index")
    (corpus / "freedonia-report.docx").write_bytes(b"PK\x03\x04 truncated")
    run = Run([corpus], tmp_path / "index")
    assert [path for path, _ in run.report.skipped] == [str(corpus / "freedonia-report.docx")]
    assert run.report.removed == [] and run.report.saved is False
    assert index_files(tmp_path / "index") == before


def test_a_windows_1252_report_is_indexed_with_a_one_line_note(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "legacy-review.txt"
    path.parent.mkdir()
    text = "Legacy review\n\nCôte d’Ivoire regularised 1,200 “seasonal” workers – in 2021.\n"
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    run = Run([path.parent], tmp_path / "index")
    assert run.log == [f"note: {path} is not UTF-8 text; it was read as Windows-1252"]
    assert run.report.added == ["legacy-review"]
    passages = load_index(tmp_path / "index", CONFIG).passages
    assert [passage.text for passage in passages] == text.strip().split("\n\n")
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text


def test_a_report_not_in_english_is_indexed_with_a_warning_on_every_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    french = corpus / "rapport-syldavie.txt"
    french.write_text(
        "Rapport national de la Syldavie sur les migrations\n\n"
        "En 2021, la Syldavie a délivré 5 200 permis de travail saisonnier. Le gouvernement "
        "a régularisé 2 300 travailleurs pendant la pandémie.\n",
        encoding="utf-8",
    )
    (corpus / "ruritania.md").write_text(
        "# Ruritania\n\nRuritania issued 4,100 work permits to seasonal workers in 2021, "
        "and the ministry reported that the scheme was extended.\n",
        encoding="utf-8",
    )
    warning = (
        f"warning: {french} does not appear to be in English; it is indexed, but answers "
        "about it will be poor: questions must be in English (others are refused), and "
        "English questions seldom find a passage in another language"
    )
    run = Run([corpus], tmp_path / "index")
    assert run.log == [warning]
    assert run.report.added == ["rapport-syldavie", "ruritania"]
    assert run.report.not_english == [str(french)]
    again = Run([corpus], tmp_path / "index")
    assert again.log == [warning] and again.report.saved is False


def test_only_unreadable_files_and_no_index_is_an_error(tmp_path: Path) -> None:
    from rag.errors import RagError

    write_bad_files(tmp_path / "bad")
    log: list[str] = []
    with pytest.raises(RagError, match="no readable document to index"):
        ingest(
            [tmp_path / "bad"],
            tmp_path / "index",
            CONFIG,
            CountingEmbedder(),
            progress=False,
            log=log.append,
        )
    assert len(log) == 9  # the reasons were given before the error
    assert not (tmp_path / "index").exists()


def test_hidden_and_office_lock_files_are_passed_over(corpus: Path, tmp_path: Path) -> None:
    (corpus / "~$eeland-report.docx").write_bytes(b"\x00lock")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "notes.txt").write_text("internal notes\n")
    run = Run([corpus], tmp_path / "index")
    assert run.report.skipped == [] and len(run.report.added) == 4


# --- progress ---------------------------------------------------------------------------


def test_progress_bars_show_files_and_passages_in_a_terminal(corpus: Path, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    # A terminal of 120 columns: tqdm sizes its bars to it (a fresh pty has 0).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {
        **os.environ,
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_INDEX_DIR": str(tmp_path / "index"),
    }
    process = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(corpus)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.returncode == 0
    bars = output.decode(errors="replace")
    assert "Reading: 100%" in bars and "4/4" in bars and "file/s" in bars
    passages = len(load_index(tmp_path / "index", CONFIG).passages)
    assert "Embedding: 100%" in bars and f"{passages}/{passages}" in bars


# --- interrupted and resumed ------------------------------------------------------------


class InterruptedEmbedder(CountingEmbedder):
    """Stops the run as Ctrl-C does when asked for its `stop_at`-th batch (the fault)."""

    def __init__(self, stop_at: int) -> None:
        super().__init__()
        self.stop_at = stop_at

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.calls + 1 == self.stop_at:
            raise KeyboardInterrupt
        return super().embed(texts)


def interrupted_run(
    paths: Sequence[Path], index_dir: Path, stop_at: int
) -> tuple[InterruptedEmbedder, list[str]]:
    """An ingest stopped at the `stop_at`-th batch: its embedder and its log."""
    embedder, log = InterruptedEmbedder(stop_at), []
    with pytest.raises(KeyboardInterrupt):
        ingest(list(paths), index_dir, CONFIG, embedder, progress=False, log=log.append)
    return embedder, log


def assert_same_index(index_dir: Path, expected_dir: Path) -> None:
    index, expected = load_index(index_dir, CONFIG), load_index(expected_dir, CONFIG)
    assert index.passages == expected.passages
    assert index.documents == expected.documents
    assert np.array_equal(index.vectors, expected.vectors)
    assert index.sentence_vectors is not None and expected.sentence_vectors is not None
    assert np.array_equal(index.sentence_vectors, expected.sentence_vectors)


class Interrupted:
    """Five reports of 13 passages and 13 sentences, so that each document's passages are
    one batch and its sentences another: ten batches, passages first. Built once without
    interruption (`whole`), and once stopped at the 8th batch: after every document's
    passages and two documents' sentences."""

    def __init__(self, tmp_path: Path) -> None:
        self.corpus, self.index_dir = tmp_path / "corpus", tmp_path / "index"
        write_large_corpus(self.corpus, version=1, files=5, paragraphs=12)
        self.whole = Run([self.corpus], tmp_path / "whole")
        assert self.whole.embedder.calls == 10
        self.first, self.log = interrupted_run([self.corpus], self.index_dir, stop_at=8)
        self.partial = self.index_dir / ".partial"

    def kept(self) -> str:
        return f"2 of 5 document(s), 3 in part ({len(self.first.texts)} of 130 vectors)"

    def piece(self, report: int, kind: str) -> Path:
        """The file keeping the vectors of `kind` of report `report`."""
        content = (self.corpus / f"report-{report:02d}.txt").read_bytes()
        prefix = hashlib.sha256(content).hexdigest()[:16]
        return next(self.partial.glob(f"{prefix}-*-{kind}-0000.vectors"))


@pytest.fixture
def interrupted(tmp_path: Path) -> Interrupted:
    return Interrupted(tmp_path)


def test_an_interrupted_ingest_keeps_its_vectors_and_says_so(interrupted: Interrupted) -> None:
    assert len(interrupted.first.texts) == 65 + 26
    assert interrupted.log == [
        f"kept what was embedded so far in {interrupted.partial}/: {interrupted.kept()}; "
        "running 'rag ingest' on the same reports again resumes from there"
    ]
    kinds = sorted(path.name.split("-")[2] for path in interrupted.partial.iterdir())
    assert kinds == ["passages"] * 5 + ["sentences"] * 2
    assert not (interrupted.index_dir / "manifest.json").exists()  # no index is saved


def test_the_next_ingest_embeds_only_what_was_not_kept(interrupted: Interrupted) -> None:
    second = Run([interrupted.corpus], interrupted.index_dir)
    assert second.log == [
        f"resuming: {interrupted.kept()} already embedded by an interrupted run; they are not "
        "embedded again"
    ]
    # The sentences of the last three reports, once each, in the order a whole run embeds.
    assert second.embedder.calls == 3
    assert interrupted.first.texts + second.embedder.texts == interrupted.whole.embedder.texts
    assert second.report.summary(interrupted.index_dir) == (
        "Indexed 5 new and 0 changed document(s) (0 passages embedded, 65 reused from an "
        f"interrupted run); 0 unchanged; 5 document(s), 65 passages in {interrupted.index_dir}/."
    )


def test_a_resumed_index_equals_an_uninterrupted_one_and_the_kept_vectors_go(
    interrupted: Interrupted, tmp_path: Path
) -> None:
    Run([interrupted.corpus], interrupted.index_dir)
    assert_same_index(interrupted.index_dir, tmp_path / "whole")
    assert not interrupted.partial.exists()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (overwrite_middle, "its vectors differ from the checksum it records"),
        (lambda path: path.write_bytes(path.read_bytes()[:-100]), "its vectors differ from"),
        (lambda path: path.write_bytes(path.read_bytes()[:20]), "its header is damaged"),
        (lambda path: path.write_bytes(b""), "not a piece file of this version"),
    ],
    ids=["altered", "truncated", "torn-header", "empty"],
)
def test_a_damaged_piece_is_ignored_and_embedded_again(
    interrupted: Interrupted, tmp_path: Path, damage: Callable[[Path], None], reason: str
) -> None:
    piece = interrupted.piece(1, "sentences")
    damage(piece)
    second = Run([interrupted.corpus], interrupted.index_dir)
    assert second.log[0].startswith(f"note: ignored {piece} ({reason}")
    assert second.log[0].endswith("); its texts are embedded again")
    assert second.log[1].startswith("resuming: 1 of 5 document(s), 4 in part")
    # Report 1's sentences again, then those never embedded; the index is whole.
    report_1 = interrupted.whole.embedder.texts[65 + 13 : 65 + 26]
    assert second.embedder.texts == report_1 + interrupted.whole.embedder.texts[65 + 26 :]
    assert_same_index(interrupted.index_dir, tmp_path / "whole")


def test_a_changed_file_does_not_reuse_the_vectors_kept_for_its_old_content(
    interrupted: Interrupted, tmp_path: Path
) -> None:
    report = interrupted.corpus / "report-00.txt"
    old_texts = set(interrupted.whole.embedder.texts[:13])
    report.write_text(report.read_text().replace("Report 0, version 1", "Report 0, version 2"))
    second = Run([interrupted.corpus], interrupted.index_dir)
    assert second.log[0].startswith("resuming: 1 of 5 document(s), 3 in part")
    # Report 0 is embedded afresh, passages and sentences; none of its old texts is reused.
    changed = Run([interrupted.corpus], tmp_path / "changed")
    new_report_0 = [text for text in changed.embedder.texts if "version 2" in text]
    assert len(new_report_0) == 2 and set(new_report_0).isdisjoint(old_texts)
    assert second.embedder.texts[0] == new_report_0[0]  # its passages first
    assert len(second.embedder.texts) == 13 + 13 + 3 * 13
    assert_same_index(interrupted.index_dir, tmp_path / "changed")


@pytest.mark.parametrize(
    "config",
    [
        IndexConfig(embedding_model="hashing", max_passage_tokens=150),
        IndexConfig(embedding_model="another-model"),
        IndexConfig(embedding_model="hashing", chunker_version="another-chunker"),
    ],
    ids=["passage-size", "model", "chunker"],
)
def test_vectors_kept_with_another_configuration_are_not_reused(
    interrupted: Interrupted, config: IndexConfig
) -> None:
    second = Run([interrupted.corpus], interrupted.index_dir, config)
    assert not any(line.startswith("resuming") for line in second.log)
    assert second.embedder.texts == interrupted.whole.embedder.texts
    assert not interrupted.partial.exists()


def test_a_big_document_resumes_from_its_last_whole_piece(tmp_path: Path) -> None:
    # 600 passages: nine pieces of 64 passages (two batches each) and one of 24.
    corpus = tmp_path / "corpus"
    write_large_corpus(corpus, version=1, files=1, paragraphs=599)
    whole = Run([corpus], tmp_path / "whole")
    assert whole.report.passages_total == 600
    # Stopped in the sixth piece: five are kept, the batch made of the sixth is lost.
    first, _ = interrupted_run([corpus], tmp_path / "index", stop_at=12)
    assert len(first.texts) == 11 * 32
    second = Run([corpus], tmp_path / "index")
    assert second.log == [
        "resuming: 0 of 1 document(s), 1 in part (320 of 1200 vectors) already embedded by an "
        "interrupted run; they are not embedded again"
    ]
    assert second.embedder.texts == whole.embedder.texts[5 * 64 :]
    assert second.report.passages_reused == 320 and second.report.passages_embedded == 280
    assert_same_index(tmp_path / "index", tmp_path / "whole")


def test_a_run_with_nothing_to_change_removes_what_an_interrupted_one_kept(
    interrupted: Interrupted,
) -> None:
    Run([interrupted.corpus], interrupted.index_dir)
    write_large_corpus(interrupted.corpus, version=2, files=5, paragraphs=12)
    interrupted_run([interrupted.corpus], interrupted.index_dir, stop_at=3)
    assert interrupted.partial.is_dir()
    # Back to the indexed version: nothing to embed, and nothing left to resume.
    write_large_corpus(interrupted.corpus, version=1, files=5, paragraphs=12)
    again = Run([interrupted.corpus], interrupted.index_dir)
    assert again.report.saved is False and again.embedder.calls == 0
    assert not interrupted.partial.exists()


def test_vectors_that_cannot_be_kept_do_not_stop_the_ingest(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_large_corpus(corpus, version=1, files=2, paragraphs=12)
    index_dir.mkdir()
    (index_dir / ".partial").write_text("a file where the folder should be")
    run = Run([corpus], index_dir)
    assert run.log == [
        f"warning: cannot keep the vectors embedded so far in {index_dir}/.partial/ "
        f"([Errno 17] File exists: '{index_dir}/.partial'); if this run is interrupted, the "
        "next one embeds everything again"
    ]
    assert run.report.saved and len(load_index(index_dir, CONFIG).passages) == 26


def test_an_index_without_sentence_vectors_gets_them_for_every_document(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_large_corpus(corpus, version=1, files=4, paragraphs=12)
    whole = Run([corpus], tmp_path / "whole")
    # An index saved before sentences were embedded; the next change adds them, and a run
    # stopped while adding them keeps those done.
    old = load_index(tmp_path / "whole", CONFIG)
    old.sentence_vectors = None
    old.save(index_dir)
    (corpus / "report-03.txt").unlink()
    interrupted_run([corpus], index_dir, stop_at=2)
    second = Run([corpus], index_dir)
    assert second.log[-1].startswith("resuming: 1 of 3 document(s) (13 of 39 vectors)")
    assert second.report.removed == ["report-03"] and second.report.passages_embedded == 0
    assert second.embedder.texts == whole.embedder.texts[52 + 13 : 52 + 39]
    sentences = load_index(index_dir, CONFIG).sentence_vectors
    expected = load_index(tmp_path / "whole", CONFIG).sentence_vectors
    assert sentences is not None and expected is not None
    assert np.array_equal(sentences, expected[:39])


# --- killed mid-run ---------------------------------------------------------------------


def write_large_corpus(folder: Path, version: int, files: int = 60, paragraphs: int = 40) -> None:
    """Reports of `paragraphs` one-sentence paragraphs each; `version` changes every file's
    content."""
    rng = random.Random(version)
    words = (
        "migration policy labour permit border asylum integration return data cooperation "
        "regional review member states objective partnership health housing children skills"
    ).split()
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(files):
        texts = [" ".join(rng.choice(words) for _ in range(60)) + "." for _ in range(paragraphs)]
        (folder / f"report-{number:02d}.txt").write_text(
            f"Report {number}, version {version}\n\n" + "\n\n".join(texts)
        )


def document_hashes(index_dir: Path) -> dict[str, str]:
    """The loaded index's documents, after checking it is internally whole."""
    index = load_index(index_dir, CONFIG)
    assert len(index.passages) == index.vectors.shape[0]
    assert len(index.passages) == sum(r.passages for r in index.documents.values())
    assert search(index, "seasonal labour permit", 3)
    return {doc_id: record.content_hash for doc_id, record in index.documents.items()}


# Kills SIGKILL the ingest process at an exact point of the save: while a data file is half
# written, after it, before the manifest rename, after it, and while old files are removed.
KILL_AT_POINT = textwrap.dedent(
    """
    import os, signal, sys
    import rag.index as index

    mode, target = sys.argv[1], int(sys.argv[2])
    calls = 0
    write, replace, remove = index._write_synced, os.replace, index._remove_superseded

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def killing_write(path, data, atomic_rename=False):
        global calls
        calls += 1
        if calls == target and mode == "torn":
            with open(path, "wb") as stream:
                stream.write(data[: len(data) // 2])
            die()
        write(path, data, atomic_rename)
        if calls == target and mode == "after":
            die()

    def killing_replace(source, destination):
        # The manifest's rename: other files may be renamed into place before it.
        if mode == "rename" and str(destination).endswith("manifest.json"):
            die()
        replace(source, destination)

    def killing_remove(index_dir, keep):
        if mode == "cleanup":
            stale = [p for p in index_dir.iterdir() if p.name.startswith("passages-")
                     and p.name not in keep]
            stale[0].unlink()
            die()
        remove(index_dir, keep)

    index._write_synced = killing_write
    index.os.replace = killing_replace
    index._remove_superseded = killing_remove
    from rag.cli import main
    sys.exit(main(["ingest", "--quiet", *sys.argv[3:]]))
    """
)


KillSetup = tuple[Path, Path, dict[str, str], dict[str, str], dict[str, str]]


def prepare_kill(tmp_path: Path, files: int) -> KillSetup:
    """A corpus indexed at version 1 then changed to version 2, the documents of both
    indexes, and the environment that runs `rag ingest` on it."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_large_corpus(corpus, version=1, files=files)
    Run([corpus], index_dir)
    previous = document_hashes(index_dir)
    write_large_corpus(corpus, version=2, files=files)
    scratch = tmp_path / "scratch-index"
    shutil.copytree(index_dir, scratch)
    Run([corpus], scratch)
    new = document_hashes(scratch)
    assert previous != new and set(previous) == set(new)
    env = {
        **os.environ,
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_INDEX_DIR": str(index_dir),
    }
    return corpus, index_dir, previous, new, env


def test_killing_ingest_at_exact_points_of_the_save_leaves_a_loadable_index(
    tmp_path: Path,
) -> None:
    corpus, snapshot, previous, new, env = prepare_kill(tmp_path, files=8)
    # Writes 1-3 are the passages, passage vectors and sentence vectors; 4 is the manifest.
    points = [
        ("torn", 1),
        ("after", 1),
        ("torn", 2),
        ("after", 2),
        ("torn", 3),
        ("after", 3),
        ("rename", 0),
        ("after", 4),
        ("cleanup", 0),
    ]
    # Each kill runs on its own copy of the previous index, all at once.
    runs = []
    for mode, target in points:
        copy = tmp_path / f"index-{mode}-{target}"
        shutil.copytree(snapshot, copy)
        process = subprocess.Popen(
            [sys.executable, "-c", KILL_AT_POINT, mode, str(target), str(corpus)],
            env={**env, "RAG_INDEX_DIR": str(copy)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        runs.append((mode, target, copy, process))
    outcomes = []
    for mode, target, copy, process in runs:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, errors.decode()
        loaded = document_hashes(copy)
        assert loaded in (previous, new), (mode, target)
        outcomes.append(loaded == new)
    # Before the manifest rename the old index stands; from it on, the new one does.
    assert outcomes == [False] * 7 + [True, True]
    # Every kill came after the embedding, which was kept: the next run embeds nothing.
    resumed = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", "--quiet", str(corpus)],
        env={**env, "RAG_INDEX_DIR": str(tmp_path / "index-rename-0")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 8 of 8 document(s) (" in resumed.stderr
    assert "(0 passages embedded, " in resumed.stdout
    assert_same_index(tmp_path / "index-rename-0", tmp_path / "scratch-index")
    # The next run that changes the index clears what the killed ones left behind.
    index_dir = tmp_path / "index-cleanup-0"
    (corpus / "report-00.txt").write_text("Report 0, version 3\n\nA new text.\n")
    assert main_ingest(corpus, {**env, "RAG_INDEX_DIR": str(index_dir)}) == 0
    assert document_hashes(index_dir)["report-00"] != new["report-00"]
    assert sorted(p.name.split("-")[0] for p in index_dir.iterdir()) == [
        "manifest.json",
        "passages",
        "sentences",
        "vectors",
    ]


def main_ingest(corpus: Path, env: dict[str, str]) -> int:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", "--quiet", str(corpus)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    ).returncode


def test_killing_ingest_at_any_time_leaves_the_previous_or_the_new_index(
    tmp_path: Path,
) -> None:
    # Large enough that a run takes seconds, so that kills land while reading, embedding
    # and saving.
    corpus, index_dir, previous, new, env = prepare_kill(tmp_path, files=60)
    snapshot = tmp_path / "snapshot"
    shutil.copytree(index_dir, snapshot)
    command = [sys.executable, "-m", "rag.cli", "ingest", "--quiet", str(corpus)]
    started = time.monotonic()
    assert (
        subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, check=False, timeout=120
        ).returncode
        == 0
    )
    duration = time.monotonic() - started
    killed = 0
    # A run's length varies with the machine's load: more fractions than kills needed, so
    # that a run finishing sooner than the first one still leaves three interrupted.
    for fraction in (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.75, 0.9):
        shutil.rmtree(index_dir)
        shutil.copytree(snapshot, index_dir)
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(fraction * duration)
        process.send_signal(signal.SIGKILL)
        killed += process.wait(timeout=60) == -signal.SIGKILL
        assert document_hashes(index_dir) in (previous, new), fraction
    assert killed >= 3  # the kills really interrupted runs
    # The last killed run's successor resumes from what it kept (if the kill came before the
    # save), and ends with the index an uninterrupted run builds.
    assert main_ingest(corpus, env) == 0
    assert_same_index(index_dir, tmp_path / "scratch-index")
    assert not (index_dir / ".partial").exists()
