"""Databricks' own shapes through the real databricks-sdk and mlflow.deployments: an endpoint
created with `external_model: {provider: openai, openai_config}` and a route by
`served_model_name`, put_ai_gateway's answer, and predict_stream over an `input` body. The
upstream is Tollgate's simulator as a real server on loopback."""

from __future__ import annotations

import datetime
import os
import subprocess

import pytest

from conftest import TOLLGATE_BIN, _stop, _wait_ready, free_port

TOKEN = "shapes-token"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from databricks.sdk import WorkspaceClient

    work = tmp_path_factory.mktemp("shapes")
    sim_port, port = free_port(), free_port()
    simulator = subprocess.Popen([str(TOLLGATE_BIN), "simulate", "--port", str(sim_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = work / "config.yaml"
    config.write_text(f"store: sqlite:{work / 'store.db'}\nserver: {{port: {port}, admin_token: {TOKEN}}}\n")
    log = work / "serve.log"
    env = dict(os.environ, SIM_OPENAI_KEY="sk-simulated")
    with log.open("w") as out:
        gateway = subprocess.Popen([str(TOLLGATE_BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/health/ready", gateway, log, "tollgate", 30)
        _wait_ready(f"http://127.0.0.1:{sim_port}/health", simulator, None, "simulator", 30)
        yield WorkspaceClient(host=f"http://127.0.0.1:{port}", token=TOKEN, auth_type="pat"), sim_port, port
    finally:
        _stop(gateway)
        _stop(simulator)


def test_an_external_model_in_databricks_shape_is_served(workspace):
    from databricks.sdk.service.serving import (
        AiGatewayInferenceTableConfig, AiGatewayUsageTrackingConfig, ChatMessage, ChatMessageRole, EndpointCoreConfigInput,
        ExternalModel, ExternalModelProvider, OpenAiConfig, Route, ServedEntityInput, TrafficConfig,
    )

    w, sim_port, _ = workspace
    entity = ServedEntityInput(name="gpt", external_model=ExternalModel(
        name="gpt-sim", provider=ExternalModelProvider.OPENAI, task="llm/v1/chat",
        openai_config=OpenAiConfig(openai_api_key="${SIM_OPENAI_KEY}", openai_api_base=f"http://127.0.0.1:{sim_port}/v1"),
    ))
    created = w.serving_endpoints.create_and_wait(
        name="gpt-chat", config=EndpointCoreConfigInput(name="gpt-chat", 
            served_entities=[entity], traffic_config=TrafficConfig(routes=[Route(served_model_name="gpt", traffic_percentage=100)]),
        ), timeout=datetime.timedelta(seconds=60),
    )
    assert created.state.config_update.value == "NOT_UPDATING"
    served = created.config.served_entities[0]
    assert served.external_model.provider == ExternalModelProvider.OPENAI
    assert served.external_model.openai_config.openai_api_key == "${SIM_OPENAI_KEY}"  # the reference, never the key
    assert created.config.traffic_config.routes[0].served_entity_name == "gpt"

    answer = w.serving_endpoints.query("gpt-chat", messages=[ChatMessage(role=ChatMessageRole.USER, content="Hello Databricks shapes")])
    assert answer.choices[0].message.content

    gateway = w.serving_endpoints.put_ai_gateway(
        "gpt-chat", inference_table_config=AiGatewayInferenceTableConfig(enabled=True),
        usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=False),
    )
    assert gateway.inference_table_config.enabled is True
    assert gateway.usage_tracking_config.enabled is False


def test_plaintext_keys_are_refused(workspace):
    from databricks.sdk.errors import InvalidParameterValue
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ExternalModel, ExternalModelProvider, OpenAiConfig, ServedEntityInput

    w, sim_port, _ = workspace
    entity = ServedEntityInput(name="gpt", external_model=ExternalModel(
        name="gpt-sim", provider=ExternalModelProvider.OPENAI, task="llm/v1/chat",
        openai_config=OpenAiConfig(openai_api_key_plaintext="sk-secret", openai_api_base=f"http://127.0.0.1:{sim_port}/v1"),
    ))
    with pytest.raises(InvalidParameterValue) as caught:
        w.serving_endpoints.create(name="leaky", config=EndpointCoreConfigInput(name="leaky", served_entities=[entity]))
    assert "openai_api_key_plaintext" in str(caught.value)


def test_mlflow_predict_stream_reads_a_responses_stream(workspace, monkeypatch):
    from mlflow.deployments import get_deploy_client

    _, _, port = workspace
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    client = get_deploy_client("databricks")
    chunks = list(client.predict_stream(endpoint="gpt-chat", inputs={"input": [{"role": "user", "content": "Stream in Responses form"}]}))
    types = [chunk["type"] for chunk in chunks]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "".join(c["delta"] for c in chunks if c["type"] == "response.output_text.delta")
    chat = list(client.predict_stream(endpoint="gpt-chat", inputs={"messages": [{"role": "user", "content": "Stream in chat form"}]}))
    # (the simulator plays Azure: its first chunk carries only prompt_filter_results)
    assert any(c["object"] == "chat.completion.chunk" and c["choices"] for c in chat)
    predicted = client.predict(endpoint="gpt-chat", inputs={"messages": [{"role": "user", "content": "Once"}]})
    assert predicted["choices"][0]["message"]["content"]
