"""The ZenML pipeline learning_curve through a real local ZenML store: the same curve.json as
the CLI path (one fraction, so one training)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LEGAL
from tests.curve.test_curve_cli import CURVE_KEYS


@pytest.mark.slow
def test_learning_curve_pipeline_writes_the_same_curve(tmp_path):
    from zenml.client import Client

    from embedtune.config import load_config
    from embedtune.curve.schema import validate_curve
    from embedtune.pipelines.learning_curve import MODEL_NAME, run_curve_pipeline

    config = load_config(
        data=str(LEGAL),
        max_seq_length=32,
        max_train_pairs=24,
        max_test_queries=20,
        dims=[384, 64],
        batch_size=16,
        epochs=1,
        eval_every=1.0,
        hard_negatives=False,
        eval_batch_size=64,
        learning_rate=2e-4,
        output=str(tmp_path / "out"),
    )
    curve = run_curve_pipeline(config, [1.0])
    on_disk = validate_curve(json.loads((tmp_path / "out" / "curve.json").read_text()))
    assert set(on_disk) == CURVE_KEYS
    assert on_disk["points"] == curve["points"] and on_disk["verdict"] == curve["verdict"]
    pairs = curve["data"]["train_pairs_after_validation"]
    assert [p["pairs"] for p in curve["points"]] == [0, pairs] and 20 <= pairs < 24
    assert "from the base model (0 pairs) to 100%" in curve["verdict"]["64"]["message"]
    assert (tmp_path / "out" / "curve.png").is_file()
    run = Client().get_pipeline("learning_curve").last_run
    assert run.status == "completed"
    assert set(run.steps) == {"load_and_split_data", "compute_learning_curve"}
    version = Client().get_model_version(MODEL_NAME)
    assert version.run_metadata["learning_curve"]["pairs"] == [0, pairs]
    assert "learning_curve" in set(version.data_artifacts)
