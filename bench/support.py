"""Helpers for benchmarks: a migrated scratch database and latency statistics."""
import os
import statistics
import tempfile
import time
from contextlib import contextmanager

os.environ.setdefault("SECRET_KEY", "bench-secret-key")


@contextmanager
def scratch_app():
    """An app on a fresh, migrated SQLite file (or BENCH_DATABASE_URL, which must be empty)."""
    from flask_migrate import upgrade

    from beteiligung import create_app
    from beteiligung.config import TestingConfig

    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
        app = create_app(TestingConfig(url))
        app.config["RATELIMIT_ENABLED"] = False
        with app.app_context():
            upgrade()
        yield app
        if os.environ.get("BENCH_DATABASE_URL"):
            from flask_migrate import downgrade
            with app.app_context():
                downgrade(revision="base")


def measure(function, repeat):
    """Call `function` `repeat` times; return (p50, p95, max) in milliseconds."""
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], times[-1]


def report(label, figures):
    p50, p95, worst = figures
    print(f"   {label:52} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {worst:7.1f} ms")
