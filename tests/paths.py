"""Where the repository's files are, for tests (which always run from a checkout, never from a wheel)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO / "functions"
COMPOSE_DIR = REPO / "deploy" / "compose"
FIXTURES_DIR = REPO / "tests" / "fixtures"
NODE_DIR = REPO / "tests" / "node"
AGENTS_DIR = REPO / "tests" / "agents"  # the coding agents, an npm project of their own
