"""Model folders are loaded from safetensors only (issue 10, item 5): a folder holding any pickled
weights file, even beside .safetensors, is refused before anything is loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from embedtune.cli import main
from embedtune.errors import ConfigError
from embedtune.training.model_loading import check_model_folder, load_model

# A pickle that would create a file if it were ever unpickled.
CANARY = "embedtune-pickle-ran"


def evil_pickle(tmp_path: Path) -> bytes:
    import pickle

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (tmp_path / CANARY, "the pickle ran"))

    return pickle.dumps(Payload())


@pytest.fixture
def model_copy(tmp_path, base_model_path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(base_model_path, folder)
    return folder


def refuse(folder: Path, tmp_path: Path, match: str) -> str:
    with pytest.raises(ConfigError, match=match) as info:
        load_model(str(folder))
    assert not (tmp_path / CANARY).exists()
    message = str(info.value)
    assert "safe_serialization=True" in message and "delete the pickle files" in message
    return message


@pytest.mark.parametrize(
    "name", ["pytorch_model.bin", "pytorch_model-00001-of-00002.bin", "weights.pt", "model.ckpt"]
)
def test_pickle_beside_safetensors_in_the_model_folder_is_refused(tmp_path, model_copy, name):
    (model_copy / name).write_bytes(evil_pickle(tmp_path))
    message = refuse(model_copy, tmp_path, "pickled weights beside .safetensors")
    assert name in message


def test_pickle_in_a_module_folder_with_its_own_safetensors_is_refused(tmp_path, model_copy):
    import torch
    from safetensors.torch import save_file

    dense = model_copy / "2_Dense"
    dense.mkdir()
    save_file({"linear.weight": torch.zeros(4, 384)}, dense / "model.safetensors")
    (dense / "pytorch_model.bin").write_bytes(evil_pickle(tmp_path))
    (dense / "config.json").write_text(
        json.dumps({"in_features": 384, "out_features": 4, "bias": False})
    )
    modules = json.loads((model_copy / "modules.json").read_text())
    modules.append(
        {
            "idx": len(modules),
            "name": "2",
            "path": "2_Dense",
            "type": "sentence_transformers.models.Dense",
        }
    )
    (model_copy / "modules.json").write_text(json.dumps(modules))
    message = refuse(model_copy, tmp_path, r"2_Dense/pytorch_model\.bin: pickled weights beside")
    assert "a module may still read the pickle" in message


def test_pickle_in_a_symlinked_module_folder_is_refused(tmp_path, model_copy):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "model.pkl").write_bytes(evil_pickle(tmp_path))
    (model_copy / "3_Extra").symlink_to(outside, target_is_directory=True)
    (outside / "loop").symlink_to(model_copy, target_is_directory=True)  # walked once, no hang
    refuse(model_copy, tmp_path, r"model\.pkl: pickled weights without \.safetensors")


def test_cli_refuses_before_any_work(tmp_path, capsys, model_copy):
    (model_copy / "pytorch_model.bin").write_bytes(evil_pickle(tmp_path))
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        "".join(
            json.dumps({"query": f"what is item {i}?", "document": f"Item {i} is a thing {i}."})
            + "\n"
            for i in range(12)
        )
    )
    out = tmp_path / "out"
    code = main(["evaluate", "--data", str(data), "--model", str(model_copy), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "pickled weights beside .safetensors" in err and "pytorch_model.bin" in err
    assert not out.exists() and not (tmp_path / CANARY).exists()


def test_the_default_model_and_safetensors_only_copies_pass(model_copy):
    check_model_folder(model_copy)
    (model_copy / "notes.txt").write_text("not weights")
    check_model_folder(model_copy)
