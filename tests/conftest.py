pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.gateway",
    "tests.fixtures.caddy",
    "tests.fixtures.localgw",
    "tests.fixtures.node",
    "tests.fixtures.agents",
    "tests.fixtures.functions",
]
