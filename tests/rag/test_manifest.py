"""The index manifest: reading it, refusing another configuration, project-relative paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import IndexMismatchError, IndexMissingError
from rag.factory import load_configured_index
from rag.index import load_index
from rag.manifest import (
    FORMAT_VERSION,
    DocumentRecord,
    IndexConfig,
    absolute_paths_folder,
    check_built_with,
    documents_of,
    encode_manifest,
    manifest_signature,
    project_folder,
    read_documents,
    read_manifest,
)
from rag.settings import Settings


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="rag ingest"):
        load_index(tmp_path / "nowhere", IndexConfig(embedding_model="hashing"))


def test_index_built_with_another_embedding_model_is_refused(fake_index: Settings) -> None:
    other = IndexConfig(embedding_model="all-MiniLM-L6-v2", max_passage_tokens=200)
    with pytest.raises(IndexMismatchError) as raised:
        load_index(fake_index.index_dir, other)
    message = str(raised.value)
    assert "embedding_model 'hashing' (configured: 'all-MiniLM-L6-v2')" in message
    assert "run 'rag ingest' to rebuild" in message


def test_index_built_with_another_chunk_size_is_refused(fake_index: Settings) -> None:
    other = IndexConfig(embedding_model="hashing", max_passage_tokens=120)
    with pytest.raises(IndexMismatchError, match="max_passage_tokens '200'"):
        load_index(fake_index.index_dir, other)


def test_a_manifest_without_its_document_list_is_damaged_not_a_crash(
    fake_index: Settings,
) -> None:
    path = fake_index.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["documents"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="is damaged"):
        load_configured_index(fake_index)


def test_an_unreadable_manifest_is_named_with_how_to_rebuild(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexMismatchError) as raised:
        read_manifest(tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path}/manifest.json is unreadable (")
    assert message.endswith("; run 'rag ingest' to rebuild it")


def test_an_index_of_another_format_is_refused(tmp_path: Path) -> None:
    config = IndexConfig(embedding_model="hashing")
    with pytest.raises(IndexMismatchError) as raised:
        check_built_with({"format_version": FORMAT_VERSION + 1}, tmp_path, config)
    assert str(raised.value) == (
        f"{tmp_path}/ has index format {FORMAT_VERSION + 1}, this version reads "
        f"{FORMAT_VERSION}; run 'rag ingest' to rebuild it"
    )


def test_a_manifest_built_with_the_expected_configuration_passes(tmp_path: Path) -> None:
    config = IndexConfig(embedding_model="hashing")
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedding_model": config.embedding_model,
        "chunker_version": config.chunker_version,
        "max_passage_tokens": config.max_passage_tokens,
    }
    check_built_with(manifest, tmp_path, config)


def test_documents_listed_wrongly_are_reported_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": {"doc": {"title": "T"}}}))
    with pytest.raises(IndexMismatchError) as raised:
        read_documents(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path}/manifest.json lists its documents wrongly (KeyError('path')); "
        "run 'rag ingest' to rebuild it"
    )


def test_read_documents_gives_what_the_index_loads(fake_index: Settings) -> None:
    assert read_documents(fake_index.index_dir) == load_configured_index(fake_index).documents


def test_paths_inside_the_project_are_stored_relative_and_read_back_absolute(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "project" / "index"
    project = project_folder(index_dir)
    assert project == (tmp_path / "project").resolve()
    inside = str(project / "seeds" / "report.txt")
    copy = str(project / "seeds" / "old" / "report.pdf")
    outside = str(tmp_path.resolve() / "elsewhere.txt")
    documents = {
        "report": DocumentRecord("report", "Report", inside, "h1", 3, (copy,), (("other", 0.9),)),
        "other": DocumentRecord("other", "Other", outside, "h2", 1),
    }
    config = IndexConfig(embedding_model="hashing")
    encoded = encode_manifest(config, 4, 4, "corpus", documents, {}, {}, project)
    manifest = json.loads(encoded)
    assert manifest["documents"]["report"]["path"] == "seeds/report.txt"
    assert manifest["documents"]["report"]["duplicates"] == ["seeds/old/report.pdf"]
    assert manifest["documents"]["report"]["near_duplicates"] == {"other": 0.9}
    assert manifest["documents"]["other"]["path"] == outside
    assert list(manifest["documents"]) == ["other", "report"]
    assert manifest["relative_paths"] is True
    assert documents_of(manifest, project) == documents
    assert absolute_paths_folder(manifest, project) is None
    manifest["documents"]["report"]["duplicates"] = [copy]
    assert absolute_paths_folder(manifest, project) == project
    assert documents_of(manifest, project) == documents


def legacy_manifest(*paths: str) -> dict[str, object]:
    """A manifest as written before `relative_paths`: each of `paths` a document's file."""
    return {
        "documents": {
            f"doc-{number}": {"title": "T", "path": path, "content_hash": "h", "passages": 1}
            for number, path in enumerate(paths)
        }
    }


def test_a_copied_old_manifest_reads_the_files_of_its_new_project(tmp_path: Path) -> None:
    copy = (tmp_path / "copy").resolve()
    (copy / "seeds" / "annex").mkdir(parents=True)
    (copy / "seeds" / "report.txt").touch()
    (copy / "seeds" / "annex" / "a.md").touch()
    outside = str(tmp_path.resolve() / "shared" / "notes.txt")
    manifest = legacy_manifest(
        "/work/main/seeds/report.txt",
        "/work/main/seeds/annex/a.md",
        "/work/main/seeds/gone.txt",  # not in the copy: still the copy's file, missing
        outside,
    )
    assert absolute_paths_folder(manifest, copy) == Path("/work/main")
    paths = {d: r.path for d, r in documents_of(manifest, copy).items()}
    assert paths == {
        "doc-0": str(copy / "seeds" / "report.txt"),
        "doc-1": str(copy / "seeds" / "annex" / "a.md"),
        "doc-2": str(copy / "seeds" / "gone.txt"),
        "doc-3": outside,
    }
    # Written since, the same manifest names only files outside its project absolutely.
    assert absolute_paths_folder({**manifest, "relative_paths": True}, copy) is None


def test_no_project_folder_is_inferred_from_files_beside_the_project(tmp_path: Path) -> None:
    project = (tmp_path / "project").resolve()
    (project / "reports").mkdir(parents=True)
    (project / "reports" / "x.pdf").touch()
    # tmp_path holds the project: its reports/x.pdf is not this project's reports/x.pdf.
    beside = str(tmp_path.resolve() / "reports" / "x.pdf")
    assert absolute_paths_folder(legacy_manifest(beside), project) is None
    assert absolute_paths_folder(legacy_manifest("/elsewhere/y.pdf"), project) is None
    assert documents_of(legacy_manifest(beside), project)["doc-0"].path == beside


def test_the_signature_changes_with_every_save(fake_index: Settings, tmp_path: Path) -> None:
    assert manifest_signature(tmp_path) is None
    before = manifest_signature(fake_index.index_dir)
    assert before is not None
    load_configured_index(fake_index).save(fake_index.index_dir)
    after = manifest_signature(fake_index.index_dir)
    assert after is not None and after != before
