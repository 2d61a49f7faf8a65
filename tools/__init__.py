"""Helpers shared by the interop tests (Tests/interop) and the benchmarks (bench/).

Both run from the repository root: `python -m bench.run` has it on sys.path already, and
Tests/interop/conftest.py puts it there explicitly. Standard library only (the bench venv has
matplotlib and nothing else).
"""
