"""One benchmark per module, each a script that prints its figures (and
runnable alone: `python bench/scenarios/<name>.py --help`); `bench/run.py`
drives them side by side."""
