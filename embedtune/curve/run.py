"""Learning curves: would more labelled pairs help? The finetune recipe on nested fractions.

plan = plan_curve(config, data, fractions)   # carve validation ONCE, nested seeded subsets
curve = compute_curve(config, data, plan, work)  # base once, then one training per fraction
write_curve_outputs(folder, curve)            # curve.png, curve.html, then curve.json (last)

Every point trains from the base model with the same recipe as `embedtune finetune`
(training.train_and_select.train: mining, learning-rate sweep, selection on validation with the base as a
candidate), on the same validation queries, and is scored on the same test queries. Each
point's model and checkpoints are discarded once it is scored: only the numbers are kept.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedtune.config import FinetuneConfig
from embedtune.curve.chart import plot_curve
from embedtune.curve.fractions import (
    DEFAULT_FRACTIONS,
    fraction_label,
    nested_subsets,
    pair_counts,
    validate_fractions,
)
from embedtune.curve.html import write_curve_html
from embedtune.curve.schema import (
    CURVE_CHART,
    CURVE_FILE,
    CURVE_HTML,
    CURVE_KIND,
    CURVE_SCHEMA_VERSION,
    validate_curve,
)
from embedtune.curve.stats import point_scores, step_gain, verdicts
from embedtune.data.retrieval_data import RetrievalData
from embedtune.errors import ConfigError
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.evaluation.trainer_evaluator import describe_selection_metric
from embedtune.io import write_json_atomic
from embedtune.output_folder import existing_run
from embedtune.reporting.provenance import provenance
from embedtune.results_schema import PRIMARY_METRIC
from embedtune.run_outputs import check_base_model_outside_output, output_lock
from embedtune.run_results import data_block
from embedtune.training.selection import ValidationSplit, carve_validation
from embedtune.training.train_and_select import train
from embedtune.workflow import evaluate, load_base_model, load_data

logger = logging.getLogger(__name__)

WORK_DIR = ".curve-work"  # each point's checkpoints, removed once the point is scored
MODELS_NOTE = (
    "Each point's model is discarded once it is scored (only the numbers are kept), to save "
    "disk; `embedtune finetune` with --max-train-pairs trains and keeps one."
)


@dataclass
class CurvePlan:
    fractions: list[float]
    carved: ValidationSplit  # carved once: every point is selected on the same queries
    counts: list[int]  # training pairs per fraction
    subsets: list[list[int]]  # row indices of carved.train.train per fraction, nested

    def split(self, index: int) -> ValidationSplit:
        """The validation split of point `index`: its subset of the training side."""
        side = self.carved.train
        subset = side.train.select(self.subsets[index])
        info = {**self.carved.info, "train_pairs": len(subset)}
        return ValidationSplit(
            dataclasses.replace(side, train=subset), self.carved.validation, info
        )


def check_curve_config(config: FinetuneConfig) -> None:
    """Settings a learning curve cannot honour: refused before any work."""
    if config.resume:
        raise ConfigError(
            "--resume: a learning curve trains every point from the base model and keeps no "
            "checkpoint to resume from; drop --resume"
        )
    if config.push_to_hub:
        raise ConfigError("--push-to-hub: a learning curve keeps no model to push; drop it")


def check_curve_output(output: str | Path, *, overwrite: bool = False) -> None:
    """A folder holding a finetune or evaluate run is refused unless `overwrite` (the curve's
    files would sit among another run's)."""
    found = existing_run(output)
    if found is not None and not overwrite:
        raise ConfigError(
            f"--output {output} holds {found.describe()}; give the learning curve another "
            "--output, or add --overwrite to write beside it"
        )


def plan_curve(
    config: FinetuneConfig, data: RetrievalData, fractions: Sequence[float]
) -> CurvePlan:
    """Carve validation once, then the nested seeded subsets of what is left; ConfigError for
    bad fractions or a fraction with too few pairs (before any training)."""
    fractions = validate_fractions(fractions)
    carved = carve_validation(data, config)
    available = len(carved.train.train)
    counts = pair_counts(fractions, available)
    plan = CurvePlan(fractions, carved, counts, nested_subsets(available, counts, config.seed))
    logger.info(
        "Learning curve: %s of %d training pairs -> %s pairs; %s validation queries",
        ",".join(fraction_label(f) for f in fractions),
        available,
        ",".join(map(str, counts)),
        carved.info.get("validation_queries", 0),
    )
    return plan


def _point(
    fraction: float, pairs: int, evaluation: RetrievalEvaluation, config: FinetuneConfig
) -> dict[str, Any]:
    return {
        "fraction": fraction,
        "pairs": pairs,
        "selected": "base",
        PRIMARY_METRIC: point_scores(evaluation, config.dims),
    }


def compute_curve(
    config: FinetuneConfig, data: RetrievalData, plan: CurvePlan, work: str | Path
) -> dict[str, Any]:
    """The curve.json document: the base model once (the 0-pairs point), then one training per
    fraction, every model scored on `data`'s test queries. Checkpoints go under `work` and are
    removed after each point."""
    started = time.perf_counter()
    model = load_base_model(config)
    logger.info("Learning curve: the base model on %d test queries", len(data.queries))
    base_evaluation = evaluate(model, data, config)
    del model
    evaluations, points = [base_evaluation], [_point(0.0, 0, base_evaluation, config)]
    base_validation_score = None
    Path(work).mkdir(parents=True, exist_ok=True)
    for index, (fraction, pairs) in enumerate(zip(plan.fractions, plan.counts, strict=True)):
        logger.info(
            "Learning curve point %d/%d: %s of the training pairs (%d pairs)",
            index + 1,
            len(plan.fractions),
            fraction_label(fraction),
            pairs,
        )
        split = plan.split(index)
        model = load_base_model(config)  # every point starts from the base
        folder = Path(tempfile.mkdtemp(prefix=f"point-{index}-", dir=work))
        try:
            outcome = train(config, model, split.train, folder, carved=split)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if outcome.selected == "base":
            evaluation = base_evaluation  # the same weights
        else:
            evaluation = evaluate(outcome.model, data, config)
        base_validation_score = outcome.selection["base_score"]
        summary = outcome.summary
        points.append(
            {
                **_point(fraction, pairs, evaluation, config),
                "selected": outcome.selected,
                "validation_score": outcome.selection["best_score"],
                "learning_rate": summary.learning_rate,
                "optimizer_steps": summary.optimizer_steps,
                "train_seconds": round(summary.train_seconds, 1),
                "stopped_early": summary.stopped_early,
            }
        )
        evaluations.append(evaluation)
        del model, outcome
        gc.collect()
    steps = [
        {
            "from_fraction": before["fraction"],
            "to_fraction": after["fraction"],
            "from_pairs": before["pairs"],
            "to_pairs": after["pairs"],
            "gain": step_gain(earlier, later, config.dims),
        }
        for before, after, earlier, later in zip(
            points, points[1:], evaluations, evaluations[1:], strict=False
        )
    ]
    verdict = verdicts(points, steps, config.dims)
    for entry in verdict.values():
        logger.info("Learning curve: %s", entry["message"])
    info = plan.carved.info
    return {
        "kind": CURVE_KIND,
        "schema_version": CURVE_SCHEMA_VERSION,
        "metric": PRIMARY_METRIC,
        "dims": list(config.dims),
        "base_model": config.base_model,
        "base_model_name": config.base_model_name,
        "seed": config.seed,
        "fractions": plan.fractions,
        "data": {
            **data_block(data, config),
            "train_pairs_after_validation": len(plan.carved.train.train),
        },
        "protocol": {**data.protocol, "ignore_identical_ids": config.ignore_identical_ids},
        "validation": {
            "chosen_on": info.get("chosen_on", ""),
            "validation_queries": info.get("validation_queries", 0),
            "validation_corpus": info.get("validation_corpus", 0),
            "metric": describe_selection_metric(config.best_dim, config.dims),
            "base_score": base_validation_score,
        },
        "points": points,
        "steps": steps,
        "verdict": verdict,
        "models_kept": False,
        "note": MODELS_NOTE,
        "config": config.public_dict(),
        "provenance": provenance(seed=config.seed, data=data),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def write_curve_outputs(folder: str | Path, curve: dict[str, Any]) -> dict[str, str]:
    """curve.png and curve.html, then curve.json (validated; written last, atomically)."""
    folder = Path(folder)
    validate_curve(curve)
    paths = {
        "chart": str(plot_curve(curve, folder / CURVE_CHART)),
        "report": str(write_curve_html(curve, folder / CURVE_HTML)),
    }
    write_json_atomic(folder / CURVE_FILE, curve)
    return {"curve": str(folder / CURVE_FILE), **paths}


def curve_in_output(config: FinetuneConfig, data: RetrievalData, plan: CurvePlan) -> dict[str, Any]:
    """compute_curve with its work folder under OUTPUT (removed after), then the outputs."""
    work = Path(config.output) / WORK_DIR
    try:
        curve = compute_curve(config, data, plan, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_curve_outputs(config.output, curve)
    return curve


def run_curve(
    config: FinetuneConfig,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    *,
    overwrite: bool = False,
) -> dict[str, Any]:
    """The whole learning curve; returns the curve.json content. Bad settings, fractions or
    output folders are refused (ConfigError) before any model is loaded or file written."""
    check_curve_config(config)
    fractions = validate_fractions(fractions)
    check_curve_output(config.output, overwrite=overwrite)
    data = load_data(config)
    plan = plan_curve(config, data, fractions)
    check_base_model_outside_output(config.base_model, config.output)
    with output_lock(config.output):
        curve = curve_in_output(config, data, plan)
    logger.info("Wrote %s/{%s,%s,%s}", config.output, CURVE_FILE, CURVE_CHART, CURVE_HTML)
    return curve


def curve_summary(curve: dict[str, Any], output: str | Path) -> dict[str, Any]:
    """What stdout carries after a curve run: per point the pairs and nDCG@10 per dim, the
    verdict per dim, the output paths."""
    metric = curve["metric"]
    return {
        "kind": CURVE_KIND,
        "metric": metric,
        "base_model": curve["base_model_name"],
        "points": [
            {
                "fraction": point["fraction"],
                "pairs": point["pairs"],
                "selected": point["selected"],
                metric: {dim: score["value"] for dim, score in point[metric].items()},
            }
            for point in curve["points"]
        ],
        "verdict": {dim: entry["message"] for dim, entry in curve["verdict"].items()},
        "models_kept": curve["models_kept"],
        "outputs": {
            name: str(Path(output) / file)
            for name, file in (
                ("curve", CURVE_FILE),
                ("chart", CURVE_CHART),
                ("report", CURVE_HTML),
            )
        },
    }
