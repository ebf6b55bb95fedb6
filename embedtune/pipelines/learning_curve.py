"""ZenML pipeline `learning_curve`: load/split -> the learning curve (every point trained and
scored inside one step, the models discarded). The same functions as `embedtune curve`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from zenml import Model, pipeline

from embedtune.config import FinetuneConfig
from embedtune.curve.fractions import DEFAULT_FRACTIONS, validate_fractions
from embedtune.curve.run import check_curve_config, check_curve_output, plan_curve
from embedtune.pipelines.transport import transport_dict
from embedtune.run_outputs import check_base_model_outside_output, output_lock
from embedtune.steps.curve import compute_learning_curve
from embedtune.steps.data_loader import load_and_split_data
from embedtune.workflow import load_data

logger = logging.getLogger(__name__)
MODEL_NAME = "embedtune-learning-curve"  # its versions hold the curves (no weights)


@pipeline(enable_cache=False)
def learning_curve(config: dict[str, Any], fractions: list[float]) -> None:
    train_pairs, test_set = load_and_split_data(config)
    compute_learning_curve(train_pairs, test_set, config, fractions)


def run_curve_pipeline(
    config: FinetuneConfig,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    *,
    overwrite: bool = False,
    model_name: str = MODEL_NAME,
) -> dict[str, Any]:
    """Run the pipeline on the active ZenML stack; returns the curve.json content. Settings,
    fractions and the output folder are checked first (ConfigError), so a bad run never starts."""
    check_curve_config(config)
    fractions = validate_fractions(fractions)
    check_curve_output(config.output, overwrite=overwrite)
    plan_curve(config, load_data(config), fractions)  # too few pairs: refused before the run
    check_base_model_outside_output(config.base_model, config.output)
    model = Model(
        name=model_name,
        description="Learning curves of embedtune finetuning (numbers only, no weights)",
        tags=["embeddings", "retrieval", "learning-curve"],
    )
    with output_lock(config.output):  # the local orchestrator runs the steps in this process
        run = learning_curve.with_options(model=model)(
            config=transport_dict(config), fractions=fractions
        )
    curve = run.steps["compute_learning_curve"].outputs["learning_curve"][0].load()
    logger.info(
        "ZenML run %s finished: %s",
        run.name,
        "; ".join(entry["message"] for entry in curve["verdict"].values()),
    )
    return curve
