"""The client's own function tools on agent endpoints, through openai-agents (Runner.run_streamed
with auto_previous_response_id) and langchain-openai, streamed and not: the model's call of a
client tool reaches the client exactly as a plain model's would."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from conftest import SIMULATED

AGENT = "sim-agent"  # an agent endpoint whose model is the simulator


def _weather_tool() -> dict:
    return {"type": "function", "function": {
        "name": "get_weather", "description": "Weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }}


@pytest.mark.parametrize("endpoint", [SIMULATED, AGENT])
def test_streamed_client_tool_calls_match_the_plain_ones(client, endpoint):
    messages = [{"role": "user", "content": "Call get_weather for Paris"}]
    plain = client.chat.completions.create(model=endpoint, messages=messages, tools=[_weather_tool()])
    call = plain.choices[0].message.tool_calls[0]
    assert plain.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"

    name, arguments, finish = "", "", None
    for chunk in client.chat.completions.create(model=endpoint, messages=messages, tools=[_weather_tool()], stream=True):
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                name += delta.function.name or ""
                arguments += delta.function.arguments or ""
            finish = choice.finish_reason or finish
    assert finish == "tool_calls"
    assert name == "get_weather"
    assert json.loads(arguments) == json.loads(call.function.arguments)


def test_openai_agents_runs_its_own_tool_through_an_agent_endpoint_streamed(gateway):
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    set_tracing_disabled(True)
    ran: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        ran.append(city)
        return f"Sunny in {city}"

    async def run() -> str:
        client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0)
        agent = Agent(name="assistant", instructions="Use tools.", tools=[get_weather],
                      model=OpenAIResponsesModel(model=AGENT, openai_client=client))
        result = Runner.run_streamed(agent, "Call get_weather for Paris", auto_previous_response_id=True)
        kinds = set()
        async for event in result.stream_events():
            kinds.add(event.type)
        assert "run_item_stream_event" in kinds
        return str(result.final_output)

    final = asyncio.run(run())
    assert ran == ["Paris"]
    assert "Sunny in Paris" in final


def test_langchain_openai_streams_a_client_tool_call_from_an_agent_endpoint(gateway):
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return f"Sunny in {city}"

    model = ChatOpenAI(model=AGENT, base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0).bind_tools([get_weather])
    gathered = None
    for chunk in model.stream("Call get_weather for Paris"):
        gathered = chunk if gathered is None else gathered + chunk
    assert gathered.tool_calls and gathered.tool_calls[0]["name"] == "get_weather"
    assert gathered.tool_calls[0]["args"] == {"city": "Paris"}
    plain = model.invoke("Call get_weather for Paris")
    assert plain.tool_calls[0]["name"] == "get_weather"
