"""`/v1/chat/completions` and `/v1/models` in OpenAI's formats, over the fake index: every
parameter OpenAI's clients send is accepted when well typed, a bad one or an unknown field is
a 422 with the fix, and the official Python client works against it."""

from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.openai_compat import SERVED_MODEL
from api.schemas import ChatCompletionRequest, ChatCompletionResponse, OpenAIErrorResponse
from rag.factory import build_pipeline
from rag.plain_text import answer_as_text
from rag.settings import Settings
from tests.api.conftest import FAKE_QUESTION, SYLVANIA_FACT, live_server, parse_sse

DENMARK = "What did Denmark report about family reunification?"


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
            "message": {"role": "assistant", "content": answer_as_text(expected)},
            "finish_reason": "stop",
        }
    ]
    assert completion["citations"] == [citation.to_dict() for citation in expected.citations]
    assert completion["weak_evidence"] is expected.weak_evidence
    # Every field sent is documented in the OpenAPI schema.
    assert set(completion) == set(ChatCompletionResponse.model_fields)


def test_the_message_says_what_a_chat_client_would_otherwise_not_show(
    client: TestClient,
) -> None:
    """A chat front-end shows the message's text and nothing else: the sources each `[n]`
    points to, and why a refusal refuses, are in it."""
    answered = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION)).json()
    content = answered["choices"][0]["message"]["content"]
    assert "\nSources:\n  [1] " in content
    assert f"({answered['citations'][0]['anchor']})" in content
    assert f'"{answered["citations"][0]["quote"]}"' in content
    refused = client.post("/v1/chat/completions", json=chat(DENMARK, stream=True))
    chunks = [event.json() for event in parse_sse(refused.text)[:-1]]
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text.startswith(
        "The indexed reports do not answer this question.\n"
        "Why: the closest passages do not mention Denmark\n"
    )


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
    assert text == answer_as_text(expected)
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
    problem = "the text holds an invalid character (a lone surrogate such as \\ud800)"
    field = error["param"]
    assert error["message"] == f"{field}: {problem}; remove the invalid character from '{field}'"
    asked = client.post(
        "/api/ask", content=b'{"question": "Is the \\ud800 GCM binding?"}', headers=headers
    )
    assert (asked.status_code, asked.json()["rule"]) == (422, "string_unicode")
    assert asked.json()["error"] == f"question: {problem}"
    assert asked.json()["fix"] == "remove the invalid character from 'question'"


def test_a_control_character_is_refused_like_in_api_ask(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "Is the GCM\x00 legally binding?"}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("messages.0.content", "control_character")
    assert error["message"] == (
        "messages.0.content: the text holds a control character (U+0000 at character 11), "
        "which no question contains; remove the control character from 'messages.0.content' "
        "(tabs and line breaks may stay)"
    )


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


@pytest.mark.parametrize(
    ("extra", "param", "code", "fix"),
    [
        ({"temperature": "hot"}, "temperature", "float_type", "send 'temperature' as a number"),
        ({"temperature": 3}, "temperature", "less_than_equal", "send 'temperature' as 2 or less"),
        ({"top_p": -0.1}, "top_p", "greater_than_equal", "send 'top_p' as 0 or more"),
        ({"max_tokens": "100"}, "max_tokens", "int_type", "send 'max_tokens' as a whole number"),
        ({"seed": 1.5}, "seed", "int_type", "send 'seed' as a whole number"),
        ({"user": 7}, "user", "string_type", "send 'user' as text"),
        ({"stream": "yes"}, "stream", "bool_type", "send 'stream' as true or false"),
        (
            {"stream_options": {"include_usage": "yes"}},
            "stream_options.include_usage",
            "bool_type",
            "send 'stream_options.include_usage' as true or false",
        ),
        ({"metadata": {"team": 7}}, "metadata.team", "string_type", "send 'metadata.team' as text"),
        ({"n": 3}, "n", "single_choice", "omit 'n' or send 1"),
        ({"n": 0}, "n", "single_choice", "omit 'n' or send 1"),
        ({"logprobs": True}, "logprobs", "logprobs_unsupported", "omit 'logprobs' or send false"),
        (
            {"response_format": {"type": "json_object"}},
            "response_format",
            "text_format_only",
            """omit 'response_format' or send {"type": "text"}""",
        ),
        ({"foo": 1}, "foo", "extra_forbidden", "remove 'foo'"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_or_unknown_parameters_are_a_422_with_the_fix(
    client: TestClient, extra: dict[str, object], param: str, code: str, fix: str, stream: bool
) -> None:
    body = chat(FAKE_QUESTION, **{"stream": stream, **extra})
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert f"; {fix}" in error["message"]


def test_n_of_one_gives_one_choice_and_n_above_says_why_not(client: TestClient) -> None:
    one = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION, n=1)).json()
    assert len(one["choices"]) == 1
    three = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION, n=3)).json()
    assert three["error"]["message"] == (
        "n: only one choice is given: answers are deterministic and verified, so further "
        "choices would repeat it; omit 'n' or send 1"
    )


def test_the_parameters_openai_clients_send_are_checked_then_ignored(
    client: TestClient,
) -> None:
    plain = client.post("/v1/chat/completions", json=chat(FAKE_QUESTION)).json()
    sent = chat(
        FAKE_QUESTION,
        temperature=0,
        top_p=1,
        n=1,
        max_tokens=64,
        max_completion_tokens=64,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        seed=7,
        stop=["\n\n"],
        user="analyst-7",
        metadata={"unit": "migration"},
        logprobs=False,
        response_format={"type": "text"},
        store=False,
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    answered = client.post("/v1/chat/completions", json=sent).json()
    assert answered["choices"] == plain["choices"]
    assert answered["citations"] == plain["citations"]
    streamed = client.post(
        "/v1/chat/completions",
        json={**sent, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert streamed.status_code == 200
    assert parse_sse(streamed.text)[-1].data == "[DONE]"


def test_every_parameter_of_openais_client_is_known() -> None:
    """A parameter the official client can send is never refused as unknown."""
    openai_chat = pytest.importorskip("openai.resources.chat.completions")
    sent = set(inspect.signature(openai_chat.Completions.create).parameters)
    client_only = {"self", "extra_headers", "extra_query", "extra_body", "timeout"}
    unknown = sorted(sent - client_only - set(ChatCompletionRequest.model_fields))
    assert unknown == [], f"add these OpenAI parameters to ChatCompletionRequest: {unknown}"


def test_the_official_openai_client_gets_answers_and_readable_errors(fake_index: Settings) -> None:
    openai = pytest.importorskip("openai")
    with live_server(create_app(fake_index, static_dir=None)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        completion = client.chat.completions.create(
            model=SERVED_MODEL,
            messages=[{"role": "user", "content": FAKE_QUESTION}],
            temperature=0.2,
            max_tokens=200,
            seed=1,
            user="analyst-7",
            n=1,
            extra_body={"documents": ["gcm-unece-2020"]},
        )
        expected = build_pipeline(fake_index).ask(FAKE_QUESTION)
        assert completion.choices[0].message.content == answer_as_text(expected)
        assert completion.usage is None
        stream = client.chat.completions.create(
            model=SERVED_MODEL,
            messages=[{"role": "user", "content": FAKE_QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
            user="analyst-7",
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == answer_as_text(expected)
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            client.chat.completions.create(
                model=SERVED_MODEL, messages=[{"role": "user", "content": FAKE_QUESTION}], n=3
            )
        assert "omit 'n' or send 1" in str(refused.value)
