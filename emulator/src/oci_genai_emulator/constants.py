"""The emulator's fixed identities: one place for the region, tenancy and compartment it assumes."""

from __future__ import annotations

from typing import Final

DEFAULT_REGION: Final = "us-chicago-1"
DEFAULT_TENANCY: Final = "ocid1.tenancy.oc1..aaaaaaaaemulatoremulatoremulatoremulatoremulatortenancy"
DEFAULT_COMPARTMENT: Final = "ocid1.compartment.oc1..aaaaaaaaemulatoremulatoremulatoremulatorcompartment"
DEFAULT_USER: Final = "ocid1.user.oc1..aaaaaaaaemulatoremulatoremulatoremulatoremulatoremulatoruser"
DEFAULT_FUNCTION: Final = (
    f"ocid1.fnfunc.oc1.{DEFAULT_REGION}.aaaaaaaaemulatoremulatoremulatoremulatorfunction"
)
DEFAULT_INSTANCE: Final = (
    f"ocid1.instance.oc1.{DEFAULT_REGION}.aaaaaaaaemulatoremulatoremulatoremulatorinstance"
)
