"""The one-command benchmark runner (bench/run.py) and the local stack it and
the Locust scenario start (bench/stack.py)."""
