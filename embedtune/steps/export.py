"""Step: export the saved model (ONNX / OpenVINO, fp32 / int8) beside it, score it against the
torch model on the test queries and time both (config.export; embedtune.export.for_run)."""

from __future__ import annotations

from typing import Annotated, Any

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from zenml import log_metadata, step

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import RetrievalEvaluation
from embedtune.export.for_run import export_for_run
from embedtune.run_outputs import StagedOutputs


@step
def export_model(
    model: SentenceTransformer,
    published_model: dict,
    finetuned_evaluation: dict,
    training_summary: dict,
    train_pairs: Dataset,
    test_set: dict,
    config: dict[str, Any],
) -> Annotated[dict, "export"]:
    """STAGING/model-<format> from STAGING/model, results.json's export block
    (`published_model`, save_model's output, orders this step after it)."""
    settings = FinetuneConfig(**config)
    block = export_for_run(
        settings,
        StagedOutputs(settings.output, fresh=False).staging,
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
    return block
