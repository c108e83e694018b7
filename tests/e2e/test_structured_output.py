"""Structured-output and sampling clients against the simulator: openai's .parse(),
langchain-openai's with_structured_output, openai-agents' output_type, n, logprobs and
tool_choice."""

from __future__ import annotations

import asyncio
import enum

import openai
import pytest
from pydantic import BaseModel

from conftest import SIMULATED


class Size(str, enum.Enum):
    small = "small"
    large = "large"


class Item(BaseModel):
    name: str
    quantity: int
    size: Size


class Order(BaseModel):
    customer: str
    items: list[Item]
    gift: bool
    note: str | None


def test_openai_parse_gets_an_instance_of_the_schema(client):
    completion = client.chat.completions.parse(model=SIMULATED, messages=[{"role": "user", "content": "Make an order"}], response_format=Order)
    order = completion.choices[0].message.parsed
    assert isinstance(order, Order) and order.items and isinstance(order.items[0].size, Size)
    with client.chat.completions.stream(model=SIMULATED, messages=[{"role": "user", "content": "Stream an order"}], response_format=Order) as stream:
        for _ in stream:
            pass
        assert isinstance(stream.get_final_completion().choices[0].message.parsed, Order)
    response = client.responses.parse(model=SIMULATED, input="An order via Responses", text_format=Order)
    assert isinstance(response.output_parsed, Order)


def test_n_and_logprobs(client):
    several = client.chat.completions.create(model=SIMULATED, messages=[{"role": "user", "content": "Three please"}], n=3)
    assert [c.index for c in several.choices] == [0, 1, 2]
    indexes = set()
    for chunk in client.chat.completions.create(model=SIMULATED, messages=[{"role": "user", "content": "Two streamed"}], n=2, stream=True):
        indexes.update(c.index for c in chunk.choices)
    assert indexes == {0, 1}
    scored = client.chat.completions.create(
        model=SIMULATED, messages=[{"role": "user", "content": "Score it"}], logprobs=True, top_logprobs=2
    )
    content = scored.choices[0].logprobs.content
    assert "".join(t.token for t in content) == scored.choices[0].message.content
    assert all(len(t.top_logprobs) == 2 and t.logprob < 0 for t in content)


@pytest.mark.parametrize("choice, expected", [("required", "get_weather"), ({"type": "function", "function": {"name": "get_time"}}, "get_time")])
def test_tool_choice_is_honoured(client, choice, expected):
    tools = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
        for name in ("get_weather", "get_time")
    ]
    answer = client.chat.completions.create(model=SIMULATED, messages=[{"role": "user", "content": "Anything"}], tools=tools, tool_choice=choice)
    assert answer.choices[0].message.tool_calls[0].function.name == expected
    none = client.chat.completions.create(
        model=SIMULATED, messages=[{"role": "user", "content": "Do not call get_weather"}], tools=tools, tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_langchain_with_structured_output(gateway, method):
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model=SIMULATED, base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0)
    order = model.with_structured_output(Order, method=method).invoke("Make an order")
    assert isinstance(order, Order)


def test_openai_agents_output_type(gateway):
    from agents import Agent, OpenAIResponsesModel, Runner, set_tracing_disabled

    set_tracing_disabled(True)

    async def run():
        client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0)
        agent = Agent(name="orders", instructions="Return the order.", output_type=Order,
                      model=OpenAIResponsesModel(model=SIMULATED, openai_client=client))
        return (await Runner.run(agent, "Make an order")).final_output

    assert isinstance(asyncio.run(run()), Order)
