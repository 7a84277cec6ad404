"""Injected faults, the raw SSE wire format, incremental delivery and 1000 concurrent streams."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import litellm
import pytest

from tests.fixtures.emulator import COMPARTMENT, REGION, Emulator, sign_request

litellm.disable_token_counter = True
litellm.suppress_debug_info = True

CHAT = "/20231130/actions/chat"
LLAMA = "meta.llama-3.3-70b-instruct"


def chat_body(
    text: str = "Stream a few words about Vienna", *, model: str = LLAMA, stream: bool = True
) -> bytes:
    request = {
        "apiFormat": "GENERIC",
        "messages": [{"role": "USER", "content": [{"type": "TEXT", "text": text}]}],
    }
    if stream:
        request["isStream"] = True
    body = {
        "compartmentId": COMPARTMENT,
        "servingMode": {"servingType": "ON_DEMAND", "modelId": model},
        "chatRequest": request,
    }
    return json.dumps(body).encode()


def signed(emu: Emulator, signer: Any, body: bytes, fault: str | None = None) -> dict[str, str]:
    headers = sign_request(signer, "POST", emu.url + CHAT, body)
    # httpx offers zstd once zstandard is installed, and cannot decode OCI's one-frame-per-event
    # streams (test_emulator_variants.py shows both); these tests read the identity encoding.
    headers["accept-encoding"] = "identity"
    if fault:
        headers["x-emulator-fault"] = fault  # not a signed header: the signature still verifies
    return headers


def data_lines(raw: str) -> list[dict[str, Any]]:
    """The JSON events of a raw SSE body (Llama's closing `data: [DONE]` left out)."""
    blocks = [block for block in raw.split("\n\n") if block and block != "data: [DONE]"]
    return [json.loads(block[len("data: ") :]) for block in blocks]


def test_stream_wire_format(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body()
    response = httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"  # exact: the SDK compares it verbatim
    assert response.headers["opc-request-id"]
    assert "content-encoding" not in response.headers  # identity unless zstd is offered
    *blocks, done, after = response.text.split("\n\n")
    assert (done, after) == ("data: [DONE]", "")  # Meta Llama streams end with [DONE], then close
    assert all(block.startswith("data: {") and "\n" not in block for block in blocks)
    assert data_lines(response.text)[-1]["finishReason"] == "stop"


def test_queued_429_carries_retry_after(emu: Emulator, rp_signer: Any) -> None:
    emu.inject_fault("status=429,retry-after=7", path="actions/chat")
    body = chat_body(stream=False)
    first = httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body))
    second = httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body))

    assert first.status_code == 429
    assert first.json()["code"] == "TooManyRequests"
    assert first.headers["retry-after"] == "7"
    assert first.headers["opc-request-id"]
    assert second.status_code == 200  # count defaults to one request


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("500", 500, "InternalServerError"),
        ("503", 503, "ServiceUnavailable"),
        ("401", 401, "NotAuthenticated"),
        ("status=429", 429, "TooManyRequests"),
    ],
)
def test_status_fault_by_header(fault: str, status: int, code: str, emu: Emulator, rp_signer: Any) -> None:
    body = chat_body(stream=False)
    response = httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, fault))
    assert response.status_code == status
    assert response.json()["code"] == code


def test_bad_fault_header_is_400(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body(stream=False)
    response = httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, "explode=1"))
    assert response.status_code == 400


def test_queued_faults_match_model_and_count(emu: Emulator, rp_signer: Any) -> None:
    emu.inject_fault("503", model="xai.grok-4", count=2)
    statuses = []
    for model in ("meta.llama-3.3-70b-instruct", "xai.grok-4", "xai.grok-4", "xai.grok-4"):
        body = chat_body(model=model, stream=False)
        statuses.append(
            httpx.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body)).status_code
        )
    assert statuses == [200, 503, 503, 200]
    assert emu.control("GET", "/faults")["queued"] == []


def test_litellm_surfaces_injected_errors(emu: Emulator, rp_signer: Any) -> None:
    kwargs = {
        "api_base": emu.url,
        "oci_region": REGION,
        "oci_compartment_id": COMPARTMENT,
        "oci_signer": rp_signer,
    }
    messages = [{"role": "user", "content": "Hi"}]
    expected = {
        "429": litellm.RateLimitError,
        "500": litellm.InternalServerError,
        "503": litellm.ServiceUnavailableError,
        "401": litellm.AuthenticationError,
    }
    for fault, error in expected.items():
        emu.inject_fault(fault, path="actions/chat")
        with pytest.raises(error):
            litellm.completion(model=f"oci/{LLAMA}", messages=messages, **kwargs)


def test_cut_drops_the_connection_after_n_events(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body()
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST", emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, "cut=3")
        ) as r,
    ):
        received.extend(line for line in r.iter_lines() if line)
    assert len(received) == 3
    assert all("finishReason" not in line for line in received)


def test_cut_breaks_a_litellm_stream(emu: Emulator, rp_signer: Any) -> None:
    kwargs = {
        "api_base": emu.url,
        "oci_region": REGION,
        "oci_compartment_id": COMPARTMENT,
        "oci_signer": rp_signer,
    }
    emu.inject_fault("cut=2", path="actions/chat")
    stream = litellm.completion(
        model=f"oci/{LLAMA}",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        extra_headers={"accept-encoding": "identity"},  # see signed()
        **kwargs,
    )
    with pytest.raises(Exception, match=r"(?i)peer closed|incomplete|protocol"):
        for _ in stream:
            pass


def test_hold_proves_incremental_streaming(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body()
    with httpx.stream(
        "POST", emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, "hold=2")
    ) as r:
        lines = r.iter_lines()
        first_two = [json.loads(next(line for line in lines if line)[6:]) for _ in range(2)]
        # Both events reached the client while the rest of the answer is still held server-side.
        assert emu.held() == 1
        assert all("finishReason" not in e for e in first_two)
        assert emu.release() == 1
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    assert json.loads(rest[-2][6:])["finishReason"] == "stop"


def test_hold_past_the_last_event_keeps_the_connection_open(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body()
    with httpx.stream(
        "POST", emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, "hold=999")
    ) as r:
        lines = r.iter_lines()
        events = []
        while not events or "finishReason" not in events[-1]:
            line = next(lines)
            if line:
                events.append(json.loads(line[6:]))
        assert emu.held() == 1  # final event delivered, connection still open
        emu.release()
        assert [line for line in lines if line] == ["data: [DONE]"]


async def test_hold_on_a_json_answer(emu: Emulator, rp_signer: Any) -> None:
    emu.inject_fault("hold=0", path="actions/chat")
    body = chat_body(stream=False)
    async with httpx.AsyncClient() as client:
        task = asyncio.create_task(
            client.post(emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body))
        )
        await asyncio.to_thread(emu.wait_held, 1)
        assert not task.done()
        emu.release()
        assert (await task).status_code == 200


def wait_for_faulted_request(emu: Emulator) -> None:
    """Block until the emulator has received a request that carries a fault."""
    while not any(e.get("fault") for e in emu.requests(CHAT)):
        time.sleep(0.01)


async def test_latency_delays_only_the_faulted_request(emu: Emulator, rp_signer: Any) -> None:
    slow_body, fast_body = chat_body(stream=False), chat_body("Quick", stream=False)
    async with httpx.AsyncClient() as client:
        slow = asyncio.create_task(
            client.post(
                emu.url + CHAT, content=slow_body, headers=signed(emu, rp_signer, slow_body, "latency=1500")
            )
        )
        await asyncio.to_thread(wait_for_faulted_request, emu)
        fast = await client.post(emu.url + CHAT, content=fast_body, headers=signed(emu, rp_signer, fast_body))
        assert fast.status_code == 200
        assert not slow.done()
        assert (await slow).status_code == 200


async def test_token_delay_slows_only_the_faulted_stream(emu: Emulator, rp_signer: Any) -> None:
    finished: list[str] = []

    async def consume(client: httpx.AsyncClient, name: str, fault: str | None) -> None:
        body = chat_body(f"Stream for {name}")
        async with client.stream(
            "POST", emu.url + CHAT, content=body, headers=signed(emu, rp_signer, body, fault)
        ) as r:
            async for _ in r.aiter_lines():
                pass
        finished.append(name)

    async with httpx.AsyncClient() as client:
        await asyncio.gather(consume(client, "slow", "token-delay=80"), consume(client, "fast", None))
    assert finished == ["fast", "slow"]


async def test_a_thousand_concurrent_streams(emu: Emulator, rp_signer: Any) -> None:
    body = chat_body("Concurrency check")
    headers = signed(emu, rp_signer, body, "hold=1")  # one signature replayed: the emulator allows it
    streams = 1000

    async def one(client: httpx.AsyncClient) -> dict[str, Any]:
        async with client.stream("POST", emu.url + CHAT, content=body, headers=headers) as r:
            return data_lines((await r.aread()).decode())[-1]

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(streams)]
        # Every stream has sent its first event and is parked at once: all 1000 are open together.
        await asyncio.to_thread(emu.wait_held, streams, 45)
        assert not any(t.done() for t in tasks)
        emu.release()
        finals = await asyncio.gather(*tasks)
    assert all(f["finishReason"] == "stop" for f in finals)
