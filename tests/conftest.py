pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.gateway",
    "tests.fixtures.caddy",
    "tests.fixtures.redis",
    "tests.fixtures.localgw",
    "tests.fixtures.node",
    "tests.fixtures.agents",
    "tests.fixtures.functions",
]
