"""The finetuning workflow as plain functions: what the CLI runs and the ZenML steps wrap.

data = load_data(config)
base, dims = load_base_model(config)
before = evaluate(base, data, dims, config)
model, summary = train(config, data, dims, output)
after = evaluate(model, data, dims, config)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import set_seed

from embedtune.data.retrieval_data import RetrievalData
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.evaluation.retrieval import RetrievalEvaluation, evaluate_retrieval
from embedtune.io import write_dir_atomic
from embedtune.reporting.chart import plot_evaluation
from embedtune.reporting.hardware import describe_hardware
from embedtune.reporting.results import build_results, write_results
from embedtune.training.config import FinetuneConfig, default_base_model, resolve_dims
from embedtune.training.finetune import TrainingSummary, finetune
from embedtune.training.model_loading import embedding_dimension, load_model

logger = logging.getLogger(__name__)


def data_options(config: FinetuneConfig) -> DataOptions:
    return DataOptions(
        source=config.data,
        query_column=config.query_column,
        document_column=config.document_column,
        negative_column=config.negative_column,
        test_fraction=config.test_fraction,
        seed=config.seed,
        max_train_pairs=config.max_train_pairs,
        max_test_queries=config.max_test_queries,
    )


def load_data(config: FinetuneConfig) -> RetrievalData:
    data = load_retrieval_data(data_options(config))
    logger.info("Data: %s", data.summary())
    return data


def base_model_id(config: FinetuneConfig) -> str:
    return config.base_model or default_base_model()


def load_base_model(config: FinetuneConfig) -> tuple[SentenceTransformer, list[int]]:
    set_seed(config.seed)
    model = load_model(
        base_model_id(config),
        max_seq_length=config.max_seq_length,
        trust_remote_code=config.trust_remote_code,
    )
    dims = resolve_dims(config.dims, embedding_dimension(model))
    return model, dims


def evaluate(
    model: SentenceTransformer, data: RetrievalData, dims: list[int], config: FinetuneConfig
) -> RetrievalEvaluation:
    return evaluate_retrieval(
        model,
        data,
        dims,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
        show_progress_bar=False,
    )


def train(
    config: FinetuneConfig, data: RetrievalData, dims: list[int], output: str | Path
) -> tuple[SentenceTransformer, TrainingSummary]:
    """A fresh copy of the base model, finetuned; checkpoints go to OUTPUT/checkpoints."""
    model, _ = load_base_model(config)
    if config.query_prompt or config.document_prompt:
        # Stored with the model, so `encode_query`/`encode_document` apply them for users.
        model.prompts = {
            **model.prompts,
            **({"query": config.query_prompt} if config.query_prompt else {}),
            **({"document": config.document_prompt} if config.document_prompt else {}),
        }
    guide = None
    if config.loss == "gist":
        guide, _ = load_base_model(config)
    summary = finetune(model, data, config, dims, Path(output) / "checkpoints", guide=guide)
    logger.info(
        "Trained %d steps in %.0fs (%.2f samples/s)",
        summary.optimizer_steps,
        summary.train_seconds,
        summary.samples_per_second,
    )
    return model, summary


def save_model(model: SentenceTransformer, path: str | Path) -> Path:
    """safetensors + the Sentence Transformers model card, swapped into place atomically."""
    return write_dir_atomic(
        path, lambda tmp: model.save_pretrained(str(tmp), safe_serialization=True)
    )


def write_report(output: str | Path, results: dict[str, Any]) -> tuple[Path, Path]:
    output = Path(output)
    return write_results(output / "results.json", results), plot_evaluation(
        results, output / "evaluation.png"
    )


def finetune_results(
    config: FinetuneConfig,
    *,
    dims: list[int],
    before: RetrievalEvaluation,
    after: RetrievalEvaluation,
    data_summary: dict[str, int],
    training: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """results.json content of a finetuning run (shared by the CLI path and the ZenML pipeline)."""
    return build_results(
        dims=dims,
        evaluations={"base": before, "finetuned": after},
        data=data_summary,
        training={**config.public_dict(), **training, "dims": dims},
        hardware=describe_hardware(),
        extra={"base_model": base_model_id(config), **(extra or {})},
    )


def publish_model(model: SentenceTransformer, config: FinetuneConfig) -> dict[str, Any]:
    """Save OUTPUT/model and push it when asked; returns what results.json records about it."""
    path = save_model(model, Path(config.output) / "model")
    info: dict[str, Any] = {"model_path": str(path)}
    if config.push_to_hub:
        from embedtune.hub import push_model

        info["push_to_hub"] = push_model(path, config.push_to_hub)
    return info


def run_finetune(config: FinetuneConfig) -> dict[str, Any]:
    """The whole job: data, base evaluation, training, finetuned evaluation, save, report."""
    output = Path(config.output)
    started = time.perf_counter()
    data = load_data(config)
    base, dims = load_base_model(config)
    logger.info("Evaluating the base model at dims %s", dims)
    before = evaluate(base, data, dims, config)
    del base
    model, summary = train(config, data, dims, output)
    logger.info("Evaluating the finetuned model")
    after = evaluate(model, data, dims, config)
    published = publish_model(model, config)
    results = finetune_results(
        config,
        dims=dims,
        before=before,
        after=after,
        data_summary=data.summary(),
        training=summary.as_dict(),
        extra={**published, "total_seconds": round(time.perf_counter() - started, 1)},
    )
    write_report(output, results)
    logger.info(
        "Wrote %s, %s and %s",
        published["model_path"],
        output / "results.json",
        output / "evaluation.png",
    )
    return results


def run_evaluate(model_path: str, config: FinetuneConfig) -> dict[str, Any]:
    """Evaluate one model on the held-out part of the data; same results shape, one model."""
    output = Path(config.output)
    data = load_data(config)
    model = load_model(
        model_path, max_seq_length=config.max_seq_length, trust_remote_code=config.trust_remote_code
    )
    dims = resolve_dims(config.dims, embedding_dimension(model))
    evaluation = evaluate(model, data, dims, config)
    results = build_results(
        dims=dims,
        evaluations={"model": evaluation},
        data=data.summary(),
        training=None,
        hardware=describe_hardware(),
        extra={"model_name": model_path},
    )
    write_report(output, results)
    return results
