"""From a folder of documents to a reviewed-ready training dataset, as plain functions:

check_generate_config(config)           # refusals first: output folder, LLM spec, settings
chunks = load_chunks(config)            # load + heading-aware chunking
chunks, pii = screen_pii(chunks, config)
examples = generate_examples(chunks, config)   # LLM via distilabel, or the offline generator
dataset = build_generated_dataset(chunks, examples)
publish_generated(dataset, config)      # save (atomic), optional Hub push, optional Argilla push
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datasets import Dataset

from embedtune.errors import ConfigError
from embedtune.synthetic.chunking import Chunk, chunk_documents
from embedtune.synthetic.dataset import (
    build_generated_dataset,
    check_generate_output,
    save_generated_dataset,
)
from embedtune.synthetic.documents import load_documents
from embedtune.synthetic.llm import DEFAULT_CONCURRENCY, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from embedtune.synthetic.offline_queries import generate_offline_examples
from embedtune.synthetic.pii import PiiReport, drop_pii_chunks, scan_pii
from embedtune.synthetic.progress import (
    GenerateProgress,
    check_progress,
    progress_path,
    remove_progress,
)

logger = logging.getLogger(__name__)


@dataclass
class GenerateConfig:
    docs: list[str] = field(default_factory=list)
    output: str = "outputs/generated"
    overwrite: bool = False  # replace an output folder that `generate` did not write
    llm: str | None = None  # None: the offline generator; else openai:MODEL or hf:PATH[:GGUF]
    context: str = ""  # what the documents are about, steers the LLM's questions
    max_tokens: int = 256
    overlap_tokens: int = 32
    min_tokens: int = 8
    drop_pii: bool = False
    tokenizer: str | None = None  # None: the base model's tokenizer (offline MiniLM)
    llm_batch_size: int = 8
    max_new_tokens: int = 256
    llm_timeout: int = DEFAULT_TIMEOUT  # whole seconds to wait for one endpoint answer
    llm_retries: int = DEFAULT_RETRIES  # further tries of a request that timed out or failed
    llm_concurrency: int = DEFAULT_CONCURRENCY  # requests in flight at once (Ray: replicas)
    resume: bool = False  # continue the saved progress of a killed LLM run into OUTPUT
    ray: bool = False  # run the LLM task with distilabel's Ray runner (pip install 'ray[default]')
    seed: int = 42
    push_to_hub: str | None = None
    argilla_dataset: str | None = None
    # Query filter (embedtune.data.query_filter): copies of the passage, near duplicates, round
    # trip (own passage in the base model's top filter_top_k), and with filter_judge an LLM
    # judge of "needs the passage". Dropped rows are saved beside the kept ones (filtered_out.jsonl).
    filter: bool = False
    filter_top_k: int = 3
    filter_copy_fraction: float = 0.8
    filter_duplicate_similarity: float = 0.95
    filter_cross_encoder: str | None = None  # also a cross-encoder's top k (round trip)
    filter_judge: str | None = None  # LLM spec (openai:MODEL, hf:PATH) for the judge rule


def check_generate_config(config: GenerateConfig) -> None:
    """Every refusal that needs no document read and no LLM call: run it before any work."""
    if not config.docs:
        raise ConfigError("no documents given: pass --docs with a folder or files")
    timeout = config.llm_timeout
    if not (
        isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout == int(timeout)
    ):
        raise ConfigError(f"llm_timeout must be a whole number of seconds, got {timeout!r}")
    if timeout < 1:
        raise ConfigError(f"llm_timeout must be at least 1 second, got {timeout}")
    if config.llm_retries < 0:
        raise ConfigError(f"llm_retries must be 0 or more, got {config.llm_retries}")
    if config.llm_batch_size < 1:
        raise ConfigError(f"llm_batch_size must be at least 1, got {config.llm_batch_size}")
    if config.llm_concurrency < 1:
        raise ConfigError(f"llm_concurrency must be at least 1, got {config.llm_concurrency}")
    from embedtune.config import check_seed

    check_seed(config.seed)
    check_generate_filter(config)
    if config.ray and not config.llm:
        raise ConfigError("--ray runs the LLM on Ray: give the LLM with --llm")
    check_docs_outside_output(config.docs, config.output)
    check_generate_output(config.output, overwrite=config.overwrite)
    if config.llm:
        from embedtune.synthetic.llm import check_llm

        check_llm(config.llm)
        if config.ray:
            from embedtune.synthetic.ray_runner import check_ray

            check_ray()
        check_progress(config.output, resume=config.resume, overwrite=config.overwrite)


def check_generate_filter(config: GenerateConfig) -> None:
    """The query filter's settings: ranges, the cross-encoder folder, the judge's LLM spec."""
    from embedtune.data.query_filter import check_filter_settings

    check_filter_settings(
        config.filter_top_k, config.filter_copy_fraction, config.filter_duplicate_similarity
    )
    used = [name for name in ("filter_cross_encoder", "filter_judge") if getattr(config, name)]
    if used and not config.filter:
        raise ConfigError(f"{used[0]} is set but the filter is off; add --filter")
    if config.filter_cross_encoder:
        from embedtune.training.model_loading import check_cross_encoder_folder

        check_cross_encoder_folder(Path(config.filter_cross_encoder).expanduser())
    if config.filter_judge:
        from embedtune.synthetic.llm import check_llm

        check_llm(config.filter_judge)


def check_docs_outside_output(docs: list[str], output: str) -> None:
    """Saving replaces OUTPUT whole: documents inside it (or OUTPUT inside a documents folder,
    read again by the next run) are refused."""
    out = Path(output).expanduser().resolve()
    for doc in docs:
        path = Path(doc).expanduser().resolve()
        if path == out or out in path.parents or path in out.parents:
            raise ConfigError(
                f"--docs {doc} and --output {output} overlap: saving replaces the output folder "
                "whole, which would delete the documents (or mix the dataset into them). Give an "
                "--output outside the documents"
            )


def load_chunks(config: GenerateConfig) -> list[Chunk]:
    from embedtune.config import default_base_model

    documents = load_documents(config.docs)
    chunks = chunk_documents(
        documents,
        max_tokens=config.max_tokens,
        overlap_tokens=config.overlap_tokens,
        min_tokens=config.min_tokens,
        tokenizer=config.tokenizer or default_base_model(),
    )
    logger.info("%d documents -> %d chunks", len(documents), len(chunks))
    return chunks


def screen_pii(chunks: list[Chunk], config: GenerateConfig) -> tuple[list[Chunk], PiiReport]:
    report = scan_pii(chunks)
    logger.info("PII scan: %s", report.summary())
    if config.drop_pii and report.has_findings:
        chunks = drop_pii_chunks(chunks, report)
        logger.info(
            "Dropped %d flagged chunks; %d left", len(report.flagged_chunk_ids), len(chunks)
        )
    return chunks, report


def generate_examples(chunks: list[Chunk], config: GenerateConfig) -> list[dict]:
    if not config.llm:
        logger.info("Generating queries offline (no --llm given)")
        return generate_offline_examples(chunks, seed=config.seed)
    from embedtune.synthetic.llm_queries import generate_llm_examples

    progress = GenerateProgress.start(
        progress_path(config.output), progress_settings(config), resume=config.resume
    )
    return generate_llm_examples(
        chunks,
        config.llm,
        context=config.context,
        batch_size=config.llm_batch_size,
        max_new_tokens=config.max_new_tokens,
        timeout=int(config.llm_timeout),
        retries=config.llm_retries,
        concurrency=config.llm_concurrency,
        progress=progress,
        ray_cache=ray_cache_path(config.output) if config.ray else None,
    )


def progress_settings(config: GenerateConfig) -> dict[str, Any]:
    """The settings that shape an answer: saved progress is resumed only under the same."""
    return {"llm": config.llm, "context": config.context, "max_new_tokens": config.max_new_tokens}


def ray_cache_path(output: str) -> Path:
    """distilabel's cache of a --ray run (beside the output folder, like the progress)."""
    target = Path(output)
    return target.parent / f".{target.name}.distilabel-cache"


def chunks_to_dataset(chunks: list[Chunk]) -> Dataset:
    return Dataset.from_list([asdict(c) for c in chunks])


def chunks_from_dataset(dataset: Dataset) -> list[Chunk]:
    return [Chunk(**row) for row in dataset]


def publish_generated(
    dataset: Dataset, config: GenerateConfig, dropped: Dataset | None = None
) -> dict[str, Any]:
    """Save to OUTPUT (atomic; `dropped`: the query filter's dropped rows, saved beside), then
    push to the Hub / Argilla when asked. Returns a summary."""
    path = save_generated_dataset(
        dataset, config.output, overwrite=config.overwrite, dropped=dropped
    )
    remove_progress(config.output)  # the dataset holds it now
    shutil.rmtree(ray_cache_path(config.output), ignore_errors=True)
    summary: dict[str, Any] = {"path": str(path), "rows": len(dataset)}
    if config.push_to_hub:
        from embedtune.hub import push_dataset

        summary["push_to_hub"] = push_dataset(dataset, config.push_to_hub)
    if config.argilla_dataset:
        from embedtune.annotation.argilla_push import push_to_argilla

        summary["argilla"] = {
            "dataset": config.argilla_dataset,
            "records": push_to_argilla(dataset, config.argilla_dataset),
        }
    return summary


def run_generate(config: GenerateConfig) -> dict[str, Any]:
    check_generate_config(config)
    chunks = load_chunks(config)
    chunks, pii = screen_pii(chunks, config)
    examples = generate_examples(chunks, config)
    dataset = build_generated_dataset(chunks, examples)
    dataset, filtered = filter_generated(dataset, config)  # every row dropped: nothing written
    summary = publish_generated(dataset, config, filtered.dropped if filtered else None)
    summary.update(chunks=len(chunks), pii=pii.to_dict()["counts"])
    if filtered is not None:
        summary["filter"] = filtered.summary()
    logger.info(
        "Generated %d examples from %d chunks -> %s", len(dataset), len(chunks), summary["path"]
    )
    return summary


def filter_generated(dataset: Dataset, config: GenerateConfig) -> tuple[Dataset, Any]:
    """The generated rows the query filter keeps, and its FilterOutcome (None when off).
    Raises DataError, before anything is saved, when the filter would drop every row."""
    if not config.filter:
        return dataset, None
    from embedtune.config import default_base_model
    from embedtune.data.query_filter import RULES, QueryFilterSettings, filter_queries
    from embedtune.training.model_loading import load_cross_encoder, load_model

    judge = None
    if config.filter_judge:
        from embedtune.synthetic.query_judge import llm_judge

        judge = llm_judge(
            config.filter_judge, timeout=int(config.llm_timeout), retries=config.llm_retries
        )
    outcome = filter_queries(
        dataset,
        load_model(default_base_model()),
        settings=QueryFilterSettings(
            top_k=config.filter_top_k,
            copy_fraction=config.filter_copy_fraction,
            duplicate_similarity=config.filter_duplicate_similarity,
            rules=RULES,
        ),
        cross_encoder=(
            load_cross_encoder(config.filter_cross_encoder) if config.filter_cross_encoder else None
        ),
        judge=judge,
    )
    logger.info("Query filter: %s", outcome.summary(examples=0)["dropped"])
    return outcome.kept, outcome
