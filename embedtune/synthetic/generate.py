"""From a folder of documents to a reviewed-ready training dataset, as plain functions:

chunks = load_chunks(config)            # load + heading-aware chunking
chunks, pii = screen_pii(chunks, config)
examples = generate_examples(chunks, config)   # LLM via distilabel, or the offline generator
dataset = build_generated_dataset(chunks, examples)
publish_generated(dataset, config)      # save (atomic), optional Hub push, optional Argilla push
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from datasets import Dataset

from embedtune.synthetic.chunk import Chunk
from embedtune.synthetic.chunking import chunk_documents
from embedtune.synthetic.dataset import build_generated_dataset, push_to_hub, save_generated_dataset
from embedtune.synthetic.documents import load_documents
from embedtune.synthetic.offline_queries import generate_offline_examples
from embedtune.synthetic.pii import PiiReport, drop_pii_chunks, scan_pii

logger = logging.getLogger(__name__)


@dataclass
class GenerateConfig:
    docs: list[str] = field(default_factory=list)
    output: str = "outputs/generated"
    llm: str | None = None  # None: the offline generator; else openai:MODEL or hf:PATH[:GGUF]
    context: str = ""  # what the documents are about, steers the LLM's questions
    max_tokens: int = 256
    overlap_tokens: int = 32
    min_tokens: int = 8
    drop_pii: bool = False
    tokenizer: str | None = None  # None: the base model's tokenizer (offline MiniLM)
    llm_batch_size: int = 8
    max_new_tokens: int = 256
    seed: int = 42
    push_to_hub: str | None = None
    argilla_dataset: str | None = None


def _tokenizer(config: GenerateConfig) -> Any:
    from transformers import AutoTokenizer

    from embedtune.config import default_base_model

    return AutoTokenizer.from_pretrained(config.tokenizer or default_base_model())


def load_chunks(config: GenerateConfig) -> list[Chunk]:
    documents = load_documents(config.docs)
    chunks = chunk_documents(
        documents,
        max_tokens=config.max_tokens,
        overlap_tokens=config.overlap_tokens,
        min_tokens=config.min_tokens,
        tokenizer=_tokenizer(config),
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
    from embedtune.synthetic.llm import describe_llm
    from embedtune.synthetic.llm_queries import generate_llm_examples

    logger.info("Generating queries with %s", describe_llm(config.llm))
    return generate_llm_examples(
        chunks,
        config.llm,
        context=config.context,
        batch_size=config.llm_batch_size,
        max_new_tokens=config.max_new_tokens,
    )


def chunks_to_dataset(chunks: list[Chunk]) -> Dataset:
    return Dataset.from_list([asdict(c) for c in chunks])


def chunks_from_dataset(dataset: Dataset) -> list[Chunk]:
    return [Chunk(**row) for row in dataset]


def publish_generated(dataset: Dataset, config: GenerateConfig) -> dict[str, Any]:
    """Save to OUTPUT (atomic), then push to the Hub / Argilla when asked. Returns a summary."""
    path = save_generated_dataset(dataset, config.output)
    summary: dict[str, Any] = {"path": str(path), "rows": len(dataset)}
    if config.push_to_hub:
        result = push_to_hub(dataset, config.push_to_hub)
        summary["push_to_hub"] = {
            "repo": config.push_to_hub,
            "pushed": result.ok,
            "message": result.message,
        }
    if config.argilla_dataset:
        from embedtune.annotation.argilla_push import push_to_argilla

        summary["argilla"] = {
            "dataset": config.argilla_dataset,
            "records": push_to_argilla(dataset, config.argilla_dataset),
        }
    return summary


def run_generate(config: GenerateConfig) -> dict[str, Any]:
    chunks = load_chunks(config)
    chunks, pii = screen_pii(chunks, config)
    examples = generate_examples(chunks, config)
    dataset = build_generated_dataset(chunks, examples)
    summary = publish_generated(dataset, config)
    summary.update(chunks=len(chunks), pii=pii.to_dict()["counts"])
    logger.info(
        "Generated %d examples from %d chunks -> %s", len(dataset), len(chunks), summary["path"]
    )
    return summary
