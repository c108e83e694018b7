"""POST /v1/embeddings through the official openai SDK (which asks for base64 by default),
recorded like every other request."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import SIMULATED, query, wait_row


def test_embeddings_are_answered_and_recorded(gateway, client):
    raw = client.embeddings.with_raw_response.create(model=SIMULATED, input=["first text", "second text"], dimensions=16)
    assert raw.http_response.status_code == 200
    answer = raw.parse()
    assert [item.index for item in answer.data] == [0, 1]
    assert all(len(item.embedding) == 16 for item in answer.data)
    norm = sum(x * x for x in answer.data[0].embedding)
    assert abs(norm - 1.0) < 1e-3
    assert answer.data[0].embedding != answer.data[1].embedding
    # The same text gets the same vector; floats as well as base64.
    again = client.embeddings.create(model=SIMULATED, input="first text", dimensions=16, encoding_format="float")
    assert again.data[0].embedding == pytest.approx(answer.data[0].embedding, abs=1e-6)

    request_id = raw.headers["x-request-id"]
    row, usage = wait_row(gateway.db_path, request_id)
    assert row["api"] == "embeddings"
    assert row["status_code"] == 200 and row["stream"] == 0
    assert usage["input_token_count"] == answer.usage.prompt_tokens > 0
    assert usage["output_token_count"] == 0
    assert usage["token_count_source"] == "reported"
    spans = query(gateway.db_path, "SELECT name, span_type FROM spans WHERE trace_id = ?", (row["trace_id"],))
    assert spans == [{"name": "Embeddings", "span_type": "EMBEDDING"}]
    assert json.loads(row["request"])["input"] == ["first text", "second text"]


@pytest.mark.parametrize(
    "body, param",
    [
        ({"model": SIMULATED}, "input"),
        ({"model": SIMULATED, "input": ""}, "input"),
        ({"model": SIMULATED, "input": [1, "a"]}, "input"),
        ({"model": SIMULATED, "input": "x", "dimensions": 1e19}, "dimensions"),
        ({"model": SIMULATED, "input": "x", "stream": True}, "stream"),
    ],
)
def test_bad_embeddings_requests_are_400_with_their_param(gateway, body, param):
    answer = gateway.request("POST", "/v1/embeddings", body)
    assert answer.status == 400, answer.text()
    assert answer.json()["error"]["param"] == param
    row, _ = wait_row(gateway.db_path, answer.headers["x-request-id"])
    assert row["api"] == "embeddings" and row["status_code"] == 400


def test_an_agent_endpoint_has_no_embeddings_api(gateway, client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="sim-agent", input="x")
    assert "no embeddings API" in caught.value.message
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-endpoint", input="x")
