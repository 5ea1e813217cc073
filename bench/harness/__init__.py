"""The benchmarks' machinery: the local stack the runner and the scenarios
run against (`stack.py`), a constant-arrival-rate load generator
(`constant_rate.py`), and the runner's parts (`measures.py`, `report.py`,
`tools.py`, `join_profile.py`)."""
