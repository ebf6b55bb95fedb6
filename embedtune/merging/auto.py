"""merge_base auto: score base weights 0, 0.1, ..., 1 and keep the best one that does no harm.

Every ratio is scored on the validation queries (the selection metric of checkpoints). The
ratios are then tried from the best validation score down (ties: the larger base weight, the
safer one); the first whose guard drop against the base model is within GUARD_TOLERANCE or not
significant (paired bootstrap) is kept. The guard is scored lazily, only until a ratio passes:
on a CPU a guard evaluation costs about as much as a test evaluation, and base weight 1 (the base
itself, drop 0) always passes, so the search ends. Without a guard the best validation score
wins; without a validation split (too few pairs) the guard alone decides, the least base weight
that passes (and without either, the finetuned model is kept: base weight 0).

A merge must earn its place: when the winner's validation gain over the unmerged model (base
weight 0) is not significant (paired bootstrap) and the unmerged model passes the guard, the
unmerged model is kept. On a few dozen validation queries the best of eleven ratios often wins by
noise alone; in benchmarks/README.md (guard) such a pick lost on the test queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import torch

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import VALIDATION, RetrievalEvaluation
from embedtune.evaluation.trainer_evaluator import describe_selection_metric, selection_score
from embedtune.guard.task import GUARD_TOLERANCE, Guard, evaluate_on, guard_change, guard_ok
from embedtune.merging.linear import StateDict, load_merged
from embedtune.results_schema import PRIMARY_METRIC, read_comparison_entry

logger = logging.getLogger(__name__)
GRID = tuple(round(i / 10, 1) for i in range(11))  # base weights scored by auto


@dataclass
class AutoChoice:
    base_weight: float
    chosen_on: str
    curve: list[dict[str, Any]]  # one point per base weight, ascending
    guard_evaluations: dict[float, RetrievalEvaluation] = field(default_factory=dict)


def _point(weight: float) -> dict[str, Any]:
    return {
        "base_weight": weight,
        "validation": None,
        "guard": None,
        "guard_change": None,
        "guard_ci95": None,
        "guard_ok": None,
    }


def choose_base_weight(
    model: torch.nn.Module,
    base: StateDict,
    finetuned: StateDict,
    config: FinetuneConfig,
    *,
    validation: RetrievalData | None,
    guard: Guard | None,
    grid: tuple[float, ...] = GRID,
) -> AutoChoice:
    """Score the grid (the model's weights are left at the last ratio scored: load the choice)."""
    dim = str(config.verdict_dim)
    points = {weight: _point(weight) for weight in grid}
    validations: dict[float, RetrievalEvaluation] = {}
    if validation is not None:
        for weight in grid:
            load_merged(model, base, finetuned, weight)
            evaluation = validations[weight] = evaluate_on(model, validation, config, VALIDATION)
            score = selection_score(evaluation, config.best_dim)  # as checkpoints are chosen
            points[weight]["validation"] = round(score, 6)
            logger.info(
                "merge base weight %.1f: validation %s %.4f",
                weight,
                describe_selection_metric(config.best_dim, config.dims),
                score,
            )
        order = sorted(grid, key=lambda w: (-points[w]["validation"], -w))
    else:
        order = sorted(grid)
    choice = AutoChoice(order[0], "", [])
    for weight in order:
        if guard is None or _score_guard(
            model, base, finetuned, weight, config, guard, choice, points
        ):
            choice.base_weight = weight
            break
    choice.chosen_on = _chosen_on(validation is not None, guard is not None)
    unmerged = min(grid)
    if validations and choice.base_weight != unmerged and unmerged in validations:
        gain = guard_change(validations[unmerged], validations[choice.base_weight])[dim]
        delta, low, high, _ = read_comparison_entry(gain)
        if low <= 0 and (
            guard is None
            or _score_guard(model, base, finetuned, unmerged, config, guard, choice, points)
        ):
            logger.info(
                "merge base weight %.1f beats the unmerged model on validation by %+.4f "
                "[%+.4f, %+.4f], not significantly: the unmerged model is kept",
                choice.base_weight,
                delta,
                low,
                high,
            )
            choice.base_weight = unmerged
            choice.chosen_on += (
                "; the unmerged model kept: the best ratio's validation gain over it was "
                "not significant"
            )
    choice.curve = [points[weight] for weight in sorted(grid)]
    return choice


def _score_guard(
    model: torch.nn.Module,
    base: StateDict,
    finetuned: StateDict,
    weight: float,
    config: FinetuneConfig,
    guard: Guard,
    choice: AutoChoice,
    points: dict[float, dict[str, Any]],
) -> bool:
    """Score `weight` on the guard (once), record it in the curve; True if the guard is ok."""
    if weight not in choice.guard_evaluations:
        dim = str(config.verdict_dim)
        load_merged(model, base, finetuned, weight)
        evaluation = evaluate_on(model, guard.data, config)
        choice.guard_evaluations[weight] = evaluation
        entry = guard_change(guard.base, evaluation)[dim]
        delta, low, high, _ = read_comparison_entry(entry)
        points[weight].update(
            guard=round(evaluation.by_dim[config.verdict_dim].metrics[PRIMARY_METRIC], 6),
            guard_change=round(delta, 6),
            guard_ci95=[round(low, 6), round(high, 6)],
            guard_ok=guard_ok(entry),
        )
        logger.info(
            "merge base weight %.1f: guard nDCG@10@%s change %+.4f [%+.4f, %+.4f] %s",
            weight,
            dim,
            delta,
            low,
            high,
            "ok" if points[weight]["guard_ok"] else f"drop beyond {GUARD_TOLERANCE}",
        )
    return bool(points[weight]["guard_ok"])


def _chosen_on(validation: bool, guard: bool) -> str:
    rule = f"guard drop within {GUARD_TOLERANCE} or not significant"
    if validation and guard:
        return f"best validation nDCG@10 whose {rule}"
    if validation:
        return "best validation nDCG@10 (no guard: validation alone)"
    if guard:
        return f"no validation split: the least base weight whose {rule}"
    return "no validation split and no guard: nothing to choose on, the finetuned model kept"
