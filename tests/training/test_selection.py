"""Do no harm: when no checkpoint beats the base model on validation, the base is what ships."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.training.selection import carve_validation
from tests.conftest import LEGAL
from tests.helpers import TINY_RUN, assert_selection_contract
from tests.reporting.results_helpers import assert_valid_results

TINY = TINY_RUN


def test_validation_queries_come_from_training_never_from_test(tmp_path):
    config = load_config(**TINY, output=str(tmp_path / "out"))
    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=48))
    carved = carve_validation(data, config)
    assert carved.validation is not None
    assert not set(carved.validation.queries.values()) & set(data.queries.values())
    assert not set(carved.validation.queries.values()) & set(carved.train.train["query"])
    assert len(carved.train.train) + carved.info["validation_queries"] <= len(data.train)
    assert carved.train.queries == data.queries  # the test task is untouched


@pytest.mark.slow
def test_a_harmful_run_keeps_the_base_model_and_says_so(tmp_path, base_model_path):
    from embedtune.workflow import run_finetune

    # A learning rate this large wrecks the model within two steps.
    config = load_config(**TINY, learning_rate=0.3, warmup_ratio=0.0, output=str(tmp_path / "out"))
    results = run_finetune(config)

    assert results["selection"]["selected"] == "base"
    assert results["verdict"]["selected"] == "base"
    assert "did not beat the base model" in results["verdict"]["message"]
    assert results["finetuned"] == results["base"]  # one evaluation: the same weights
    curve = results["selection"]["curve"]
    assert curve[0]["step"] == 0 and curve[0]["score"] == results["selection"]["base_score"]
    assert all(point["score"] < curve[0]["score"] for point in curve[1:])
    on_disk = assert_valid_results(tmp_path / "out" / "results.json")
    assert on_disk["verdict"] == results["verdict"]
    # model/ holds the base weights (encodings compared), and every block says so
    assert assert_selection_contract(on_disk, tmp_path / "out", base_model_path) == "base"


def test_validation_is_carved_like_the_test_split(tmp_path):
    from embedtune.training.selection import validation_protocol

    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=48))
    # The legal slice is re-split by chunk: no test query's document is trained on.
    assert data.protocol["split"] == "given"
    assert data.protocol["test_queries_with_trained_documents"] == 0
    assert validation_protocol(data) == "by-document"
    data.protocol = {**data.protocol, "test_queries_with_trained_documents": len(data.queries)}
    assert validation_protocol(data) == "by-query"  # BEIR-style shared corpus
    data.protocol = {**data.protocol, "split": "by-document"}
    assert validation_protocol(data) == "by-document"


@pytest.mark.slow
def test_learning_rate_auto_halves_the_candidates_and_the_leader_finishes_the_run(tmp_path):
    from embedtune.config import AUTO_LEARNING_RATES
    from embedtune.workflow import run_finetune

    config = load_config(**TINY, learning_rate="auto", output=str(tmp_path / "out"))
    results = run_finetune(config)
    training = results["training"]
    sweep = training["learning_rate_sweep"]
    assert [entry["learning_rate"] for entry in sweep] == list(AUTO_LEARNING_RATES)
    # successive halving: every candidate trained the same first slice; only the leader on
    # validation there went on, and it trained the whole run's steps
    cut = sweep[0]["slice_steps"]
    assert all(entry["slice_steps"] == cut for entry in sweep)
    assert cut < training["optimizer_steps"]
    leader = max(sweep, key=lambda e: (e["slice_score"], -e["learning_rate"]))
    assert [e["continued"] for e in sweep] == [e is leader for e in sweep]
    assert training["learning_rate"] == leader["learning_rate"]
    if results["selection"]["selected"] == "finetuned":
        assert results["selection"]["best_score"] == leader["best_score"]
    assert results["selection"]["metric"].startswith("mean ndcg@10 over dims")
    assert results["timings"]["training"] > 0 and results["timings"]["total"] > 0
    # one folder per candidate; the finished run removed the checkpoints, kept the run record
    checkpoints = tmp_path / "out" / "checkpoints"
    assert (checkpoints / "lr-5e-05").is_dir() and (checkpoints / "embedtune_run.json").is_file()
    assert (checkpoints / "sweep.json").is_file()
    assert not list(checkpoints.glob("**/checkpoint-*"))
