"""export_model: a Sentence Transformers folder -> an atomic folder with the ONNX or OpenVINO
graph in Sentence Transformers' backend layout, the model's own configs (prompts, pooling,
normalize, tokenizer), embedtune_export.json and a model card."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError
from embedtune.export.formats import (
    EXPORT_RECORD,
    ExportTarget,
    check_packages,
    export_target,
)
from embedtune.export.model_card import model_card
from embedtune.export.model_folder import copy_files, read_pipeline
from embedtune.export.openvino_int8 import CALIBRATION_TEXTS
from embedtune.io import write_dir_atomic, write_json_atomic, write_text_atomic

logger = logging.getLogger(__name__)


def check_export(
    model_dir: str | Path, format: str, quantize: str | None, output: str | Path
) -> ExportTarget:
    """Every refusal before anything is written: format, precision, the model folder, the
    packages, an output that is the model folder itself."""
    target = export_target(format, quantize)
    read_pipeline(model_dir)
    source, out = Path(model_dir).expanduser().resolve(), Path(output).expanduser().resolve()
    if out == source or source in out.parents or out in source.parents:
        raise ConfigError(
            f"--output {output} overlaps the model folder {model_dir}: choose a folder outside it"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--output {output} exists and is not a folder")
    check_packages(target)
    return target


def export_model(
    model_dir: str | Path,
    format: str,
    quantize: str | None = None,
    output: str | Path | None = None,
    *,
    source_label: str | None = None,
    from_onnx: str | Path | None = None,
    calibration_size: int = CALIBRATION_TEXTS,
) -> dict[str, Any]:
    """Export `model_dir` to `output` (onnx|openvino, quantize None|"int8"); an existing output
    folder is replaced only once the new one is complete. Returns embedtune_export.json.

    `from_onnx`: a float32 ONNX export of the same model (a folder export_model wrote) to
    quantize or convert, instead of tracing the torch model again. `calibration_size`: the
    built-in texts nncf calibrates OpenVINO int8 on (openvino_int8.py)."""
    if output is None:
        raise ConfigError("export: no output folder given")
    target = check_export(model_dir, format, quantize, output)
    model_dir = Path(model_dir).expanduser()
    pipeline = read_pipeline(model_dir)
    fp32_onnx = _fp32_onnx(from_onnx) if from_onnx is not None else None
    record: dict[str, Any] = {}

    def write(folder: Path) -> None:
        start = time.perf_counter()
        copied = copy_files(model_dir, folder)
        with tempfile.TemporaryDirectory(prefix="embedtune-export-") as scratch:
            from embedtune.export.graph import write_graph

            graph = write_graph(
                model_dir,
                target,
                folder,
                Path(scratch),
                fp32_onnx=fp32_onnx,
                calibration_size=calibration_size,
            )
        record.update(
            {
                "format": target.format,
                "precision": target.precision,
                "name": target.name,
                "file": target.file,
                "source_model": source_label or str(model_dir),
                **source_metadata(model_dir),
                "pooling": pipeline.pooling,
                "normalize": pipeline.normalize,
                "dimension": pipeline.dimension,
                "prompts": pipeline.prompts,
                "graph": graph,
                "files": sorted([*copied, target.file]),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
        write_json_atomic(folder / EXPORT_RECORD, record)
        write_text_atomic(folder / "README.md", model_card(record))

    logger.info("Exporting %s to %s (%s)", model_dir, output, target.name)
    write_dir_atomic(output, write)
    logger.info("Exported %s in %.1f s: %s/%s", target.name, record["seconds"], output, target.file)
    return record


def source_metadata(model_dir: Path) -> dict[str, Any]:
    """The base model and license the source folder's model card names (embedtune's card of a
    finetuned model does); the packaged default model names its Hub id; else nothing."""
    from embedtune.config import default_base_model
    from embedtune.reporting.model_card import KNOWN_HUB_IDS, front_matter

    meta = front_matter(model_dir / "README.md")
    base = meta.get("base_model")
    if isinstance(base, list):
        base = base[0] if base else None
    found: dict[str, Any] = {}
    if base:
        found["base_model"] = str(base)
    elif model_dir.resolve() == Path(default_base_model()).resolve():
        found["base_model"] = KNOWN_HUB_IDS["all-MiniLM-L6-v2"]
    if meta.get("base_model_relation"):
        found["base_model_relation"] = str(meta["base_model_relation"])
    if isinstance(meta.get("license"), str):
        found["license"] = meta["license"]
    return found


def _fp32_onnx(folder: str | Path) -> Path:
    """The float32 ONNX graph of an earlier export, or a clear error."""
    from embedtune.export.loader import read_record

    record = read_record(Path(folder))
    if (record.get("format"), record.get("precision")) != ("onnx", "fp32"):
        raise ConfigError(
            f"{folder}: from_onnx needs a float32 ONNX export, this is {record.get('name')}"
        )
    return Path(folder) / record["file"]
