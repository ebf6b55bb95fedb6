"""Step: the learning curve (embedtune.curve.run) on the loaded split; writes curve.json,
curve.png and curve.html to OUTPUT and returns the curve.json content."""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from zenml import log_metadata, step
from zenml.types import HTMLString

from embedtune.config import FinetuneConfig
from embedtune.curve.html import render_curve_html
from embedtune.curve.run import curve_in_output, plan_curve
from embedtune.data.retrieval_data import RetrievalData


@step
def compute_learning_curve(
    train_pairs: Dataset, test_set: dict, config: dict[str, Any], fractions: list[float]
) -> tuple[Annotated[dict, "learning_curve"], Annotated[HTMLString, "learning_curve_report"]]:
    settings = FinetuneConfig(**config)
    data = RetrievalData.from_parts(train_pairs, test_set)
    curve = curve_in_output(settings, data, plan_curve(settings, data, fractions))
    metric = curve["metric"]
    log_metadata(
        metadata={
            "learning_curve": {
                "pairs": [point["pairs"] for point in curve["points"]],
                metric: {
                    dim: [point[metric][dim]["value"] for point in curve["points"]]
                    for dim in curve["verdict"]
                },
                "verdict": {dim: entry["message"] for dim, entry in curve["verdict"].items()},
            }
        },
        infer_model=True,
    )
    return curve, HTMLString(render_curve_html(curve))
