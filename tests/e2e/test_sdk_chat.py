"""Chat Completions through the official openai SDK, against the real local model and the simulator."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import (
    ENDPOINTS,
    ENTITIES,
    LOCAL,
    SIMULATED,
    assert_inference_row,
    assert_usage_row,
    wait_row,
)

MAX_TOKENS = 32


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _chunk_text(chunks) -> str:
    return "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)


def _payload_text(payloads: list[dict]) -> str:
    out = []
    for p in payloads:
        for choice in p.get("choices") or []:
            out.append((choice.get("delta") or {}).get("content") or "")
    return "".join(out)


def test_health(gateway):
    assert gateway.request("GET", "/health/live").status == 200
    assert gateway.request("GET", "/health/ready").status == 200


def test_models_lists_both_endpoints(client):
    ids = {m.id for m in client.models.list()}
    assert set(ENDPOINTS) <= ids


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chat_non_stream(gateway, client, endpoint):
    prompt = "Name three primary colors."
    raw = client.chat.completions.with_raw_response.create(
        model=endpoint, messages=_messages(prompt), max_tokens=MAX_TOKENS
    )
    assert raw.http_response.status_code == 200
    request_id = raw.headers.get("x-request-id")
    assert request_id
    assert raw.headers.get("served-model-name") == ENTITIES[endpoint]

    completion = raw.parse()
    text = completion.choices[0].message.content
    assert text and text.strip()
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0

    if endpoint == SIMULATED:
        body = raw.http_response.json()
        assert "prompt_filter_results" in body
        assert "content_filter_results" in body["choices"][0]

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="chat", stream=False, status=200)
    stored_request = json.loads(row["request"])
    assert stored_request["model"] == endpoint
    assert stored_request["messages"] == _messages(prompt)
    stored_response = json.loads(row["response"])
    assert stored_response["choices"][0]["message"]["content"] == text

    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=False)
    assert usage["token_count_source"] == "reported"
    assert usage["input_token_count"] == completion.usage.prompt_tokens
    assert usage["output_token_count"] == completion.usage.completion_tokens
    assert usage["usage_context"] is None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chat_stream(gateway, client, endpoint):
    raw = client.chat.completions.with_raw_response.create(
        model=endpoint,
        messages=_messages("Write one sentence about the sea."),
        max_tokens=MAX_TOKENS,
        stream=True,
    )
    assert raw.http_response.status_code == 200
    assert raw.headers.get("content-type", "").startswith("text/event-stream")
    request_id = raw.headers.get("x-request-id")
    assert request_id
    assert raw.headers.get("served-model-name") == ENTITIES[endpoint]

    chunks = list(raw.parse())
    assert len(chunks) >= 2
    text = _chunk_text(chunks)
    assert text.strip()
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishing and finishing[-1] in ("stop", "length")
    # The client did not ask for usage, so no chunk carries it.
    assert all(getattr(c, "usage", None) is None for c in chunks)

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="chat", stream=True, status=200)
    assert row["stream_end"] == "done"
    assert isinstance(row["time_to_first_token_ms"], int) and row["time_to_first_token_ms"] >= 0
    payloads = json.loads(row["response"])
    assert isinstance(payloads, list)
    assert len(payloads) == len(chunks)
    assert all(isinstance(p, dict) for p in payloads)
    assert _payload_text(payloads) == text
    assert [p.get("id") for p in payloads] == [c.id for c in chunks]

    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=True)
    if endpoint == LOCAL:
        # llama.cpp's server reports no usage in streams, so the gateway estimates it.
        assert usage["token_count_source"] == "estimated"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chat_stream_with_usage(gateway, client, endpoint):
    raw = client.chat.completions.with_raw_response.create(
        model=endpoint,
        messages=_messages("Count from one to five."),
        max_tokens=MAX_TOKENS,
        stream=True,
        stream_options={"include_usage": True},
    )
    request_id = raw.headers.get("x-request-id")
    chunks = list(raw.parse())
    assert _chunk_text(chunks).strip()

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="chat", stream=True, status=200)
    assert row["stream_end"] == "done"
    assert len(json.loads(row["response"])) == len(chunks)
    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=True)

    if endpoint == SIMULATED:
        last = chunks[-1]
        assert last.usage is not None
        assert last.choices == []
        assert usage["token_count_source"] == "reported"
        assert usage["input_token_count"] == last.usage.prompt_tokens
        assert usage["output_token_count"] == last.usage.completion_tokens
    else:
        # Asked for, but llama.cpp's server does not report it: estimated and marked so.
        assert usage["token_count_source"] == "estimated"


def test_models_list_and_retrieve_with_the_sdk(client):
    listed = [model.id for model in client.models.list()]
    assert SIMULATED in listed
    model = client.models.retrieve(SIMULATED)
    assert model.id == SIMULATED
    assert model.object == "model"
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("no-such-endpoint")
    assert raised.value.body["code"] == "model_not_found"
