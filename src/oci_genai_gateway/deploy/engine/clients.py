"""Every SDK client deploy uses, by short name, made once each by one injectable factory."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from oci_genai_gateway.deploy.engine.retries import (
    RetryingClient,
    Sleep,
    release_strategy,
    retry_strategy,
    throttle_strategy,
)

# Short names for the SDK clients deploy uses; tests pass autospec'd mocks under the same names.
CLIENT_CLASSES: Mapping[str, str] = {
    "network": "core.VirtualNetworkClient",
    "compute": "core.ComputeClient",
    "compute_management": "core.ComputeManagementClient",
    "load_balancer": "load_balancer.LoadBalancerClient",
    "autoscaling": "autoscaling.AutoScalingClient",
    "redis": "redis.RedisClusterClient",
    "identity": "identity.IdentityClient",
    "identity_domains": "identity_domains.IdentityDomainsClient",
    "vaults": "vault.VaultsClient",
    "kms_vault": "key_management.KmsVaultClient",
    "kms_management": "key_management.KmsManagementClient",
    "secrets": "secrets.SecretsClient",
    "functions": "functions.FunctionsManagementClient",
    "gateway": "apigateway.GatewayClient",
    "deployment": "apigateway.DeploymentClient",
    "usage_plans": "apigateway.UsagePlansClient",
    "subscribers": "apigateway.SubscribersClient",
    "monitoring": "monitoring.MonitoringClient",
    "logging": "logging.LoggingManagementClient",
    "artifacts": "artifacts.ArtifactsClient",
    "object_storage": "object_storage.ObjectStorageClient",
    "generative_ai": "generative_ai.GenerativeAiClient",
    "apigw_work_requests": "apigateway.WorkRequestsClient",
}

# (name, service_endpoint or None, region) -> client
ClientMaker = Callable[[str, str | None, str], Any]


class Clients:
    """Every SDK client deploy uses, made once each by a ClientMaker (real, offline or mocked).

    Each comes wrapped in the one retry strategy (engine/retries.py); `sleep` is what its backoff and
    deploy's own bounded waits sleep with.
    """

    def __init__(self, make: ClientMaker, region: str, tenancy_id: str, sleep: Sleep = time.sleep) -> None:
        self._make = make
        self.region = region
        self.tenancy_id = tenancy_id
        self.sleep = sleep
        self.strategy = retry_strategy(sleep)
        self._throttle = throttle_strategy(sleep)
        self._cache: dict[tuple[str, str | None, str], Any] = {}
        self._home_region: str | None = None

    def get(self, name: str, endpoint: str | None = None, region: str | None = None) -> Any:
        """The client `name` (see CLIENT_CLASSES), for the deploy region unless told otherwise."""
        key = (name, endpoint, region or self.region)
        if key not in self._cache:
            made = self._make(*key)
            self._cache[key] = RetryingClient(made, self.strategy, sdk_class(name), self._throttle)
        return self._cache[key]

    def releasing(self, client: Any) -> RetryingClient:
        """`client` retrying any 409 for longer: a subnet or VCN whose VNICs OCI has not released yet."""
        inner = client.unwrapped if isinstance(client, RetryingClient) else client
        return RetryingClient(inner, release_strategy(self.sleep))

    def __getattr__(self, name: str) -> Any:
        if name in CLIENT_CLASSES:
            return self.get(name)
        raise AttributeError(name)

    @property
    def identity_home(self) -> Any:
        """IdentityClient in the home region: IAM writes are accepted only there."""
        if self._home_region is None:
            subscriptions = self.get("identity").list_region_subscriptions(self.tenancy_id).data
            homes = [s.region_name for s in subscriptions if s.is_home_region]
            self._home_region = homes[0] if homes else self.region
        return self.get("identity", region=self._home_region)


def sdk_class(name: str) -> type:
    """The SDK client class behind a short name."""
    import oci

    module, cls = CLIENT_CLASSES["identity" if name == "identity_home" else name].split(".")
    return getattr(getattr(oci, module), cls)  # type: ignore[no-any-return]
