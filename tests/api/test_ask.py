"""`POST /api/ask` on the fake components: JSON and streamed answers, the audit log, and every
kind of bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.cli import main as rag_main
from rag.errors import RagError
from rag.factory import build_pipeline
from rag.settings import MAX_QUESTION_CHARS, Settings
from tests.api.conftest import FAKE_QUESTION, SYLVANIA_FACT, InventingGenerator, parse_sse
from tests.conftest import REGULARISATION_TEXT


def without_timings(answer: dict) -> dict:  # type: ignore[type-arg]
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def test_json_answer_is_the_same_object_as_rag_ask_json(
    client: TestClient,
    fake_index: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = client.post("/api/ask", json={"question": FAKE_QUESTION})
    assert response.status_code == 200
    served = response.json()

    for name, value in {
        "RAG_INDEX_DIR": fake_index.index_dir,
        "RAG_EMBEDDER": "hashing",
        "RAG_EMBEDDING_MODEL": "hashing",
        "RAG_GENERATOR": "fake",
    }.items():
        monkeypatch.setenv(name, str(value))
    assert rag_main(["ask", "--json", FAKE_QUESTION]) == 0
    printed = json.loads(capsys.readouterr().out)

    assert without_timings(served) == without_timings(printed)
    assert served["timings_ms"].keys() == printed["timings_ms"].keys()
    assert any(REGULARISATION_TEXT in citation["text"] for citation in served["citations"])


def test_stream_sends_passages_tokens_citations_then_the_done_answer(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": FAKE_QUESTION, "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [event.name for event in events]
    assert names[0] == "passages"
    assert names[-2:] == ["citations", "done"]
    assert set(names[1:-2]) == {"token"}

    done = events[-1].json()
    expected = build_pipeline(client.app.state.service.settings).ask(FAKE_QUESTION).to_dict()  # type: ignore[attr-defined]
    assert without_timings(done) == without_timings(expected)
    assert events[0].json() == done["passages"]
    assert events[-2].json() == done["citations"]
    assert all(
        set(item) == {"anchor", "doc", "section", "page", "text", "score"}
        for item in events[0].json()
    )
    # The fake model's text passes verification unchanged, so the deltas add up to it, but
    # for the mark of where the report's sentence breaks off.
    draft = "".join(event.json()["text"] for event in events[1:-2])
    assert draft.endswith(", whilst [1].")
    assert draft.replace(", whilst [1].", ", whilst … [1].") == done["answer"]


def test_token_events_are_the_unverified_draft_and_documented_as_such(
    fake_index: Settings,
) -> None:
    generator = InventingGenerator()
    generator.gate.set()
    pipeline = build_pipeline(fake_index, generator=generator)
    with TestClient(create_app(fake_index, pipeline=pipeline, static_dir=None)) as client:
        response = client.post("/api/ask", json={"question": FAKE_QUESTION, "stream": True})
        events = parse_sse(response.text)
        draft = "".join(event.json()["text"] for event in events if event.name == "token")
        done = events[-1].json()
        # Kept for compatibility: the tokens carry the invented draft, `done` the checked answer.
        assert draft == InventingGenerator.DRAFT
        assert done["mode"] == "extractive"
        assert "2024" not in done["answer"] and REGULARISATION_TEXT in done["answer"]

        operation = client.get("/openapi.json").json()["paths"]["/api/ask"]["post"]
        assert "The `token` events are the model's unverified draft" in operation["description"]
        assert "only `done` may be shown" in operation["responses"]["200"]["description"]


def test_a_question_of_several_parts_carries_its_parts_as_data_streamed_or_not(
    client: TestClient,
) -> None:
    second = "When was the GCM adopted by Member States?"
    question = f"{FAKE_QUESTION} {second}"
    served = client.post("/api/ask", json={"question": question}).json()
    events = parse_sse(client.post("/api/ask", json={"question": question, "stream": True}).text)
    done = events[-1].json()
    assert without_timings(done) == without_timings(served)
    expected = build_pipeline(client.app.state.service.settings).ask(question)  # type: ignore[attr-defined]
    assert len(expected.parts) == 2
    assert served["parts"] == [
        {
            "question": part.question,
            "answer": part.answer,
            "abstained": part.abstained,
            "abstention_reason": part.abstention_reason,
            "citation_numbers": list(part.citation_numbers),
        }
        for part in expected.parts
    ]
    assert [part["question"] for part in served["parts"]] == [FAKE_QUESTION, second]
    assert served["answer"] == "\n\n".join(
        f"{part['question']}\n{part['answer']}" for part in served["parts"]
    )
    numbers = [n for part in served["parts"] for n in part["citation_numbers"]]
    assert sorted(set(numbers)) == [citation["n"] for citation in served["citations"]]
    # A question of one part has none.
    assert client.post("/api/ask", json={"question": FAKE_QUESTION}).json()["parts"] == []


def test_openapi_documents_every_field_of_the_answer_and_of_its_parts(
    client: TestClient,
) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    answer = client.post(
        "/api/ask", json={"question": f"{FAKE_QUESTION} When was the GCM adopted by Member States?"}
    ).json()
    assert set(schemas["AnswerResponse"]["properties"]) == set(answer)
    assert set(schemas["AnswerPartOut"]["properties"]) == set(answer["parts"][0])
    description = schemas["AnswerResponse"]["properties"]["parts"]["description"]
    assert description.startswith("A question of several parts")


def test_k_sets_the_number_of_retrieved_passages(client: TestClient) -> None:
    for k in (1, 7):
        answer = client.post("/api/ask", json={"question": FAKE_QUESTION, "k": k}).json()
        assert len(answer["passages"]) == k


def test_off_topic_question_abstains(client: TestClient) -> None:
    answer = client.post(
        "/api/ask", json={"question": "What is the recommended dosage of ibuprofen for adults?"}
    ).json()
    assert answer["abstained"] is True
    assert answer["citations"] == []


def test_a_question_about_the_collection_lists_the_reports_streamed_or_not(
    client: TestClient, fake_index: Settings
) -> None:
    question = "Which reports do you have?"
    answer = client.post("/api/ask", json={"question": question}).json()
    assert (answer["mode"], answer["abstained"]) == ("index", False)
    assert (answer["citations"], answer["passages"]) == ([], [])
    assert answer["answer"].splitlines()[1].endswith("(id: gcm-unece-2020)")
    response = client.post("/api/ask", json={"question": question, "stream": True})
    events = parse_sse(response.text)
    assert [event.name for event in events] == ["passages", "citations", "done"]
    assert without_timings(events[-1].json()) == without_timings(answer)
    audited = json.loads(fake_index.audit_log.read_text().splitlines()[0])
    assert (audited["mode"], audited["anchors"]) == ("index", [])


def test_every_answer_is_appended_to_the_audit_log(
    client: TestClient, fake_index: Settings
) -> None:
    assert not fake_index.audit_log.exists(), "created on demand"
    first = client.post("/api/ask", json={"question": FAKE_QUESTION}).json()
    client.post("/api/ask", json={"question": FAKE_QUESTION, "stream": True})
    client.post("/api/ask", json={"question": "What is the recommended dosage of ibuprofen?"})

    lines = [json.loads(line) for line in fake_index.audit_log.read_text().splitlines()]
    assert len(lines) == 3
    corpus_hash = client.get("/api/documents").json()["corpus_hash"]
    assert lines[0]["question"] == FAKE_QUESTION
    assert lines[0]["answer"] == first["answer"]
    assert lines[0]["anchors"] == [citation["anchor"] for citation in first["citations"]]
    assert lines[0]["abstained"] is False and lines[2]["abstained"] is True
    assert lines[2]["anchors"] == []
    assert {line["model"] for line in lines} == {"fake"}
    assert {line["corpus_hash"] for line in lines} == {corpus_hash}
    assert {line["client"] for line in lines} == {"testclient"}
    assert all(line["latency_ms"] > 0 and line["time"].endswith("Z") for line in lines)


def test_a_pipeline_error_mid_stream_ends_with_an_error_event(
    fake_index: Settings,
) -> None:
    pipeline = build_pipeline(fake_index)

    def failing(messages, max_tokens, stop=None):  # type: ignore[no-untyped-def]
        yield "Italy"
        raise RagError("the generation server went away", "start it again")

    pipeline.generator.stream_chat = failing  # type: ignore[method-assign]
    with TestClient(create_app(fake_index, pipeline=pipeline, static_dir=None)) as client:
        response = client.post("/api/ask", json={"question": FAKE_QUESTION, "stream": True})
        events = parse_sse(response.text)
        assert [event.name for event in events] == ["passages", "token", "error"]
        assert events[-1].json() == {"error": "the generation server went away; start it again"}

        plain = client.post("/api/ask", json={"question": FAKE_QUESTION})
        assert plain.status_code == 503
        error = plain.json()
        assert (error["error"], error["fix"]) == (
            "the generation server went away",
            "start it again",
        )
        chat = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": FAKE_QUESTION}]}
        )
        assert chat.json()["error"]["message"] == "the generation server went away; start it again"
        assert client.app.state.service.generation.admitted == 0  # type: ignore[attr-defined]


def test_documents_limits_the_answer_and_is_audited(
    two_report_client: TestClient, fake_settings: Settings
) -> None:
    client = two_report_client
    everywhere = client.post("/api/ask", json={"question": FAKE_QUESTION}).json()
    assert everywhere["citations"][0]["doc"] == "gcm-unece-2020"

    body = {"question": FAKE_QUESTION, "documents": ["sylvania-review"]}
    answer = client.post("/api/ask", json=body).json()
    assert [(c["doc"], c["quote"]) for c in answer["citations"]] == [
        ("sylvania-review", SYLVANIA_FACT)
    ]
    assert {passage["doc"] for passage in answer["passages"]} == {"sylvania-review"}
    assert answer.keys() == everywhere.keys()

    events = parse_sse(client.post("/api/ask", json={**body, "stream": True}).text)
    assert [event.name for event in events][0] == "passages"
    passages = events[0].json()
    assert {passage["doc"] for passage in passages} == {"sylvania-review"}
    assert passages[0].keys() == everywhere["passages"][0].keys()
    assert without_timings(events[-1].json()) == without_timings(answer)

    client.post("/api/ask", json={"question": FAKE_QUESTION, "documents": []})
    lines = [json.loads(line) for line in fake_settings.audit_log.read_text().splitlines()]
    assert [line.get("documents") for line in lines] == [
        None,
        ["sylvania-review"],
        ["sylvania-review"],
        None,
    ]
    assert lines[1]["anchors"] == [c["anchor"] for c in answer["citations"]]


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_documents_are_a_422_listing_the_indexed_ones(
    two_report_client: TestClient, stream: bool
) -> None:
    body = {"question": FAKE_QUESTION, "documents": ["ruritania", "sylvania-review"]}
    response = two_report_client.post("/api/ask", json={**body, "stream": stream})
    assert response.status_code == 422
    problem = "no document 'ruritania' in the index (indexed: gcm-unece-2020, sylvania-review)"
    assert response.json() == {
        "error": problem,
        "field": "documents",
        "rule": "unknown_document",
        "fix": "name documents by the ids 'rag docs list' or GET /api/documents shows",
        # As a failed validation lists them: one shape for every error about the request.
        "errors": [{"field": "documents", "rule": "unknown_document", "message": problem}],
    }
    assert two_report_client.app.state.service.generation.admitted == 0  # type: ignore[attr-defined]


def test_openapi_documents_the_documents_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    field = schemas["AskRequest"]["properties"]["documents"]
    assert field["examples"] == [["gcm-unece-2020"]]
    assert field["description"].startswith("Answer from these documents only: ids as ")
    listed = next(option for option in field["anyOf"] if option.get("type") == "array")
    assert (listed["maxItems"], listed["items"]["maxLength"]) == (100, 200)


# Bad bodies: the field at fault, the rule broken, and the fix the error gives.
BAD_INPUTS = [
    ({"question": ""}, "question", "string_too_short", "send 'question' with at least 1 character"),
    ({"question": "  \n\t "}, "question", "whitespace_only", "write the question in words"),
    (
        {"question": "x" * (MAX_QUESTION_CHARS + 1)},
        "question",
        "string_too_long",
        "shorten 'question' to at most 2000 characters",
    ),
    ({"question": 42}, "question", "string_type", "send 'question' as text, in double quotes"),
    (
        {"question": "Is the \x00 GCM binding?"},
        "question",
        "control_character",
        "remove the control character from 'question' (tabs and line breaks may stay)",
    ),
    ({}, "question", "missing", """add 'question', as in {"question": "…"}"""),
    ({"question": "Which states?", "k": 0}, "k", "greater_than_equal", "send 'k' as 1 or more"),
    ({"question": "Which states?", "k": 51}, "k", "less_than_equal", "send 'k' as 50 or less"),
    (
        {"question": "Which states?", "k": "3"},
        "k",
        "int_type",
        "send 'k' as a whole number, without quotes",
    ),
    (
        {"question": "Which states?", "stream": "yes"},
        "stream",
        "bool_type",
        "send 'stream' as true or false, without quotes",
    ),
    (
        {"question": "Which states?", "top_k": 3},
        "top_k",
        "extra_forbidden",
        "remove 'top_k': /docs lists the fields this endpoint takes",
    ),
    (
        {"question": "Which states?", "documents": "gcm"},
        "documents",
        "list_type",
        "send 'documents' as a JSON list, [...]",
    ),
    (
        {"question": "Which states?", "documents": [""]},
        "documents.0",
        "string_too_short",
        "send 'documents.0' with at least 1 character",
    ),
    (
        {"question": "Which states?", "documents": [7]},
        "documents.0",
        "string_type",
        "send 'documents.0' as text, in double quotes",
    ),
    (
        {"question": "Which states?", "documents": ["d"] * 101},
        "documents",
        "too_long",
        "send 'documents' with at most 100 items",
    ),
    (
        ["Which states?"],
        "body",
        "model_attributes_type",
        """send a JSON object such as {"question": "…"}""",
    ),
]


@pytest.mark.parametrize(("body", "field", "rule", "fix"), BAD_INPUTS)
def test_bad_input_is_a_422_naming_the_field_the_rule_and_the_fix(
    client: TestClient, body: object, field: str, rule: str, fix: str
) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == 422
    error = response.json()
    assert (error["field"], error["rule"], error["fix"]) == (field, rule, fix)
    assert error["error"].startswith(f"{field}: ")
    assert error["errors"][0]["field"] == field


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
def test_an_empty_json_body_is_told_what_to_send(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    if path == "/api/ask":
        error = response.json()
        assert (error["field"], error["rule"]) == ("body", "missing")
        assert error["fix"] == """send a JSON object such as {"question": "…"}"""
    else:
        message = response.json()["error"]["message"]
        assert message.endswith(
            """; send a JSON object such as {"messages": [{"role": "user", "content": "…"}]}"""
        )


def test_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/api/ask", content=b'{"question": "Which', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()
    assert (error["field"], error["rule"]) == ("body", "json_invalid")
    assert "not valid JSON" in error["error"]


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_a_body_not_sent_as_json_is_a_400_naming_the_content_type(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/ask", content=b'{"question": "Which states?"}', headers=headers)
    assert response.status_code == 400
    error = response.json()
    assert (error["field"], error["rule"]) == ("Content-Type", "content_type_json")
    assert "application/json" in error["fix"]


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x0b", "\x7f", "\x9b"])
def test_a_control_character_in_the_question_is_refused_and_not_echoed(
    client: TestClient, character: str
) -> None:
    response = client.post("/api/ask", json={"question": f"Which states{character} regularised?"})
    assert response.status_code == 422
    error = response.json()
    code = f"U+{ord(character):04X}"
    assert error["error"] == (
        f"question: the text holds a control character ({code} at character 13), which no "
        "question contains"
    )
    assert (error["field"], error["rule"]) == ("question", "control_character")
    assert character not in response.text and "regularised" not in response.text


def test_tabs_and_line_breaks_in_a_question_are_text(client: TestClient) -> None:
    question = "Which states\tinstituted regularisation\r\nin the\x85pandemic?"
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.text
    assert response.json()["question"] == question


def test_no_input_reaches_a_500(client: TestClient) -> None:
    bodies: list[bytes] = [
        b"",
        b"null",
        b"[]",
        b'"question"',
        b"\xff\xfe\x00",
        b'{"question": "\\ud800"}',
        b'{"question": null}',
        b'{"question": {"nested": 1}}',
        b'{"question": "ok", "k": 1e400}',
        b'{"question": "ok", "k": -1}',
        b"{" * 5000,
        b"[" * 60000,  # nesting too deep for the JSON parser
    ]
    for body in bodies:
        response = client.post(
            "/api/ask", content=body, headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (body[:40], response.text)
        assert response.json()["rule"], body[:40]
