"""What every measure uses."""

from __future__ import annotations

import statistics
import time


def median_seconds(fn, runs: int, setup=None) -> float:
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
