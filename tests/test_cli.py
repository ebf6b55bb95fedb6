"""The `embedtune` CLI: conventions (help with defaults, examples, exit codes), clear errors with
exit code 2, and a real tiny finetune + evaluate."""

from __future__ import annotations

import argparse
import json

import pytest

from embedtune.cli import main
from embedtune.cli_parser import build_parser
from tests.conftest import ZENML_QA, shared


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for sub in action.choices.values():
        sub.format_help()  # `generate` adds its flags on first use
    return dict(action.choices)


@pytest.mark.parametrize("command", ["finetune", "evaluate", "generate"])
def test_help_shows_defaults_examples_and_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and text.count(f"embedtune {command} ") >= 2
    for code in ("0 ", "2 ", "130 "):
        assert f"\n  {code}" in text
    parser = subparsers()[command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.option_strings} has no help"
    if command == "finetune":
        assert "(default: auto)" in text  # learning rate, from FinetuneConfig
        assert "(default: outputs/embedtune)" in text
        assert "3    finetune --strict" in text
    if command == "evaluate":
        assert "(default: outputs/evaluate)" in text
        assert "--strict" not in text


def test_flags_that_do_nothing_are_not_offered(capsys):
    evaluate = {o for a in subparsers()["evaluate"]._actions for o in a.option_strings}
    for flag in ("--max-train-pairs", "--epochs", "--learning-rate", "--base-model", "--resume"):
        assert flag not in evaluate
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--model", "m", "--max-train-pairs", "10"])
    assert info.value.code == 2
    assert "unrecognized arguments: --max-train-pairs" in capsys.readouterr().err


def test_output_flag_is_the_same_in_every_subcommand():
    for name, parser in subparsers().items():
        (action,) = [a for a in parser._actions if "--output" in a.option_strings]
        assert action.dest == "output" and action.metavar == "DIR", name
        assert action.default is None and not action.required, name


def test_version(capsys):
    import embedtune

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"embedtune {embedtune.__version__}"


TINY_EVAL = ["--max-seq-length", "32", "--seed", "7"]  # evaluate has no training flags
TINY = [*TINY_EVAL, "--max-train-pairs", "32"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--data", "missing.jsonl"], "missing.jsonl: file not found"),
        (["--data", "pairs.xml"], "unknown format"),
        (["--dims", "64,128"], "largest first"),
        (["--dims", "384,384"], "duplicates"),
        (["--dims", "384,0"], "positive"),
        (["--dims", "512,256"], "above the model's dimension 384"),
        (["--epochs", "0"], "epochs must be at least 1"),
        (["--config", "nope.yaml"], "config file not found"),
    ],
)
def test_finetune_errors_are_clear(tmp_path, monkeypatch, capsys, args, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pairs.xml").write_text("<x/>")
    code = main(["finetune", "--output", str(tmp_path / "out"), *args])
    assert code == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.json").exists()


def test_unknown_config_key_is_named(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("epochz: 3\n")
    assert main(["finetune", "--config", str(config)]) == 2
    assert "epochz" in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_then_evaluate(tmp_path, capsys):
    data = shared(ZENML_QA / "pairs.jsonl")
    out = tmp_path / "run"
    code = main(
        [
            "finetune",
            "--data",
            str(data),
            "--output",
            str(out),
            "--push-to-hub",
            "nobody/nothing",
            *TINY,
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert results["dims"] == [384, 256, 128, 64]
    # One labelled bar per long phase; the Trainer's metric dicts only with -v
    corpus = results["data"]["corpus"]
    assert f"Encoding {corpus:,} documents (base model)" in err, err[-3000:]
    assert "Training lr " in err and "Batches" not in err
    assert "'train_runtime'" not in err and "'loss'" not in err
    for label in ("base", "finetuned"):
        assert set(results[label]) == {"384", "256", "128", "64"}
        assert set(results[label]["64"]) == {
            "ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10", "recall@100",
        }  # fmt: skip
    assert results["data"]["train_pairs"] == 32 and results["data"]["test_queries"] > 0
    assert results["training"]["optimizer_steps"] >= 1
    assert results["training"]["samples_per_second"] > 0
    assert "cpu_count" in results["hardware"]
    # No network here: the push fails, the run still succeeds and says so.
    assert results["push_to_hub"]["pushed"] is False and results["push_to_hub"]["error"]
    assert (out / "model" / "model.safetensors").is_file()
    assert (out / "model" / "README.md").is_file()
    assert (out / "evaluation.png").read_bytes()[:4] == b"\x89PNG"

    # The saved model evaluates to the finetuned numbers.
    code = main(
        [
            "evaluate",
            "--model",
            str(out / "model"),
            "--data",
            str(data),
            "--output",
            str(tmp_path / "ev"),
            *TINY_EVAL,
        ]
    )
    assert code == 0
    evaluated = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert evaluated["model"]["384"]["ndcg@10"] == pytest.approx(
        results["finetuned"]["384"]["ndcg@10"], abs=1e-5
    )


@pytest.mark.slow
def test_strict_exits_3_when_the_base_model_is_kept(tmp_path, capsys):
    """A learning rate that wrecks the model: no checkpoint beats the base on validation, the
    run keeps the base, says so on stdout, and --strict turns that into exit code 3."""
    out = tmp_path / "run"
    args = ["finetune", "--data", str(shared(ZENML_QA / "pairs.jsonl")), "--output", str(out)]
    args += ["--max-seq-length", "32", "--learning-rate", "0.5", "--warmup-ratio", "0"]
    args += ["--no-hard-negatives", "--dims", "384,64", "--strict"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 3, captured.err[-3000:]
    summary = json.loads(captured.out)
    assert summary["selected_model"] == "base"
    assert summary["data_source"] == str(shared(ZENML_QA / "pairs.jsonl"))
    results = json.loads((out / "results.json").read_text())
    assert results["verdict"]["selected"] == "base"
    # The card, written while the run was staged, names the folder the model ended up in.
    import yaml

    card = (out / "model" / "README.md").read_text(encoding="utf-8")
    assert ".staging" not in card and f'SentenceTransformer("{out / "model"}"' in card
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "apache-2.0"  # the base model's, from its own card
    (index,) = meta["model-index"]
    scores = {r["dataset"]["name"]: r["metrics"][0] for r in index["results"]}
    assert len(scores) == 2
    for dim in (384, 64):
        (metric,) = [m for name, m in scores.items() if name.endswith(f", {dim} dims")]
        assert metric["type"] == "cosine_ndcg@10"
        assert metric["value"] == pytest.approx(results["finetuned"][str(dim)]["ndcg@10"], abs=1e-5)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--lr", "1e-4"],
            "--lr: did you mean --learning-rate?",
        ),  # was read as --lr-scheduler-type
        (["--lr-sched", "cosine"], "--lr-sched: did you mean --lr-scheduler-type?"),
        (["--num_train_epochs", "2"], "--num_train_epochs: did you mean --epochs?"),
        (["--per_device_train_batch_size", "8"], "did you mean --batch-size?"),
        (["--learning-rat", "1e-4"], "--learning-rat: did you mean --learning-rate?"),
    ],
)
def test_unknown_flags_are_refused_with_did_you_mean(args, expected, capsys):
    with pytest.raises(SystemExit) as info:
        main(["finetune", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {' '.join(args)}" in err
    assert expected in err


def test_no_parser_takes_prefix_abbreviations():
    assert build_parser().allow_abbrev is False
    for name, parser in subparsers().items():
        assert parser.allow_abbrev is False, name


def test_a_flag_of_another_command_is_named(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--model", "m", "--epochs", "2"])
    assert "--epochs is a flag of `embedtune finetune`" in capsys.readouterr().err


def test_hugging_face_underscore_spellings_are_accepted():
    args = build_parser().parse_args(
        ["finetune", "--learning_rate", "1e-4", "--lr_scheduler_type=cosine", "--no_baselines"]
        + ["--data", "my_pairs.jsonl"]
    )
    assert args.learning_rate == 1e-4 and args.lr_scheduler_type == "cosine"
    assert args.baselines is False and args.data == "my_pairs.jsonl"  # values left alone


def _timed_error(args: list[str], tmp_path) -> tuple[float, str]:
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "embedtune", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    return time.perf_counter() - start, done.stderr


def test_missing_data_file_is_reported_before_heavy_imports(tmp_path):
    seconds, err = _timed_error(["finetune", "--data", "missing.jsonl"], tmp_path)
    assert "file missing.jsonl: file not found" in err
    assert seconds < 2.0, f"{seconds:.1f} s: the model libraries were imported first"


def test_hub_model_while_offline_says_hf_hub_offline_blocks_it(tmp_path):
    seconds, err = _timed_error(["evaluate", "--model", "no-such-org/no-such-model"], tmp_path)
    assert "--model no-such-org/no-such-model: not a local folder" in err
    assert "HF_HUB_OFFLINE=1 blocks the Hub" in err
    assert seconds < 3.0


def test_a_folder_of_documents_as_data_suggests_generate(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "runbook.md").write_text("# Rotating keys\n\nOpen the settings page.\n")
    (docs / "notes.txt").write_text("The office opens at 9.\n")
    assert main(["finetune", "--data", str(docs), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--data is a folder of documents" in err
    assert f"embedtune generate --docs {docs}" in err
    assert not (tmp_path / "out").exists()


def test_no_data_says_the_built_in_demonstration_data_is_used(tmp_path, capsys, base_model_path):
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", base_model_path, "--dry-run", "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "No --data given: using the built-in demonstration data" in captured.err
    assert json.loads(captured.out)["dry_run"] is True
    given = ["--data", str(shared(ZENML_QA / "pairs.jsonl")), "--output", str(out)]
    assert main(["evaluate", "--model", base_model_path, "--dry-run", *given]) == 0
    err = capsys.readouterr().err
    assert "built-in demonstration data" not in err, err
