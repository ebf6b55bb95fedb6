"""Finetune a Sentence Transformers model on (query, document[, negative]) pairs."""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from transformers import EarlyStoppingCallback
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import get_last_checkpoint

from embedtune import distributed
from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import DOCUMENT, QUERY, RetrievalData, negative_columns
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.trainer_evaluator import MatryoshkaRetrievalEvaluator
from embedtune.progress import label_trainer
from embedtune.training.arguments import build_training_arguments
from embedtune.training.attention_dropout import attention_dropout
from embedtune.training.lora import parameter_counts, trainer_class
from embedtune.training.losses import build_loss
from embedtune.training.selection import BaseModelAsCandidate, EvaluateAtEnd, StopAtStep

logger = logging.getLogger(__name__)


@dataclass
class TrainingSummary:
    train_seconds: float
    samples_per_second: float
    optimizer_steps: int
    best_checkpoint: str | None
    best_metric: float | None
    epoch_metrics: list[dict[str, float]]  # every validation evaluation (step, epoch, metrics)
    hard_negative_mining: dict | None = None  # the mining report, when negatives were mined
    query_filter: dict | None = None  # --filter: what the query filter dropped (data/query_filter)
    model_selection: dict | None = None  # see embedtune.training.selection
    stopped_early: bool = False
    learning_rate: float | None = None  # the rate trained with (the chosen one under auto)
    learning_rate_sweep: list[dict] | None = None  # learning_rate auto: every candidate's score
    world_size: int = 1  # processes (torchrun / accelerate launch); see embedtune.distributed
    per_device_batch_size: int | None = None
    global_batch_size: int | None = None  # pairs per optimizer step, all processes together
    distributed_backend: str | None = None  # "gloo" / "nccl"; None on one process
    trainable_parameters: int | None = None  # the adapter's under LoRA, every weight otherwise
    total_parameters: int | None = None
    adapter: dict | None = None  # LoRA: rank, alpha, modules, where saved (training/lora.py)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def training_columns(train: Dataset) -> Dataset:
    """Columns in the order the loss reads them: query (anchor), document (positive), negatives."""
    return train.select_columns([QUERY, DOCUMENT, *negative_columns(train)])


def prompts_for(config: FinetuneConfig, train: Dataset) -> dict[str, str]:
    """Column -> prompt, so training uses the prompts evaluation and users will use."""
    prompts = {}
    if config.query_prompt:
        prompts[QUERY] = config.query_prompt
    if config.document_prompt:
        for column in (DOCUMENT, *negative_columns(train)):
            prompts[column] = config.document_prompt
    return prompts


def steps_per_epoch(config: FinetuneConfig, train_pairs: int) -> int:
    """Optimizer steps in one epoch over `train_pairs` (every process together)."""
    per_step = config.batch_size * config.gradient_accumulation_steps * distributed.world_size()
    return max(1, math.ceil(train_pairs / per_step))


def eval_steps(config: FinetuneConfig, train_pairs: int) -> int:
    """Optimizer steps between validation evaluations: `eval_every` of an epoch, at least 1."""
    return max(1, round(steps_per_epoch(config, train_pairs) * config.eval_every))


def _is_complete(checkpoint: Path) -> bool:
    """The Trainer writes trainer_state.json last: a checkpoint without it was cut short."""
    try:
        json.loads((checkpoint / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(checkpoint.glob("*.safetensors")) or any(checkpoint.glob("*/*.safetensors"))


def last_complete_checkpoint(checkpoint_dir: str | Path) -> str | None:
    """The newest checkpoint that was written in full; checkpoints cut short by a kill are removed.

    transformers' get_last_checkpoint only looks at folder names, so a run killed while saving
    would resume from a half-written checkpoint and fail.
    """
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        return None
    while (last := get_last_checkpoint(str(folder))) is not None:
        if _is_complete(Path(last)):
            return last
        logger.warning("Removing incomplete checkpoint %s (the run stopped while saving it)", last)
        shutil.rmtree(last)
    return None


def finetune(
    model: SentenceTransformer,
    train_pairs: Dataset,
    validation: RetrievalData | None,
    config: FinetuneConfig,
    checkpoint_dir: str | Path,
    *,
    base_score: float | None = None,
    guide: SentenceTransformer | None = None,
    stop_at_step: int | None = None,
    resume_from: str | None = None,
    progress_label: str | None = None,
) -> TrainingSummary:
    """Train in place, evaluating on `validation` every `eval_every` of an epoch.

    At the end `model` holds the best checkpoint's weights (the selection metric), where best means
    better than `base_score` (the base model's validation score) when given; when no checkpoint
    beats it, `best_checkpoint` is None and the caller restores the base weights. Early stopping
    ends training after `early_stopping_patience` evaluations without improvement.
    `stop_at_step`: pause after that optimizer step's evaluation and checkpoint (the schedule is
    the full run's, so `resume_from` that checkpoint continues it exactly): the slice of
    successive halving (embedtune.training.sweep). `progress_label`: the training bar's label
    (default "Training lr <rate>").
    """
    train = training_columns(train_pairs)
    if config.batch_size > len(train):
        logger.warning(
            "batch size %d is larger than the %d training pairs: each step sees all of them",
            config.batch_size,
            len(train),
        )
    evaluator = callbacks = None
    if validation is not None:
        evaluator = MatryoshkaRetrievalEvaluator(
            validation, RetrievalEvaluator.from_config(config), best_dim=config.best_dim
        )
        callbacks = [EvaluateAtEnd()]
        if base_score is not None:
            callbacks.append(BaseModelAsCandidate(base_score))
        if config.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(config.early_stopping_patience))
        if stop_at_step is not None:
            callbacks.append(StopAtStep(stop_at_step))
    args = build_training_arguments(
        config,
        checkpoint_dir,
        eval_steps=eval_steps(config, len(train)) if validation is not None else None,
        prompts=prompts_for(config, train),
    )
    loss = build_loss(
        model,
        config.loss,
        config.dims,
        mini_batch_size=config.mini_batch_size,
        guide=guide,
        gather_across_devices=config.gather_across_devices and distributed.is_distributed(),
    )
    trainer = trainer_class(model)(  # LoRA: checkpoints hold the adapter (training/lora.py)
        model=model,
        args=args,
        train_dataset=train,
        loss=loss,
        evaluator=evaluator,
        callbacks=callbacks,
    )
    # one labelled bar; the metric dicts only with -v; nothing under --quiet / JSON logs
    label_trainer(trainer, progress_label or f"Training lr {config.learning_rate:g}")
    with distributed.main_process_first():  # rank 0 removes a cut-short checkpoint first
        resume_from = resume_from or _resume_point(config, checkpoint_dir)
    start = time.perf_counter()
    with attention_dropout(model, config.attention_dropout):  # the saved model keeps its own
        output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    trainable, total = parameter_counts(model)
    curve = [
        {k: v for k, v in entry.items() if k.startswith("eval_") or k in ("epoch", "step")}
        for entry in trainer.state.log_history
        if any(k.startswith("eval_retrieval") for k in entry)
    ]
    return TrainingSummary(
        train_seconds=round(seconds, 2),
        samples_per_second=round(output.metrics.get("train_samples_per_second", 0.0), 3),
        optimizer_steps=trainer.state.global_step,
        best_checkpoint=trainer.state.best_model_checkpoint,
        best_metric=trainer.state.best_metric,
        epoch_metrics=curve,
        stopped_early=trainer.state.global_step < trainer.state.max_steps
        and (stop_at_step is None or trainer.state.global_step < stop_at_step),
        **distributed.layout(config.batch_size, config.gradient_accumulation_steps),
        trainable_parameters=trainable,
        total_parameters=total,
    )


def _resume_point(config: FinetuneConfig, checkpoint_dir: str | Path) -> str | None:
    if config.resume:
        resume_from = last_complete_checkpoint(checkpoint_dir)
        logger.info("Resuming from %s", resume_from or "the start (no checkpoint found)")
        return resume_from
    if Path(checkpoint_dir).is_dir() and get_last_checkpoint(str(checkpoint_dir)):
        logger.warning(
            "%s holds checkpoints of an earlier run; starting afresh (pass --resume to continue)",
            checkpoint_dir,
        )
    return None
