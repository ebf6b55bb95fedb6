"""A whole finetuning run with a guard and merge_base auto: every number is the saved model's."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.merging.auto import GRID
from tests.conftest import ZENML_QA
from tests.helpers import TINY_RUN
from tests.reporting.results_helpers import assert_valid_results

TINY = {**TINY_RUN, "learning_rate": 2e-4, "baselines": False}


@pytest.mark.slow
def test_auto_merge_with_a_guard_records_the_curve_and_the_guard_change(tmp_path):
    from embedtune.reporting.chart import build_figure
    from embedtune.reporting.summary import cli_summary
    from embedtune.workflow import run_finetune

    out = tmp_path / "out"
    config = load_config(
        **TINY, guard_data=str(ZENML_QA / "pairs.jsonl"), merge_base="auto", output=str(out)
    )
    results = run_finetune(config)
    on_disk = assert_valid_results(out / "results.json")  # the guard and merge blocks validate
    guard = on_disk["guard"]
    assert guard["source"].endswith("pairs.jsonl") and guard["test_queries"] >= 5
    for dim in ("384", "64"):
        low, high = guard["comparison"][dim]["ci95"]
        assert low <= guard["comparison"][dim]["ndcg@10_delta"] <= high
    summary = cli_summary(on_disk)  # stdout: the guard's change at best_dim with its interval
    entry = guard["comparison"]["384"]
    assert summary["guard"]["change"] == round(entry["ndcg@10_delta"], 4)
    assert summary["guard"]["within_tolerance"] is guard["within_tolerance"]
    if results["selection"]["selected"] == "base":
        assert "merge" not in results  # nothing to merge: skipped
        assert guard["finetuned"] == guard["base"]
        return
    merge = on_disk["merge"]
    assert merge["mode"] == "auto" and merge["base_weight"] in GRID
    curve = merge["curve"]
    assert [p["base_weight"] for p in curve] == list(GRID)
    assert all(p["validation"] is not None for p in curve)
    kept = next(p for p in curve if p["base_weight"] == merge["base_weight"])
    assert kept["guard_ok"] is True
    best = max(p["validation"] for p in curve)
    better = [p for p in curve if p["validation"] > kept["validation"]]
    assert all(p["guard_ok"] is False for p in better)  # each better one failed the guard
    assert kept["validation"] == best or better
    # the saved model is the one scored on the guard, at the kept weight
    assert guard["finetuned"]["384"]["ndcg@10"] == pytest.approx(kept["guard"], abs=1e-6)
    assert curve[-1]["validation"] == pytest.approx(results["selection"]["base_score"], abs=1e-6)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "General-domain guard" in report and "Weight merging" in report
    assert len(build_figure(on_disk).axes) == 2  # scores, then in-domain gain beside the guard
