"""Exports of the real base model, made once per test session (max_seq_length 32 when loaded)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prompted_model(base_model_path, tmp_path_factory) -> Path:
    """The base model with prompts: its small files copied, the weights linked (no copy)."""
    folder = tmp_path_factory.mktemp("prompted") / "model"
    source = Path(base_model_path)
    for file in source.rglob("*"):
        if file.is_dir():
            continue
        target = folder / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.suffix == ".safetensors":
            os.symlink(file, target)
        else:
            target.write_bytes(file.read_bytes())
    config_file = folder / "config_sentence_transformers.json"
    config = json.loads(config_file.read_text())
    config["prompts"] = {"query": "query: ", "document": "passage: "}
    config_file.write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="session")
def exports(prompted_model, tmp_path_factory) -> dict[str, Path]:
    from embedtune.export import export_model

    root = tmp_path_factory.mktemp("exports")
    made = {"onnx": root / "onnx", "onnx-int8": root / "onnx-int8"}
    export_model(prompted_model, "onnx", None, made["onnx"])  # traced once, then reused
    export_model(prompted_model, "onnx", "int8", made["onnx-int8"], from_onnx=made["onnx"])
    return made
