"""Development-only tooling: the local API Gateway stand-in and the `make run` runner."""
