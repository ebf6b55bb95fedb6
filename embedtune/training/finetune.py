"""Finetune a Sentence Transformers model on (query, document[, negative]) pairs."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import get_last_checkpoint

from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.errors import ConfigError
from embedtune.evaluation.trainer_evaluator import MatryoshkaRetrievalEvaluator
from embedtune.training.arguments import build_training_arguments
from embedtune.config import FinetuneConfig
from embedtune.training.losses import build_loss

logger = logging.getLogger(__name__)


@dataclass
class TrainingSummary:
    train_seconds: float
    samples_per_second: float
    optimizer_steps: int
    best_checkpoint: str | None
    best_metric: float | None
    epoch_metrics: list[dict[str, float]]
    hard_negative_mining: dict | None = None  # the mining report, when negatives were mined
    model_selection: dict | None = None  # which queries picked the best epoch, pairs trained on

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def training_columns(train: Dataset) -> Dataset:
    """Columns in the order the loss reads them: query (anchor), document (positive)[, negative]."""
    columns = [QUERY, DOCUMENT] + ([NEGATIVE] if NEGATIVE in train.column_names else [])
    return train.select_columns(columns)


def prompts_for(config: FinetuneConfig) -> dict[str, str]:
    """Column -> prompt, so training uses the prompts evaluation and users will use."""
    prompts = {}
    if config.query_prompt:
        prompts[QUERY] = config.query_prompt
    if config.document_prompt:
        prompts[DOCUMENT] = config.document_prompt
        prompts[NEGATIVE] = config.document_prompt
    return prompts


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
    data: RetrievalData,
    config: FinetuneConfig,
    dims: list[int],
    checkpoint_dir: str | Path,
    *,
    guide: SentenceTransformer | None = None,
) -> TrainingSummary:
    """Train in place; at the end `model` holds the best epoch's weights (by nDCG@10 at best_dim)."""
    best_dim = config.best_dim or dims[0]
    if best_dim not in dims:
        raise ConfigError(f"best_dim {best_dim} is not one of the Matryoshka dims {dims}")
    train = training_columns(data.train)
    if config.batch_size > len(train):
        logger.warning(
            "batch size %d is larger than the %d training pairs: each step sees all of them",
            config.batch_size,
            len(train),
        )
    prompts = prompts_for(config)
    evaluator = MatryoshkaRetrievalEvaluator(
        data,
        dims,
        best_dim=best_dim,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
    )
    args = build_training_arguments(config, checkpoint_dir, best_dim=best_dim, prompts=prompts)
    loss = build_loss(model, config.loss, dims, mini_batch_size=config.mini_batch_size, guide=guide)
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train, loss=loss, evaluator=evaluator
    )
    resume_from = None
    if config.resume:
        resume_from = last_complete_checkpoint(checkpoint_dir)
        logger.info("Resuming from %s", resume_from or "the start (no checkpoint found)")
    elif Path(checkpoint_dir).is_dir() and get_last_checkpoint(str(checkpoint_dir)):
        logger.warning(
            "%s holds checkpoints of an earlier run; starting afresh (pass --resume to continue)",
            checkpoint_dir,
        )
    start = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    epoch_metrics = [
        {k: v for k, v in entry.items() if k.startswith("eval_") or k == "epoch"}
        for entry in trainer.state.log_history
        if any(k.startswith("eval_retrieval") for k in entry)
    ]
    return TrainingSummary(
        train_seconds=round(seconds, 2),
        samples_per_second=round(output.metrics.get("train_samples_per_second", 0.0), 3),
        optimizer_steps=trainer.state.global_step,
        best_checkpoint=trainer.state.best_model_checkpoint,
        best_metric=trainer.state.best_metric,
        epoch_metrics=epoch_metrics,
    )
