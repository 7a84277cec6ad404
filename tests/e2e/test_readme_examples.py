"""The README's Python examples run as written against a gateway (only its URL and key swapped in).

Each block is run in its own interpreter, as a reader would paste it; every model a block names must
answer in its output (the emulator's replies name the model), so a block that silently stops
working, or a README that drifts from the API, fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.fixtures.gateway import KEY, GatewayProcess
from tests.paths import REPO

README_URL = "http://127.0.0.1:8080"  # `make run`'s address, as the README prints it
README_KEY = "sk-local-dev-0000000000"  # `make run`'s demo key
BLOCKS = [
    block
    for block in re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    if README_URL in block  # the deploy example points at a tenancy's URL, not the local gateway
]


def test_the_readme_has_local_examples_for_each_api() -> None:
    text = "\n".join(BLOCKS)
    for call in (
        "chat.completions.create",
        "embeddings.create",
        "responses.create",
        "messages.create",
        "embed_query",  # LangChain
    ):
        assert call in text


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_as_written(block: str, gateway: GatewayProcess) -> None:
    code = block.replace(README_URL, gateway.url).replace(README_KEY, KEY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    models = re.findall(r'(?:model=|OpenAIResponsesModel\()"([^"]+)"', block)
    assert models, "every example calls a model"
    for model in models:  # chat models name themselves in the emulator's replies
        if ".embed-" not in model:
            assert model in run.stdout, run.stdout
