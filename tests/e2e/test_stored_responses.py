"""Stored Responses through the official openai SDK: retrieve, input items, delete,
previous_response_id (plain and streamed) and store=False, against the simulator."""

from __future__ import annotations

import json

import openai
import pytest

from conftest import SIMULATED, query, wait_row


def _upstream_messages(gateway, request_id: str) -> list[dict]:
    """The chat messages the gateway sent upstream for a request (its CHAT_MODEL span's inputs)."""
    row, _ = wait_row(gateway.db_path, request_id)
    spans = query(gateway.db_path, "SELECT inputs FROM spans WHERE trace_id = ? AND span_type = 'CHAT_MODEL'", (row["trace_id"],))
    assert spans, "no CHAT_MODEL span"
    return json.loads(spans[0]["inputs"])["messages"]


def test_retrieve_input_items_and_delete(gateway, client):
    created = client.responses.create(model=SIMULATED, input="Remember the word tangerine.", instructions="Be brief.")
    assert created.store is True
    fetched = client.responses.retrieve(created.id)
    assert fetched.id == created.id
    assert fetched.output_text == created.output_text
    items = client.responses.input_items.list(created.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].role == "user"
    assert items.data[0].content[0].text == "Remember the word tangerine."
    assert items.data[0].id.startswith("msg_")
    deleted = client.responses.delete(created.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_previous_response_id_continues_the_conversation(gateway, client):
    first = client.responses.create(model=SIMULATED, input="My favourite colour is teal.", instructions="Answer in one line.")
    raw = client.responses.with_raw_response.create(model=SIMULATED, input="What is my favourite colour?", previous_response_id=first.id)
    second = raw.parse()
    assert second.previous_response_id == first.id
    messages = _upstream_messages(gateway, raw.headers["x-request-id"])
    # The earlier turn (without its instructions) and its answer come before the new question.
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "My favourite colour is teal."
    assert messages[1]["content"] == first.output_text
    assert messages[2]["content"] == "What is my favourite colour?"

    # A streamed continuation of the continuation is stored too, and continues further.
    with client.responses.stream(model=SIMULATED, input="And my name?", previous_response_id=second.id) as stream:
        for _ in stream:
            pass
        third = stream.get_final_response()
    assert client.responses.retrieve(third.id).previous_response_id == second.id
    raw = client.responses.with_raw_response.create(model=SIMULATED, input="Thanks.", previous_response_id=third.id)
    roles = [m["role"] for m in _upstream_messages(gateway, raw.headers["x-request-id"])]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]


def test_unknown_previous_response_is_404_with_its_code(gateway, client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=SIMULATED, input="hi", previous_response_id="resp_doesnotexist")
    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"


def test_store_false_keeps_nothing(gateway, client):
    response = client.responses.create(model=SIMULATED, input="Forget this.", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=SIMULATED, input="Still there?", previous_response_id=response.id)
