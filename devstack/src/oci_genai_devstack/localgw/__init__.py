"""A local stand-in for OCI API Gateway, for development and tests only — not a production server.

It loads the rendered `apigw/` deployment spec and does per request what OCI API Gateway does with
it (routes and path templates, CORS with preflight, rate limiting, the multi-argument authorizer
function with its cache and validation-failure policy, usage plans keyed by the authorizer's
context, header transformations, the functions' body limit, stock responses),
invoking each function through the real fdk server over its unix socket with the platform's headers.
It serves plain HTTP on 127.0.0.1 only. See README.md beside this file for what it does not emulate.
"""

from oci_genai_devstack.localgw.app import LocalGateway
from oci_genai_devstack.localgw.invoke import FunctionTarget
from oci_genai_devstack.localgw.server import ThreadedServer, serve

__all__ = ["FunctionTarget", "LocalGateway", "ThreadedServer", "serve"]
