"""`learning_rate: auto` by successive halving: every rate trains a first slice, the leader goes on.

Each candidate rate trains from the base weights with the schedule of the full run (same warm-up,
same decay) and pauses after the validation evaluation nearest to HALVING_FRACTION of the run's
optimizer steps. The candidate with the best validation score there (the selection metric;
ties to the lower rate, the safer one) resumes from its own checkpoint and finishes the run; the
others stop. With two rates the sweep costs 1 + HALVING_FRACTION trainings instead of two.

The decision is recorded in CHECKPOINTS/sweep.json, so `--resume` of a killed run continues the
leader without training the slices again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from transformers.trainer import TRAINER_STATE_NAME

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.trainer_evaluator import selection_key
from embedtune.io import write_json_atomic
from embedtune.results_schema import LEARNING_RATE_TIE_RULE
from embedtune.training.finetune import (
    TrainingSummary,
    eval_steps,
    finetune,
    last_complete_checkpoint,
    steps_per_epoch,
)
from embedtune.training.lora import restore_weights, trained_weights

logger = logging.getLogger(__name__)

# Of the run's optimizer steps every candidate trains before the cut. None: the full sweep (every
# rate trains the whole run, the best on validation is kept), which benchmarks/cost.py sets to
# check that halving picks the same rate.
HALVING_FRACTION: float | None = 0.25
SWEEP_RECORD = "sweep.json"


@dataclass
class SweepOutcome:
    rate: float
    summary: TrainingSummary  # the leader's whole run (slice + rest)
    weights: dict[str, Any]  # the leader's selected weights (trained_weights)
    candidates: list[dict[str, Any]]  # results.json training.learning_rate_sweep


def slice_steps(config: FinetuneConfig, train_pairs: int) -> int | None:
    """The optimizer step after which the candidates are compared: the validation evaluation
    nearest to HALVING_FRACTION of the run; None when that is the run's end."""
    if HALVING_FRACTION is None:
        return None
    total = steps_per_epoch(config, train_pairs) * config.epochs
    every = eval_steps(config, train_pairs)
    # the evaluation nearest to the fraction (rounding up could double the slice when an
    # evaluation falls just short of it)
    step = every * max(1, round(HALVING_FRACTION * total / every))
    return step if step < total else None


def candidate_folder(checkpoints: Path, rate: float) -> Path:
    return checkpoints / f"lr-{rate:g}"


def sweep_learning_rates(
    model: SentenceTransformer,
    train: Dataset,
    validation: RetrievalData | None,
    config: FinetuneConfig,
    checkpoints: Path,
    rates: tuple[float, ...],
    *,
    start: dict[str, Any],
    base_score: float | None,
    guide: SentenceTransformer | None = None,
) -> SweepOutcome:
    """Train `rates` by successive halving (one rate: a plain training); `start`: the weights
    every candidate starts from. Returns the leader with its finished run."""

    def run(rate: float, **kwargs: Any) -> TrainingSummary:
        folder = checkpoints if len(rates) == 1 else candidate_folder(checkpoints, rate)
        return finetune(
            model,
            train,
            validation,
            dataclasses.replace(config, learning_rate=rate),
            folder,
            base_score=base_score,
            guide=guide,
            **kwargs,
        )

    cut = slice_steps(config, len(train)) if validation is not None else None
    if validation is not None and len(rates) > 1 and cut is None:
        # halving off, or a run too short to stop before its end: every rate trains it all
        return _full_sweep(run, model, rates, start)
    if len(rates) == 1 or cut is None:
        if len(rates) > 1:
            logger.info("learning_rate auto: no validation queries: training %g only", rates[0])
        restore_weights(model, start)
        summary = run(rates[0])
        return SweepOutcome(rates[0], summary, trained_weights(model), [])

    record = _read_record(checkpoints, rates, cut) if config.resume else None
    scores: dict[float, float] = record["scores"] if record else {}
    slice_seconds: dict[float, float] = record["slice_seconds"] if record else {}
    if record is None:
        for number, rate in enumerate(rates, 1):
            logger.info(
                "learning_rate auto: candidate %d of %d, lr %g, first %d steps",
                number,
                len(rates),
                rate,
                cut,
            )
            restore_weights(model, start)
            summary = run(
                rate,
                stop_at_step=cut,
                progress_label=f"Training lr {rate:g} (candidate {number} of {len(rates)}, "
                f"to step {cut})",
            )
            scores[rate] = _score_at(
                summary, cut, f"eval_retrieval_{selection_key(config.best_dim)}"
            )
            slice_seconds[rate] = summary.train_seconds
        leader = max(rates, key=lambda r: (scores[r], -r))  # a tie goes to the lower rate
        _write_record(checkpoints, rates, cut, scores, slice_seconds, leader)
    else:
        leader = record["leader"]
        logger.info("Resuming learning_rate auto: the leader was lr %g", leader)
    logger.info(
        "learning_rate auto: at step %d validation %s -> lr %g goes on (the higher score; %s)",
        cut,
        ", ".join(f"lr {r:g} {scores[r]:.4f}" for r in rates),
        leader,
        LEARNING_RATE_TIE_RULE,
    )
    for rate in rates:  # the others' checkpoints are of no further use
        if rate != leader:
            for folder in candidate_folder(checkpoints, rate).glob("checkpoint-*"):
                shutil.rmtree(folder, ignore_errors=True)
    resume_from = last_complete_checkpoint(candidate_folder(checkpoints, leader))
    summary = run(
        leader, resume_from=resume_from, progress_label=f"Training lr {leader:g} (the leader)"
    )
    summary.train_seconds = round(summary.train_seconds + sum(slice_seconds.values()), 2)
    candidates = [
        {
            "learning_rate": rate,
            "slice_steps": cut,
            "slice_score": round(scores[rate], 6),
            "slice_seconds": slice_seconds.get(rate),
            "continued": rate == leader,
            "best_score": summary.best_metric if rate == leader else None,
        }
        for rate in rates
    ]
    return SweepOutcome(leader, summary, trained_weights(model), candidates)


def _full_sweep(run, model: SentenceTransformer, rates, start) -> SweepOutcome:
    """Every rate trains the whole run from `start`; the best on validation is kept."""
    logger.info("learning_rate auto: every candidate trains the whole run (no halving)")
    best = None
    candidates = []
    for number, rate in enumerate(rates, 1):
        restore_weights(model, start)
        summary = run(rate, progress_label=f"Training lr {rate:g} ({number} of {len(rates)})")
        score = summary.best_metric if summary.best_checkpoint is not None else None
        candidates.append(
            {"learning_rate": rate, "best_score": score, "train_seconds": summary.train_seconds}
        )
        if best is None or (score is not None and (best[2] is None or score > best[2])):
            best = (rate, summary, score, trained_weights(model))
    rate, summary, _, weights = best
    summary.train_seconds = round(sum(c["train_seconds"] for c in candidates), 2)
    return SweepOutcome(rate, summary, weights, candidates)


def _score_at(summary: TrainingSummary, step: int, key: str) -> float:
    """The selection metric (`key`) of the validation evaluation at `step` (the slice's end)."""
    for entry in reversed(summary.epoch_metrics):
        if int(entry.get("step", -1)) == step and key in entry:
            return float(entry[key])
    raise RuntimeError(f"no validation evaluation at step {step}")


def _read_record(checkpoints: Path, rates: tuple[float, ...], cut: int) -> dict | None:
    path = checkpoints / SWEEP_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("rates") != list(rates) or record.get("slice_steps") != cut:
        return None
    leader_folder = candidate_folder(checkpoints, record["leader"])
    if last_complete_checkpoint(leader_folder) is None or not _has_state(leader_folder):
        return None
    return {
        "leader": record["leader"],
        "scores": {float(k): v for k, v in record["scores"].items()},
        "slice_seconds": {float(k): v for k, v in record["slice_seconds"].items()},
    }


def _has_state(folder: Path) -> bool:
    return any((c / TRAINER_STATE_NAME).is_file() for c in folder.glob("checkpoint-*"))


def _write_record(
    checkpoints: Path,
    rates: tuple[float, ...],
    cut: int,
    scores: dict[float, float],
    slice_seconds: dict[float, float],
    leader: float,
) -> None:
    write_json_atomic(
        checkpoints / SWEEP_RECORD,
        {
            "rates": list(rates),
            "slice_steps": cut,
            "scores": {str(k): v for k, v in scores.items()},
            "slice_seconds": {str(k): v for k, v in slice_seconds.items()},
            "leader": leader,
        },
    )
