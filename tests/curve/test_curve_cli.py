"""`embedtune curve`: bad input refused before any work (exit 2, nothing written), and a real
tiny learning curve (the real base model, two fractions, one epoch) with its outputs."""

from __future__ import annotations

import json
import math

import pytest

from embedtune.cli import main
from embedtune.curve.schema import validate_curve
from tests.conftest import LEGAL
from tests.helpers import cli_error

TINY = [
    "--data", str(LEGAL), "--max-seq-length", "32", "--max-train-pairs", "32",
    "--max-test-queries", "20", "--dims", "384,64", "--batch-size", "16", "--epochs", "1",
    "--eval-every", "1", "--no-hard-negatives", "--eval-batch-size", "64",
    "--learning-rate", "2e-4", "-q",
]  # fmt: skip
CURVE_KEYS = {
    "kind", "schema_version", "metric", "dims", "base_model", "base_model_name", "seed",
    "fractions", "data", "protocol", "validation", "points", "steps", "verdict", "models_kept",
    "note", "config", "provenance", "total_seconds",
}  # fmt: skip


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ("1.5", r"1.5 is outside \(0, 1\]"),
        ("0,1", r"0 is outside \(0, 1\]"),
        ("0.5,0.25", r"not strictly increasing \(0.25 after 0.5\)"),
        ("", "--fractions is empty"),
        ("half,1", "'half' is not a number"),
        ("0.1,1", r"0.1 of the 29 training pairs \(left after the validation split\) is 3 pairs"),
    ],
)
def test_bad_fractions_exit_2_before_anything_is_written(fractions, message, capsys, tmp_path):
    err = cli_error(capsys, ["curve", *TINY, "--fractions", fractions], tmp_path / "out")
    assert len(__import__("re").findall(message, err)) == 1, err


def test_flags_a_curve_cannot_honour_are_not_offered(capsys, tmp_path):
    for flag in ("--resume", "--push-to-hub=me/model", "--strict"):
        with pytest.raises(SystemExit) as info:
            main(["curve", *TINY, flag, "--output", str(tmp_path / "out")])
        assert info.value.code == 2
        assert f"unrecognized arguments: {flag}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_folder_holding_a_finetune_run_is_refused(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"kind": "finetune"}))
    assert main(["curve", *TINY, "--output", str(out)]) == 2
    assert "holds a finished finetune run" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


def test_dry_run_prints_each_points_pairs_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["curve", *TINY, "--fractions", "0.5,1", "--dry-run", "--output", str(out)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["command"] == "curve" and plan["pairs"] == [14, 29]
    assert plan["fractions"] == [0.5, 1.0] and plan["validation_queries"] > 0
    assert not out.exists()


@pytest.mark.slow
def test_a_tiny_learning_curve_writes_its_outputs(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["curve", *TINY, "--fractions", "0.5,1", "--output", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    curve = validate_curve(json.loads((out / "curve.json").read_text()))
    assert set(curve) == CURVE_KEYS
    assert sorted(p.name for p in out.iterdir()) == ["curve.html", "curve.json", "curve.png"]
    assert (out / "curve.png").read_bytes().startswith(b"\x89PNG")
    assert "<img" in (out / "curve.html").read_text()
    points = curve["points"]
    assert [p["pairs"] for p in points] == [0, 14, 29] and points[0]["selected"] == "base"
    assert all(p["learning_rate"] == 2e-4 for p in points[1:])  # fixed, not the auto sweep
    for point in points:
        for dim in ("384", "64"):
            score = point["ndcg@10"][dim]
            assert math.isfinite(score["value"]) and 0 <= score["value"] <= 1
            assert score["interval"][0] <= score["interval"][1]
    assert [(s["from_pairs"], s["to_pairs"]) for s in curve["steps"]] == [(0, 14), (14, 29)]
    for dim in ("384", "64"):
        message = curve["verdict"][dim]["message"]
        assert f"at {dim} dims: " in message and message.endswith(
            "from 50% to 100% (14 -> 29 pairs)"
        )
        assert summary["verdict"][dim] == message
    assert curve["models_kept"] is False and curve["validation"]["validation_queries"] > 0
    assert summary["points"][2]["ndcg@10"]["64"] == points[2]["ndcg@10"]["64"]["value"]
    assert summary["outputs"]["curve"] == str(out / "curve.json")
