"""`rag docs list` and `rag docs remove`: the corpus as indexed, and removal without
re-embedding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.cli import EXIT_USAGE, main
from rag.embedding.hashing import HashingEmbedder
from rag.index import load_index
from rag.manifest import IndexConfig
from rag.retrieval import Retriever
from tests.conftest import SEED_REPORT
from tests.rag.sample_documents import (
    HTML_FACT,
    PDF_TITLE,
    write_border_report,
    write_mixed_corpus,
)

CONFIG = IndexConfig(embedding_model="hashing")


@pytest.fixture
def indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The mixed corpus (plus a duplicate of the PDF) ingested with the hashing embedder."""
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_mixed_corpus(corpus, SEED_REPORT)
    shutil.copy(corpus / "ruritania-review.pdf", corpus / "z-copy.pdf")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("RAG_EMBEDDER", "hashing")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing")
    assert main(["ingest", "--quiet", str(corpus)]) == 0
    return corpus, index_dir


def test_list_shows_each_document_with_passages_full_title_path_and_duplicates(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _corpus, index_dir = indexed
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    index = load_index(index_dir, CONFIG)
    review = index.documents["ruritania-review"]
    at = lines.index(f"ruritania-review  {review.passages} passages")
    assert lines[at + 1 : at + 4] == [
        f"    title: {PDF_TITLE}",
        "    file:  corpus/ruritania-review.pdf",
        "    duplicate, not indexed: corpus/z-copy.pdf",
    ]
    # A title of 150 characters is shown whole, not cut at 60.
    seed_title = index.documents["gcm-unece-2020"].title
    assert len(seed_title) > 100
    at = lines.index(f"gcm-unece-2020  {index.documents['gcm-unece-2020'].passages} passages")
    assert lines[at + 1 : at + 3] == [
        f"    title: {seed_title}",
        "    file:  corpus/gcm-unece-2020.txt",
    ]
    assert [line.split()[0] for line in lines if not line.startswith(" ")][:-1] == sorted(
        index.documents
    )
    assert lines[-1] == f"4 document(s), {len(index.passages)} passages in {index_dir}/."


def test_list_json_gives_one_object_per_document(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["docs", "list", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["doc"] for r in records] == [
        "freedonia-report",
        "gcm-unece-2020",
        "ruritania-review",
        "zembla-portal",
    ]
    assert records[2]["duplicates"] == [str((indexed[0] / "z-copy.pdf").resolve())]
    assert set(records[0]) == {
        "doc",
        "title",
        "path",
        "content_hash",
        "passages",
        "duplicates",
        "near_duplicates",
        "file_missing",
    }
    assert [r["file_missing"] for r in records] == [False] * 4


def test_list_marks_a_document_whose_file_was_deleted(
    indexed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ingested by its own path, so no later ingest of a folder removes it.
    extra = tmp_path / "extra.md"
    extra.write_text("# Extra\n\nValoria signed a readmission agreement in 2021.\n")
    assert main(["ingest", "--quiet", str(extra)]) == 0
    extra.unlink()
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "extra  1 passages",
        "    title: Extra",
        "    file:  extra.md  (file missing)",
    ]
    assert [line for line in lines if "(file missing)" in line] == [lines[2]]
    assert main(["docs", "list", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["doc"]: r["file_missing"] for r in records} == {
        "extra": True,
        "freedonia-report": False,
        "gcm-unece-2020": False,
        "ruritania-review": False,
        "zembla-portal": False,
    }


def test_list_marks_near_duplicates_and_removing_one_clears_the_other(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index_dir = indexed
    write_border_report(corpus)
    assert main(["ingest", "--quiet", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    marks = [line for line in lines if "near-duplicate" in line]
    assert marks == [
        "    near-duplicate of 'border-report-txt': 100% of the shorter one's text is in the "
        "other; 'rag docs remove' the one not wanted",
        "    near-duplicate of 'border-report': 100% of the shorter one's text is in the "
        "other; 'rag docs remove' the one not wanted",
    ]
    assert lines.index(marks[0]) == lines.index("    file:  corpus/border-report.md") + 1
    assert main(["docs", "list", "--json"]) == 0
    records = {r["doc"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert {doc: r["near_duplicates"] for doc, r in records.items() if r["near_duplicates"]} == {
        "border-report": {"border-report-txt": 1.0},
        "border-report-txt": {"border-report": 1.0},
    }

    assert main(["docs", "remove", "border-report-txt"]) == 0
    assert load_index(index_dir, CONFIG).documents["border-report"].near_duplicates == ()
    capsys.readouterr()
    assert main(["docs", "list"]) == 0
    assert "near-duplicate" not in capsys.readouterr().out


def test_remove_drops_the_document_without_embedding_anything(
    indexed: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _corpus, index_dir = indexed
    before = load_index(index_dir, CONFIG)
    # No embedder can be built and another model is configured: removal needs neither.
    monkeypatch.setenv("RAG_EMBEDDER", "no-such-backend")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "another-model")
    capsys.readouterr()
    assert main(["docs", "remove", "zembla-portal"]) == 0
    out = capsys.readouterr().out
    removed = before.documents["zembla-portal"].passages
    assert f"Removed 'zembla-portal' ({removed} passages)." in out
    assert "'rag ingest' of its folder would add it again" in out
    after = load_index(index_dir, CONFIG)
    assert set(after.documents) == set(before.documents) - {"zembla-portal"}
    assert len(after.passages) == len(before.passages) - removed
    for doc_id in after.documents:
        kept_passages, kept_vectors = after.vectors_of(doc_id)
        old_passages, old_vectors = before.vectors_of(doc_id)
        assert kept_passages == old_passages and np.array_equal(kept_vectors, old_vectors)
    hits = Retriever(after, HashingEmbedder("hashing")).retrieve(HTML_FACT, 20)
    assert hits and all(hit.passage.doc_id != "zembla-portal" for hit in hits)
    # Written like an ingest: fresh data files, the old ones gone.
    assert len(list(index_dir.glob("passages-*"))) == len(list(index_dir.glob("vectors-*"))) == 1


def test_remove_by_path_and_several_at_once(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index_dir = indexed
    assert main(["docs", "remove", str(corpus / "freedonia-report.docx"), "gcm-unece-2020"]) == 0
    assert set(load_index(index_dir, CONFIG).documents) == {"ruritania-review", "zembla-portal"}
    assert capsys.readouterr().out.splitlines()[-1].startswith("2 document(s), ")


def test_removed_document_comes_back_with_the_next_ingest_of_its_folder(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, index_dir = indexed
    main(["docs", "remove", "zembla-portal"])
    capsys.readouterr()
    assert main(["ingest", "--quiet", str(corpus)]) == 0
    assert "Indexed 1 new and 0 changed document(s)" in capsys.readouterr().out
    assert "zembla-portal" in load_index(index_dir, CONFIG).documents


def test_removing_an_unknown_document_is_one_error_line_and_changes_nothing(
    indexed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _corpus, index_dir = indexed
    before = {p.name: p.read_bytes() for p in index_dir.iterdir()}
    capsys.readouterr()
    assert main(["docs", "remove", "no-such-report"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("rag docs: error: no document 'no-such-report' in ")
    assert "indexed: freedonia-report, gcm-unece-2020, ruritania-review, zembla-portal" in err
    assert "name a document id from 'rag docs list'" in err
    assert {p.name: p.read_bytes() for p in index_dir.iterdir()} == before


def test_docs_without_an_index_says_how_to_build_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "nothing"))
    assert main(["docs", "list"]) == EXIT_USAGE
    assert "no index at" in capsys.readouterr().err
    assert main(["docs", "remove", "x"]) == EXIT_USAGE
    assert f"run 'rag ingest --index-dir {tmp_path}/nothing/' to build it" in (
        capsys.readouterr().err
    )
