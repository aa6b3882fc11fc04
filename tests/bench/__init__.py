"""On-demand benchmarks (issue 5): `python -m tests.bench`; never part of `pytest`."""
