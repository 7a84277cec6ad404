"""The emulator's regions: catalogues per region, the deterministic throttle, the command-line syntax."""

from __future__ import annotations

import pytest

from oci_genai_emulator import catalog
from oci_genai_emulator.regions import Regions, Throttle, parse_catalogs, parse_throttles


def test_a_half_throttle_answers_every_other_call_with_429() -> None:
    throttle = Throttle(0.5)
    assert [throttle.take() for _ in range(6)] == [False, True, False, True, False, True]
    assert not any(Throttle(0.0).take() for _ in range(5))
    assert all(Throttle(1.0).take() for _ in range(5))


def test_each_region_serves_its_own_catalogue_and_the_default_region_everything() -> None:
    regions = Regions.create(
        "us-chicago-1",
        parse_catalogs(["eu-frankfurt-1=meta.llama-3.3-70b-instruct", "uk-london-1=*"]),
        parse_throttles(["us-chicago-1=0.5"]),
    )
    llama = catalog.by_name("meta.llama-3.3-70b-instruct")
    grok = catalog.by_name("xai.grok-4")
    assert llama is not None
    assert grok is not None
    assert regions.serves("us-chicago-1", grok)
    assert regions.serves("eu-frankfurt-1", llama)
    assert not regions.serves("eu-frankfurt-1", grok)
    assert regions.serves("uk-london-1", grok)
    assert not regions.known("ap-tokyo-1")
    assert [regions.throttled("us-chicago-1") for _ in range(2)] == [False, True]
    assert not regions.throttled("eu-frankfurt-1")


@pytest.mark.parametrize("bad", ["=x", "us-chicago-1=2", "us-chicago-1=-0.1"])
def test_bad_region_options_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - either parser's message names the option
        parse_throttles([bad]) if "=" in bad and bad[0] != "=" else parse_catalogs([bad])
