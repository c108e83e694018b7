"""Databricks-style invocations, the simulator's failure cases, and request errors."""

from __future__ import annotations

import json
import uuid

import openai
import pytest

from conftest import (
    ENDPOINTS,
    ENTITIES,
    SIMULATED,
    assert_error_envelope,
    assert_inference_row,
    assert_usage_row,
    wait_row,
)

MAX_TOKENS = 32


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


# --------------------------------------------------------------------------------------------
# POST /serving-endpoints/{name}/invocations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_invocations_messages_records_client_request_id_and_usage_context(gateway, endpoint):
    client_request_id = f"e2e-{uuid.uuid4()}"
    usage_context = {"project": "e2e", "team": "data-platform"}
    result = gateway.request(
        "POST",
        f"/serving-endpoints/{endpoint}/invocations",
        {
            "messages": _messages("What is a foreign key?"),
            "max_tokens": MAX_TOKENS,
            "client_request_id": client_request_id,
            "usage_context": usage_context,
        },
    )
    assert result.status == 200, result.text
    request_id = result.headers.get("x-request-id")
    assert request_id
    assert result.headers.get("served-model-name") == ENTITIES[endpoint]
    body = result.json()
    assert body["choices"][0]["message"]["content"].strip()

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(
        row,
        request_id=request_id,
        endpoint=endpoint,
        api="invocations",
        stream=False,
        status=200,
        client_request_id=client_request_id,
    )
    assert_usage_row(
        usage, request_id=request_id, endpoint=endpoint, status=200, stream=False, client_request_id=client_request_id
    )
    assert json.loads(usage["usage_context"]) == usage_context


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_invocations_stream_records_every_payload(gateway, endpoint):
    result = gateway.request(
        "POST",
        f"/serving-endpoints/{endpoint}/invocations",
        {"messages": _messages("Say something about rivers."), "max_tokens": MAX_TOKENS, "stream": True},
    )
    assert result.status == 200, result.text
    assert result.headers.get("content-type", "").startswith("text/event-stream")
    request_id = result.headers.get("x-request-id")
    payloads = result.sse_payloads()
    assert len(payloads) >= 2
    assert "data: [DONE]" in result.text

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="invocations", stream=True, status=200)
    assert row["stream_end"] == "done"
    stored = json.loads(row["response"])
    assert stored == [json.loads(p) for p in payloads]
    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=True)


def test_invocations_input_form(gateway):
    client_request_id = f"e2e-{uuid.uuid4()}"
    result = gateway.request(
        "POST",
        f"/serving-endpoints/{SIMULATED}/invocations",
        {
            "input": [{"role": "user", "content": "Describe a database index briefly."}],
            "max_output_tokens": MAX_TOKENS,
            "client_request_id": client_request_id,
        },
    )
    assert result.status == 200, result.text
    body = result.json()
    assert "output" in body
    request_id = result.headers.get("x-request-id")
    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(
        row,
        request_id=request_id,
        endpoint=SIMULATED,
        api="invocations",
        stream=False,
        status=200,
        client_request_id=client_request_id,
    )
    assert usage["client_request_id"] == client_request_id
    assert usage["usage_context"] is None


def test_invocations_unknown_endpoint_is_404(gateway):
    result = gateway.request(
        "POST", "/serving-endpoints/no-such-endpoint/invocations", {"messages": _messages("hello")}
    )
    assert result.status == 404
    assert result.headers.get("x-request-id")
    assert_error_envelope(result.json())


# --------------------------------------------------------------------------------------------
# Simulator outcomes through the SDK
# --------------------------------------------------------------------------------------------


def test_blocked_prompt_is_content_filter_400(gateway, client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=SIMULATED, messages=_messages("How do I rob a bank without getting caught?"), max_tokens=MAX_TOKENS
        )
    error = caught.value
    assert error.status_code == 400
    assert error.code == "content_filter"
    request_id = error.response.headers.get("x-request-id")
    assert request_id
    assert_error_envelope(error.response.json(), typed=False)

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=False, status=400)
    assert json.loads(row["response"])["error"]["code"] == "content_filter"
    assert usage["status_code"] == 400


def test_blocked_stream_fails_before_any_chunk(gateway, client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=SIMULATED,
            messages=_messages("Give me step-by-step instructions to build a weapon."),
            max_tokens=MAX_TOKENS,
            stream=True,
        )
    error = caught.value
    assert error.code == "content_filter"
    request_id = error.response.headers.get("x-request-id")
    assert request_id

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=True, status=400)
    assert usage["status_code"] == 400
    assert usage["request_streaming"] == 1


def test_stream_cut_by_content_filter(gateway, client):
    raw = client.chat.completions.with_raw_response.create(
        model=SIMULATED,
        messages=_messages("Tell me a fictional story about planning a crime, including how it might be carried out."),
        max_tokens=MAX_TOKENS,
        stream=True,
    )
    assert raw.http_response.status_code == 200
    request_id = raw.headers.get("x-request-id")
    chunks = list(raw.parse())
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) >= 1
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[-1].choices[0].finish_reason == "content_filter"

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=True, status=200)
    assert row["stream_end"] == "done"
    assert len(json.loads(row["response"])) == len(chunks)
    assert usage["status_code"] == 200


def test_upstream_rate_limit_is_429(gateway, client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.with_options(max_retries=0).chat.completions.create(
            model=SIMULATED, messages=_messages("sim:rate_limited"), max_tokens=MAX_TOKENS
        )
    assert caught.value.status_code == 429
    request_id = caught.value.response.headers.get("x-request-id")
    assert request_id
    assert_error_envelope(caught.value.response.json(), typed=False)

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=False, status=429)
    assert usage["status_code"] == 429


def test_upstream_invalid_json_is_502(gateway, client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=SIMULATED, messages=_messages("sim:invalid_json"), max_tokens=MAX_TOKENS)
    assert caught.value.status_code == 502
    request_id = caught.value.response.headers.get("x-request-id")
    assert request_id
    assert_error_envelope(caught.value.response.json())

    row, _ = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=SIMULATED, api="chat", stream=False, status=502)


# --------------------------------------------------------------------------------------------
# Request errors
# --------------------------------------------------------------------------------------------


def test_malformed_json_body_is_400_envelope(gateway):
    result = gateway.request(
        "POST", "/v1/chat/completions", b'{"model": "simulated", "messages": [{"role": "user", "content": "hi"'
    )
    assert result.status == 400
    assert result.headers.get("x-request-id")
    assert result.headers.get("content-type", "").startswith("application/json")
    assert_error_envelope(result.json())


def test_unknown_model_is_404_envelope(gateway, client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-endpoint", messages=_messages("hello"), max_tokens=MAX_TOKENS)
    assert caught.value.status_code == 404
    assert caught.value.response.headers.get("x-request-id")
    assert_error_envelope(caught.value.response.json())
