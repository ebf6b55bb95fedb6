"""Issue 18: the sequence length from the data, candidate learning rates, the plan, refusals."""

from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from embedtune.cli import main
from embedtune.config import load_config
from embedtune.data.sequence_length import choose_length, padding_fraction
from embedtune.errors import ConfigError
from tests.conftest import LEGAL
from tests.helpers import TINY_RUN, cli_error, pairs, write_jsonl


@pytest.fixture(scope="module")
def tokenizer(base_model_path):
    return AutoTokenizer.from_pretrained(base_model_path)


def test_the_length_is_the_documents_95th_percentile_rounded_up_and_capped(tokenizer):
    short = [f"a short passage of a few words, number {i}" for i in range(96)]
    long = [f"{i} " + "word " * 600 for i in range(4)]  # the long tail: 4% of the documents
    block = choose_length(tokenizer, short + long, model_limit=256, setting=None)
    assert block["source"] == "data"
    assert block["max_seq_length"] % 16 == 0 and 32 <= block["max_seq_length"] < 256
    assert block["truncated_documents_fraction"] <= 0.05 + 1e-9
    # the padding a batch carries at the chosen length is far below the model's cap
    lengths = [len(ids) for ids in tokenizer(short + long)["input_ids"]]
    assert padding_fraction(lengths, block["max_seq_length"], 32, 42) < padding_fraction(
        lengths, 256, 32, 42
    )
    capped = choose_length(tokenizer, long, model_limit=256, setting=None)
    assert capped["max_seq_length"] == 256  # never above the model's limit
    kept = choose_length(tokenizer, short, model_limit=256, setting=200)
    assert kept == {**kept, "max_seq_length": 200, "source": "setting"}


def test_a_50_mb_document_is_measured_at_the_cap(tokenizer):
    # the text is clipped before tokenizing (its speed is a benchmark matter, not a test's)
    block = choose_length(tokenizer, ["x " * 25_000_000], model_limit=256, setting=None)
    assert block["max_seq_length"] == 256 and block["truncated_documents_fraction"] == 1.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "empty"),
        ("5e-5,-1", "positive"),
        ([2e-4, "x"], "positive"),
        ([1e-4, 1e-4], "repeat"),
    ],
)
def test_bad_candidate_rates_are_refused(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(learning_rate=value)


def test_candidate_rates_from_a_list_or_commas():
    assert load_config(learning_rate="2e-4,5e-5").learning_rate == [5e-5, 2e-4]
    assert load_config(learning_rate=[1e-4]).learning_rate == 1e-4
    assert load_config().learning_rate == "auto"


def test_dry_run_states_the_plan_and_the_length(tmp_path, capsys):
    code = main(["finetune", "--data", str(LEGAL), "--dry-run", "--output", str(tmp_path / "out")])
    assert code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["sequence_length"]["source"] == "data"
    assert plan["config"]["max_seq_length"] == plan["sequence_length"]["max_seq_length"]
    steps = plan["plan"]
    assert steps["trainings"]["candidates"] == 2
    assert 1 < steps["trainings"]["full_training_equivalents"] <= 1.3  # successive halving
    assert steps["optimizer_steps_per_training"] == 2 * steps["steps_per_epoch"]
    assert steps["encodings"]["mining_documents"] == 0  # served by the test encoding
    assert not (tmp_path / "out").exists()


def test_too_few_pairs_to_hold_out_validation_are_refused_before_any_weights(tmp_path, capsys):
    data = write_jsonl(tmp_path / "pairs.jsonl", pairs(2))
    err = cli_error(capsys, ["finetune", "--data", str(data), "--dry-run"], tmp_path / "out")
    assert "too few to hold out validation queries" in err


@pytest.mark.slow
def test_evaluate_reproduces_the_finetune_numbers_of_the_saved_model(tmp_path, capsys):
    """The saved model carries its length (issue 20): evaluate scores what finetune scored."""
    out = tmp_path / "run"
    settings = {**TINY_RUN, "max_seq_length": 48, "learning_rate": 2e-4}
    flags = [f"--{k.replace('_', '-')}" for k in settings]
    args = ["finetune"]
    for flag, value in zip(flags, settings.values()):
        if isinstance(value, bool):
            args.append(flag if value else flag.replace("--", "--no-", 1))
        else:
            args += [flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    assert main([*args, "--output", str(out)]) in (0, 3)
    finetuned = json.loads((out / "results.json").read_text())
    assert finetuned["training"]["max_seq_length"] == 48
    summary = json.loads(capsys.readouterr().out)  # stdout: where the time went, by phase
    assert summary["max_seq_length"] == 48
    assert {"load_data", "base_evaluation", "training", "total"} <= set(summary["timings"])
    assert summary["timings"] == finetuned["timings"]
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(out / "model"),
                "--data",
                TINY_RUN["data"],
                "--max-test-queries",
                str(TINY_RUN["max_test_queries"]),
                "--dims",
                "384,64",
                "--output",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    evaluated = json.loads((tmp_path / "eval" / "results.json").read_text())
    for dim in ("384", "64"):
        assert round(evaluated["model"][dim]["ndcg@10"], 4) == round(
            finetuned["finetuned"][dim]["ndcg@10"], 4
        )


def test_counting_truncated_texts_clips_a_50_mb_document_first(tokenizer):
    from embedtune.data.truncation import count_over_length

    over = count_over_length(tokenizer, ["x " * 25_000_000, "a short text"], 256)
    assert over == 1  # the same count as without the clip
