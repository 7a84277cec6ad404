"""OpenAI-compatible gateway to OCI Generative AI."""

__version__ = "0.1.0"
