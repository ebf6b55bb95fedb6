"""The CLI's stdout summary and ZenML metadata, made from results.json."""

from __future__ import annotations

import json

from zenml.metadata.metadata_types import validate_metadata

from embedtune.reporting.summary import cli_summary, metadata_summary
from tests.reporting.results_helpers import evaluate_results, finetune_results

MIXED = {384: 0.04, 256: 0.03, 128: 0.0, 64: -0.05}


def test_cli_summary_of_a_finetune_run():
    summary = json.loads(json.dumps(cli_summary(finetune_results(MIXED))))
    assert summary["kind"] == "finetune" and summary["base_model"] == "all-MiniLM-L6-v2"
    assert summary["selected_model"] == "finetuned" and summary["improved_on_validation"] is True
    assert summary["verdict"].startswith("Finetuned model kept")
    assert summary["protocol"]["split"] == "given"
    assert summary["dims"][0] == {
        "dim": 384,
        "base": 0.645,
        "finetuned": 0.685,
        "gain": 0.04,
        "interval": [0.02, 0.06],
        "verdict": "win",
    }
    assert [row["verdict"] for row in summary["dims"]] == ["win", "win", "tie", "loss"]
    assert summary["outputs"] == {
        "results": "outputs/embedtune/results.json",
        "report": "outputs/embedtune/report.html",
        "chart": "outputs/embedtune/evaluation.png",
        "per_query": "outputs/embedtune/per_query.json",
        "model": "outputs/embedtune/model",
    }


def test_cli_summary_of_a_base_kept_run_and_of_an_evaluation():
    kept = cli_summary(finetune_results(base_kept=True))
    assert kept["selected_model"] == "base" and kept["improved_on_validation"] is False
    assert "the saved model is the base model" in kept["verdict"]
    evaluated = cli_summary(evaluate_results())
    assert evaluated["model"] == "my-team/retriever-v3" and "selected_model" not in evaluated
    assert evaluated["dims"][0] == {"dim": 384, "model": 0.685}
    assert "model" not in evaluated["outputs"] and "base" not in json.dumps(evaluated)


def test_metadata_summary_is_accepted_by_zenml_and_has_no_nulls():
    for results in (finetune_results(MIXED), finetune_results(base_kept=True), evaluate_results()):
        metadata = metadata_summary(results)
        assert validate_metadata(metadata) == metadata
        assert None not in metadata.values()
    metadata = metadata_summary(finetune_results(MIXED))
    assert metadata["selected_model"] == "finetuned" and metadata["split"] == "given"
    assert metadata["tests"] == {"win": 2, "tie": 1, "loss": 1}
    assert metadata["dims"]["64"]["verdict"] == "loss"


def test_cli_summary_names_the_data_source():
    assert cli_summary(finetune_results())["data_source"] == "tests/fixtures/legal_rag_synthetic"
    results = finetune_results()
    del results["data"]["source"]
    del results["training"]  # an older file: no source recorded anywhere
    assert "demonstration data" in cli_summary(results)["data_source"]
