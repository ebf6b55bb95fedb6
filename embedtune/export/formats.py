"""What an export can be: format x precision, the file names Sentence Transformers' backends look
for, and the optional packages each needs (the `export` extra)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from embedtune.errors import ConfigError
from embedtune.results_schema import EXPORT_RECORD  # noqa: F401 - re-exported

ONNX, OPENVINO = "onnx", "openvino"
FORMATS = (ONNX, OPENVINO)
FP32, INT8 = "fp32", "int8"
PRECISIONS = (FP32, INT8)
EXTRA_HINT = "pip install 'embedtune[export]'"
# config.export's values: onnx, onnx-int8, openvino, openvino-int8
EXPORT_NAMES = tuple(f if p == FP32 else f"{f}-{p}" for f in FORMATS for p in PRECISIONS)

# Sentence Transformers' backend folders and names (`backend="onnx"|"openvino"`; a quantized
# file is picked with model_kwargs={"file_name": ...}; "qint8_quantized" is ST's suffix for a
# quantization config of its own).
_FILES = {
    (ONNX, FP32): "onnx/model.onnx",
    (ONNX, INT8): "onnx/model_qint8_quantized.onnx",
    (OPENVINO, FP32): "openvino/openvino_model.xml",
    (OPENVINO, INT8): "openvino/openvino_model_qint8_quantized.xml",
}
# import name -> pip name; every format needs onnx (the graph is exported to ONNX first)
_PACKAGES = {
    ONNX: {"onnx": "onnx", "onnxscript": "onnxscript", "onnxruntime": "onnxruntime"},
    OPENVINO: {"onnx": "onnx", "onnxscript": "onnxscript", "openvino": "openvino"},
}
_INT8_PACKAGES = {"onnxruntime": "onnxruntime"}  # int8: ONNX Runtime's dynamic quantization


@dataclass(frozen=True)
class ExportTarget:
    format: str  # onnx | openvino
    precision: str  # fp32 | int8

    @property
    def name(self) -> str:
        """onnx, onnx-int8, openvino, openvino-int8 (config.export's values)."""
        return self.format if self.precision == FP32 else f"{self.format}-{self.precision}"

    @property
    def file(self) -> str:
        """The model file, relative to the exported folder."""
        return _FILES[(self.format, self.precision)]

    @property
    def packages(self) -> dict[str, str]:
        needed = dict(_PACKAGES[self.format])
        if self.precision == INT8:
            needed.update(_INT8_PACKAGES)
        return needed


def export_target(format: str, quantize: str | None = None) -> ExportTarget:
    """Validate a format (onnx, openvino) and a precision (None/fp32 or int8)."""
    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}: choose from {', '.join(FORMATS)}")
    precision = quantize or FP32
    if precision not in PRECISIONS:
        raise ConfigError(
            f"unknown export precision {quantize!r}: choose int8 (or leave --quantize out for "
            "float32)"
        )
    return ExportTarget(format, precision)


def target_from_name(name: str) -> ExportTarget:
    """config.export's value (onnx, onnx-int8, openvino, openvino-int8) as a target."""
    format, _, precision = name.partition("-")
    return export_target(format, precision or None)


def missing_packages(target: ExportTarget) -> list[str]:
    return sorted(
        {pip for module, pip in target.packages.items() if importlib.util.find_spec(module) is None}
    )


def check_packages(target: ExportTarget) -> None:
    """Refuse, naming the extra to install, when a package the target needs is missing."""
    missing = missing_packages(target)
    if missing:
        raise ConfigError(
            f"exporting to {target.name} needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {EXTRA_HINT}"
        )
