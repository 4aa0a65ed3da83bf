"""Benchmarks: `make bench` (or `python -m bench [NAME ...]`) prints figures; nothing asserts on time.

Each benchmark module in this folder has a `run()` that prints its own lines.
"""
import importlib
import sys
import time

BENCHMARKS = ["pages", "ideas", "measures", "analysis"]


def main(argv):
    names = argv or BENCHMARKS
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}")
        started = time.perf_counter()
        module.run()
        print(f"   ({time.perf_counter() - started:.1f} s)\n")


if __name__ == "__main__":
    main(sys.argv[1:])
