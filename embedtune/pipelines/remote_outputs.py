"""After a run on a remote orchestrator, OUTPUT gets its files from the run's artifacts.

On the local orchestrator the steps write OUTPUT themselves. On a remote one (Kubernetes,
SageMaker, Vertex, even the local Docker orchestrator) they write it on a container's disk, which
is gone after the run; what lasts is in the artifact store: the `finetuned_model` artifact (the
selected model), the `evaluation_report` artifact (results.json, evaluation.png,
report.html, per_query.json and, with --deployment, deployment.json) and, with --export, the
`exported_model` artifact (model-<format>). `copy_run_outputs` rebuilds OUTPUT from those, with
the same staged swap as a local run, so `--output` holds the same files either way.

A step that needs STAGING/model (the export, the Hub push) may run in another container than
`save_model`, which wrote it: `ensure_model_folder` writes it again there from the model.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedtune.io import write_json_atomic, write_text_atomic
from embedtune.reporting.model_card import write_model_card
from embedtune.reporting.results import write_results
from embedtune.results_schema import DEPLOYMENT_FILE
from embedtune.run_files import publish_model, save_model_folder
from embedtune.run_outputs import StagedOutputs

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from embedtune.config import FinetuneConfig

logger = logging.getLogger(__name__)

LOCAL_FLAVOR = "local"  # the only orchestrator that runs the steps in this process


def runs_in_this_process() -> bool:
    """Whether the active stack's orchestrator runs the steps here (and so writes OUTPUT)."""
    from zenml.client import Client

    return Client().active_stack.orchestrator.flavor == LOCAL_FLAVOR


def ensure_model_folder(
    load_model: Callable[[], SentenceTransformer], config: FinetuneConfig, staging: str | Path
) -> bool:
    """STAGING/model as `save_model` wrote it; when this step runs elsewhere (a remote
    orchestrator: each step its own container) it is written here from `load_model()` (the
    `finetuned_model` artifact). Returns whether it had to be written."""
    if (Path(staging) / "model").is_dir():
        return False
    logger.info("%s/model is not on this machine: writing it from the model artifact", staging)
    publish_model(load_model(), config, staging)
    return True


def copy_run_outputs(run: Any, output: str | Path) -> list[str]:
    """Write model/, results.json, evaluation.png, report.html, per_query.json (and
    deployment.json, model-<format> when the run made them) of a finished
    `finetune_embeddings` run into `output` from its artifacts; returns the names written."""
    report = run.steps["visualize_evaluation"].outputs["evaluation_report"][0].load()
    model = run.steps["finetune_model"].outputs["finetuned_model"][0].load()
    staged = StagedOutputs(output)
    model_dir = save_model_folder(model, staged.staging / "model")
    write_model_card(Path(model_dir), report.results)
    (staged.staging / "evaluation.png").write_bytes(report.chart_png)
    write_text_atomic(staged.staging / "report.html", report.html)
    if report.per_query is not None:
        write_json_atomic(staged.staging / "per_query.json", report.per_query)
    if report.deployment is not None:
        write_json_atomic(staged.staging / DEPLOYMENT_FILE, report.deployment)
    if "export_model" in run.steps:  # --export: OUTPUT/model-<format>
        exported = run.steps["export_model"].outputs["exported_model"][0].load()
        shutil.copytree(exported.path, staged.staging / exported.name)
    write_results(staged.staging / "results.json", report.results)
    names = sorted(p.name for p in staged.staging.iterdir())
    staged.commit()
    logger.info("Copied the outputs of ZenML run %s into %s", run.name, output)
    return names
