"""Transports over the core: fdk (OCI Functions) and ASGI (compose target, local runs)."""
