"""The benchmarks' machinery: the local stack the runner and the scenarios
run against (`stack.py`), the load generators (`wrk.py`, closed loop;
`constant_rate.py`, open loop), and the runner's parts (`measures.py`,
`report.py`, `tools.py`, `join_profile.py`)."""
