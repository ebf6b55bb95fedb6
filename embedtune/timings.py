"""Where a run's time goes: named phases, measured with a monotonic clock, for results.json.

`Timings.phase(name)` adds the wall time of its block to `name` (a phase entered twice adds up),
so the report and the stdout summary can say what a run spent its time on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Timings:
    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self._seconds[name] = self._seconds.get(name, 0.0) + seconds

    def as_dict(self) -> dict[str, float]:
        """Seconds per phase in the order first entered, and `total` since creation."""
        values = {name: round(seconds, 2) for name, seconds in self._seconds.items()}
        values["total"] = round(time.perf_counter() - self._started, 2)
        return values
