"""OCI Generative AI emulator: OCI's chat, embedText and models wire API on 127.0.0.1, signatures verified."""

from .app import create_app
from .client import EmulatorClient, EmulatorProcess, running_emulator
from .constants import DEFAULT_COMPARTMENT, DEFAULT_REGION, DEFAULT_TENANCY
from .state import EmulatorConfig

__all__ = [
    "DEFAULT_COMPARTMENT",
    "DEFAULT_REGION",
    "DEFAULT_TENANCY",
    "EmulatorClient",
    "EmulatorConfig",
    "EmulatorProcess",
    "create_app",
    "running_emulator",
]
