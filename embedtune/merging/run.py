"""After selection: merge the finetuned weights with the base's as `merge_base` asks.

A fixed ratio merges at once; `auto` chooses it (embedtune.merging.auto). When the base model was
kept (nothing beat it) there is nothing to merge: skipped, with a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from embedtune.config import AUTO, FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.evaluation.trainer_evaluator import describe_selection_metric
from embedtune.guard.task import GUARD_TOLERANCE, Guard
from embedtune.merging.auto import GRID, choose_base_weight
from embedtune.merging.linear import StateDict, load_merged, snapshot

logger = logging.getLogger(__name__)
METHOD = "linear: base_weight * base + (1 - base_weight) * finetuned (LM-Cocktail-style)"


@dataclass
class MergeOutcome:
    block: dict[str, Any]  # results.json "merge"
    guard_evaluation: RetrievalEvaluation | None  # the merged model on the guard, if scored


def merge_after_training(
    model: torch.nn.Module,
    base_weights: StateDict,
    config: FinetuneConfig,
    *,
    improved: bool,
    validation: RetrievalData | None,
    guard: Guard | None = None,
    grid: tuple[float, ...] = GRID,
) -> MergeOutcome | None:
    """Merge `model` (the selected finetuned weights) with `base_weights` in place; None when
    no merge was asked, or when the base was kept. `grid`: the base weights auto scores."""
    if config.merge_base is None:
        return None
    if not improved:
        logger.info(
            "merge_base %s skipped: the base model was kept, nothing to merge", config.merge_base
        )
        return None
    finetuned = snapshot(model)
    curve: list[dict[str, Any]] = []
    guard_evaluation = None
    if config.merge_base == AUTO:
        choice = choose_base_weight(
            model, base_weights, finetuned, config, validation=validation, guard=guard, grid=grid
        )
        weight, chosen_on, curve = choice.base_weight, choice.chosen_on, choice.curve
        guard_evaluation = choice.guard_evaluations.get(weight)
    else:
        weight, chosen_on = float(config.merge_base), "given (--merge-base)"
    count = load_merged(model, base_weights, finetuned, weight)
    logger.info(
        "Saved model = %.2f x base + %.2f x finetuned (%d tensors merged, %d kept); %s",
        weight,
        1 - weight,
        count.merged,
        count.kept,
        chosen_on,
    )
    if weight == 1.0:
        logger.warning("merge_base: base weight 1 is the base model itself; finetuning is undone")
    block = {
        "base_weight": weight,
        "mode": "auto" if config.merge_base == AUTO else "fixed",
        "method": METHOD,
        "chosen_on": chosen_on,
        "metric": describe_selection_metric(config.best_dim, config.dims),
        "tolerance": GUARD_TOLERANCE,
        "tensors_merged": count.merged,
        "tensors_kept": count.kept,
        "curve": curve,
    }
    return MergeOutcome(block, guard_evaluation)
