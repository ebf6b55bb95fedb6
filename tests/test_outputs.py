"""What a run writes when the input is awkward: an output path that is a file is refused before
anything is written; a batch larger than the data and over-long texts are reported in results.json."""

from __future__ import annotations

import pytest

from embedtune.cli import main
from embedtune.config import load_config
from embedtune.errors import ConfigError
from tests.helpers import pairs, write_jsonl
from tests.reporting.results_helpers import assert_valid_results


def test_output_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("not a folder")
    with pytest.raises(ConfigError, match="is a file"):
        load_config(output=str(target))
    code = main(
        [
            "finetune",
            "--data",
            str(write_jsonl(tmp_path / "p.jsonl", pairs())),
            "--output",
            str(target),
        ]
    )
    assert code == 2 and "is a file" in capsys.readouterr().err
    assert target.read_text() == "not a folder"


@pytest.mark.slow
def test_batch_larger_than_data_and_truncation_reported(tmp_path, base_model_path, caplog):
    """One tiny training run: batch size above the number of pairs trains one step per epoch;
    texts above max_seq_length are counted in results.json "data"."""
    rows = pairs(14)
    for row in rows[:5]:
        row["document"] += " It also " + "keeps going with more words " * 10
    data = write_jsonl(tmp_path / "p.jsonl", rows)
    out = tmp_path / "out"
    args = ["finetune", "--data", str(data), "--output", str(out), "--base-model", base_model_path]
    args += [
        "--max-seq-length",
        "32",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--test-fraction",
        "0.2",
        "--dims",
        "384,64",
    ]
    with caplog.at_level("WARNING"):
        assert main(args) == 0
    results = assert_valid_results(out / "results.json")
    assert results["training"]["optimizer_steps"] == 1
    assert "larger than the" in caplog.text
    assert results["data"]["truncated_documents"] == 5
    assert results["data"]["truncated_queries"] == 0
