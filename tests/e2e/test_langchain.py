"""LangChain's OpenAI integration (`langchain-openai`) pointed at the gateway, unchanged but for its
base URL and key: chat, streams with usage, a tool loop, structured output and embeddings, through
the ASGI server and through `make run`'s serverless stack (the `api_base_url` fixture)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel, SecretStr

from tests.fixtures.gateway import KEY

LLAMA = "meta.llama-3.3-70b-instruct"
MODELS = ["meta.llama-3.3-70b-instruct", "xai.grok-4", "cohere.command-a-03-2025"]
EMBEDDING_MODEL = "cohere.embed-english-v3.0"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


class City(BaseModel):
    """A city and the country it is in."""

    name: str
    country: str


def chat(base_url: str, model: str = LLAMA, **options: Any) -> ChatOpenAI:
    return ChatOpenAI(base_url=base_url, api_key=SecretStr(KEY), model=model, max_retries=0, **options)


@pytest.mark.parametrize("model", MODELS)
def test_invoke_answers_with_usage_and_finish_reason(api_base_url: str, model: str) -> None:
    answer = chat(api_base_url, model).invoke("Hello")
    assert isinstance(answer.content, str)
    assert f"from {model}" in answer.content
    assert "Hello" in answer.content
    assert answer.response_metadata["finish_reason"] == "stop"
    usage = answer.usage_metadata
    assert usage is not None
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize("model", MODELS)
def test_a_stream_adds_up_to_the_answer_and_reports_usage(api_base_url: str, model: str) -> None:
    llm = chat(api_base_url, model, stream_usage=True)
    whole = llm.invoke("Stream, please")
    chunks = list(llm.stream("Stream, please"))
    assert len(chunks) > 2, "the answer came in pieces"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    assert total.content == whole.content
    assert total.usage_metadata is not None
    assert total.usage_metadata["output_tokens"] > 0


def test_a_tool_loop_calls_the_tool_and_answers_from_its_result(api_base_url: str) -> None:
    llm = chat(api_base_url, "xai.grok-4").bind_tools([get_weather])
    messages: list[BaseMessage] = [HumanMessage("Use get_weather for Oslo")]
    asked = llm.invoke(messages)
    assert len(asked.tool_calls) == 1
    call = asked.tool_calls[0]
    assert call["name"] == "get_weather"
    assert call["id"]
    assert set(call["args"]) == {"city"}
    result = get_weather.invoke(call["args"])
    messages += [asked, ToolMessage(result, tool_call_id=call["id"])]
    final = llm.invoke(messages)
    assert not final.tool_calls
    assert isinstance(final.content, str)
    assert result in final.content


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_parses_into_the_model(api_base_url: str, method: str) -> None:
    city = chat(api_base_url, "xai.grok-4").with_structured_output(City, method=method).invoke("Oslo")
    assert isinstance(city, City)
    assert city.name
    assert city.country


def test_embeddings_for_documents_and_queries(api_base_url: str) -> None:
    # check_embedding_ctx_length=False: LangChain otherwise tokenizes with tiktoken (OpenAI's
    # tokenizer, downloaded on first use) and sends token ids, which only OpenAI's models read.
    embeddings = OpenAIEmbeddings(
        base_url=api_base_url,
        api_key=SecretStr(KEY),
        model=EMBEDDING_MODEL,
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    documents = embeddings.embed_documents(["red", "green", "blue"])
    assert len(documents) == 3
    assert len({len(v) for v in documents}) == 1
    assert len(documents[0]) > 0
    assert documents[0] != documents[1]
    assert embeddings.embed_query("green") == documents[1]


def test_async_invoke(api_base_url: str) -> None:
    answer = asyncio.run(chat(api_base_url).ainvoke("Async hello"))
    assert isinstance(answer.content, str)
    assert "Async hello" in answer.content
