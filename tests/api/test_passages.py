"""`GET /api/passages/{anchor}` and `GET /api/documents` over the fake index."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from rag.factory import build_embedder, index_config
from rag.index import load_index
from rag.ingest import ingest
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT, ingest_seeds
from tests.rag.sample_documents import write_border_report

NOTE = """Border desk note

1. Arrivals

The border desk counted arrivals at the northern crossing every morning.
"""


def test_a_passage_is_found_by_its_url_encoded_anchor(
    client: TestClient, fake_index: Settings
) -> None:
    response = client.get("/api/passages/gcm-unece-2020%23p22")
    assert response.status_code == 200
    passage = response.json()
    index = load_index(fake_index.index_dir, index_config(fake_index))
    stored = index.passage("gcm-unece-2020#p22")
    assert stored is not None
    in_document = [p.anchor for p in index.passages if p.doc_id == "gcm-unece-2020"]
    assert passage == {
        "anchor": "gcm-unece-2020#p22",
        "doc": "gcm-unece-2020",
        "doc_title": stored.doc_title,
        "section": stored.section,
        "page": None,
        "text": stored.text,
        "start": stored.start,
        "end": stored.end,
        "content_hash": stored.content_hash,
        "previous": "gcm-unece-2020#p21",
        "next": "gcm-unece-2020#p23",
        # Counted in passages, not paragraphs: a long paragraph is several (`#p5.1`, `#p5.2`).
        "position": in_document.index("gcm-unece-2020#p22") + 1,
        "document_passages": len(in_document),
    }
    assert REGULARISATION_TEXT in passage["text"]
    source = fake_index.seeds_dir.joinpath("gcm-unece-2020.txt").read_text(encoding="utf-8")
    assert source[passage["start"] : passage["end"]] == passage["text"]


def test_neighbours_chain_through_the_whole_document(client: TestClient) -> None:
    first = client.get("/api/passages/gcm-unece-2020%23p1").json()
    assert first["previous"] is None
    anchor, places = first["anchor"], []
    while anchor is not None:
        passage = client.get("/api/passages/" + anchor.replace("#", "%23")).json()
        anchor = passage["next"]
        places.append((passage["position"], passage["document_passages"]))
    documents = client.get("/api/documents").json()["documents"]
    count = documents[0]["passages"]
    assert places == [(position, count) for position in range(1, count + 1)]


def test_an_unknown_anchor_is_a_404_naming_the_field(client: TestClient) -> None:
    response = client.get("/api/passages/gcm-unece-2020%23p9999")
    assert response.status_code == 404
    error = response.json()
    assert (error["field"], error["rule"]) == ("anchor", "known_anchor")
    assert "gcm-unece-2020#p9999" in error["error"]


def test_an_anchor_sent_with_a_bare_hash_gets_a_hint_to_encode_it(client: TestClient) -> None:
    # The client drops everything from '#': the server sees only the document part.
    response = client.get("/api/passages/gcm-unece-2020#p22")
    assert response.status_code == 404
    assert "%23" in response.json()["fix"]


def test_documents_lists_passage_counts_and_content_hashes(
    client: TestClient, fake_index: Settings
) -> None:
    index = load_index(fake_index.index_dir, index_config(fake_index))
    listing = client.get("/api/documents").json()
    assert listing["corpus_hash"] == index.corpus_hash
    record = index.documents["gcm-unece-2020"]
    assert listing["documents"] == [
        {
            "doc": "gcm-unece-2020",
            "title": record.title,
            "path": "gcm-unece-2020.txt",  # not the server's absolute path
            "content_hash": record.content_hash,
            "passages": len(index.passages),
            "duplicates": [],
            "file_missing": False,
            "near_duplicates": {},
        }
    ]


def test_document_paths_never_reveal_where_the_server_keeps_them(
    fake_settings: Settings, tmp_path: Path
) -> None:
    seeds = fake_settings.seeds_dir
    (seeds / "notes").mkdir()
    (seeds / "notes" / "border.txt").write_text(NOTE)
    (seeds / "notes" / "border-copy.txt").write_text(NOTE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other-desk.txt").write_text(NOTE.replace("border", "harbour"))
    ingest(
        [seeds, elsewhere],
        fake_settings.index_dir,
        index_config(fake_settings),
        build_embedder(fake_settings),
        progress=False,
        log=lambda _line: None,
    )
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        response = client.get("/api/documents")
    assert str(tmp_path) not in response.text
    paths = {document["path"]: document["duplicates"] for document in response.json()["documents"]}
    # Below the seeds folder: relative to it; elsewhere: the file name alone.
    assert paths.keys() - {"notes/border.txt", "notes/border-copy.txt"} == {
        "gcm-unece-2020.txt",
        "other-desk.txt",
    }
    (kept,) = paths.keys() & {"notes/border.txt", "notes/border-copy.txt"}
    assert paths[kept] == list({"notes/border.txt", "notes/border-copy.txt"} - {kept})
    # A file ingested by its own path stays indexed once deleted, and is marked so.
    (elsewhere / "other-desk.txt").unlink()
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        documents = client.get("/api/documents").json()["documents"]
    assert {document["path"] for document in documents if document["file_missing"]} == {
        "other-desk.txt"
    }


def test_documents_names_the_near_duplicates_of_each(fake_settings: Settings) -> None:
    write_border_report(fake_settings.seeds_dir)
    ingest_seeds(fake_settings)
    with TestClient(create_app(fake_settings, static_dir=None)) as client:
        documents = client.get("/api/documents").json()["documents"]
    assert {document["doc"]: document["near_duplicates"] for document in documents} == {
        "border-report": {"border-report-txt": 1.0},
        "border-report-txt": {"border-report": 1.0},
        "gcm-unece-2020": {},
    }
