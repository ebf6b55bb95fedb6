"""The `embedtune` CLI: clear errors with exit code 2, and a real tiny finetune + evaluate."""

from __future__ import annotations

import json

import pytest

from embedtune.cli import main
from tests.conftest import ZENML_QA, shared

TINY = ["--max-seq-length", "32", "--max-train-pairs", "32", "--seed", "7"]


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
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    assert results["dims"] == [384, 256, 128, 64]
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
            *TINY,
        ]
    )
    assert code == 0
    evaluated = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert evaluated["model"]["384"]["ndcg@10"] == pytest.approx(
        results["finetuned"]["384"]["ndcg@10"], abs=1e-5
    )
