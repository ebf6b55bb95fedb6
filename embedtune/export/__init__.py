"""Export a Sentence Transformers model to ONNX or OpenVINO (float32 or int8), load the export
without optimum, and check it scores and runs as promised.

    from embedtune.export import export_model, load_exported
    export_model("out/model", "onnx", "int8", "out/model-onnx-int8")
    encoder = load_exported("out/model-onnx-int8")
    encoder.encode_query(["..."])
"""

from __future__ import annotations

import importlib
from typing import Any

from embedtune.export.formats import EXPORT_RECORD, FORMATS, PRECISIONS, target_from_name

# Loaded on first use: they import torch, and `embedtune --help` (which registers the export
# subcommand) should not pay for it.
_LAZY = {
    "export_model": "embedtune.export.export",
    "ExportedEncoder": "embedtune.export.loader",
    "load_exported": "embedtune.export.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXPORT_RECORD",
    "FORMATS",
    "PRECISIONS",
    "ExportedEncoder",
    "export_model",
    "load_exported",
    "target_from_name",
]
