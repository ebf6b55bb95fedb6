"""`embedtune generate --ray`: the chunks left to do go through distilabel's own Ray runner.

distilabel turns a pipeline into a Ray job with ``Pipeline.ray()``: the query task runs as
``replicas`` Ray actors (``--llm-concurrency``; each sends ``--llm-batch-size`` chunks per
call), spread over the Ray cluster that ``ray.init`` finds (``RAY_ADDRESS``, or a job submitted
with ``ray job submit``; else a local one). distilabel caches each finished batch under
``cache_dir``, so a Ray run that is killed continues from its cache when run again; its answers
are then added to embedtune's own progress file like any other batch.

Ray is not a dependency of embedtune: ``pip install 'ray[default]'``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError
from embedtune.synthetic.chunking import Chunk

logger = logging.getLogger(__name__)

RAY_INSTALL = "pip install 'ray[default]'"
PIPELINE_NAME = "embedtune-generate-queries"


def check_ray() -> None:
    """Refuse --ray before any work when Ray is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError(
            "--ray runs distilabel's pipeline on a Ray cluster and needs the 'ray' package, "
            f"which is not installed: {RAY_INSTALL}"
        )


def generate_rows_with_ray(
    chunks: Sequence[Chunk],
    llm: Any,
    *,
    task_name: str,
    context: str,
    hard_negative: bool,
    batch_size: int,
    replicas: int,
    cache_dir: Path,
) -> dict[str, dict]:
    """distilabel's output row of each chunk (chunk id -> row) from a Ray run of the query
    task; a chunk without a row is missing from the result (the caller counts it as dropped)."""
    check_ray()
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts, StepResources

    from embedtune.synthetic.llm_queries import sentence_pair_task

    with Pipeline(name=PIPELINE_NAME, cache_dir=str(cache_dir)) as pipeline:
        load = LoadDataFromDicts(
            name="chunks",
            data=[{"chunk_id": c.id, "anchor": c.text} for c in chunks],
            batch_size=batch_size,
        )
        task = sentence_pair_task(
            llm,
            context,
            hard_negative,
            batch_size,
            name=task_name,
            resources=StepResources(replicas=replicas),
        )
        load >> task
    logger.info(
        "Generating queries for %d chunks on Ray (%d replicas, cache %s)",
        len(chunks),
        replicas,
        cache_dir,
    )
    distiset = pipeline.ray().run(use_cache=True)
    rows = distiset["default"]["train"] if "default" in distiset else distiset[task_name]["train"]
    return {row["chunk_id"]: dict(row) for row in rows}
