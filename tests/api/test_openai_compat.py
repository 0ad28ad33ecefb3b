"""`/v1/chat/completions` and `/v1/models` in OpenAI's formats, over the fake index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.routes.openai_compat import SERVED_MODEL
from api.schemas import ChatCompletionResponse, OpenAIErrorResponse
from rag.factory import build_pipeline
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, SYLVANIA_FACT, parse_sse


def chat(question: str, **extra: object) -> dict[str, object]:
    return {
        "model": SERVED_MODEL,
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "What is the GCM?"},
            {"role": "assistant", "content": "A compact [1]."},
            {"role": "user", "content": question},
        ],
        **extra,
    }


def test_models_lists_the_assistant(client: TestClient) -> None:
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [(m["id"], m["object"]) for m in models["data"]] == [(SERVED_MODEL, "model")]


def test_completion_answers_the_last_user_message_with_citations(
    client: TestClient, fake_index: Settings
) -> None:
    response = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION, temperature=0.7))
    assert response.status_code == 200
    completion = response.json()
    expected = build_pipeline(fake_index).ask(FAKE_QUESTION)
    assert completion["object"] == "chat.completion"
    assert completion["id"].startswith("chatcmpl-")
    assert completion["model"] == SERVED_MODEL
    assert completion["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": expected.answer},
            "finish_reason": "stop",
        }
    ]
    assert completion["citations"] == [citation.to_dict() for citation in expected.citations]
    assert completion["weak_evidence"] is expected.weak_evidence
    # Every field sent is documented in the OpenAPI schema.
    assert set(completion) == set(ChatCompletionResponse.model_fields)


def test_streamed_completion_uses_openai_chunks_and_ends_with_done(
    client: TestClient, fake_index: Settings
) -> None:
    response = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION, stream=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert all(event.name is None for event in events)
    assert events[-1].data == "[DONE]"
    chunks = [event.json() for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    expected = build_pipeline(fake_index).ask(FAKE_QUESTION)
    assert text == expected.answer
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert chunks[-1]["citations"] == [citation.to_dict() for citation in expected.citations]
    assert chunks[-1]["weak_evidence"] is expected.weak_evidence
    assert all("citations" not in chunk for chunk in chunks[:-1])


def test_content_given_as_parts_is_read(client: TestClient) -> None:
    parts = [
        {"type": "text", "text": "Which states instituted "},
        {"type": "text", "text": "regularisation in the pandemic?"},
    ]
    body = {"messages": [{"role": "user", "content": parts}]}
    completion = client.post("/v1/chat/completions", json=body).json()
    plain = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION)).json()
    assert completion["choices"] == plain["choices"]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": [{"role": "system", "content": "Hi"}]}, "messages", "user_message_required"),
        (
            {"messages": [{"role": "user", "content": "   "}]},
            "messages.0.content",
            "whitespace_only",
        ),
        (
            {"messages": [{"role": "user", "content": "x" * 2001}]},
            "messages.0.content",
            "string_too_long",
        ),
        ({"messages": []}, "messages", "too_short"),
        ({"model": SERVED_MODEL}, "messages", "missing"),
        ({"messages": [{"content": "Why?"}]}, "messages.0.role", "missing"),
    ],
)
def test_bad_requests_get_openai_errors_naming_the_param(
    client: TestClient, body: dict[str, object], param: str, code: str
) -> None:
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"]


def test_documents_limits_a_completion_and_unknown_ones_are_an_openai_422(
    two_report_client: TestClient,
) -> None:
    completion = two_report_client.post(
        "/v1/chat/completions", json=chat(FAKE_QUESTION, documents=["sylvania-review"])
    ).json()
    assert [(c["doc"], c["quote"]) for c in completion["citations"]] == [
        ("sylvania-review", SYLVANIA_FACT)
    ]
    refused = two_report_client.post(
        "/v1/chat/completions", json=chat(FAKE_QUESTION, stream=True, documents=["ruritania"])
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {
            "message": "no document 'ruritania' in the index (indexed: gcm-unece-2020, "
            "sylvania-review); name documents by the ids 'rag docs list' or GET /api/documents "
            "shows",
            "type": "invalid_request_error",
            "param": "documents",
            "code": "unknown_document",
        }
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"messages": [{"role": "user", "content": "Is the GCM \\ud800 legally binding?"}]}',
        b'{"stream": true, "messages": [{"role": "user", "content": "Is it \\udfff binding?"}]}',
        b'{"messages": [{"role": "system", "content": "Hi"}, {"role": "user", "content": '
        b'[{"type": "text", "text": "Is the GCM "}, {"type": "text", "text": "\\ud800?"}]}]}',
    ],
)
def test_a_lone_surrogate_is_refused_like_in_api_ask(client: TestClient, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    response = client.post("/v1/chat/completions", content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    user = 1 if b"system" in body else 0
    assert (error["param"], error["code"]) == (f"messages.{user}.content", "string_unicode")
    assert "remove it" in error["message"]
    asked = client.post(
        "/api/ask", content=b'{"question": "Is the \\ud800 GCM binding?"}', headers=headers
    )
    assert (asked.status_code, asked.json()["rule"]) == (422, "string_unicode")
    assert asked.json()["error"] == f"question: {error['message'].split(': ', 1)[1]}"


def test_malformed_json_gets_an_openai_error(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_invalid"


def test_openapi_documents_the_v1_errors_in_openai_shape(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    documented = {
        "/v1/chat/completions": paths["/v1/chat/completions"]["post"]["responses"],
        "/v1/models": paths["/v1/models"]["get"]["responses"],
    }
    assert set(documented["/v1/chat/completions"]) == {"200", "400", "401", "413", "422", "503"}
    assert set(documented["/v1/models"]) == {"200", "401"}
    for responses in documented.values():
        for status, response in responses.items():
            if status != "200":
                schema = response["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/OpenAIErrorResponse"), status
    api_error = paths["/api/ask"]["post"]["responses"]["422"]["content"]["application/json"]
    assert api_error["schema"]["$ref"].endswith("/ErrorResponse")
    # What is documented is what is sent.
    for refused in (
        client.post("/v1/chat/completions", json={"messages": []}),
        client.post(
            "/v1/chat/completions", content=b"{", headers={"Content-Type": "application/json"}
        ),
    ):
        OpenAIErrorResponse.model_validate(refused.json(), strict=True)
