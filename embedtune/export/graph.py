"""The transformer as an ONNX or OpenVINO graph: input ids (and mask, token types) in,
last_hidden_state out, as Sentence Transformers' backends expect; pooling stays outside.

- ONNX: `torch.onnx.export` (TorchScript exporter, opset 17, dynamic batch and sequence axes).
  Optimum's exporter would be the usual route, but optimum caps transformers below 5.
- int8: ONNX Runtime's dynamic quantization (int8 weights per channel, uint8 activations
  quantized at run time), of the MatMul weights.
- OpenVINO: `openvino.convert_model` of the ONNX graph (fp32); int8: that graph quantized by
  nncf (static, calibrated: openvino_int8.py), or, without nncf, the int8 ONNX graph converted
  (OpenVINO then computes it in float: quality kept, little speed gained).
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import torch

from embedtune.export.formats import EXTRA_HINT, FP32, INT8, ONNX, OPENVINO, ExportTarget
from embedtune.export.openvino_int8 import (
    CALIBRATION_TEXTS,
    nncf_available,
    quantize_openvino_nncf,
)

logger = logging.getLogger(__name__)

OPSET = 17
OUTPUT_NAME = "last_hidden_state"
QUANTIZED_OPS = ["MatMul"]
QUANTIZATION = {
    "method": "onnxruntime.quantization.quantize_dynamic",
    "kind": "dynamic",
    "weights": "int8, symmetric, per channel",
    "activations": "uint8, quantized at run time (dynamic)",
    "operators": QUANTIZED_OPS,
}


class _LastHiddenState(torch.nn.Module):
    """The Hugging Face model with positional inputs and one output (what torch.onnx traces)."""

    def __init__(self, model: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.input_names, inputs)), return_dict=True)[0]


def input_names_for(tokenizer: object) -> list[str]:
    """The tokenizer's inputs the graph takes, in a fixed order."""
    names = list(getattr(tokenizer, "model_input_names", ["input_ids", "attention_mask"]))
    order = ["input_ids", "attention_mask", "token_type_ids"]
    return [n for n in order if n in names] + [n for n in names if n not in order]


def export_onnx(model_dir: str | Path, path: Path) -> list[str]:
    """Write the fp32 ONNX graph of the folder's transformer to `path`; returns its inputs."""
    from embedtune.training.model_loading import load_model

    model = load_model(str(model_dir), device="cpu")
    transformer = model[0]
    hf_model = transformer.auto_model.eval()
    names = input_names_for(transformer.tokenizer)
    features = transformer.tokenizer(
        ["an example query", "a longer example document for tracing"],
        padding=True,
        return_tensors="pt",
    )
    inputs = tuple(features[name] for name in names)
    axes = {name: {0: "batch_size", 1: "sequence_length"} for name in names}
    axes[OUTPUT_NAME] = {0: "batch_size", 1: "sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode(), warnings.catch_warnings():
        # the tracer warns about Python conditions in the attention code; the graph is checked
        # against torch on other lengths and batch sizes by the tests
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHiddenState(hf_model, names),
            inputs,
            str(path),
            input_names=names,
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    del model
    return names


class _DropMessage(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def quantize_onnx(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()  # ONNX Runtime advises pre-processing there, on every call
    hush = _DropMessage("pre-processing before quantization")
    root.addFilter(hush)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=QUANTIZED_OPS,
        )
    finally:
        root.removeFilter(hush)


def convert_openvino(onnx_path: Path, xml_path: Path) -> None:
    import openvino

    xml_path.parent.mkdir(parents=True, exist_ok=True)
    ov_model = openvino.convert_model(str(onnx_path))
    openvino.save_model(ov_model, str(xml_path), compress_to_fp16=False)


def write_graph(
    model_dir: str | Path,
    target: ExportTarget,
    folder: Path,
    scratch: Path,
    *,
    fp32_onnx: Path | None = None,
    calibration_size: int = CALIBRATION_TEXTS,
) -> dict:
    """Write target.file under `folder` (intermediate graphs go to `scratch`); returns what the
    model card and export.json say about the graph. `fp32_onnx`: the float32 ONNX graph of this
    model, already exported (not traced again); `calibration_size`: texts nncf calibrates on."""
    model_file = folder / target.file
    if fp32_onnx is None:
        is_fp32_onnx = (target.format, target.precision) == (ONNX, FP32)
        fp32_onnx = model_file if is_fp32_onnx else scratch / "model.onnx"
        names = export_onnx(model_dir, fp32_onnx)
    else:
        names = onnx_input_names(fp32_onnx)
        if (target.format, target.precision) == (ONNX, FP32):
            shutil.copyfile(fp32_onnx, model_file)
    details: dict = {"inputs": names, "output": OUTPUT_NAME, "opset": OPSET}
    source = fp32_onnx
    if (target.format, target.precision) == (OPENVINO, INT8) and nncf_available():
        details["quantization"] = quantize_openvino_nncf(
            model_dir, fp32_onnx, model_file, names, calibration_size=calibration_size
        )
        details["converted_from"] = "ONNX graph"
        return details
    if target.format == OPENVINO and target.precision == INT8:
        logger.warning(
            "nncf is not installed: OpenVINO int8 is the dynamically quantized ONNX graph "
            "converted (slow in OpenVINO); for nncf's quantization: %s",
            EXTRA_HINT,
        )
    if target.precision == INT8:
        int8_onnx = model_file if target.format == ONNX else scratch / "model_int8.onnx"
        quantize_onnx(fp32_onnx, int8_onnx)
        details["quantization"] = dict(QUANTIZATION)
        source = int8_onnx
    if target.format == OPENVINO:
        convert_openvino(source, model_file)
        details["converted_from"] = "int8 ONNX graph" if target.precision == INT8 else "ONNX graph"
    return details


def onnx_input_names(path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [i.name for i in graph.input]
