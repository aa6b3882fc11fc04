"""The benchmarks are run on demand (`python -m tests.bench`), never collected by pytest."""

collect_ignore_glob = ["*.py"]
