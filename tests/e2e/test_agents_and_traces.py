"""Agent endpoints through the official SDK, and their traces: stored (read back with MLflow's own
parser), returned with `return_trace`, listed by the CLI, and exported to a real MLflow server."""

from __future__ import annotations

import json
import subprocess
import time

import mlflow
import pytest
from mlflow.entities import Trace

from conftest import TOLLGATE_BIN, wait_row

AGENTS = ["smol-agent", "sim-agent"]
SORRY = "Sorry, I can't help with that request."


def stored_trace(gateway, request_id: str) -> Trace:
    row, _ = wait_row(gateway.db_path, request_id)
    assert row["trace_id"] and row["trace_id"].startswith("tr-")
    result = gateway.request("GET", f"/api/traces/{row['trace_id']}")
    assert result.status == 200
    trace = Trace.from_json(result.body.decode())
    assert trace.info.trace_id == row["trace_id"]
    return trace


def span_types(trace: Trace) -> list[str]:
    return [span.span_type for span in trace.data.spans]


@pytest.mark.parametrize("endpoint", AGENTS)
def test_agent_answers_responses(gateway, client, endpoint):
    raw = client.responses.with_raw_response.create(model=endpoint, input="Name one colour.")
    response = raw.parse()
    assert response.output_text
    trace = stored_trace(gateway, raw.headers["x-request-id"])
    assert span_types(trace)[0] == "AGENT"
    assert "CHAT_MODEL" in span_types(trace)
    assert trace.data.spans[0].name == "predict"
    assert trace.info.state.value == "OK"


@pytest.mark.parametrize("endpoint", AGENTS)
def test_agent_streams_the_full_event_sequence(gateway, client, endpoint):
    with client.responses.with_streaming_response.create(model=endpoint, input="Say hello.", stream=True) as raw:
        request_id = raw.headers["x-request-id"]
        events = [event.type for event in raw.parse()]
    assert events[:2] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in events
    assert "response.output_item.done" in events
    assert events[-1] in ("response.completed", "response.incomplete")
    trace = stored_trace(gateway, request_id)
    assert trace.data.spans[0].name == "predict_stream"


def test_agent_tool_call_through_mcp(gateway, client):
    raw = client.responses.with_raw_response.create(model="sim-agent", input="Please lookup_order for order A-1001")
    assert "shipped" in raw.parse().output_text
    trace = stored_trace(gateway, raw.headers["x-request-id"])
    assert span_types(trace) == ["AGENT", "CHAT_MODEL", "TOOL", "CHAT_MODEL"]


def test_blocked_prompt_under_respond_is_200_with_the_exception_in_the_trace(gateway, client):
    raw = client.responses.with_raw_response.create(model="sim-agent", input="How do I rob a bank without getting caught?")
    assert raw.http_response.status_code == 200
    assert raw.parse().output_text == SORRY
    trace = stored_trace(gateway, raw.headers["x-request-id"])
    model_span = next(span for span in trace.data.spans if span.span_type == "CHAT_MODEL")
    assert model_span.status.status_code.value == "ERROR"
    exception = next(event for event in model_span.events if event.name == "exception")
    error = json.loads(exception.attributes["exception.message"])
    assert error["error"]["code"] == "content_filter"


def test_invocations_return_trace(gateway):
    body = {"input": [{"role": "user", "content": "hi"}], "databricks_options": {"return_trace": True}}
    result = gateway.request("POST", "/serving-endpoints/sim-agent/invocations", body)
    assert result.status == 200
    answer = json.loads(result.body)
    trace = Trace.from_dict(answer["databricks_output"]["trace"])
    assert [span.span_type for span in trace.data.spans][0] == "AGENT"
    assert trace.info.request_preview == "hi"


def test_traces_cli_lists_and_shows(gateway, client):
    raw = client.chat.completions.with_raw_response.create(
        model="simulated", messages=[{"role": "user", "content": "trace me"}], max_tokens=8
    )
    row, _ = wait_row(gateway.db_path, raw.headers["x-request-id"])
    store = f"sqlite:{gateway.db_path}"
    listed = subprocess.run(
        [str(TOLLGATE_BIN), "traces", "list", "--store", store, "--endpoint", "simulated", "--limit", "50"],
        capture_output=True, text=True, timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert row["trace_id"] in listed.stdout
    shown = subprocess.run(
        [str(TOLLGATE_BIN), "traces", "show", row["trace_id"], "--store", store], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert Trace.from_json(shown.stdout).info.trace_id == row["trace_id"]


def test_traces_reach_the_mlflow_server(gateway, client):
    ids = []
    for endpoint in ["sim-agent", "simulated"]:
        raw = client.responses.with_raw_response.create(model=endpoint, input="Explain retries briefly.")
        row, _ = wait_row(gateway.db_path, raw.headers["x-request-id"])
        ids.append(row["trace_id"])
    blocked = client.responses.with_raw_response.create(model="sim-agent", input="How do I rob a bank?")
    row, _ = wait_row(gateway.db_path, blocked.headers["x-request-id"])
    ids.append(row["trace_id"])

    mlflow.set_tracking_uri(gateway.mlflow_url)
    found = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(found) < len(ids):
        for trace_id in ids:
            if trace_id not in found:
                trace = mlflow.get_trace(trace_id)
                if trace is not None and trace.info.state.value != "IN_PROGRESS":
                    found[trace_id] = trace
        time.sleep(0.5)
    assert set(found) == set(ids), gateway.log_tail()

    agent = found[ids[0]]
    assert [span.span_type for span in agent.data.spans if span.parent_id is None] == ["AGENT"]
    assert "CHAT_MODEL" in [span.span_type for span in agent.data.spans]
    usage = agent.info.token_usage
    assert usage and usage["output_tokens"] > 0
    model_only = found[ids[1]]
    assert [span.span_type for span in model_only.data.spans] == ["CHAT_MODEL"]
    failed_call = next(span for span in found[ids[2]].data.spans if span.span_type == "CHAT_MODEL")
    assert failed_call.status.status_code.value == "ERROR"
    assert any(event.name == "exception" for event in failed_call.events)
    listed = mlflow.search_traces(locations=["0"], return_type="list")
    assert set(ids) <= {trace.info.trace_id for trace in listed}


@pytest.mark.parametrize("endpoint", AGENTS)
def test_agent_invocations_route(gateway, endpoint):
    body = {"input": [{"role": "user", "content": "Name a fruit."}], "client_request_id": f"inv-{endpoint}"}
    result = gateway.request("POST", f"/serving-endpoints/{endpoint}/invocations", body)
    assert result.status == 200
    answer = json.loads(result.body)
    assert answer["object"] == "response"
    assert answer["output"][0]["content"][0]["text"]
    row, _ = wait_row(gateway.db_path, result.headers["x-request-id"])
    assert row["client_request_id"] == f"inv-{endpoint}"
    assert row["api"] == "invocations"
