"""README.md of an exported folder: what it is, where it came from, how to load it."""

from __future__ import annotations

import json
from typing import Any

from embedtune.export.formats import INT8, ONNX

_FORMAT_WORDS = {"onnx": "ONNX (ONNX Runtime)", "openvino": "OpenVINO IR"}


def model_card(record: dict[str, Any]) -> str:
    """Markdown for an export record (embedtune_export.json's content)."""
    backend = record["format"]
    quantization = record.get("graph", {}).get("quantization")
    precision = "float32"
    if record["precision"] == INT8:
        kind = (quantization or {}).get("kind", "dynamic")
        precision = (
            f"int8 ({'statically, by nncf' if kind == 'static' else 'dynamically'} quantized)"
        )
    kwargs = json.dumps({"file_name": record["file"]})
    base = record.get("base_model")
    finetuned = record.get("base_model_relation") == "finetune"
    meta = ["---", "library_name: sentence-transformers"]
    if record.get("license"):
        meta.append(f"license: {json.dumps(record['license'])}")
    if base and base.count("/") == 1 and not base.startswith((".", "/")):
        meta.append(f"base_model: {json.dumps(base)}")  # a Hub id: the Hub links it
    lines = [
        *meta,
        "tags:",
        "- sentence-transformers",
        "- feature-extraction",
        f"- {backend}",
        "- embedtune",
        "---",
        "",
        f"# {record['source_model']} — {_FORMAT_WORDS.get(backend, backend)}, {precision}",
        "",
        f"An export by embedtune of the Sentence Transformers model "
        f"`{record['source_model']}`"
        + (f" ({base} finetuned)" if base and finetuned else "")
        + f" for deployment: the transformer as a {backend} graph "
        f"(`{record['file']}`), with the model's own tokenizer, pooling "
        f"(`{record['pooling']}`){', normalization' if record['normalize'] else ''} and prompts. "
        "The torch weights are not included.",
        "",
        "| | |",
        "|---|---|",
        f"| format | {_FORMAT_WORDS.get(backend, backend)} |",
        f"| precision | {precision} |",
        f"| model file | `{record['file']}` |",
        f"| source model | `{record['source_model']}` |",
    ]
    if base:
        lines.append(f"| base model | `{base}`{' (finetuned from it)' if finetuned else ''} |")
    lines += [
        f"| embedding size | {record.get('dimension')} |",
        f"| prompts | `{json.dumps(record.get('prompts') or {})}` |",
        f"| graph inputs | {', '.join(record.get('graph', {}).get('inputs', []))} |",
    ]
    if quantization:
        lines.append(
            f"| quantization | {quantization['method']}: weights {quantization['weights']}, "
            f"activations {quantization['activations']} |"
        )
    if quantization and quantization.get("calibration"):
        calibration = quantization["calibration"]
        lines.append(f"| calibration | {calibration['texts']} texts: {calibration['source']} |")
    lines += [
        "",
        "## Load it",
        "",
        "With Sentence Transformers (needs its backend extra, i.e. optimum, which supports "
        "transformers 5 only in newer releases):",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "",
        f'model = SentenceTransformer("PATH", backend="{backend}", model_kwargs={kwargs})',
        'embeddings = model.encode_query(["how do I ...?"])',
        "```",
        "",
        "With embedtune (ONNX Runtime or OpenVINO only, no optimum):",
        "",
        "```python",
        "from embedtune.export import load_exported",
        "",
        'model = load_exported("PATH")',
        'embeddings = model.encode_query(["how do I ...?"])',
        "```",
        "",
        "Matryoshka: keep the first d components of an embedding and renormalise, as the "
        "evaluation did.",
    ]
    if backend == ONNX and record["precision"] == INT8:
        lines += [
            "",
            "int8 was measured against the float32 model on the test queries when exported "
            "after a finetune: see the run's results.json (`export`).",
        ]
    return "\n".join(lines) + "\n"
