"""SentenceTransformerTrainingArguments from a FinetuneConfig and the hardware at hand."""

from __future__ import annotations

from pathlib import Path

import torch
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer.training_args import (
    SentenceTransformerTrainingArguments,
)

from embedtune import distributed
from embedtune.config import FinetuneConfig
from embedtune.evaluation.trainer_evaluator import selection_key
from embedtune.logging_setup import is_quiet


def precision_flags() -> dict[str, bool]:
    """bf16 and tf32 only where the hardware supports them (Ampere or newer CUDA GPUs)."""
    if not torch.cuda.is_available():
        return {"bf16": False, "tf32": False}
    major, _ = torch.cuda.get_device_capability()
    return {"bf16": torch.cuda.is_bf16_supported(), "tf32": major >= 8}


def build_training_arguments(
    config: FinetuneConfig,
    checkpoint_dir: str | Path,
    *,
    eval_steps: int | None,
    evaluator_name: str = "retrieval",
    prompts: dict[str, str] | None = None,
) -> SentenceTransformerTrainingArguments:
    """`eval_steps` None: no validation (nothing to select on): save at the end of each epoch."""
    cuda = torch.cuda.is_available()
    if eval_steps is None:
        selection = dict(eval_strategy="no", save_strategy="epoch", load_best_model_at_end=False)
    else:
        selection = dict(
            eval_strategy="steps",
            eval_steps=eval_steps,
            save_strategy="steps",
            save_steps=eval_steps,
            load_best_model_at_end=True,
            metric_for_best_model=f"eval_{evaluator_name}_{selection_key(config.best_dim)}",
            greater_is_better=True,
        )
    values = dict(
        output_dir=str(checkpoint_dir),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio of the total steps
        lr_scheduler_type=config.lr_scheduler_type,
        weight_decay=config.weight_decay,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        # In-batch negatives: a duplicate text in a batch would be a false negative.
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_total_limit=config.save_total_limit,
        logging_steps=10,
        report_to="none",
        disable_tqdm=True if is_quiet() else None,  # --quiet (None: transformers decides)
        seed=config.seed,
        data_seed=config.seed,
        dataloader_drop_last=False,
        dataloader_pin_memory=cuda,
        # torchrun on CPUs: the Trainer runs DDP (gloo) only when told to use the CPU; without it
        # every process trained alone and only rank 0 got the evaluator's metrics.
        use_cpu=not cuda and distributed.is_distributed(),
        prompts=prompts or None,
        # transformers 5 names `gradient_checkpointing` activation_checkpointing (the old name is
        # a deprecated alias): recompute activations in the backward pass, less memory
        activation_checkpointing=config.gradient_checkpointing,
        **precision_flags(),
        **selection,
    )
    values.update(config.extra)
    return SentenceTransformerTrainingArguments(**values)
