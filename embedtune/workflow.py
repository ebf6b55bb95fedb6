"""The finetuning workflow as plain functions: what the CLI runs and the ZenML steps wrap.

data = load_data(config)
base, dims = load_base_model(config)
before = evaluate(base, data, dims, config)
model, summary = train(config, data, dims, output)
after = evaluate(model, data, dims, config)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import set_seed

from embedtune.data.retrieval_data import NEGATIVE, RetrievalData
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.split import split_by_document
from embedtune.data.truncation import count_truncated
from embedtune.errors import DataError
from embedtune.evaluation.bootstrap import (
    compare_tables,
    describe_comparison,
    per_query_table,
)
from embedtune.evaluation.retrieval import RetrievalEvaluation, evaluate_retrieval
from embedtune.io import write_dir_atomic, write_json_atomic
from embedtune.reporting.chart import plot_evaluation
from embedtune.reporting.hardware import describe_hardware
from embedtune.reporting.html_report import write_html_report
from embedtune.reporting.provenance import provenance
from embedtune.reporting.results import build_results, write_results
from embedtune.config import FinetuneConfig, resolve_dims
from embedtune.training.finetune import TrainingSummary, finetune
from embedtune.training.hard_negatives import add_hard_negatives
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


def load_base_model(config: FinetuneConfig) -> tuple[SentenceTransformer, list[int]]:
    set_seed(config.seed)
    model = load_model(
        config.base_model,
        max_seq_length=config.max_seq_length,
        trust_remote_code=config.trust_remote_code,
    )
    return model, list(config.dims)


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


def model_selection_split(
    data: RetrievalData, config: FinetuneConfig
) -> tuple[RetrievalData, dict[str, Any]]:
    """The data the trainer sees: training pairs and the queries that pick the best epoch.

    With one epoch there is nothing to pick, and the per-epoch evaluation may report on the test
    queries. With several, the best epoch is picked on a validation split carved out of the
    training pairs (by document), so the test queries never influence the final model.
    """
    if config.epochs == 1:
        return data, {"best_epoch_chosen_on": "only one epoch", "train_pairs": len(data.train)}
    try:
        validation = split_by_document(
            data.train,
            test_fraction=config.test_fraction,
            seed=config.seed,
            source="training pairs",
        )
    except DataError as err:
        logger.warning(
            "No validation split (%s): the best epoch is chosen on the test queries", err
        )
        return data, {"best_epoch_chosen_on": "test queries", "train_pairs": len(data.train)}
    logger.info(
        "Best epoch chosen on %d validation queries held out from training", len(validation.queries)
    )
    return validation, {
        "best_epoch_chosen_on": "validation queries",
        "validation_queries": len(validation.queries),
        "train_pairs": len(validation.train),
    }


def train(
    config: FinetuneConfig, data: RetrievalData, dims: list[int], output: str | Path
) -> tuple[SentenceTransformer, TrainingSummary]:
    """A fresh copy of the base model, finetuned; checkpoints go to OUTPUT/checkpoints."""
    model, _ = load_base_model(config)
    card = model.model_card_data
    card.model_name = f"{Path(config.base_model).name} finetuned for retrieval with embedtune"
    card.tags = [*card.tags, "embedtune", "matryoshka", "retrieval"]
    card.local_files_only = True  # the card must not reach out to the Hub
    if config.query_prompt or config.document_prompt:
        # Stored with the model, so `encode_query`/`encode_document` apply them for users.
        model.prompts = {
            **model.prompts,
            **({"query": config.query_prompt} if config.query_prompt else {}),
            **({"document": config.document_prompt} if config.document_prompt else {}),
        }
    data, selection = model_selection_split(data, config)
    mining = None
    if config.hard_negatives and NEGATIVE in data.train.column_names:
        logger.info("The data has its own negatives: hard-negative mining skipped")
    elif config.hard_negatives:
        # `model` is still the base model here: it picks near-miss training documents.
        train_set, report = add_hard_negatives(
            data.train,
            model,
            range_min=config.hard_negative_range_min,
            range_max=config.hard_negative_range_max,
            relative_margin=config.hard_negative_relative_margin,
            query_prompt=config.query_prompt,
            document_prompt=config.document_prompt,
            batch_size=config.eval_batch_size,
            seed=config.seed,
        )
        data = dataclasses.replace(data, train=train_set)
        mining = report.as_dict()
    guide = None
    if config.loss == "gist":
        guide, _ = load_base_model(config)
    summary = finetune(model, data, config, dims, Path(output) / "checkpoints", guide=guide)
    summary.hard_negative_mining = mining
    summary.model_selection = selection
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
    """evaluation.png, then results.json: results.json, written last, marks a finished run."""
    output = Path(output)
    chart = plot_evaluation(results, output / "evaluation.png")
    return write_results(output / "results.json", results), chart


def compare(before: RetrievalEvaluation, after: RetrievalEvaluation) -> dict[str, Any]:
    """Paired-bootstrap 95% interval of the nDCG@10 gain (finetuned - base) per dimension."""
    comparison = compare_tables(per_query_table({"base": before, "finetuned": after}))
    for line in describe_comparison(comparison).splitlines():
        logger.info("Finetuned vs base, %s", line)
    return comparison


def write_per_query(output: str | Path, evaluations: dict[str, RetrievalEvaluation]) -> Path:
    """OUTPUT/per_query.json: every model's per-query scores, from which
    `embedtune.evaluation.bootstrap.compare_tables` recomputes the comparison."""
    path = Path(output) / "per_query.json"
    write_json_atomic(path, per_query_table(evaluations))
    return path


def write_html(output: str | Path, results: dict[str, Any]) -> Path:
    """OUTPUT/report.html: chart, base vs finetuned table with intervals, data, training."""
    return write_html_report(results, Path(output) / "report.html")


def write_outputs(
    output: str | Path, results: dict[str, Any], evaluations: dict[str, RetrievalEvaluation]
) -> None:
    """per_query.json, report.html, evaluation.png, then results.json (last: marks a finished run)."""
    write_per_query(output, evaluations)
    write_html(output, results)
    write_report(output, results)


def count_truncation(
    model: SentenceTransformer, data: RetrievalData, config: FinetuneConfig
) -> None:
    """Add truncated_queries/truncated_documents (texts over max_seq_length) to data.report."""
    data.report.update(
        count_truncated(
            model, data, query_prompt=config.query_prompt, document_prompt=config.document_prompt
        )
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
        extra={
            "base_model": config.base_model,
            "comparison": compare(before, after),
            **(extra or {}),
        },
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
    count_truncation(base, data, config)
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
        extra={
            **published,
            "total_seconds": round(time.perf_counter() - started, 1),
            "provenance": provenance(seed=config.seed, data=data),
        },
    )
    write_outputs(output, results, {"base": before, "finetuned": after})
    logger.info(
        "Wrote %s, %s, %s, %s and %s",
        published["model_path"],
        output / "results.json",
        output / "evaluation.png",
        output / "report.html",
        output / "per_query.json",
    )
    return results


def run_evaluate(model_path: str, config: FinetuneConfig) -> dict[str, Any]:
    """Evaluate one model on the held-out part of the data; same results shape, one model."""
    output = Path(config.output)
    data = load_retrieval_data(dataclasses.replace(data_options(config), require_train=False))
    model = load_model(
        model_path, max_seq_length=config.max_seq_length, trust_remote_code=config.trust_remote_code
    )
    dims = resolve_dims(config.dims, embedding_dimension(model))
    count_truncation(model, data, config)
    evaluation = evaluate(model, data, dims, config)
    results = build_results(
        dims=dims,
        evaluations={"model": evaluation},
        data=data.summary(),
        training=None,
        hardware=describe_hardware(),
        extra={"model_name": model_path, "provenance": provenance(seed=config.seed, data=data)},
    )
    write_outputs(output, results, {"model": evaluation})
    return results
