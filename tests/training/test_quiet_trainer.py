"""The Trainer built by `finetune` (the same in the CLI and in the ZenML pipeline's step, which
runs in the CLI's process) draws one labelled bar and prints its metric dicts only with -v;
--quiet leaves warnings and errors only."""

from __future__ import annotations

import pytest
from datasets import Dataset

from embedtune import logging_setup
from embedtune.data.retrieval_data import DOCUMENT, QUERY

PAIRS = Dataset.from_dict(
    {
        QUERY: ["how to install", "what is a stack", "where are artifacts", "run a pipeline"],
        DOCUMENT: [
            "pip install zenml installs the package.",
            "A stack is an orchestrator and an artifact store.",
            "Artifacts live in the artifact store.",
            "Call the pipeline function to run it.",
        ],
    }
)


def _train(tmp_path, base_model_path):
    from embedtune.config import load_config
    from embedtune.training.finetune import finetune
    from embedtune.training.model_loading import load_model

    config = load_config(
        None,
        output=str(tmp_path / "out"),
        max_seq_length=32,
        batch_size=4,
        epochs=1,
        learning_rate=1e-4,
    )
    model = load_model(base_model_path, max_seq_length=32)  # its own copy: training changes it
    return finetune(model, PAIRS, None, config, tmp_path / "checkpoints")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["quiet", "default", "verbose"])
def test_training_console_by_verbosity(tmp_path, base_model_path, capfd, monkeypatch, mode):
    import logging

    from embedtune.config import load_config
    from embedtune.training.arguments import build_training_arguments

    quiet = mode == "quiet"
    monkeypatch.setattr(logging_setup, "_quiet", quiet)  # what configure_logging(quiet=) sets
    if quiet:
        monkeypatch.setenv("TQDM_DISABLE", "1")
    else:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    level = logging.DEBUG if mode == "verbose" else logging.INFO
    monkeypatch.setattr(logging.getLogger("embedtune"), "level", level)
    config = load_config(None, output=str(tmp_path / "out"), max_seq_length=32)
    if quiet:  # otherwise transformers decides (by its logger's level)
        assert build_training_arguments(config, tmp_path, eval_steps=None).disable_tqdm is True
    summary = _train(tmp_path, base_model_path)
    assert summary.optimizer_steps == 1
    captured = capfd.readouterr()
    printed = captured.out + captured.err
    # the Trainer's end-of-training log, e.g. {'train_runtime': '1.2', ...}: only with -v
    assert ("'train_runtime'" in printed) is (mode == "verbose"), printed[-2000:]
    # one labelled training bar, none under --quiet
    assert ("Training lr 0.0001" in captured.err) is not quiet, captured.err[-2000:]
    assert captured.out == ""
