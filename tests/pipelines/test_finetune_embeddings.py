"""One end-to-end run of the ZenML pipeline on a tiny subset, through a real local ZenML store."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ZENML_QA
from tests.helpers import assert_selection_contract
from tests.reporting.results_helpers import assert_valid_results


@pytest.mark.slow
def test_finetune_embeddings_pipeline_end_to_end(tmp_path, base_model_path):
    from zenml.client import Client

    from embedtune.config import load_config
    from embedtune.pipelines.finetune_embeddings import MODEL_NAME, run_pipeline
    from embedtune.workflow import run_finetune

    settings = dict(
        data=str(ZENML_QA / "pairs.jsonl"),
        max_seq_length=32,
        max_train_pairs=32,
        batch_size=16,
        dims=[384, 128],
        epochs=1,
        eval_every=0.5,
        validation_fraction=0.25,
        keep_checkpoints=True,  # the selection contract compares model/ with the best checkpoint
    )
    config = load_config(**settings, output=str(tmp_path / "out"))
    results = run_pipeline(config)
    # The job is written once: the CLI run on the same data and seed gives the same results.json
    # but for times and paths.
    cli = run_finetune(load_config(**settings, output=str(tmp_path / "cli")))
    found = differences(comparable(cli), comparable(results))
    assert not found, "\n".join(found)
    assert results["dims"] == [384, 128]
    on_disk = assert_valid_results(tmp_path / "out" / "results.json")
    assert on_disk["finetuned"] == results["finetuned"]
    assert on_disk["selection"] == results["selection"]
    # Whichever model won on validation (tiny data may keep the base), the run says so
    # consistently and model/ holds that model.
    selected = assert_selection_contract(results, tmp_path / "out", base_model_path)
    assert (tmp_path / "out" / "model" / "model.safetensors").is_file()
    assert (tmp_path / "out" / "evaluation.png").is_file()
    # The pipeline writes the same outputs as the CLI path.
    assert (tmp_path / "out" / "report.html").read_text().startswith("<!")
    per_query = json.loads((tmp_path / "out" / "per_query.json").read_text())
    assert set(per_query["models"]) == {"base", "finetuned", "bm25", "hybrid"}  # baselines on
    assert {"comparison", "provenance", "hardware", "training"} <= set(results)
    assert "truncated_documents" in results["data"]
    # where the time went, from the steps' own phases
    assert {"base_evaluation", "training", "final_evaluation", "total"} <= set(results["timings"])

    client = Client()
    run = client.get_pipeline("finetune_embeddings").last_run
    assert run.status == "completed"
    assert set(run.steps) >= {
        "load_and_split_data",
        "evaluate_base_model",
        "finetune_model",
        "evaluate_finetuned_model",
        "save_model",
        "visualize_evaluation",
    }
    # The model is stored as a safetensors folder, not a pickle.
    model_artifact = run.steps["finetune_model"].outputs["finetuned_model"][0]
    files = {p.name for p in __import__("pathlib").Path(model_artifact.uri).rglob("*")}
    assert "model.safetensors" in files and not any(f.endswith((".pkl", ".pickle")) for f in files)

    version = client.get_model_version(MODEL_NAME)
    metadata = version.run_metadata
    assert {"training_parameters", "hardware", "base_evaluation", "finetuned_evaluation"} <= set(
        metadata
    )
    assert metadata["training_parameters"]["max_seq_length"] == 32
    assert metadata["results"]["selected_model"] == selected
    # The model version is tagged with what it holds.
    tags = {tag.name for tag in version.tags}
    assert ("finetuned" if selected == "finetuned" else "base-kept") in tags
    assert not {"finetuned", "base-kept"} <= tags
    artifact_names = set(version.data_artifacts) | set(version.model_artifacts)
    assert {"train_pairs", "test_set", "finetuned_model", "evaluation_report"} <= artifact_names
    # The reloaded model artifact is a working SentenceTransformer.
    reloaded = model_artifact.load()
    assert reloaded.encode(["hello"]).shape == (1, 384)


# Keys whose values are times, machine paths or process facts: they differ between any two runs.
VOLATILE = {
    "timings",
    "total_seconds",
    "seconds",
    "train_seconds",
    "samples_per_second",
    "steps_per_second",
    "output_dir",
    "model_path",
    "adapter_path",
    "command",
    "created",
    "git_commit",
    "git_dirty",
    # the pipeline's steps run apart (possibly on other machines): its finetune step encodes
    # the corpus itself instead of reusing the base evaluation's encoding
    "encoding_reuse",
}
VOLATILE_SUFFIXES = ("_runtime", "_per_second", "_seconds")  # trainer and sweep timings


def comparable(value):
    """results.json without times and paths (see VOLATILE), floats to 6 decimals."""
    if isinstance(value, dict):
        return {
            k: comparable(v)
            for k, v in value.items()
            if k not in VOLATILE and not k.endswith(VOLATILE_SUFFIXES)
        }
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, str) and "/tmp" in value:
        return "<path>"
    return value


def differences(a, b, where="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                found.append(f"{where}/{key}: only in {'pipeline' if key in b else 'cli'}")
            else:
                found += differences(a[key], b[key], f"{where}/{key}")
        return found
    return [] if a == b else [f"{where}: cli {a!r} != pipeline {b!r}"[:300]]
