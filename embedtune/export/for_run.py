"""`--export` in a finetune run: export the saved model into OUTPUT/model-<format>, score it
with the run's evaluator against the torch model, time both; results.json's "export" block."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import RetrievalEvaluation, evaluated_query_ids
from embedtune.export.export import export_model
from embedtune.export.formats import check_packages, target_from_name
from embedtune.export.latency import measure_latency
from embedtune.export.loader import load_exported
from embedtune.export.reevaluate import compare_to_torch, evaluate_exported
from embedtune.io import write_json_atomic
from embedtune.results_schema import DEPLOYMENT_FILE, MODEL_DIR

logger = logging.getLogger(__name__)

LATENCY_QUERIES = 100  # test queries timed one by one
LATENCY_DOCUMENTS = 128  # corpus documents timed in batches
LATENCY_ROUNDS = 3


def check_export_setting(config: FinetuneConfig) -> None:
    """Refuse a run whose --export cannot happen (a missing package) before it trains."""
    if config.export:
        check_packages(target_from_name(config.export))


def export_folder_name(export: str) -> str:
    return f"{MODEL_DIR}-{export}"


def run_latency(
    torch_model: Any,
    encoder: Any,
    data: RetrievalData,
    config: FinetuneConfig,
    *,
    name: str,
    rounds: int = LATENCY_ROUNDS,
) -> dict[str, Any]:
    """Torch fp32 vs the export on the run's own test queries (batch 1) and corpus documents."""
    queries = [data.queries[q] for q in evaluated_query_ids(data)][:LATENCY_QUERIES]
    documents = list(data.corpus.values())[:LATENCY_DOCUMENTS]
    return measure_latency(
        {"torch-fp32": torch_model, name: encoder},
        queries,
        documents,
        batch_size=config.eval_batch_size,
        rounds=rounds,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        texts=f"the first {len(queries)} test queries and {len(documents)} corpus documents",
    )


def add_latency_to_deployment(folder: Path, latency: dict[str, Any]) -> None:
    """deployment.json (when the run wrote one) gains the torch-vs-export timing."""
    path = folder / DEPLOYMENT_FILE
    if path.is_file():
        content = json.loads(path.read_text(encoding="utf-8"))
        content["latency"] = latency
        write_json_atomic(path, content)


def export_for_run(
    config: FinetuneConfig,
    folder: str | Path,
    data: RetrievalData,
    torch_evaluation: RetrievalEvaluation,
    torch_model: Any,
    *,
    model_label: str,
    latency: bool = True,
) -> dict[str, Any]:
    """Export FOLDER/model to FOLDER/model-<config.export>, re-evaluate it, time it; returns
    results.json's "export" block (and adds the timing to FOLDER/deployment.json if there)."""
    folder = Path(folder)
    target = target_from_name(str(config.export))
    name = export_folder_name(target.name)
    record = export_model(
        folder / MODEL_DIR,
        target.format,
        target.precision,
        folder / name,
        source_label=f"{config.base_model_name}"
        + (" finetuned" if model_label == "finetuned" else ""),
    )
    # the torch model's thread count, so the timing compares like with like
    encoder = load_exported(
        folder / name, max_seq_length=config.max_seq_length, threads=torch.get_num_threads()
    )
    logger.info("Evaluating the %s export on the test queries", target.name)
    exported = evaluate_exported(encoder, data, RetrievalEvaluator.from_config(config))
    block: dict[str, Any] = {
        "name": target.name,
        "format": target.format,
        "precision": target.precision,
        "path": str(Path(config.output) / name),
        "file": record["file"],
        "model": model_label,
        "export_seconds": record["seconds"],
        **compare_to_torch(torch_evaluation, exported, name=target.name),
    }
    if latency:
        block["latency"] = run_latency(torch_model, encoder, data, config, name=target.name)
        add_latency_to_deployment(folder, block["latency"])
    return block
