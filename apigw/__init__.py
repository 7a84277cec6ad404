"""The API Gateway deployment specification (deployment.json), shipped in the package as data."""
