"""`embedtune export`: the subcommand's flags and its run (thin over embedtune.export)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from embedtune.export.formats import FORMATS

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  embedtune export --model outputs/embedtune/model --format onnx   # -> outputs/embedtune/model-onnx
  embedtune export --model outputs/embedtune/model --format onnx --quantize int8
  embedtune export --model outputs/embedtune/model --format openvino --output deploy/model-ov"""


def add_export_flags(parser: argparse.ArgumentParser) -> None:
    from embedtune.cli_flags import add_output_flags

    parser.add_argument(
        "--model", required=True, metavar="DIR", help="a Sentence Transformers model folder"
    )
    parser.add_argument(
        "--format", required=True, metavar="|".join(FORMATS), help="the graph format"
    )
    parser.add_argument(
        "--quantize",
        default=None,
        metavar="int8",
        help="int8: ONNX Runtime dynamic quantization (onnx), nncf static quantization "
        "calibrated on built-in texts (openvino) (default: float32)",
    )
    parser.add_argument(
        "--output",
        default=None,
        metavar="DIR",
        help="the exported folder, replaced whole (default: beside the model folder, "
        "MODEL-onnx, MODEL-onnx-int8, ..., as finetune --export names it)",
    )
    parser.add_argument(
        "--latency",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time query encoding at batch 1 and corpus throughput, torch fp32 vs the export, "
        "on built-in sample texts (default: on)",
    )
    parser.add_argument(
        "--max-seq-length",
        type=int,
        default=None,
        metavar="N",
        help="sequence length for the timing (default: the model's own)",
    )
    add_output_flags(parser)


def add_export_parser(commands: argparse._SubParsersAction) -> None:
    """Register `export` (its flags are added on first use, see cli_flags.LazyParser)."""
    from embedtune.cli_flags import EXIT_CODES_NO_STRICT, HelpFormatter

    parser = commands.add_parser(
        "export",
        help="export a model to ONNX or OpenVINO (float32 or int8) for deployment",
        description="Export a Sentence Transformers model folder to ONNX or OpenVINO in "
        "Sentence Transformers' backend layout (prompts, pooling and a model card kept), "
        "then time it against the torch model.",
        epilog=f"{EXIT_CODES_NO_STRICT}\n\n{EXAMPLES}",
        formatter_class=HelpFormatter,
    )
    parser.populate = add_export_flags


def torch_vs_export_latency(
    model_dir: str | Path,
    exported: str | Path,
    *,
    max_seq_length: int | None = None,
    name: str = "export",
) -> dict[str, Any]:
    """Latency of torch fp32 vs the exported folder on built-in sample texts."""
    from embedtune.export.latency import measure_latency, sample_texts
    from embedtune.export.loader import load_exported
    from embedtune.training.model_loading import load_model

    torch_model = load_model(str(model_dir), max_seq_length=max_seq_length, device="cpu")
    encoder = load_exported(exported, max_seq_length=torch_model.max_seq_length, threads=_threads())
    queries, documents = sample_texts()
    return measure_latency(
        {"torch-fp32": torch_model, name: encoder},
        queries,
        documents,
        texts="built-in sample texts (embedtune.export.latency.sample_texts)",
    )


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def default_output(model: str, format: str, quantize: str | None) -> Path:
    """MODEL-<export name> beside the model folder (outputs/run/model -> model-onnx-int8)."""
    from embedtune.export.formats import export_target

    folder = Path(model).expanduser()
    return folder.with_name(f"{folder.resolve().name}-{export_target(format, quantize).name}")


def run_export_command(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from embedtune.errors import ConfigError
    from embedtune.export.export import export_model

    if args.max_seq_length is not None and args.max_seq_length < 1:
        raise ConfigError(f"--max-seq-length must be at least 1, got {args.max_seq_length}")
    output = args.output or default_output(args.model, args.format, args.quantize)
    record = export_model(args.model, args.format, args.quantize, output)
    result: dict[str, Any] = {"output": str(output), **record}
    if args.latency:
        result["latency"] = torch_vs_export_latency(
            args.model, output, max_seq_length=args.max_seq_length, name=record["name"]
        )
    return result, 0
