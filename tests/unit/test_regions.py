"""Several regions: the settings, the routing table, failover on each failure kind, and the cool-down."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from oci_genai_gateway.core.errors import ConfigError, InvalidRequest, RateLimited, RegionNotAllowed
from oci_genai_gateway.core.settings import Settings
from oci_genai_gateway.core.targets import Target, endpoint_region
from oci_genai_gateway.core.upstream.http import OciHttp
from oci_genai_gateway.core.upstream.regions import BACKOFF_SECONDS, Cooldowns, Router
from oci_genai_gateway.core.upstream.signers import RefreshingSigner
from tests.fakes import FakeSessionSigner

HOME, EU, UK = "us-chicago-1", "eu-frankfurt-1", "uk-london-1"
ENV = {
    "GATEWAY_REGIONS": f"{HOME},{EU},{UK}",
    "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..fake",
    "GATEWAY_OCI_ENDPOINT": "https://oci.test/{region}",
}
SERVED = {
    "meta.llama-3.3-70b-instruct": (HOME, EU, UK),
    "cohere.command-a-03-2025": (EU, UK),
    "xai.grok-4": (HOME,),
}


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def locate(model: str) -> tuple[str, ...]:
    return SERVED.get(model, ())


def settings(**env: str) -> Settings:
    return Settings.from_env({**ENV, **env})


# --- settings -------------------------------------------------------------------------------------


def test_regions_put_home_first_and_one_region_is_unchanged() -> None:
    s = settings()
    assert (s.region, s.regions, s.multi_region) == (HOME, (HOME, EU, UK), True)
    one = Settings.from_env({"GATEWAY_REGION": HOME, "GATEWAY_COMPARTMENT_ID": ENV["GATEWAY_COMPARTMENT_ID"]})
    assert (one.regions, one.multi_region) == ((HOME,), False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_REGIONS": f"{HOME},us-langley-1"}, "realms"),
        ({"GATEWAY_REGIONS": f"{HOME},mars-olympus-1"}, "cannot be checked"),
        ({"GATEWAY_REGIONS": f"{HOME},{EU}", "GATEWAY_REGION": EU}, "home region first"),
        ({"GATEWAY_OCI_ENDPOINT": "https://oci.test"}, "{region}"),
        ({"GATEWAY_REGIONS": f"{HOME},EU"}, "not an OCI region name"),
    ],
)
def test_bad_region_settings_are_refused_with_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        settings(**env)


def test_each_region_has_its_own_endpoints_and_monitoring_stays_home() -> None:
    s = settings()
    oci = OciHttp(s, RefreshingSigner(FakeSessionSigner()))
    assert oci.base_url == f"https://oci.test/{HOME}/20231130"
    assert s.telemetry_endpoint == f"https://oci.test/{HOME}"


# --- the routing table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "route"),
    [
        (Target("meta.llama-3.3-70b-instruct"), (HOME, EU, UK)),  # home first when served there
        (Target("cohere.command-a-03-2025"), (EU, UK)),  # else the next region in the configured order
        (Target("xai.grok-4"), (HOME,)),
        (Target("unlisted.model"), (HOME,)),  # no catalogue lists it: home answers (a 404, as before)
        (Target("meta.llama-3.3-70b-instruct", regions=(UK, EU)), (EU, UK)),  # residency: configured order
        (Target("unlisted.model", regions=(UK,)), (UK,)),
        (Target("m", endpoint_id=f"ocid1.generativeaiendpoint.oc1.{UK}.amaaa"), (UK,)),  # its OCID's region
        (
            Target("m", endpoint_id="ocid1.generativeaiendpoint.oc1.ap-tokyo-1.amaaa"),
            (HOME,),
        ),  # unserved: home
    ],
)
async def test_routing_table(target: Target, route: tuple[str, ...]) -> None:
    assert await Router(settings(), locate, Cooldowns()).route(target) == route


@pytest.mark.parametrize(
    "target",
    [
        Target("xai.grok-4", regions=(EU, UK)),
        Target("m", endpoint_id=f"ocid1.generativeaiendpoint.oc1.{HOME}.amaaa", regions=(EU,)),
        Target("meta.llama-3.3-70b-instruct", regions=("ap-tokyo-1",)),
    ],
)
async def test_residency_leaving_no_region_is_a_403_naming_the_restriction(target: Target) -> None:
    with pytest.raises(RegionNotAllowed) as refused:
        await Router(settings(), locate, Cooldowns()).route(target)
    assert refused.value.status == 403
    assert all(region in refused.value.message for region in target.regions)


async def test_one_region_never_asks_the_catalogue() -> None:
    one = Settings.from_env({"GATEWAY_REGION": EU, "GATEWAY_COMPARTMENT_ID": ENV["GATEWAY_COMPARTMENT_ID"]})

    async def never(model: str) -> tuple[str, ...]:
        raise AssertionError("one region routes without the catalogue")

    assert await Router(one, never, Cooldowns()).route(Target("anything")) == (EU,)


def test_endpoint_ocids_name_their_region() -> None:
    assert endpoint_region(f"ocid1.generativeaiendpoint.oc1.{EU}.amaaaa") == EU
    assert endpoint_region("ocid1.generativeaiendpoint.oc1..amaaaa") is None


# --- cool-down ------------------------------------------------------------------------------------


def test_a_pair_cools_for_retry_after_else_a_doubling_backoff_and_an_answer_resets_it() -> None:
    clock = Clock()
    cooldowns = Cooldowns(clock)
    assert cooldowns.fail(HOME, "m", "7") == 7
    assert cooldowns.cooling(HOME, "m")
    assert not cooldowns.cooling(EU, "m")
    assert not cooldowns.cooling(HOME, "other")
    clock.now += 7
    assert not cooldowns.cooling(HOME, "m")
    assert cooldowns.fail(EU, "m") == BACKOFF_SECONDS
    assert cooldowns.fail(EU, "m") == 2 * BACKOFF_SECONDS
    cooldowns.succeed(EU, "m")
    assert cooldowns.fail(EU, "m") == BACKOFF_SECONDS


async def test_a_cooling_region_is_tried_last_not_dropped() -> None:
    clock = Clock()
    cooldowns = Cooldowns(clock)
    router = Router(settings(), locate, cooldowns)
    cooldowns.fail(HOME, "meta.llama-3.3-70b-instruct", "30")
    assert await router.route(Target("meta.llama-3.3-70b-instruct")) == (EU, UK, HOME)
    clock.now += 30
    assert await router.route(Target("meta.llama-3.3-70b-instruct")) == (HOME, EU, UK)


# --- failover over HTTP ---------------------------------------------------------------------------

Answer = Callable[[httpx.Request], Awaitable[httpx.Response]]


def regional_oci(answers: dict[str, Answer], clock: Clock, timeout: float = 5.0) -> tuple[OciHttp, list[str]]:
    """OciHttp over a transport answering per region (the URL's first path segment); logs each call."""
    called: list[str] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        region = request.url.path.split("/")[1]
        called.append(region)
        return await answers[region](request)

    s = dataclasses.replace(settings(GATEWAY_UPSTREAM_RETRIES="0"), upstream_timeout=timeout)
    oci = OciHttp(s, RefreshingSigner(FakeSessionSigner()), httpx.MockTransport(handle), Cooldowns(clock))
    oci.locate_with(locate)
    return oci, called


async def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"answer": request.url.path.split("/")[1]})


def status(code: int, **headers: str) -> Answer:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, json={"code": "X", "message": "no"}, headers=headers)

    return answer


async def refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def hang(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    "failure",
    [status(429, **{"retry-after": "5"}), status(500), status(503), refuse_connection, hang],
    ids=["429", "500", "503", "connect", "timeout"],
)
async def test_each_failure_kind_fails_over_to_the_next_region_and_cools_down(failure: Answer) -> None:
    clock = Clock()
    oci, called = regional_oci({HOME: failure, EU: ok, UK: ok}, clock, timeout=0.05)
    served = await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")
    assert (served.region, served.value, called) == (EU, {"answer": EU}, [HOME, EU])
    again = await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")
    assert again.region == EU
    assert called == [HOME, EU, EU]  # home is cooling: not asked
    await oci.aclose()


async def test_the_last_regions_error_reaches_the_client_and_400s_never_move() -> None:
    clock = Clock()
    oci, called = regional_oci({HOME: status(429), EU: status(429), UK: status(429)}, clock)
    with pytest.raises(RateLimited):
        await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")
    assert called == [HOME, EU, UK]
    oci, called = regional_oci({HOME: status(400), EU: ok, UK: ok}, clock)
    with pytest.raises(InvalidRequest):
        await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")
    assert called == [HOME]
    await oci.aclose()


async def test_a_stream_fails_over_only_before_it_opens() -> None:
    clock = Clock()
    oci, called = regional_oci({HOME: status(503), EU: ok, UK: ok}, clock)
    opened = await oci.open_stream("chat", {}, "meta.llama-3.3-70b-instruct")
    assert opened.region == EU
    assert json.loads(await opened.value.aread()) == {"answer": EU}
    await opened.value.aclose()
    assert called == [HOME, EU]
    await oci.aclose()


async def test_a_region_that_lists_a_model_but_does_not_serve_it_on_demand_goes_last() -> None:
    clock = Clock()
    oci, called = regional_oci({HOME: status(404), EU: ok, UK: ok}, clock)
    served = await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")
    assert served.region == EU
    assert (await oci.post_json("chat", {}, "meta.llama-3.3-70b-instruct")).region == EU
    assert called == [HOME, EU, EU]
    await oci.aclose()
