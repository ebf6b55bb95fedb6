"""Train and select: mine negatives, carve validation, sweep the learning rates, keep the best
candidate (the base included), merge when asked. `train` is what a run and the learning curve
call; it returns a `TrainOutcome`."""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune import distributed
from embedtune.config import FinetuneConfig
from embedtune.data.fingerprint import data_fingerprint
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.embedding_cache import DocumentEmbeddings, candidate_ranker
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import VALIDATION
from embedtune.evaluation.trainer_evaluator import describe_selection_metric, selection_score
from embedtune.guard.task import Guard
from embedtune.loss_registry import LOSS_SPECS
from embedtune.merging.run import MergeOutcome, merge_after_training
from embedtune.output_folder import CHECKPOINTS_DIR
from embedtune.timings import Timings
from embedtune.training.finetune import TrainingSummary
from embedtune.training.lora import (
    add_lora,
    finish_lora,
    learning_rates,
    restore_weights,
    trained_weights,
)
from embedtune.training.pair_screening import filter_training_pairs, mine_and_screen
from embedtune.training.resume_guard import check_resume, write_run_record
from embedtune.training.selection import (
    ValidationSplit,
    carve_validation,
    selection_block,
    validation_curve,
)
from embedtune.training.sweep import sweep_learning_rates

logger = logging.getLogger(__name__)


def mine_negatives(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    embeddings: DocumentEmbeddings | None = None,
) -> tuple[RetrievalData, dict | None]:
    """Hard negatives from the base model; the candidate pool follows the protocol.
    `embeddings`: the base model's document embeddings, reused for the pool. Mined negatives are
    screened for false negatives as `false_negatives` says, with `review_negatives` reviewed in
    Argilla (embedtune.training.pair_screening, docs/data-quality.md)."""
    return mine_and_screen(model, data, config, embeddings=embeddings)


def mine_on_main(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    embeddings: DocumentEmbeddings | None = None,
) -> tuple[RetrievalData, dict | None]:
    """mine_negatives once, on rank 0 with the encodings sharded across the ranks; every rank
    gets the mined pairs (measured faster than mining on rank 0 alone: docs/distributed.md)."""

    def work() -> tuple[Any, dict | None]:
        mined, report = mine_negatives(model, data, config, embeddings=embeddings)
        return (None if mined is data else distributed.portable(mined.train)), report

    train, report = distributed.on_main(model, work)
    return (data if train is None else dataclasses.replace(data, train=train)), report


@dataclass(frozen=True)
class TrainOutcome:
    model: SentenceTransformer  # the selected model: finetuned, or the base when nothing beat it
    selected: str  # "finetuned" | "base"
    summary: TrainingSummary
    selection: dict[str, Any]  # results.json "selection"
    merge: MergeOutcome | None = None  # merge_base: the saved model is a base/finetuned merge


def _set_prompts_and_card(model: SentenceTransformer, config: FinetuneConfig) -> None:
    card = model.model_card_data
    card.model_name = f"{config.base_model_name} finetuned for retrieval with embedtune"
    card.tags = [*card.tags, "embedtune", "matryoshka", "retrieval"]
    card.local_files_only = True  # the card must not reach out to the Hub
    if config.query_prompt or config.document_prompt:
        # Stored with the model, so `encode_query`/`encode_document` apply them for users.
        model.prompts = {
            **model.prompts,
            **({"query": config.query_prompt} if config.query_prompt else {}),
            **({"document": config.document_prompt} if config.document_prompt else {}),
        }


def train(
    config: FinetuneConfig,
    model: SentenceTransformer,
    data: RetrievalData,
    output: str | Path,
    *,
    carved: ValidationSplit | None = None,
    guard: Guard | None = None,
    embeddings: DocumentEmbeddings | None = None,
    timings: Timings | None = None,
) -> TrainOutcome:
    """Finetune `model` (the base, trained in place) and keep the best candidate.

    Validation queries are carved from the training pairs; the base model's validation score is
    the one to beat. When no checkpoint beats it, the base weights are restored and the outcome
    says so. Checkpoints go to OUTPUT/checkpoints. `carved`: a validation split made beforehand
    (the learning curve carves once and trains on fractions of its training side).
    `embeddings`: the base model's document embeddings (from the test encoding), reused by the
    validation corpus and mining instead of encoding the corpus again. `merge_base` then merges
    the kept finetuned weights with the base's (`guard`, scored on the base beforehand,
    constrains `auto`; embedtune.merging).
    """
    timings = timings if timings is not None else Timings()
    _set_prompts_and_card(model, config)
    checkpoints = Path(output) / CHECKPOINTS_DIR
    fingerprint = data_fingerprint(data)
    if distributed.is_main_process():  # rank 0 alone reads and writes the run's folder
        if config.resume:
            check_resume(checkpoints, config, fingerprint)
        write_run_record(checkpoints, config, fingerprint)
    embeddings = embeddings or DocumentEmbeddings(
        model, prompt=config.document_prompt, batch_size=config.eval_batch_size
    )
    query_filter = None
    if carved is None and config.filter:  # before the split: validation queries are filtered too
        with timings.phase("query_filter"):
            data, query_filter = filter_training_pairs(model, data, config, embeddings=embeddings)
    with timings.phase("validation_split"):
        carved = carved or carve_validation(
            data, config, ranker=candidate_ranker(model, embeddings, config)
        )
    base_score = None
    if carved.validation is not None:
        validation = carved.validation
        with timings.phase("base_validation"):
            base_validation = distributed.on_main(
                model,
                lambda: RetrievalEvaluator.from_config(config).evaluate(
                    model, validation, label=VALIDATION
                ),
            )
        base_score = selection_score(base_validation, config.best_dim)
        logger.info(
            "Base model on validation: %s %.4f",
            describe_selection_metric(config.best_dim, config.dims),
            base_score,
        )
    with timings.phase("mining"):
        train_data, mining = mine_on_main(model, carved.train, config, embeddings=embeddings)
    base_weights = {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}
    guide = copy.deepcopy(model) if LOSS_SPECS[config.loss].needs_guide else None
    adapter = add_lora(model, config)  # LoRA: only an adapter trains (None: every weight)
    start = base_weights if adapter is None else trained_weights(model)  # the adapter at init
    rates = learning_rates(config)
    with timings.phase("training"):
        swept = sweep_learning_rates(
            model,
            train_data.train,
            carved.validation,
            config,
            checkpoints,
            rates,
            start=start,
            base_score=base_score,
            guide=guide,
        )
    summary = swept.summary
    summary.hard_negative_mining = mining
    summary.query_filter = query_filter
    summary.model_selection = carved.info
    summary.learning_rate = swept.rate
    summary.adapter = adapter
    if len(rates) > 1:
        summary.learning_rate_sweep = swept.candidates
    improved = carved.validation is None or summary.best_checkpoint is not None
    distributed.check_same((swept.rate, improved), "the learning rate and the model kept")
    if improved:
        restore_weights(model, swept.weights)
    else:
        restore_weights(model, start)  # under LoRA the untrained adapter: the base's output
        logger.warning(
            "No checkpoint beat the base model on the validation queries (%s %.4f): "
            "the saved model is the BASE model, unchanged",
            describe_selection_metric(config.best_dim, config.dims),
            base_score,
        )
    finish_lora(model, adapter, checkpoints)  # save the adapter, merge it: a plain model
    logger.info(
        "Trained %d steps in %.0fs (%.2f samples/s)",
        summary.optimizer_steps,
        summary.train_seconds,
        summary.samples_per_second,
    )
    selected = "finetuned" if improved else "base"
    selection = selection_block(
        config,
        carved.info,
        selected=selected,
        base_score=base_score,
        best_score=summary.best_metric if improved and carved.validation is not None else None,
        curve=validation_curve(summary.epoch_metrics, config.best_dim, base_score),
        best_checkpoint=summary.best_checkpoint,
        stopped_early=summary.stopped_early,
    )
    with timings.phase("merge"):
        merge = merge_after_training(
            model,
            base_weights,
            config,
            improved=improved,
            validation=carved.validation,
            guard=guard,
        )
    return TrainOutcome(model, selected, summary, selection, merge)
