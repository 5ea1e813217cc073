"""What the benchmark runner and the scenarios share: the local stack they run
against (`stack.py`) and a constant-arrival-rate load generator
(`constant_rate.py`)."""
