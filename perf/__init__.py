"""Performance and load tooling, outside the run-time packages: load test, soak, the scale-out stack
on one machine and the benchmarks of search, recommendations, event latency and intents.

Each module is a script (``python -m perf.<name>``, or ``shop bench <name>``) that prints its figures.
"""
