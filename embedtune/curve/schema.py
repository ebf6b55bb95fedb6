"""curve.json: the contract of a learning-curve run, checked before the file is written.

{"kind": "curve", "schema_version": 1, "metric": "ndcg@10", "dims": [384, 64],
 "base_model", "base_model_name", "seed", "data": {...}, "validation": {...},
 "points": [{"fraction": 0.0, "pairs": 0, "selected": "base", "ndcg@10":
             {"384": {"value": .., "interval": [low, high]}}, ...}, ...],   # base first
 "steps": [{"from_fraction", "to_fraction", "from_pairs", "to_pairs",
            "gain": {"384": comparison entry (results_schema)}}, ...],      # len(points) - 1
 "verdict": {"384": {"outcome": "helps"|"saturated"|"unclear"|"hurts", "message": ..}},
 "models_kept": false, "config": {...}, "provenance": {...}, "total_seconds": ..}
"""

from __future__ import annotations

import math
from typing import Any

from embedtune.results_schema import PRIMARY_METRIC, read_comparison_entry

HELPS, SATURATED, UNCLEAR, HURTS = "helps", "saturated", "unclear", "hurts"
CURVE_KIND = "curve"
CURVE_OUTPUT = "outputs/curve"  # the default --output: never a finetune run's folder
CURVE_SCHEMA_VERSION = 1
CURVE_FILE, CURVE_CHART, CURVE_HTML = "curve.json", "curve.png", "curve.html"
REQUIRED_KEYS = (
    "kind",
    "schema_version",
    "metric",
    "dims",
    "base_model",
    "seed",
    "data",
    "validation",
    "points",
    "steps",
    "verdict",
    "models_kept",
    "config",
)
POINT_KEYS = ("fraction", "pairs", "selected", PRIMARY_METRIC)
STEP_KEYS = ("from_fraction", "to_fraction", "from_pairs", "to_pairs", "gain")
OUTCOMES = (HELPS, SATURATED, UNCLEAR, HURTS)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def curve_problems(curve: dict[str, Any]) -> list[str]:
    """Everything wrong with a curve.json document (empty: valid)."""
    missing = [key for key in REQUIRED_KEYS if key not in curve]
    if missing:
        return [f"missing keys: {', '.join(missing)}"]
    problems = []
    if curve["kind"] != CURVE_KIND:
        problems.append(f"kind is {curve['kind']!r}, not {CURVE_KIND!r}")
    dims = [str(dim) for dim in curve["dims"]]
    points, steps = curve["points"], curve["steps"]
    if len(points) < 2:
        problems.append("a curve needs the base point and at least one fraction")
    if len(steps) != max(0, len(points) - 1):
        problems.append(f"{len(points)} points but {len(steps)} steps")
    previous = None
    for i, point in enumerate(points):
        absent = [key for key in POINT_KEYS if key not in point]
        if absent:
            problems.append(f"points[{i}]: missing {', '.join(absent)}")
            continue
        if previous is not None and not (
            point["fraction"] > previous["fraction"] and point["pairs"] > previous["pairs"]
        ):
            problems.append(f"points[{i}]: fraction and pairs must increase")
        for dim in dims:
            score = point[PRIMARY_METRIC].get(dim)
            if not score or not _finite(score.get("value")):
                problems.append(f"points[{i}]: no finite {PRIMARY_METRIC} at {dim} dims")
            elif len(score.get("interval", [])) != 2 or not all(map(_finite, score["interval"])):
                problems.append(f"points[{i}]: no interval at {dim} dims")
        previous = point
    for i, step in enumerate(steps):
        absent = [key for key in STEP_KEYS if key not in step]
        if absent:
            problems.append(f"steps[{i}]: missing {', '.join(absent)}")
            continue
        for dim in dims:
            try:
                values = read_comparison_entry(step["gain"][dim])
            except (KeyError, TypeError, ValueError):
                problems.append(f"steps[{i}]: no gain entry at {dim} dims")
                continue
            if not all(map(_finite, values[:3])):
                problems.append(f"steps[{i}]: gain at {dim} dims is not finite")
    for dim in dims:
        verdict = curve["verdict"].get(dim) or {}
        if verdict.get("outcome") not in OUTCOMES or not verdict.get("message"):
            problems.append(f"verdict: none at {dim} dims")
    return problems


def validate_curve(curve: dict[str, Any]) -> dict[str, Any]:
    """The document itself, or ValueError naming every problem."""
    problems = curve_problems(curve)
    if problems:
        raise ValueError("invalid curve.json: " + "; ".join(problems))
    return curve
