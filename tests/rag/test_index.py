"""The persisted index: round trip, search, data-file checks and atomic saves."""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rag.index as index_module
from rag.errors import IndexMismatchError
from rag.factory import index_config, load_configured_index
from rag.index import PassageIndex, load_index
from rag.manifest import IndexConfig
from rag.settings import Settings
from rag.types import Passage
from tests.conftest import ROOT


def test_round_trip_keeps_passages_vectors_and_documents(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    manifest = json.loads((fake_index.index_dir / "manifest.json").read_text())
    assert manifest["embedding_model"] == "hashing"
    assert manifest["dimension"] == 256
    assert manifest["passages"] == len(index.passages) > 30
    assert manifest["documents"]["gcm-unece-2020"]["passages"] == len(index.passages)
    assert index.vectors.shape == (len(index.passages), 256)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-5)
    # Saving what was loaded and loading it again changes nothing.
    index.save(fake_index.index_dir)
    again = load_configured_index(fake_index)
    assert again.passages == index.passages
    np.testing.assert_array_equal(again.vectors, index.vectors)
    assert again.corpus_hash == index.corpus_hash


def test_nearest_passage_of_a_passage_vector_is_itself(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    position, score = index.search(index.vectors[7], 1)[0]
    assert position == 7
    assert score == pytest.approx(1.0, abs=1e-5)


def test_damaged_data_file_is_reported_not_crashed_on(fake_index: Settings) -> None:
    manifest = json.loads((fake_index.index_dir / "manifest.json").read_text())
    (fake_index.index_dir / manifest["files"]["vectors"]).write_bytes(b"not faiss")
    with pytest.raises(IndexMismatchError, match="damaged"):
        load_configured_index(fake_index)


def test_crash_while_saving_leaves_previous_index_loadable(
    fake_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_configured_index(fake_index)
    real_write = index_module._write_synced

    def crash_on_manifest(path: Path, data: bytes, atomic_rename: bool = False) -> None:
        if path.name == "manifest.json":
            raise OSError("disk full")
        real_write(path, data, atomic_rename)

    monkeypatch.setattr(index_module, "_write_synced", crash_on_manifest)
    smaller = before.passages[:3]
    with pytest.raises(OSError, match="disk full"):
        index_module.PassageIndex(
            index_config(fake_index),
            before.dimension,
            smaller,
            before.vectors[:3],
            before.documents,
        ).save(fake_index.index_dir)
    monkeypatch.undo()
    after = load_configured_index(fake_index)
    assert after.passages == before.passages
    assert after.corpus_hash == before.corpus_hash


def test_superseded_data_files_are_removed(fake_index: Settings) -> None:
    index = load_configured_index(fake_index)
    index.save(fake_index.index_dir)
    index.save(fake_index.index_dir)
    names = sorted(p.name for p in fake_index.index_dir.iterdir())
    assert len([n for n in names if n.startswith("passages-")]) == 1
    assert len([n for n in names if n.startswith("vectors-")]) == 1


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_manifest_is_created_as_readable_as_the_data_files(
    fake_index: Settings, umask: int
) -> None:
    index = load_configured_index(fake_index)
    previous = os.umask(umask)
    try:
        index.save(fake_index.index_dir)
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in fake_index.index_dir.iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes
    assert "manifest.json" in modes


def overwrite_middle(path: Path) -> None:
    """Change bytes inside `path` without changing its size, as a bad disk block would."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(byte ^ 0xFF for byte in data[middle : middle + 64])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("role", ["passages", "vectors", "sentences"])
def test_data_file_changed_in_place_is_refused_by_name(fake_index: Settings, role: str) -> None:
    manifest = json.loads((fake_index.index_dir / "manifest.json").read_text())
    name = manifest["files"][role]
    overwrite_middle(fake_index.index_dir / name)
    with pytest.raises(IndexMismatchError) as raised:
        load_configured_index(fake_index)
    assert str(raised.value) == (
        f"{fake_index.index_dir}/{name} is corrupt (its SHA-256 differs from the one in "
        "manifest.json); run 'rag ingest' to rebuild it"
    )


def test_manifest_from_before_checksums_still_loads(fake_index: Settings) -> None:
    before = load_configured_index(fake_index)
    path = fake_index.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["checksums"]
    path.write_text(json.dumps(manifest))
    after = load_configured_index(fake_index)
    assert after.passages == before.passages
    np.testing.assert_array_equal(after.vectors, before.vectors)


def test_passage_text_with_a_unicode_line_separator_round_trips(tmp_path: Path) -> None:
    text = "Article 3\u2028Paragraph\u0085two\x1cend."
    passage = Passage("doc#p1", "doc", "Doc", None, text, 0, len(text), "hash")
    vector = np.ones((1, 4), dtype=np.float32) / 2
    config = IndexConfig(embedding_model="hashing")
    PassageIndex(config, 4, [passage], vector).save(tmp_path)
    assert load_index(tmp_path, config).passages == [passage]


def test_make_clean_removes_every_file_an_index_holds(fake_index: Settings) -> None:
    # `make -n` prints the command without running it (it would delete .venv).
    command = subprocess.run(
        ["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    patterns = [word for word in shlex.split(command) if word.startswith("index/")]
    left = [
        path.name
        for path in fake_index.index_dir.iterdir()
        if not any(fnmatch.fnmatch(f"index/{path.name}", pattern) for pattern in patterns)
    ]
    assert sorted(path.name for path in fake_index.index_dir.iterdir())  # an index was built
    assert left == []
