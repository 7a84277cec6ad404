pytest_plugins = ["tests.fixtures.emulator", "tests.fixtures.gateway"]
