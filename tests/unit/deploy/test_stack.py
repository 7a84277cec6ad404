"""The stack itself: dependency order, and every field either updatable in place or declared immutable."""

from __future__ import annotations

import pytest

from oci_genai_gateway.deploy.engine.resource_model import State
from oci_genai_gateway.deploy.engine.sdk_kind import SdkKind
from tests.unit.deploy.conftest import COMPOSE, Deployer, config

# Fields handled by a kind's own update (not by its Update*Details model).
SPECIAL = {"rules", "names", "keys", "instance_id"}


@pytest.mark.parametrize("target", ["serverless", "compose"])
def test_every_desired_field_can_be_updated_or_is_declared_immutable(deployer: Deployer, target: str) -> None:
    cfg = config(COMPOSE) if target == "compose" else config()
    _, stack = deployer.stack(cfg)
    state = State(stack.external)
    checked = 0
    for res in stack.resources:
        kind = res.kind
        if not isinstance(kind, SdkKind) or kind.update_model is None:
            continue
        updatable = set(kind.update_model().swagger_types)
        fixed = set(res.spec(state)) - updatable - SPECIAL
        assert fixed <= kind.immutable, (
            f"{res.key}: {sorted(fixed - kind.immutable)} can be neither updated nor replaced"
        )
        checked += 1
    assert checked >= 10


def test_resources_come_after_what_they_depend_on(deployer: Deployer) -> None:
    for cfg in (config(), config(COMPOSE)):
        _, stack = deployer.stack(cfg)
        seen = set(stack.external)
        for res in stack.resources:
            assert set(res.depends_on) <= seen, res.key
            seen.add(res.key)
