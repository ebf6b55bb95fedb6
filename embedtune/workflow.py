"""The finetuning job as plain functions: what the CLI runs and the ZenML steps wrap.

config = load_config(...)                      # resolved once: dims, base model, lengths
data = load_data(config)                       # load, clean, split by the protocol
base = load_base_model(config)                 # the one load of the base model
before = evaluate(base, data, config)          # test queries, once per model
outcome = train(config, base, data, output)    # mine, train, select on validation (base included)
after = outcome.test_evaluation or evaluate(outcome.model, data, config)
results = finetune_results(...); write_outputs(...)

The selected model's test encoding also serves the baselines (BM25, hybrid) and the deployment
matrix (`add_baselines_and_deployment`): one encoding per model.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentence_transformers import SentenceTransformer
from transformers import set_seed

from embedtune import distributed
from embedtune.config import FinetuneConfig, model_display_name
from embedtune.data.protocol import BY_DOCUMENT
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, RetrievalData
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.truncation import count_truncated
from embedtune.evaluation.bootstrap import (
    compare_tables,
    describe_comparison,
    per_query_table,
)
from embedtune.evaluation.embedding_cache import DocumentEmbeddings, candidate_ranker
from embedtune.evaluation.retrieval import (
    EncodedTask,
    RetrievalEvaluation,
    encode_task,
    evaluate_retrieval,
)
from embedtune.evaluation.trainer_evaluator import describe_selection_metric, selection_score
from embedtune.evaluation.verdict import verdict_block
from embedtune.guard.outputs import guard_and_merge_blocks
from embedtune.guard.task import Guard, evaluate_guard, load_guard
from embedtune.io import write_dir_atomic, write_json_atomic
from embedtune.merging.run import MergeOutcome, merge_after_training
from embedtune.output_folder import CHECKPOINTS_DIR
from embedtune.reporting.chart import plot_evaluation
from embedtune.reporting.hardware import describe_hardware
from embedtune.reporting.html_report import write_html_report
from embedtune.reporting.model_card import write_model_card
from embedtune.reporting.per_query import per_query_file, per_query_view
from embedtune.reporting.provenance import data_fingerprint, provenance
from embedtune.reporting.results import build_results, write_results
from embedtune.reporting.results_schema import DEPLOYMENT_FILE, MODEL_DIR
from embedtune.run_outputs import StagedOutputs, check_base_model_outside_output, output_lock
from embedtune.search import require_index_package
from embedtune.search.report import results_search_block
from embedtune.timings import Timings
from embedtune.training.checkpoint_cleanup import remove_finished_checkpoints
from embedtune.training.finetune import TrainingSummary
from embedtune.training.hard_negatives import add_hard_negatives
from embedtune.training.lora import (
    add_lora,
    check_lora,
    finish_lora,
    learning_rates,
    publish_adapter,
    restore_weights,
    trained_weights,
)
from embedtune.training.model_loading import load_model
from embedtune.training.resume_guard import check_resume, write_run_record
from embedtune.training.selection import (
    ValidationSplit,
    carve_validation,
    require_validation,
    selection_block,
    validation_curve,
)
from embedtune.training.sweep import sweep_learning_rates

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
) -> RetrievalEvaluation:
    """One evaluation of `model` on `data`'s queries at every dim (one progress bar: the corpus).
    `encoded`: the model's encoding of `data` (encode), used instead of encoding again."""
    return evaluate_retrieval(
        model,
        data,
        config.dims,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
        ignore_identical_ids=config.ignore_identical_ids,
        show_progress_bar=show_progress_bar,
        encoded=encoded,
        index=config.index,
    )


def evaluate_test(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    keep_encoding: bool = False,
) -> tuple[RetrievalEvaluation, EncodedTask | None]:
    """The test evaluation, and its encoding when the baselines or the deployment matrix will
    reuse it, or `keep_encoding` (else None: nothing held in memory)."""
    encoded = encode_task(
        model,
        data,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
        show_progress_bar=True,
    )
    evaluation = evaluate(model, data, config, encoded=encoded)
    keep = keep_encoding or config.baselines or config.deployment
    return evaluation, (encoded if keep else None)


def add_baselines_and_deployment(
    results: dict[str, Any],
    evaluations: dict[str, RetrievalEvaluation],
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    encoded: EncodedTask | None,
    dense_label: str,
    model_name: str,
    folder: str | Path,
) -> None:
    """As the config asks: results["baselines"] (BM25 and hybrid against the `dense_label`
    model) with their per-query scores added to `evaluations` ("bm25", "hybrid"), and
    FOLDER/deployment.json with its summary in results["deployment"]. `encoded` is the
    `dense_label` model's test encoding."""
    if encoded is None:
        return
    if config.baselines:
        from embedtune.baselines.block import baselines_for_run

        results["baselines"], extra = baselines_for_run(
            data,
            evaluations[dense_label],
            encoded,
            dense_label=dense_label,
            verdict_dim=config.verdict_dim,
            ignore_identical_ids=config.ignore_identical_ids,
        )
        evaluations.update(extra)
    if config.deployment:
        from embedtune.deployment.outputs import write_deployment

        results["deployment"] = write_deployment(
            folder,
            encoded,
            data,
            config.dims,
            model_label=dense_label,
            model_name=model_name,
            ignore_identical_ids=config.ignore_identical_ids,
        )


def mine_negatives(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    embeddings: DocumentEmbeddings | None = None,
) -> tuple[RetrievalData, dict | None]:
    """Hard negatives from the base model; the candidate pool follows the protocol.
    `embeddings`: the base model's document embeddings, reused for the pool."""
    if not config.hard_negatives:
        return data, None
    if NEGATIVE in data.train.column_names:
        logger.info("The data has its own negatives: hard-negative mining skipped")
        return data, None
    shared_corpus = data.protocol.get("split", BY_DOCUMENT) != BY_DOCUMENT
    cross_encoder = None
    if config.rescore_model:
        from embedtune.training.model_loading import load_cross_encoder

        cross_encoder = load_cross_encoder(config.rescore_model)
    train, report = add_hard_negatives(
        data.train,
        model,
        num_negatives=config.num_negatives,
        corpus=list(data.corpus.values()) if shared_corpus else None,
        cross_encoder=cross_encoder,
        range_min=config.hard_negative_range_min,
        range_max=config.hard_negative_range_max,
        relative_margin=config.hard_negative_relative_margin,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
        seed=config.seed,
        index=config.index,
        embeddings=embeddings,
    )
    return dataclasses.replace(data, train=train), report.as_dict()


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


@dataclass
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
    with timings.phase("validation_split"):
        carved = carved or carve_validation(
            data, config, ranker=candidate_ranker(model, embeddings, config)
        )
    base_score = None
    if carved.validation is not None:
        validation = carved.validation
        with timings.phase("base_validation"):
            base_validation = distributed.on_main(
                model, lambda: evaluate(model, validation, config, show_progress_bar=False)
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
    guide = copy.deepcopy(model) if config.loss == "gist" else None
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


def save_model_folder(model: SentenceTransformer, path: str | Path) -> Path:
    """safetensors + the Sentence Transformers model card, swapped into place atomically."""
    return write_dir_atomic(
        path, lambda tmp: model.save_pretrained(str(tmp), safe_serialization=True)
    )


def write_chart_and_results(output: str | Path, results: dict[str, Any]) -> tuple[Path, Path]:
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


def data_block(data: RetrievalData, config: FinetuneConfig) -> dict[str, Any]:
    """results.json "data": sizes and counts, where the data came from and how it was read."""
    source = config.data or "built-in Python documentation (offline queries)"
    return {**data.summary(), "source": source, "layout": data.layout or "unknown"}


def write_per_query(output: str | Path, table: dict[str, Any]) -> Path:
    """OUTPUT/per_query.json: every model's per-query scores and the texts, from which
    `embedtune.evaluation.bootstrap.compare_tables` recomputes the comparison."""
    path = Path(output) / "per_query.json"
    write_json_atomic(path, table)
    return path


def write_html(output: str | Path, results: dict[str, Any]) -> Path:
    """OUTPUT/report.html: chart, base vs finetuned table with intervals, data, training."""
    return write_html_report(results, Path(output) / "report.html")


def write_outputs(
    output: str | Path,
    results: dict[str, Any],
    evaluations: dict[str, RetrievalEvaluation],
    data: RetrievalData,
) -> None:
    """per_query.json, report.html, evaluation.png, then results.json (last: marks a finished
    run); adds the per-query view (counts, worst and best queries) to `results`."""
    table = per_query_file(evaluations, data)
    results["per_query"] = per_query_view(table)
    write_per_query(output, table)
    model_dir = Path(output) / "model"
    if results.get("kind") == "finetune" and model_dir.is_dir():
        write_model_card(model_dir, results)
    write_html(output, results)
    write_chart_and_results(output, results)


def drop_stale_deployment(output: str | Path, results: dict[str, Any]) -> None:
    """After the swap: a deployment.json an earlier run left, which this run's results.json
    does not describe, is removed (the swap only replaces the files a run writes)."""
    stale = Path(output) / DEPLOYMENT_FILE
    if "deployment" not in results and stale.is_file():
        stale.unlink()
        logger.info("Removed the earlier run's %s (this run has no deployment matrix)", stale)
    _drop_stale_exports(Path(output), (results.get("export") or {}).get("name"))


def _drop_stale_exports(output: Path, kept: str | None) -> None:
    """OUTPUT/model-<format> folders of an earlier run's --export (recognised by their export
    record) that this run's results.json does not describe: their model is not this run's."""
    from embedtune.config import EXPORTS
    from embedtune.export.formats import EXPORT_RECORD

    for name in EXPORTS:
        folder = output / f"{MODEL_DIR}-{name}"
        if name != kept and (folder / EXPORT_RECORD).is_file():
            shutil.rmtree(folder)
            logger.info("Removed the earlier run's %s (not this run's model)", folder)


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
    before: RetrievalEvaluation,
    after: RetrievalEvaluation,
    data: RetrievalData,
    training: dict[str, Any],
    selection: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """results.json content of a finetuning run (shared by the CLI path and the ZenML pipeline)."""
    comparison = compare(before, after)
    verdict = verdict_block(selection, comparison)
    log = logger.warning if verdict["selected"] == "base" else logger.info
    log("Verdict: %s", verdict["message"])
    return build_results(
        dims=config.dims,
        evaluations={"base": before, "finetuned": after},
        data=data_block(data, config),
        training={**config.public_dict(), **training},
        hardware=describe_hardware(),
        extra={
            "base_model": config.base_model,
            "base_model_name": config.base_model_name,
            "comparison": comparison,
            "protocol": {**data.protocol, "ignore_identical_ids": config.ignore_identical_ids},
            "selection": selection,
            "verdict": verdict,
            "provenance": provenance(seed=config.seed, data=data),
            "output_dir": str(config.output),
            **results_search_block({"base": before.search, "finetuned": after.search}),
            **(extra or {}),
        },
    )


def publish_model(
    model: SentenceTransformer, config: FinetuneConfig, folder: str | Path | None = None
) -> dict[str, Any]:
    """Save the model into `folder` (default OUTPUT; a staging folder while a run builds its
    outputs); returns what results.json records about it."""
    model_dir = save_model_folder(model, Path(folder or config.output) / "model")
    published = {"model_path": str(Path(config.output) / "model")}
    if adapter := publish_adapter(config, model_dir):  # LoRA: MODEL/adapter, the unmerged one
        published["adapter_path"] = adapter
    return published


def push_if_asked(config: FinetuneConfig, folder: str | Path, results: dict[str, Any]) -> None:
    """Push FOLDER/model (with its model card) when --push-to-hub was given; results.json
    records the outcome. A failed push leaves the local run successful."""
    if not config.push_to_hub:
        return
    from embedtune.hub import push_model

    results["push_to_hub"] = push_model(Path(folder) / "model", config.push_to_hub)
    write_chart_and_results(folder, results)


def run_finetune(config: FinetuneConfig) -> dict[str, Any]:
    """The whole job: data, base evaluation, training with selection, one test evaluation of the
    selected model, save, report. Outputs appear together when the run completes."""
    check_base_model_outside_output(config.base_model, config.output)
    require_index_package(config.index)  # --index faiss-* without faiss: refused before work
    # under torchrun / accelerate launch: one job across the processes
    distributed.init(float(config.extra.get("ddp_timeout", 1800)))
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
            evaluate_test(model, data, config, keep_encoding=True) if runs_here else (None, None)
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
                after, encoded = evaluate_test(outcome.model, data, config)
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
        add_baselines_and_deployment(
            results,
            evaluations,
            data,
            config,
            encoded=encoded,
            dense_label=outcome.selected,  # the base kept: the baselines face the base
            model_name=config.base_model_name
            + (" finetuned" if outcome.selected == "finetuned" else ""),
            folder=staged.staging,
        )
    if config.export:  # OUTPUT/model-<format>, scored and timed against the torch model
        from embedtune.export.for_run import export_for_run

        with timings.phase("export"):
            results["export"] = export_for_run(
                config, staged.staging, data, after, outcome.model, model_label=outcome.selected
            )
    with timings.phase("writing"):
        results["timings"] = timings.as_dict()  # "writing" so far; the files follow
        results["total_seconds"] = results["timings"]["total"]
        write_outputs(staged.staging, results, evaluations, data)
        push_if_asked(config, staged.staging, results)
        replaced = staged.commit()
        drop_stale_deployment(output, results)
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
        write_outputs(staged.staging, results, evaluations, data)
        staged.commit()
        drop_stale_deployment(config.output, results)
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
    evaluation, encoded = evaluate_test(model, data, config)
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
    add_baselines_and_deployment(
        results,
        evaluations,
        data,
        config,
        encoded=encoded,
        dense_label="model",
        model_name=model_name,
        folder=folder,
    )
    return results, evaluations, data
