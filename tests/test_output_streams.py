"""What a user's terminal and scripts see: stdout is one JSON document (the summary), logs and
progress go to stderr, no ANSI escape codes when not a terminal, and no run overwrites another
kind of run's outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from embedtune.cli import main
from embedtune.errors import ConfigError
from embedtune.output_folder import check_output_folder, existing_run
from tests.conftest import REPO_ROOT, ZENML_QA, fixture_path

ESC = "\x1b"
TINY_EVAL = ["--max-seq-length", "32", "--max-test-queries", "20", "--dims", "384,64"]


def run_cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m embedtune ARGS` as a user runs it, with stdout and stderr kept apart (pipes:
    not terminals)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "embedtune", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_evaluate_stdout_is_json_and_logs_are_json_lines_on_stderr(tmp_path, base_model_path):
    data = fixture_path(ZENML_QA / "pairs.jsonl")
    done = run_cli(
        "evaluate",
        "--model",
        base_model_path,
        "--data",
        str(data),
        "--output",
        str(tmp_path / "ev"),
        "--log-format",
        "json",
        *TINY_EVAL,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # nothing but the summary
    assert summary["kind"] == "evaluate"
    assert [row["dim"] for row in summary["dims"]] == [384, 64]
    assert all(0 <= row["model"] <= 1 for row in summary["dims"])
    assert summary["outputs"]["results"] == str(tmp_path / "ev" / "results.json")
    assert "model" not in summary["outputs"]  # an evaluation saves no model
    assert (tmp_path / "ev" / "results.json").is_file()

    assert ESC not in done.stdout and ESC not in done.stderr
    # stderr: JSON lines only (no bars, warnings as records)
    records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert "\r" not in done.stderr and "it/s" not in done.stderr
    assert any(r["logger"].startswith("embedtune") and r["level"] == "INFO" for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert "Loading weights" not in done.stderr  # a trivial bar, silenced


def test_quiet_keeps_warnings_only_and_draws_no_bars(tmp_path, base_model_path):
    data = fixture_path(ZENML_QA / "pairs.jsonl")
    out = tmp_path / "ev"
    done = run_cli(
        "evaluate", "--model", base_model_path, "--data", str(data), "--output", str(out),
        "--quiet", *TINY_EVAL, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["kind"] == "evaluate"
    assert " INFO " not in done.stderr
    assert "it/s" not in done.stderr and "\r" not in done.stderr  # no progress bars


@pytest.mark.slow
def test_pipeline_keeps_stdout_for_the_summary(tmp_path):
    """ZenML prints its own lines (run started, step finished, ...): they go to stderr too."""
    data = tmp_path / "pairs.jsonl"
    lines = fixture_path(ZENML_QA / "pairs.jsonl").read_text(encoding="utf-8").splitlines(True)
    data.write_text("".join(lines[:40]), encoding="utf-8")
    done = run_cli(
        "finetune", "--pipeline", "--data", str(data), "--output", str(tmp_path / "out"),
        "--max-seq-length", "32", "--dims", "384,64", "--batch-size", "16",
        "--no-hard-negatives", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["kind"] == "finetune"
    assert {"base", "finetuned", "gain"} <= set(summary["dims"][0])
    assert summary["outputs"]["model"].endswith("model")
    assert "finetune_embeddings" in done.stderr  # ZenML's lines went to stderr
    assert ESC not in done.stdout and ESC not in done.stderr
    # a line logged while the training bar is drawn starts a line of its own
    validations = [x for x in done.stderr.splitlines() if "Validation at step" in x]
    assert validations and all(x.startswith("Validation at step") for x in validations)
    # the training step removed its checkpoints once it had the model, kept the run record
    checkpoints = tmp_path / "out" / "checkpoints"
    assert (checkpoints / "embedtune_run.json").is_file()
    assert not list(checkpoints.glob("**/checkpoint-*"))


def test_python_dash_m_and_version(tmp_path):
    import embedtune

    done = run_cli("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"embedtune {embedtune.__version__}"


# --- no silent overwrites ------------------------------------------------------------------


def finished_finetune_run(folder: Path) -> Path:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "model.safetensors").write_bytes(b"weights")
    (folder / "results.json").write_text(json.dumps({"kind": "finetune", "dims": [384]}))
    return folder


def test_evaluate_refuses_a_finetune_runs_folder(tmp_path, capsys, base_model_path):
    run = finished_finetune_run(tmp_path / "run")
    before = (run / "results.json").read_text()
    code = main(["evaluate", "--model", base_model_path, "--output", str(run)])
    err = capsys.readouterr().err
    assert code == 2
    assert "holds a finished finetune run (results.json, model)" in err
    assert "--overwrite" in err
    assert (run / "results.json").read_text() == before
    assert (run / "model" / "model.safetensors").read_bytes() == b"weights"


def test_evaluate_writes_to_its_own_folder_by_default(tmp_path, monkeypatch, base_model_path):
    from embedtune.cli import evaluate_config
    from embedtune.cli_parser import build_parser

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["evaluate", "--model", base_model_path])
    assert evaluate_config(args).output == "outputs/evaluate"
    args = build_parser().parse_args(["finetune"])
    assert args.output is None  # finetune's default comes from FinetuneConfig


def test_output_folder_rules(tmp_path, caplog):
    run = finished_finetune_run(tmp_path / "run")
    with pytest.raises(ConfigError, match="holds a finished finetune run .* --overwrite"):
        check_output_folder(run, "evaluate")
    with caplog.at_level("WARNING", logger="embedtune"):
        check_output_folder(run, "evaluate", overwrite=True)
    assert "model stay from the old run" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="embedtune"):
        check_output_folder(run, "finetune")  # same kind: replaced when complete, and said so
    assert "replaces its files when it completes" in caplog.text

    evaluation = tmp_path / "ev"
    evaluation.mkdir()
    (evaluation / "results.json").write_text(json.dumps({"model": {}, "dims": [384]}))
    assert existing_run(evaluation).kind == "evaluate"  # results.json without "kind"
    with pytest.raises(ConfigError, match="holds a finished evaluate run"):
        check_output_folder(evaluation, "finetune")

    killed = tmp_path / "killed"
    (killed / "checkpoints" / "checkpoint-3").mkdir(parents=True)
    check_output_folder(killed, "finetune")  # --resume continues it
    with pytest.raises(ConfigError, match="holds an? unfinished finetune run"):
        check_output_folder(killed, "evaluate")

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "results.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="holds a finished unknown run"):
        check_output_folder(foreign, "finetune")

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"not empty and holds no embedtune run \(notes.txt\)"):
        check_output_folder(notes, "evaluate")  # no run there: not embedtune's folder
    check_output_folder(notes, "evaluate", overwrite=True)  # written beside notes.txt
    check_output_folder(tmp_path / "new", "finetune")


# --- --dry-run -------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_without_loading_weights(tmp_path, capsys, base_model_path):
    """The base model's folder with an unreadable weights file: a dry run that loaded the
    weights would fail."""
    import shutil

    no_weights = tmp_path / "model-without-weights"
    shutil.copytree(base_model_path, no_weights, ignore=shutil.ignore_patterns("*.safetensors"))
    (no_weights / "model.safetensors").write_bytes(b"not weights")
    data = fixture_path(ZENML_QA / "pairs.jsonl")
    out = tmp_path / "out"
    code = main(
        ["finetune", "--dry-run", "--base-model", str(no_weights), "--data", str(data),
         "--max-seq-length", "32", "--output", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    plan = json.loads(captured.out)
    assert plan["dry_run"] is True and plan["command"] == "finetune"
    assert plan["config"]["max_seq_length"] == 32
    assert plan["config"]["dims"] == [384, 256, 128, 64]
    assert plan["data"]["train_pairs"] > 0 and plan["data"]["test_queries"] > 0
    assert plan["data"]["corpus"] >= plan["data"]["test_queries"]
    assert plan["data"]["truncated_documents"] > 0  # counted with the tokenizer at 32 tokens
    assert not out.exists()  # nothing written


def test_run_py_refuses_an_evaluation_folder_before_any_work(tmp_path, capsys):
    import run

    evaluation = tmp_path / "ev"
    evaluation.mkdir()
    (evaluation / "results.json").write_text(json.dumps({"kind": "evaluate", "dims": [384]}))
    assert run.main(["--embeddings", "--output", str(evaluation)]) == 2
    captured = capsys.readouterr()
    assert "holds a finished evaluate run" in captured.err
    assert captured.out == ""  # stdout only ever carries a summary
    assert sorted(p.name for p in evaluation.iterdir()) == ["results.json"]


def test_run_py_refuses_a_bad_remote_config_before_any_work(tmp_path, capsys):
    import run

    remote = tmp_path / "remote.yaml"
    remote.write_text("gpus: 1\nwarp_drive: true\n")
    out = tmp_path / "out"
    assert run.main(["--embeddings", "--output", str(out), "--remote-config", str(remote)]) == 2
    assert "unknown keys ['warp_drive']" in capsys.readouterr().err
    assert not out.exists()
