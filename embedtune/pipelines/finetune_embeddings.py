"""ZenML pipeline `finetune_embeddings`: load/split -> evaluate base -> finetune -> evaluate
finetuned -> save -> visualize. Every step is a thin wrapper over embedtune.workflow."""

from __future__ import annotations

import logging
from typing import Any

from zenml import Model, pipeline

from embedtune.config import FinetuneConfig
from embedtune.export.for_run import check_export_setting
from embedtune.pipelines.remote_outputs import copy_run_outputs, runs_in_this_process
from embedtune.pipelines.remote_settings import RemoteSettings, apply_remote_settings
from embedtune.pipelines.run_links import run_links
from embedtune.pipelines.transport import transport_dict
from embedtune.run_outputs import check_base_model_outside_output, output_lock
from embedtune.search import require_index_package
from embedtune.steps.data_loader import load_and_split_data
from embedtune.steps.evaluators import evaluate_base_model, evaluate_finetuned_model
from embedtune.steps.export import export_model
from embedtune.steps.reporter import save_model, visualize_evaluation
from embedtune.steps.trainer import finetune_model

logger = logging.getLogger(__name__)
MODEL_NAME = "embedtune-finetuned-embeddings"


@pipeline(enable_cache=False)
def finetune_embeddings(config: dict[str, Any], sequence_length: dict | None = None) -> None:
    """`sequence_length`: how max_seq_length was chosen (results.json `sequence_length`)."""
    train_pairs, test_set = load_and_split_data(config)
    base_evaluation = evaluate_base_model(train_pairs, test_set, config)
    model, training_summary = finetune_model(train_pairs, test_set, config)
    finetuned_evaluation, baselines = evaluate_finetuned_model(
        model, train_pairs, test_set, base_evaluation, training_summary, config
    )
    published = save_model(model, config)
    export = None
    if config.get("export"):  # the saved model exported, re-scored and timed
        export, _ = export_model(
            model, published, finetuned_evaluation, training_summary, train_pairs, test_set, config
        )
    visualize_evaluation(
        base_evaluation,
        finetuned_evaluation,
        baselines,
        training_summary,
        test_set,
        train_pairs,
        published,
        config,
        export=export,
        finetuned_model=model,
        sequence_length=sequence_length,
    )


def run_pipeline(
    config: FinetuneConfig,
    model_name: str = MODEL_NAME,
    remote: RemoteSettings | None = None,
    run_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the pipeline on the active ZenML stack; returns the results.json content. `remote`:
    Docker, resource and step operator settings for a remote stack (configs/remote.yaml); on
    a remote orchestrator OUTPUT is then filled from the run's artifacts. `run_info`, when
    given, is filled with the run's id, model version and dashboard URL (`run_links`)."""
    model = Model(
        name=model_name,
        description="Sentence-embedding model finetuned for retrieval by embedtune",
        tags=["embeddings", "retrieval", "matryoshka"],
    )
    pipeline_ = finetune_embeddings.with_options(model=model)
    if remote is not None:
        pipeline_ = apply_remote_settings(pipeline_, remote)
    check_base_model_outside_output(config.base_model, config.output)
    if remote is None:  # local steps: --index faiss-* needs faiss here (a remote image has its own)
        require_index_package(config.index)
        check_export_setting(config)  # --export: its packages, before any training
    sequence_length = None
    if remote is None:
        # every step rebuilds the config: the length the data needs is resolved once, here,
        # and recorded as the CLI run records it
        from embedtune.workflow import load_data, resolve_sequence_length

        config, sequence_length = resolve_sequence_length(config, load_data(config))
    with output_lock(config.output):  # the local orchestrator runs the steps in this process
        run = pipeline_(config=transport_dict(config), sequence_length=sequence_length)
        if not runs_in_this_process():  # the steps wrote OUTPUT on a container's disk
            copy_run_outputs(run, config.output)
    report = run.steps["visualize_evaluation"].outputs["evaluation_report"][0].load()
    version = run.model_version.name if run.model_version else "?"
    links = run_links(run)
    logger.info(
        "ZenML run %s finished; model %s version %s (%s)%s",
        run.name,
        model_name,
        version,
        report.results["verdict"]["selected"],
        f"; dashboard: {links['dashboard_url']}" if "dashboard_url" in links else "",
    )
    if run_info is not None:
        run_info.update(links)
    return report.results
