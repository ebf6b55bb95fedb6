"""Step: export the saved model (ONNX / OpenVINO, fp32 / int8) beside it, score it against the
torch model on the test queries and time both (config.export; embedtune.export.for_run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.export.for_run import export_for_run
from embedtune.materializers.folder_materializer import ModelFolder, ModelFolderMaterializer
from embedtune.pipelines.remote_outputs import ensure_model_folder
from embedtune.run_outputs import StagedOutputs


@step(output_materializers={"exported_model": ModelFolderMaterializer})
def export_model(
    model: SentenceTransformer,
    published_model: dict,
    finetuned_evaluation: dict,
    training_summary: dict,
    train_pairs: Dataset,
    test_set: dict,
    config: dict[str, Any],
) -> tuple[Annotated[dict, "export"], Annotated[ModelFolder, "exported_model"]]:
    """STAGING/model-<format> from STAGING/model, results.json's export block
    (`published_model`, save_model's output, orders this step after it), and that folder as
    an artifact (a remote run's OUTPUT gets it from there: pipelines/remote_outputs.py)."""
    settings = FinetuneConfig(**config)
    staging = StagedOutputs(settings.output, fresh=False).staging
    ensure_model_folder(lambda: model, settings, staging)  # save_model ran in another container
    block = export_for_run(
        settings,
        staging,
        RetrievalData.from_parts(train_pairs, test_set),
        RetrievalEvaluation.from_dict(finetuned_evaluation),
        model,
        model_label=training_summary["selection"]["selected"],
    )
    log_metadata(
        metadata={
            "export": {
                "name": block["name"],
                "exported": block["exported"],
                "torch": block["torch"],
                "largest_drop": block["largest_drop"],
                "warnings": block["warnings"],
            }
        },
        infer_model=True,
    )
    name = Path(block["path"]).name  # model-<format>
    return block, ModelFolder(staging / name, name)
