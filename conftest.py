# The shared test plugin serves tests/ and every app's tests/ folder; the
# fixtures shared by several apps' tests come with it (onsale/testutils).
pytest_plugins = ["tests.plugin", "onsale.testutils.fixtures"]
