"""The orchestrator: the job's stages in a row (docs/architecture.md), what the CLI runs; the
ZenML pipeline's steps call the same stage functions.

config = load_config(...)                         # resolved once: dims, base model
data = load_data(config)                          # load, clean, split by the protocol
config, length = resolve_sequence_length(...)     # the length the documents need
before, encoded = evaluate_test(base, data, ...)  # the run's RetrievalEvaluator, encoding kept
outcome = train(config, base, data, output, ...)  # training/train_and_select: mine, sweep, select
after, encoded = evaluate_test(outcome.model, ...)
results = finetune_results(...)                   # run_results
add_comparisons(results, ..., compare_with_baselines(...))  # BM25, hybrid, deployment matrix
write_run(staged, config, results, ...)           # run_files: staged, swapped in together

One base encoding of the corpus serves the test evaluation, the validation corpus and mining; the
selected model's serves its test evaluation, the baselines and the deployment matrix.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import set_seed

from embedtune import distributed, parallel_encoding
from embedtune.config import FinetuneConfig, model_display_name
from embedtune.data.retrieval_data import DOCUMENT, RetrievalData
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.truncation import count_truncated
from embedtune.evaluation.embedding_cache import DocumentEmbeddings
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import EncodedTask, RetrievalEvaluation
from embedtune.guard.outputs import guard_and_merge_blocks
from embedtune.guard.task import evaluate_guard, load_guard
from embedtune.hardware import describe_hardware
from embedtune.reporting.provenance import provenance
from embedtune.reporting.results import build_results
from embedtune.run_files import publish_model, write_run
from embedtune.run_outputs import StagedOutputs, check_base_model_outside_output, output_lock
from embedtune.run_results import (
    add_comparisons,
    compare_with_baselines,
    data_block,
    finetune_results,
    selected_model_name,
)
from embedtune.search import require_index_package
from embedtune.search.report import results_search_block
from embedtune.timings import Timings
from embedtune.training.checkpoint_cleanup import remove_finished_checkpoints
from embedtune.training.lora import (
    check_lora,
)
from embedtune.training.model_loading import load_model
from embedtune.training.selection import (
    require_validation,
)
from embedtune.training.train_and_select import train

logger = logging.getLogger(__name__)


def data_options(config: FinetuneConfig, *, require_train: bool = True) -> DataOptions:
    return DataOptions(
        source=config.data,
        query_column=config.query_column,
        document_column=config.document_column,
        negative_column=config.negative_column,
        split=config.split,
        test_fraction=config.test_fraction,
        seed=config.seed,
        max_train_pairs=config.max_train_pairs,
        max_test_queries=config.max_test_queries,
        require_train=require_train,
    )


def load_data(config: FinetuneConfig, *, require_train: bool = True) -> RetrievalData:
    data = load_retrieval_data(data_options(config, require_train=require_train))
    logger.info("Data: %s", data.summary())
    logger.info("Protocol: %s (%s)", data.protocol["split"], data.protocol["description"])
    return data


def load_base_model(config: FinetuneConfig) -> SentenceTransformer:
    """The base model, loaded once per run: evaluated, mined with, then trained in place."""
    set_seed(config.seed)
    model = load_model(
        config.base_model,
        max_seq_length=config.max_seq_length,
        trust_remote_code=config.trust_remote_code,
        dtype=config.model_dtype,
    )
    check_lora(model, config)  # LoRA settings the model cannot take: refused before any work
    return model


def evaluate(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    show_progress_bar: bool = True,
    encoded: EncodedTask | None = None,
    label: str | None = None,
) -> RetrievalEvaluation:
    """One evaluation of `model` on `data`'s queries at every dim (one progress bar: the corpus,
    "Encoding N documents (`label`)") by the run's evaluator. `encoded`: the model's encoding
    of `data`, used instead of encoding again."""
    return RetrievalEvaluator.from_config(config).evaluate(
        model, data, encoded=encoded, show_progress_bar=show_progress_bar, label=label
    )


def evaluate_test(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    keep_encoding: bool = False,
    label: str | None = None,
) -> tuple[RetrievalEvaluation, EncodedTask | None]:
    """The test evaluation, and its encoding when the baselines or the deployment matrix will
    reuse it, or `keep_encoding` (else None: nothing held in memory). `label`: what the
    progress bar calls the model ("base model")."""
    evaluation, encoded = RetrievalEvaluator.from_config(config).evaluate_and_encode(
        model, data, label=label
    )
    keep = keep_encoding or config.baselines or config.deployment
    return evaluation, (encoded if keep else None)


def count_truncation(
    model: SentenceTransformer, data: RetrievalData, config: FinetuneConfig
) -> None:
    """Add truncated_queries/truncated_documents (texts over max_seq_length) to data.report."""
    data.report.update(
        count_truncated(
            model, data, query_prompt=config.query_prompt, document_prompt=config.document_prompt
        )
    )


def run_finetune(config: FinetuneConfig) -> dict[str, Any]:
    """The whole job: data, base evaluation, training with selection, one test evaluation of the
    selected model, save, report. Outputs appear together when the run completes."""
    check_base_model_outside_output(config.base_model, config.output)
    require_index_package(config.index)  # --index faiss-* without faiss: refused before work
    # under torchrun / accelerate launch: one job across the processes
    distributed.init(float(config.extra.get("ddp_timeout", 1800)))
    with parallel_encoding.for_run(config.encode_processes):  # every shared_encoding block
        if not distributed.is_main_process():
            return _run_finetune(config)  # trains and serves encodings; writes nothing
        with output_lock(config.output):
            return _run_finetune(config)


def resolve_sequence_length(
    config: FinetuneConfig, data: RetrievalData, tokenizer: Any = None
) -> tuple[FinetuneConfig, dict[str, Any]]:
    """The config with max_seq_length resolved (from the data unless set) and the evidence
    for results.json `sequence_length` (embedtune.data.sequence_length). `tokenizer`: the
    base model's (loaded from the base model when None)."""
    from embedtune.data.sequence_length import choose_length
    from embedtune.model_info import read_model_info

    if tokenizer is None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(
            config.base_model, trust_remote_code=config.trust_remote_code
        )
    info = read_model_info(config.base_model)
    documents = [*data.corpus.values(), *data.train[DOCUMENT]]
    block = choose_length(
        tokenizer,
        documents,
        model_limit=info.max_seq_length or info.position_limit or 512,
        setting=config.max_seq_length,
        prompt=config.document_prompt,
        batch_size=config.batch_size,
        seed=config.seed,
    )
    if config.max_seq_length is None:
        logger.info(
            "max_seq_length %d from the data (%s; %.0f%% of documents longer)",
            block["max_seq_length"],
            block["rule"],
            100 * block["truncated_documents_fraction"],
        )
    return dataclasses.replace(config, max_seq_length=block["max_seq_length"]), block


def _run_finetune(config: FinetuneConfig) -> dict[str, Any]:
    output = Path(config.output)
    timings = Timings()
    with timings.phase("load_data"):
        data = load_data(config)
        require_validation(data, config)  # too few pairs to select on: refused before weights
        guard = load_guard(config)  # an unusable --guard-data is refused here, before training
    if config.export:  # so is an --export whose package is missing
        from embedtune.export.for_run import check_export_setting

        check_export_setting(config)
    with timings.phase("load_model"):
        model = load_base_model(config)
        config, sequence_length = resolve_sequence_length(config, data, model.tokenizer)
        model.max_seq_length = config.max_seq_length
    if distributed.is_main_process():
        count_truncation(model, data, config)
    logger.info("Evaluating the base model on the test queries at dims %s", config.dims)
    with timings.phase("base_evaluation"), distributed.shared_encoding(model) as runs_here:
        # rank 0 scores, all ranks encode; the encoding is kept for mining and validation
        before, encoded = (
            evaluate_test(model, data, config, keep_encoding=True, label="base model")
            if runs_here
            else (None, None)
        )
    encoded = encoded.cpu() if encoded is not None else None  # kept while the model trains
    embeddings = None
    if encoded is not None:  # the base's document embeddings: one encoding serves them all
        embeddings = DocumentEmbeddings.from_encoded(
            model,
            encoded,
            data,
            prompt=config.document_prompt,
            batch_size=config.eval_batch_size,
        )
    if not (config.baselines or config.deployment):
        encoded = None
    if guard is not None:
        logger.info("Evaluating the base model on the guard %s", guard.source)
        with timings.phase("guard_evaluation"):
            guard.base = distributed.on_main(model, lambda: evaluate_guard(model, guard, config))
    outcome = train(
        config, model, data, output, guard=guard, embeddings=embeddings, timings=timings
    )
    encoding_reuse = _encoding_reuse(embeddings)
    del embeddings
    if outcome.selected == "base":
        after = before  # the same weights: no second evaluation (nor encoding)
    else:
        logger.info("Evaluating the finetuned model on the test queries")
        with (
            timings.phase("final_evaluation"),
            distributed.shared_encoding(outcome.model) as runs_here,
        ):
            if runs_here:
                after, encoded = evaluate_test(outcome.model, data, config, label="finetuned model")
    if not distributed.is_main_process():
        return {}  # rank 0 writes the outputs
    staged = StagedOutputs(output)
    with timings.phase("writing"):
        published = publish_model(outcome.model, config, staged.staging)
    results = finetune_results(
        config,
        before=before,
        after=after,
        data=data,
        training=outcome.summary.as_dict(),
        selection=outcome.selection,
        extra={
            **published,
            **guard_and_merge_blocks(
                outcome.model, config, selected=outcome.selected, guard=guard, merge=outcome.merge
            ),
            "sequence_length": sequence_length,
            **({"encoding_reuse": encoding_reuse} if encoding_reuse else {}),
        },
    )
    evaluations = {"base": before, "finetuned": after}
    with timings.phase("baselines"):
        comparisons = compare_with_baselines(
            config,
            data,
            evaluations[outcome.selected],
            encoded,
            dense_label=outcome.selected,  # the base kept: the baselines face the base
            model_name=selected_model_name(config, outcome.selected),
        )
        add_comparisons(results, evaluations, comparisons, staged.staging)
    if config.export:  # OUTPUT/model-<format>, scored and timed against the torch model
        from embedtune.export.for_run import export_for_run

        with timings.phase("export"):
            results["export"] = export_for_run(
                config, staged.staging, data, after, outcome.model, model_label=outcome.selected
            )
    with timings.phase("writing"):
        results["timings"] = timings.as_dict()  # "writing" so far; the files follow
        results["total_seconds"] = results["timings"]["total"]
        replaced = write_run(staged, config, results, evaluations, data)
        remove_finished_checkpoints(config)  # the run finished: nothing left to resume
    if replaced:
        logger.info("Replaced the earlier run's %s", ", ".join(replaced))
    logger.info("Wrote %s/{model,results.json,evaluation.png,report.html,per_query.json}", output)
    logger.info("Time by phase: %s", timings.as_dict())
    return results


def _encoding_reuse(embeddings: DocumentEmbeddings | None) -> dict[str, int] | None:
    """results.json `encoding_reuse`: documents served from the base test encoding (mining,
    validation corpus) and documents that still had to be encoded."""
    if embeddings is None:
        return None
    return {"reused_documents": embeddings.reused, "encoded_documents": embeddings.encoded}


def config_for_model(config: FinetuneConfig, model_path: str) -> FinetuneConfig:
    """The run's config with `model_path` as the model, dims re-resolved for it."""
    if config.base_model == model_path:
        return config
    from embedtune.model_info import read_model_info

    dim = read_model_info(model_path).dimension
    dims = config.dims if config.dims and config.dims[0] <= dim else None
    best_dim = config.best_dim if dims else None
    return dataclasses.replace(config, base_model=model_path, dims=dims, best_dim=best_dim)


def run_evaluate(model_path: str, config: FinetuneConfig) -> dict[str, Any]:
    """Evaluate one model on the held-out part of the data; same results shape, one model."""
    config = config_for_model(config, model_path)
    require_index_package(config.index)  # --index faiss-* without faiss: refused before work
    with output_lock(config.output):
        staged = StagedOutputs(config.output)
        results, evaluations, data = _evaluate_model(model_path, config, staged.staging)
        write_run(staged, config, results, evaluations, data)
    return results


def _evaluate_model(
    model_path: str, config: FinetuneConfig, folder: Path
) -> tuple[dict[str, Any], dict[str, RetrievalEvaluation], RetrievalData]:
    data = load_data(config, require_train=False)
    model = load_model(
        model_path, max_seq_length=config.max_seq_length, trust_remote_code=config.trust_remote_code
    )
    return evaluate_loaded(model, model_display_name(model_path), data, config, folder)


def evaluate_loaded(
    model: Any,
    model_name: str,
    data: RetrievalData,
    config: FinetuneConfig,
    folder: Path,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, RetrievalEvaluation], RetrievalData]:
    """An evaluate run's results of a loaded model (a SentenceTransformer, or anything that
    encodes like one: an exported ONNX/OpenVINO folder), with baselines and deployment as asked."""
    count_truncation(model, data, config)
    with parallel_encoding.encoding_processes(model, config.encode_processes):
        evaluation, encoded = evaluate_test(model, data, config, label=model_name)
    results = build_results(
        dims=config.dims,
        evaluations={"model": evaluation},
        data=data_block(data, config),
        training=None,
        hardware=describe_hardware(),
        extra={
            "model_name": model_name,
            **(extra or {}),
            "output_dir": str(config.output),
            "protocol": {**data.protocol, "ignore_identical_ids": config.ignore_identical_ids},
            "provenance": provenance(seed=config.seed, data=data),
            **results_search_block({"model": evaluation.search}),
        },
    )
    evaluations = {"model": evaluation}
    comparisons = compare_with_baselines(
        config, data, evaluation, encoded, dense_label="model", model_name=model_name
    )
    add_comparisons(results, evaluations, comparisons, folder)
    return results, evaluations, data


def run_evaluate_exported(folder: str | Path, config: FinetuneConfig) -> dict[str, Any]:
    """As workflow.run_evaluate, with the exported encoder in place of the torch model."""
    require_index_package(config.index)
    with output_lock(config.output):
        staged = StagedOutputs(config.output)
        results, evaluations, data = _evaluate_exported(
            Path(folder).expanduser(), config, staged.staging
        )
        write_run(staged, config, results, evaluations, data)
    return results


def _evaluate_exported(folder: Path, config: FinetuneConfig, staging: Path) -> tuple[Any, Any, Any]:
    from embedtune.export.loader import load_exported, read_record

    data = load_data(config, require_train=False)
    record = read_record(folder)
    encoder = load_exported(folder, max_seq_length=config.max_seq_length)
    logger.info("Evaluating the exported model %s (%s)", folder, record["name"])
    exported = {
        "format": record["format"],
        "precision": record["precision"],
        "file": record["file"],
        "source_model": record.get("source_model"),
        "max_seq_length": encoder.max_seq_length,
    }
    name = model_display_name(str(folder))
    return evaluate_loaded(encoder, name, data, config, staging, {"exported": exported})
