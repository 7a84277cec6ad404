"""The `deploy` and `keys` command lines and what only they use (credentials, offline plan, output)."""
