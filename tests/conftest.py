"""Shared fixtures: the seed report, settings for fast tests (deterministic fake embedder
and generator) and, for integration tests, one index and pipeline on the real bundled
models, built once per session. Every test runs with outbound network connections refused:
only loopback is reachable, as in production."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import is_loopback
from rag.settings import Settings
from rag.types import Evidence, Hit, Passage

ROOT = Path(__file__).resolve().parents[1]
SEED_REPORT = ROOT / "seeds" / "gcm-unece-2020.txt"
HEADLINE_QUESTION = "Which states regularised migrants during COVID?"
REGULARISATION_TEXT = (
    "Italy, the Republic of Moldova and Portugal reported having instituted regularisation"
)


def one_passage(text: str) -> tuple[Passage, list[Hit], Evidence]:
    """A passage retrieved alone, and its whole text as the best evidence."""
    passage = Passage("doc#p1", "doc", "Doc", None, text, 0, len(text), "hash")
    best = Evidence(passage, text, relevance=0.9, match=0.6)
    return passage, [Hit(passage, score=1.0, rank=0)], best


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        return is_loopback(address[0])
    return True  # AF_UNIX paths


def ingest_seeds(settings: Settings) -> None:
    """Index `settings.seeds_dir` with the configured embedder, quietly."""
    from rag.factory import build_embedder, index_config
    from rag.ingest import ingest

    ingest(
        [settings.seeds_dir],
        settings.index_dir,
        index_config(settings),
        build_embedder(settings),
        progress=False,
        log=lambda _line: None,
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback: nothing may be fetched at run time."""
    original = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"test tried to reach the network: {address}")
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def seed_report() -> Path:
    return SEED_REPORT


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_REPORT, folder / SEED_REPORT.name)
    return folder


@pytest.fixture
def fake_settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    """Settings that run without neural models: hashing embedder, fake generator."""
    return Settings(
        seeds_dir=seeds_dir,
        index_dir=tmp_path / "index",
        embedder="hashing",
        embedding_model="hashing",
        generator="fake",
        audit_log=tmp_path / "audit" / "answers.jsonl",
    )


@pytest.fixture
def fake_index(fake_settings: Settings) -> Settings:
    """`fake_settings` with the seed report already ingested."""
    ingest_seeds(fake_settings)
    return fake_settings


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Default settings (bundled MiniLM and SmolLM2) over an index of the seed report."""
    base = tmp_path_factory.mktemp("real")
    seeds = base / "seeds"
    seeds.mkdir()
    shutil.copy(SEED_REPORT, seeds / SEED_REPORT.name)
    settings = Settings(
        seeds_dir=seeds, index_dir=base / "index", audit_log=base / "audit" / "answers.jsonl"
    )
    ingest_seeds(settings)
    yield settings


@pytest.fixture(scope="session")
def real_pipeline(real_settings: Settings):  # type: ignore[no-untyped-def]
    """One pipeline on the real bundled models, loaded once for the whole session."""
    from rag.factory import build_pipeline

    pipeline = build_pipeline(real_settings)
    pipeline.warm_up()
    return pipeline
