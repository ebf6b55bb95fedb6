"""OpenVINO int8 by nncf, OpenVINO's own post-training quantizer: the float32 graph converted to
OpenVINO, then statically quantized (int8 weights and activations, ranges calibrated on sample
texts), so OpenVINO runs real int8 matrix products.

Calibration texts: `embedtune export` has no data set, so a seeded sample of embedtune's
built-in corpus (the pydoc topics chunks of embedtune.synthetic.default_corpus) is used: half
whole chunks (document-length), half their first words (query-length).
"""

from __future__ import annotations

import contextlib
import logging
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

CALIBRATION_TEXTS = 200
CALIBRATION_MAX_LENGTH = 128
QUERY_WORDS = 12
SEED = 0


def nncf_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("nncf") is not None


def calibration_texts(count: int = CALIBRATION_TEXTS, seed: int = SEED) -> list[str]:
    """`count` built-in texts: a seeded sample of corpus chunks, half cut to query length."""
    from embedtune.synthetic.default_corpus import default_chunks

    chunks = [chunk.text for chunk in default_chunks()]
    sample = random.Random(seed).sample(chunks, min(count, len(chunks)))
    half = len(sample) // 2
    return sample[:half] + [" ".join(text.split()[:QUERY_WORDS]) for text in sample[half:]]


def calibration_inputs(
    model_dir: str | Path, input_names: list[str], texts: list[str]
) -> list[dict[str, np.ndarray]]:
    """One tokenized text per item (batch 1, its own length: the graph keeps dynamic axes)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    items = []
    for text in texts:
        encoded = tokenizer(
            text, truncation=True, max_length=CALIBRATION_MAX_LENGTH, return_tensors="np"
        )
        items.append({name: encoded[name].astype(np.int64) for name in input_names})
    return items


def quantize_openvino_nncf(
    model_dir: str | Path,
    onnx_path: Path,
    xml_path: Path,
    input_names: list[str],
    *,
    calibration_size: int = CALIBRATION_TEXTS,
) -> dict[str, Any]:
    """Convert `onnx_path` (float32) to OpenVINO, quantize it with nncf, save it to `xml_path`;
    returns the quantization record."""
    import nncf
    import openvino

    texts = calibration_texts(calibration_size)
    items = calibration_inputs(model_dir, input_names, texts)
    ov_model = openvino.convert_model(str(onnx_path))
    logger.info("Quantizing with nncf on %d calibration texts", len(items))
    with contextlib.redirect_stdout(sys.stderr):  # nncf's progress bars: stdout is for results
        quantized = nncf.quantize(
            ov_model,
            nncf.Dataset(items),
            model_type=nncf.ModelType.TRANSFORMER,
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(items),
        )
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    openvino.save_model(quantized, str(xml_path), compress_to_fp16=False)
    return {
        "method": f"nncf.quantize (nncf {nncf.__version__}, static post-training)",
        "kind": "static",
        "weights": "int8, symmetric, per channel",
        "activations": "int8, ranges calibrated (preset mixed: asymmetric activations)",
        "model_type": "transformer",
        "calibration": {
            "texts": len(items),
            "source": "embedtune built-in corpus (pydoc topics chunks), seeded sample; "
            f"half cut to {QUERY_WORDS} words",
            "seed": SEED,
            "max_length": CALIBRATION_MAX_LENGTH,
        },
    }
