"""Encoding speed as deployed: query latency at batch 1 (p50/p95) and corpus throughput
(documents per second), for the torch model and its exports, on this machine.

Each encoder answers the same texts with the same thread count; a few warm-up calls first.
Shared or busy machines make single runs noisy: `rounds` repeats the measurement and keeps the
median of each figure.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from embedtune.hardware import describe_hardware

logger = logging.getLogger(__name__)

WARMUP = 5
# Used when no test data is at hand (embedtune export): short questions and longer passages.
SAMPLE_QUERIES = [
    "how do I cancel the contract before the end of the term?",
    "which court decides disputes about the lease",
    "what happens to my deposit if the landlord sells the flat",
    "can an employer change working hours without consent",
    "deadline for appealing a parking fine",
    "is a verbal agreement binding",
    "who pays the notary fees when buying a house",
    "how long must invoices be kept",
]
SAMPLE_DOCUMENT = (
    "The tenant may terminate the lease with three months' notice in writing. The notice "
    "period begins on the first day of the following month. Deposits are returned within six "
    "weeks after the keys are handed back, less any documented damage beyond normal wear. "
)


def sample_texts(queries: int = 64, documents: int = 128) -> tuple[list[str], list[str]]:
    """Built-in query and document texts for timing when no data set is given."""
    qs = [f"{SAMPLE_QUERIES[i % len(SAMPLE_QUERIES)]} ({i})" for i in range(queries)]
    ds = [f"Section {i}. " + SAMPLE_DOCUMENT * (1 + i % 3) for i in range(documents)]
    return qs, ds


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def time_encoder(
    encoder: Any,
    queries: Sequence[str],
    documents: Sequence[str],
    *,
    batch_size: int = 32,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
) -> dict[str, float]:
    """One round: every query alone (batch 1), then the documents in batches."""
    for text in queries[:WARMUP]:
        encoder.encode_query([text], prompt=query_prompt)
    times = []
    for text in queries:
        start = time.perf_counter()
        encoder.encode_query([text], prompt=query_prompt)
        times.append(1000 * (time.perf_counter() - start))
    encoder.encode_document(list(documents[:batch_size]), prompt=document_prompt)
    start = time.perf_counter()
    encoder.encode_document(list(documents), prompt=document_prompt, batch_size=batch_size)
    seconds = time.perf_counter() - start
    return {
        "query_ms_p50": _percentile(times, 50),
        "query_ms_p95": _percentile(times, 95),
        "corpus_docs_per_second": len(documents) / seconds,
    }


def measure_latency(
    encoders: dict[str, Any],
    queries: Sequence[str],
    documents: Sequence[str],
    *,
    batch_size: int = 32,
    rounds: int = 3,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    reference: str = "torch-fp32",
    texts: str = "test queries and corpus documents",
) -> dict[str, Any]:
    """Median over `rounds` of each encoder's figures (rounds interleave the encoders, so a
    burst of load on a shared machine hits all of them), speed-ups against `reference`, and
    the machine's description."""
    if not queries or not documents:
        raise ValueError("latency: no texts to encode")
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in encoders}
    with torch.inference_mode():
        for _ in range(rounds):
            for name, encoder in encoders.items():
                runs[name].append(
                    time_encoder(
                        encoder,
                        queries,
                        documents,
                        batch_size=batch_size,
                        query_prompt=query_prompt,
                        document_prompt=document_prompt,
                    )
                )
    models: dict[str, dict[str, float]] = {}
    for name, figures in runs.items():
        models[name] = {
            key: round(statistics.median(f[key] for f in figures), 3) for key in figures[0]
        }
    if reference in models:
        ref = models[reference]
        for figures in models.values():
            figures["query_speedup"] = round(ref["query_ms_p50"] / figures["query_ms_p50"], 2)
            figures["corpus_speedup"] = round(
                figures["corpus_docs_per_second"] / ref["corpus_docs_per_second"], 2
            )
    for name, figures in models.items():
        logger.info(
            "latency %s: query p50 %.2f ms, p95 %.2f ms (batch 1); corpus %.0f docs/s",
            name,
            figures["query_ms_p50"],
            figures["query_ms_p95"],
            figures["corpus_docs_per_second"],
        )
    return {
        "reference": reference,
        "models": models,
        "settings": {
            "texts": texts,
            "queries": len(queries),
            "documents": len(documents),
            "corpus_batch_size": batch_size,
            "rounds": rounds,
            "statistic": "median over rounds; query latency per call of encode_query on one text",
            "threads": torch.get_num_threads(),
        },
        "hardware": describe_hardware(),
    }
