"""Vectors kept piece by piece for an interrupted ingest: reused exactly, and only when the
piece file is whole and was made for the same texts with the same configuration."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.embedding.hashing import HashingEmbedder
from rag.manifest import IndexConfig
from rag.partial_work import PARTIAL_DIR, PIECE_TEXTS, EmbeddingTask, PartialWork
from tests.rag.test_index import overwrite_middle
from tests.rag.test_ingest import CountingEmbedder

CONFIG = IndexConfig(embedding_model="hashing")
TEXTS = [f"Paragraph {number} on labour migration and border data." for number in range(600)]


class Work:
    """One run's embedding of `texts` as the passages of one document, and what it logged."""

    def __init__(self, index_dir: Path, texts: list[str], content_hash: str = "a" * 64) -> None:
        self.embedder = CountingEmbedder()
        self.log: list[str] = []
        self.work = PartialWork(index_dir, CONFIG, self.embedder, self.log.append)
        self.task = EmbeddingTask(content_hash, "passages", texts)
        self.work.embed_documents({"report": self.task}, {}, progress=False)


def test_vectors_kept_by_one_run_are_reused_exactly_by_the_next(tmp_path: Path) -> None:
    first = Work(tmp_path, TEXTS)
    second = Work(tmp_path, TEXTS)
    assert second.embedder.calls == 0 and second.task.resumed == len(TEXTS)
    assert second.log == [
        "resuming: 1 of 1 document(s) (600 of 600 vectors) already embedded by an interrupted "
        "run; they are not embedded again"
    ]
    expected = HashingEmbedder("hashing").embed(TEXTS)
    assert np.array_equal(first.task.vectors(256), expected)
    assert np.array_equal(second.task.vectors(256), expected)


def test_only_the_pieces_before_a_damaged_one_are_reused(tmp_path: Path) -> None:
    Work(tmp_path, TEXTS)
    pieces = sorted((tmp_path / PARTIAL_DIR).iterdir())
    # 600 texts: nine pieces of 64 and one of 24, in order.
    assert [path.name[-len("0000.vectors") :] for path in pieces] == [
        f"{piece:04d}.vectors" for piece in range(10)
    ]
    overwrite_middle(pieces[3])
    again = Work(tmp_path, TEXTS)
    assert again.task.resumed == 3 * PIECE_TEXTS == 192
    assert again.embedder.texts == TEXTS[3 * PIECE_TEXTS :]
    assert np.array_equal(again.task.vectors(256), HashingEmbedder("hashing").embed(TEXTS))


def test_a_piece_made_for_other_texts_is_not_used(tmp_path: Path) -> None:
    # The same content hash and configuration, but texts of another kind (as when what is
    # embedded for a passage changes): the vectors are not theirs.
    Work(tmp_path, TEXTS[:10])
    other = [text.upper() for text in TEXTS[:10]]
    again = Work(tmp_path, other)
    piece = next((tmp_path / PARTIAL_DIR).iterdir())
    assert again.log == [
        f"note: ignored {piece} (it was made for other texts or settings); its texts are "
        "embedded again"
    ]
    assert again.embedder.texts == other


def test_another_content_hash_finds_nothing(tmp_path: Path) -> None:
    Work(tmp_path, TEXTS[:10], content_hash="a" * 64)
    again = Work(tmp_path, TEXTS[:10], content_hash="b" * 64)
    assert again.log == [] and again.embedder.texts == TEXTS[:10]


def test_a_stray_temporary_file_is_not_read_and_goes_with_the_folder(tmp_path: Path) -> None:
    first = Work(tmp_path, TEXTS[:10])
    piece = next((tmp_path / PARTIAL_DIR).iterdir())
    # What a run killed while writing the next piece leaves.
    (tmp_path / PARTIAL_DIR / f".tmp-0123-{piece.name}").write_bytes(b"rag-partial-1\n{")
    again = Work(tmp_path, TEXTS[:10])
    assert again.log[0].startswith("resuming: 1 of 1 document(s)") and again.embedder.calls == 0
    assert len(again.log) == 1
    first.work.discard()
    assert not (tmp_path / PARTIAL_DIR).exists()
