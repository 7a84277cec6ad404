pytest_plugins = ["tests.fixtures.emulator"]
