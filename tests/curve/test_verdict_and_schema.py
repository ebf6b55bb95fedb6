"""The verdict wording from the last step's gain and interval, and the curve.json contract."""

from __future__ import annotations

import copy

import pytest

from embedtune.curve.schema import validate_curve
from embedtune.curve.stats import verdicts
from embedtune.results_schema import comparison_entry


def _points():
    score = {"value": 0.5, "interval": [0.4, 0.6]}
    return [
        {"fraction": f, "pairs": p, "selected": s, "ndcg@10": {"384": score, "64": score}}
        for f, p, s in ((0.0, 0, "base"), (0.5, 108, "finetuned"), (1.0, 216, "finetuned"))
    ]


def _steps(last_384, last_64):
    flat = comparison_entry(0.0, -0.01, 0.01)
    return [
        {
            "from_fraction": 0.0,
            "to_fraction": 0.5,
            "from_pairs": 0,
            "to_pairs": 108,
            "gain": {"384": flat, "64": flat},
        },
        {
            "from_fraction": 0.5,
            "to_fraction": 1.0,
            "from_pairs": 108,
            "to_pairs": 216,
            "gain": {"384": comparison_entry(*last_384), "64": comparison_entry(*last_64)},
        },
    ]


@pytest.mark.parametrize(
    ("gain", "outcome", "message"),
    [
        (
            (0.03, 0.01, 0.05),
            "helps",
            "more data still helps at 64 dims: +0.030 [+0.010, +0.050] from 50% to 100% (108 -> 216",
        ),
        (
            (0.002, -0.01, 0.014),
            "saturated",
            "saturated at 64 dims: +0.002 [-0.010, +0.014] from 50% to 100%",
        ),
        ((0.01, -0.02, 0.04), "unclear", "no significant gain at 64 dims, but the interval"),
        ((-0.03, -0.05, -0.01), "hurts", "more data hurt at 64 dims: -0.030"),
    ],
)
def test_verdict_from_the_last_step(gain, outcome, message):
    result = verdicts(_points(), _steps((0.0, -0.005, 0.005), gain), [384, 64])
    assert result["64"]["outcome"] == outcome
    assert result["64"]["message"].startswith(message)
    assert result["384"]["outcome"] == "saturated"


def test_verdict_from_the_base_when_one_fraction():
    points = _points()[::2]
    steps = [{**_steps((0.0, -0.005, 0.005), (0.03, 0.01, 0.05))[1], "from_pairs": 0}]
    result = verdicts(points, steps, [64])
    assert "from the base model (0 pairs) to 100% (0 -> 216 pairs)" in result["64"]["message"]
    flat = [{**steps[0], "gain": {"64": comparison_entry(0.001, -0.01, 0.012)}}]
    message = verdicts(points, flat, [64])["64"]["message"]
    assert message.startswith("no gain over the base model at 64 dims: +0.001 [-0.010, +0.012]")


def _curve():
    points, steps = _points(), _steps((0.0, -0.005, 0.005), (0.03, 0.01, 0.05))
    return {
        "kind": "curve",
        "schema_version": 1,
        "metric": "ndcg@10",
        "dims": [384, 64],
        "base_model": "m",
        "seed": 42,
        "data": {"test_queries": 20},
        "validation": {},
        "points": points,
        "steps": steps,
        "verdict": verdicts(points, steps, [384, 64]),
        "models_kept": False,
        "config": {},
    }


def test_schema_accepts_a_curve_and_names_what_is_wrong():
    assert validate_curve(_curve())["kind"] == "curve"
    broken = copy.deepcopy(_curve())
    broken["points"][2]["ndcg@10"]["64"]["value"] = float("nan")
    del broken["steps"][1]["gain"]["384"]
    broken["points"][1]["pairs"] = 300
    with pytest.raises(ValueError, match="points\\[2\\]: no finite ndcg@10 at 64 dims") as info:
        validate_curve(broken)
    assert "steps[1]: no gain entry at 384 dims" in str(info.value)
    assert "points[2]: fraction and pairs must increase" in str(info.value)
    with pytest.raises(ValueError, match="missing keys: verdict"):
        validate_curve({k: v for k, v in _curve().items() if k != "verdict"})
