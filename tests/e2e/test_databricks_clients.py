"""Databricks' OpenAI-compatible base (/serving-endpoints, the endpoint in the body's model) through
the databricks-sdk's own OpenAI client, and litellm as a client with its openai/ and
databricks/ providers, streaming included."""

from __future__ import annotations

import litellm
import pytest

from conftest import ADMIN_TOKEN, SIMULATED, wait_row


@pytest.fixture(scope="module")
def workspace_openai(gateway):
    from databricks.sdk import WorkspaceClient

    workspace = WorkspaceClient(host=gateway.base_url, token=ADMIN_TOKEN, auth_type="pat")
    return workspace.serving_endpoints.get_open_ai_client(max_retries=0)


def test_the_sdk_openai_client_reaches_chat_responses_and_embeddings(gateway, workspace_openai):
    raw = workspace_openai.chat.completions.with_raw_response.create(
        model=SIMULATED, messages=[{"role": "user", "content": "Hello from the databricks-sdk."}], max_tokens=16
    )
    assert raw.http_response.request.url.path == "/serving-endpoints/chat/completions"
    assert raw.parse().choices[0].message.content
    row, _ = wait_row(gateway.db_path, raw.headers["x-request-id"])
    assert row["endpoint_name"] == SIMULATED and row["api"] == "chat" and row["status_code"] == 200
    # The SDK authenticates with its token; the gateway records the request like any other.
    chunks = list(workspace_openai.chat.completions.create(
        model=SIMULATED, messages=[{"role": "user", "content": "Stream it."}], stream=True
    ))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    response = workspace_openai.responses.create(model=SIMULATED, input="Through /serving-endpoints/responses.")
    assert response.output_text
    assert workspace_openai.responses.retrieve(response.id).id == response.id
    embedded = workspace_openai.embeddings.create(model=SIMULATED, input="vector me")
    assert len(embedded.data[0].embedding) == 64


def test_an_endpoint_named_like_a_route_keeps_its_invocations(gateway):
    # `/serving-endpoints/chat/completions` must not shadow an endpoint's own invocations route.
    answer = gateway.request("POST", f"/serving-endpoints/{SIMULATED}/invocations", {"messages": [{"role": "user", "content": "hi"}]})
    assert answer.status == 200
    answer = gateway.request("POST", "/serving-endpoints/chat/invocations", {"messages": [{"role": "user", "content": "hi"}]})
    assert answer.status == 404 and answer.json()["error"]["code"] == "endpoint_not_found"


@pytest.mark.parametrize("provider", ["openai", "databricks"])
def test_litellm_completion_and_stream(gateway, provider):
    base = gateway.base_url + ("/v1" if provider == "openai" else "/serving-endpoints")
    answer = litellm.completion(
        model=f"{provider}/{SIMULATED}", api_base=base, api_key="unused", messages=[{"role": "user", "content": "Hello, litellm."}],
        max_tokens=16,
    )
    assert answer.choices[0].message.content
    assert answer.usage.prompt_tokens > 0
    stream = litellm.completion(
        model=f"{provider}/{SIMULATED}", api_base=base, api_key="unused", messages=[{"role": "user", "content": "Stream, litellm."}],
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text
    embedded = litellm.embedding(model=f"{provider}/{SIMULATED}", api_base=base, api_key="unused", input=["one", "two"])
    assert len(embedded.data) == 2
