"""OCI Generative AI emulator: the OCI wire API on 127.0.0.1 for local runs and tests."""

from .app import create_app
from .state import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
