"""Which training pairs each point of a learning curve trains on.

The fractions are nested: one seeded shuffle of the training pairs, and fraction f takes the
first round(f x n) of that order, so the 25% subset lies inside the 50% subset, and so on. A
point differs from the previous one only by the pairs it adds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from embedtune.errors import ConfigError

DEFAULT_FRACTIONS = (0.25, 0.5, 1.0)
# Fewer pairs than this is not a training run worth a point on the curve (a batch or two).
MIN_CURVE_PAIRS = 10


def parse_fractions(text: str) -> list[float]:
    """'0.25,0.5,1' -> [0.25, 0.5, 1.0]; ConfigError for anything else."""
    parts = [part.strip() for part in str(text).split(",")]
    if not any(parts):
        raise ConfigError("--fractions is empty: give increasing fractions, e.g. 0.25,0.5,1")
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            raise ConfigError(
                f"--fractions {text!r}: {part!r} is not a number (e.g. 0.25,0.5,1)"
            ) from None
    return validate_fractions(values)


def validate_fractions(fractions: Sequence[float]) -> list[float]:
    """Fractions in (0, 1], strictly increasing, at least one; ConfigError otherwise."""
    values = list(fractions)
    if not values:
        raise ConfigError("--fractions is empty: give increasing fractions, e.g. 0.25,0.5,1")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"--fractions: {value!r} is not a number")
        if not math.isfinite(value) or not 0 < value <= 1:
            raise ConfigError(
                f"--fractions: {value:g} is outside (0, 1]; each is a share of the training "
                "pairs, 1 being all of them"
            )
    for earlier, later in zip(values, values[1:], strict=False):
        if later <= earlier:
            raise ConfigError(
                f"--fractions {','.join(f'{v:g}' for v in values)}: not strictly increasing "
                f"({later:g} after {earlier:g})"
            )
    return [float(value) for value in values]


def pair_counts(fractions: Sequence[float], available: int) -> list[int]:
    """Training pairs at each fraction of `available`; ConfigError when a fraction gives fewer
    than MIN_CURVE_PAIRS or no more pairs than the previous one."""
    counts = [round(fraction * available) for fraction in fractions]
    for fraction, count in zip(fractions, counts, strict=True):
        if count < MIN_CURVE_PAIRS:
            raise ConfigError(
                f"--fractions: {fraction:g} of the {available} training pairs (left after the "
                f"validation split) is {count} pairs; a point needs at least {MIN_CURVE_PAIRS}. "
                "Give a larger fraction or more data"
            )
    for (f1, c1), (f2, c2) in zip(zip(fractions, counts), zip(fractions[1:], counts[1:])):
        if c2 <= c1:
            raise ConfigError(
                f"--fractions: {f1:g} and {f2:g} of the {available} training pairs both give "
                f"{c1} pairs; space the fractions further apart"
            )
    return counts


def nested_subsets(available: int, counts: Sequence[int], seed: int) -> list[list[int]]:
    """Row indices per point (sorted), each subset inside the next: one seeded shuffle, and
    point i takes the first counts[i] rows of it."""
    order = list(range(available))
    random.Random(seed).shuffle(order)
    return [sorted(order[:count]) for count in counts]


def fraction_label(fraction: float) -> str:
    """0.25 -> '25%', 0.125 -> '12.5%'."""
    return f"{fraction * 100:g}%"
