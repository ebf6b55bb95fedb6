"""Model folders that are not models, or hold pickled weights, are refused with a ConfigError
that says what to do; the CLI turns it into exit code 2 before writing anything."""

from __future__ import annotations

import json

import pytest
import torch

from embedtune.errors import ConfigError
from embedtune.training.model_loading import load_model
from tests.helpers import cli_error, pairs, write_jsonl


def test_base_model_folder_that_is_not_a_model(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="not a Sentence Transformers model"):
        load_model(str(empty))
    data = write_jsonl(tmp_path / "p.jsonl", pairs())
    err = cli_error(
        capsys, ["finetune", "--data", str(data), "--base-model", str(empty)], tmp_path / "out"
    )
    assert "not a Sentence Transformers model" in err
    err = cli_error(
        capsys, ["evaluate", "--data", str(data), "--model", str(empty)], tmp_path / "out"
    )
    assert "not a Sentence Transformers model" in err


def test_base_model_that_is_a_file_or_missing(tmp_path):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"")
    with pytest.raises(ConfigError, match="must be a folder"):
        load_model(str(file))
    with pytest.raises(ConfigError, match="no such model folder"):
        load_model(str(tmp_path / "missing-model"))


def test_pickled_weights_only_are_refused(tmp_path, capsys):
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (folder / "modules.json").write_text("[]")
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04 pickle would run code here")
    with pytest.raises(ConfigError, match=r"no \.safetensors weights") as info:
        load_model(str(folder))
    assert "safe_serialization=True" in str(info.value)  # says what to do
    data = write_jsonl(tmp_path / "p.jsonl", pairs())
    err = cli_error(
        capsys, ["evaluate", "--data", str(data), "--model", str(folder)], tmp_path / "out"
    )
    assert "does not load pickled weights" in err


def test_pickled_module_weights_beside_safetensors_elsewhere_are_refused(tmp_path, base_model_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(base_model_path, folder)
    dense = folder / "2_Dense"
    dense.mkdir()
    (dense / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ConfigError, match="pickled weights without .safetensors"):
        load_model(str(folder))


def test_model_dtype_bfloat16_loads_half_size_weights(base_model_path):
    from embedtune.config import load_config
    from embedtune.workflow import load_base_model

    model = load_base_model(load_config(model_dtype="bfloat16", max_seq_length=32))
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    embeddings = model.encode(["a short query"], convert_to_tensor=True)
    assert torch.isfinite(embeddings.float()).all()
