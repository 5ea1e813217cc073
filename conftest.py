# The shared test plugin serves tests/ and every app's tests/ folder.
pytest_plugins = ["tests.plugin"]
