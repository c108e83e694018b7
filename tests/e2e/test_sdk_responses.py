"""The Responses API through the official openai SDK, against the real local model and the simulator."""

from __future__ import annotations

import json

import pytest

from conftest import ENDPOINTS, ENTITIES, LOCAL, assert_inference_row, assert_usage_row, wait_row

MAX_OUTPUT_TOKENS = 32
TERMINAL = ("response.completed", "response.incomplete")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_responses_non_stream(gateway, client, endpoint):
    prompt = "Explain what a primary key is in one sentence."
    raw = client.responses.with_raw_response.create(
        model=endpoint, input=prompt, max_output_tokens=MAX_OUTPUT_TOKENS
    )
    assert raw.http_response.status_code == 200
    request_id = raw.headers.get("x-request-id")
    assert request_id
    assert raw.headers.get("served-model-name") == ENTITIES[endpoint]

    response = raw.parse()
    assert response.object == "response"
    assert response.status in ("completed", "incomplete")
    assert response.output_text.strip()

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="responses", stream=False, status=200)
    assert json.loads(row["request"])["input"] == prompt
    stored = json.loads(row["response"])
    assert stored["id"] == response.id
    assert stored["object"] == "response"

    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=False)
    assert usage["token_count_source"] == "reported"
    if response.usage is not None:
        assert usage["input_token_count"] == response.usage.input_tokens
        assert usage["output_token_count"] == response.usage.output_tokens


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_responses_stream(gateway, client, endpoint):
    raw = client.responses.with_raw_response.create(
        model=endpoint,
        input="Write one sentence about mountains.",
        max_output_tokens=MAX_OUTPUT_TOKENS,
        stream=True,
    )
    assert raw.http_response.status_code == 200
    request_id = raw.headers.get("x-request-id")
    assert request_id
    assert raw.headers.get("served-model-name") == ENTITIES[endpoint]

    events = list(raw.parse())
    types = [e.type for e in events]

    # A single text answer: the full OpenAI event sequence, in order.
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) >= 1, types
    expected = (
        ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
        + ["response.output_text.delta"] * len(deltas)
        + ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
    )
    assert types[:-1] == expected, types
    assert types[-1] in TERMINAL, types

    sequence = [getattr(e, "sequence_number", None) for e in events]
    if all(n is not None for n in sequence):
        assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)

    text = "".join(d.delta for d in deltas)
    assert text.strip()
    by_type = {e.type: e for e in events}
    assert by_type["response.output_text.done"].text == text
    assert by_type["response.content_part.done"].part.text == text
    assert by_type["response.output_item.done"].item.content[0].text == text
    final = events[-1].response
    assert final.output_text == text
    assert final.status == ("completed" if types[-1] == "response.completed" else "incomplete")
    assert events[0].response.id == final.id

    row, usage = wait_row(gateway.db_path, request_id)
    assert_inference_row(row, request_id=request_id, endpoint=endpoint, api="responses", stream=True, status=200)
    assert row["stream_end"] == "done"
    assert isinstance(row["time_to_first_token_ms"], int) and row["time_to_first_token_ms"] >= 0
    payloads = json.loads(row["response"])
    assert isinstance(payloads, list)
    assert len(payloads) == len(events)
    assert [p["type"] for p in payloads] == types
    assert "".join(p["delta"] for p in payloads if p["type"] == "response.output_text.delta") == text

    assert_usage_row(usage, request_id=request_id, endpoint=endpoint, status=200, stream=True)
    if endpoint == LOCAL:
        assert usage["token_count_source"] == "estimated"
    elif usage["token_count_source"] == "reported" and final.usage is not None:
        assert usage["input_token_count"] == final.usage.input_tokens
        assert usage["output_token_count"] == final.usage.output_tokens
