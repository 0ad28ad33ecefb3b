"""`GET /api/passages/{anchor}` and `GET /api/documents` over the fake index."""

from __future__ import annotations

from fastapi.testclient import TestClient

from rag.factory import index_config
from rag.index import load_index
from rag.settings import Settings
from tests.conftest import REGULARISATION_TEXT


def test_a_passage_is_found_by_its_url_encoded_anchor(
    client: TestClient, fake_index: Settings
) -> None:
    response = client.get("/api/passages/gcm-unece-2020%23p22")
    assert response.status_code == 200
    passage = response.json()
    index = load_index(fake_index.index_dir, index_config(fake_index))
    stored = index.passage("gcm-unece-2020#p22")
    assert stored is not None
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
    }
    assert REGULARISATION_TEXT in passage["text"]
    source = fake_index.seeds_dir.joinpath("gcm-unece-2020.txt").read_text(encoding="utf-8")
    assert source[passage["start"] : passage["end"]] == passage["text"]


def test_neighbours_chain_through_the_whole_document(client: TestClient) -> None:
    first = client.get("/api/passages/gcm-unece-2020%23p1").json()
    assert first["previous"] is None
    anchor, seen = first["anchor"], 0
    while anchor is not None:
        passage = client.get("/api/passages/" + anchor.replace("#", "%23")).json()
        anchor, seen = passage["next"], seen + 1
    documents = client.get("/api/documents").json()["documents"]
    assert seen == documents[0]["passages"]


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
            "path": record.path,
            "content_hash": record.content_hash,
            "passages": len(index.passages),
            "duplicates": [],
        }
    ]
