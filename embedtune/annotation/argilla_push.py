"""Push a generated dataset to Argilla 2.x for human review."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from embedtune.annotation import argilla_settings as S
from embedtune.annotation.argilla_client import (
    connect,
    find_dataset,
    get_workspace,
    resolve_connection,
)
from embedtune.errors import DataError, ServiceError

if TYPE_CHECKING:  # pragma: no cover
    import datasets
    import numpy as np

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("chunk_id", "document", "query")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _embed(model_id: str, texts: Sequence[str]) -> np.ndarray:
    """L2-normalised embeddings of ``texts`` (rows); empty texts give zero rows.

    The model goes through the project's safe loader (safetensors only, no remote code).
    """
    import numpy as np

    from embedtune.training.model_loading import embedding_dimension, load_model

    model = load_model(model_id, device="cpu")
    out = np.zeros((len(texts), embedding_dimension(model)), dtype=np.float32)
    nonempty = [i for i, t in enumerate(texts) if t]
    if nonempty:
        vectors = model.encode(
            [texts[i] for i in nonempty],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out[nonempty] = vectors
    return out


def _similarity(a: np.ndarray, b: np.ndarray) -> list[float | None]:
    """Row-wise cosine similarity of normalised rows; None where a row is all zeros."""
    sims = []
    for x, y in zip(a, b, strict=True):
        if not x.any() or not y.any():
            sims.append(None)
        else:
            sims.append(max(-1.0, min(1.0, round(float(x @ y), 6))))
    return sims


def _check_columns(dataset: datasets.Dataset) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in dataset.column_names]
    if missing:
        raise DataError(
            f"the dataset to push lacks column(s) {missing} (it has {dataset.column_names})",
            hint="push a dataset made by `embedtune generate` (columns chunk_id, document, query, "
            "negative_query, source, section, token_count)",
        )
    for row, chunk_id in enumerate(dataset["chunk_id"]):
        if not _text(chunk_id):
            raise DataError("empty chunk_id", row=row, column="chunk_id")
        if S.RECORD_ID_SEPARATOR in str(chunk_id):
            raise DataError(
                f"chunk_id {chunk_id!r} contains {S.RECORD_ID_SEPARATOR!r}",
                row=row,
                column="chunk_id",
            )


def record_ids(chunk_ids: list[str]) -> list[str]:
    """One record per example: the chunk id, suffixed ~2, ~3, ... for a chunk's later examples.

    Stable for the same dataset, so pushing again updates records instead of duplicating them.
    """
    seen: dict[str, int] = {}
    ids = []
    for chunk_id in map(str, chunk_ids):
        seen[chunk_id] = seen.get(chunk_id, 0) + 1
        ids.append(
            chunk_id
            if seen[chunk_id] == 1
            else f"{chunk_id}{S.RECORD_ID_SEPARATOR}{seen[chunk_id]}"
        )
    return ids


def build_records(dataset: datasets.Dataset, embeddings: dict[str, np.ndarray]) -> list:
    """Argilla records for the rows of ``dataset`` (record id = chunk_id)."""
    import argilla as rg

    doc, pos, neg = embeddings["document"], embeddings["query"], embeddings["negative_query"]
    sim_pn, sim_cp, sim_cn = _similarity(pos, neg), _similarity(doc, pos), _similarity(doc, neg)
    records = []
    ids = record_ids(dataset["chunk_id"])
    for i, row in enumerate(dataset):
        query = _text(row.get("query"))
        negative = _text(row.get("negative_query"))
        fields = {S.FIELD_DOCUMENT: _text(row["document"]), S.FIELD_QUERY: query}
        if negative:
            fields[S.FIELD_NEGATIVE_QUERY] = negative
        metadata: dict[str, Any] = {
            S.META_SECTION: _text(row.get("section")) or None,
            S.META_SOURCE: _text(row.get("source")) or None,
            S.META_TOKEN_COUNT: row.get("token_count"),
            S.META_SIM_POSITIVE_NEGATIVE: sim_pn[i],
            S.META_SIM_CHUNK_POSITIVE: sim_cp[i],
            S.META_SIM_CHUNK_NEGATIVE: sim_cn[i],
        }
        metadata = {
            k: v
            for k, v in metadata.items()
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        }
        if S.META_TOKEN_COUNT in metadata:
            metadata[S.META_TOKEN_COUNT] = int(metadata[S.META_TOKEN_COUNT])
        suggestions = []
        if query:
            suggestions.append(rg.Suggestion(question_name=S.QUESTION_QUERY_EDIT, value=query))
        if negative:
            suggestions.append(
                rg.Suggestion(question_name=S.QUESTION_NEGATIVE_QUERY_EDIT, value=negative)
            )
        vectors = {}
        if doc[i].any():
            vectors[S.VECTOR_DOCUMENT] = [float(x) for x in doc[i]]
        records.append(
            rg.Record(
                id=ids[i],
                fields=fields,
                metadata=metadata,
                vectors=vectors,
                suggestions=suggestions,
            )
        )
    return records


def _get_or_create_dataset(client, name: str, workspace, dimensions: int):
    import argilla as rg
    from argilla._exceptions import ArgillaError

    settings = S.build_settings(dimensions)
    existing = find_dataset(name, workspace)
    if existing is not None:
        want, have = S.settings_signature(settings), S.settings_signature(existing.settings)
        if want != have:
            diff = sorted(k for k in want if want[k] != have[k])
            raise ServiceError(
                f"Argilla dataset {name!r} in workspace {workspace.name!r} exists with different "
                f"settings ({', '.join(diff)} differ: e.g. another base model's vector size). "
                "Push under another name, or delete that dataset in Argilla first."
            )
        logger.info("Reusing Argilla dataset %r in workspace %r", name, workspace.name)
        return existing
    dataset = rg.Dataset(name=name, workspace=workspace, settings=settings, client=client)
    try:
        dataset.create()
    except ArgillaError as e:
        raise ServiceError(
            f"Argilla could not create dataset {name!r} in workspace {workspace.name!r} "
            f"({type(e).__name__}: {e}). Creating datasets needs an owner or admin user of that "
            "workspace."
        ) from e
    logger.info("Created Argilla dataset %r in workspace %r", name, workspace.name)
    return dataset


def push_to_argilla(
    dataset: datasets.Dataset,
    name: str,
    *,
    workspace: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
    base_model: str | None = None,
) -> int:
    """Push a generated dataset to Argilla for review; returns the number of records pushed.

    The Argilla dataset ``name`` is created in ``workspace`` (default: ARGILLA_WORKSPACE, else
    the user's first workspace), or reused when it exists with the same settings; records are
    keyed by ``chunk_id``, so pushing again updates them instead of adding duplicates.
    Similarities and the chunk vector are computed with ``base_model`` (default:
    :func:`embedtune.config.default_base_model`).
    """
    from embedtune.config import default_base_model

    if not name or not name.strip():
        raise DataError("the Argilla dataset name is empty", hint="pass a name, e.g. 'docs-review'")
    _check_columns(dataset)
    conn = resolve_connection(api_url=api_url, api_key=api_key, workspace=workspace)
    client = connect(conn)
    ws = get_workspace(client, conn.workspace)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    embeddings = _embed_columns(dataset, base_model or default_base_model())
    dimensions = int(embeddings["document"].shape[1])
    rg_dataset = _get_or_create_dataset(client, name.strip(), ws, dimensions)
    records = build_records(dataset, embeddings)
    if not records:
        return 0
    try:
        rg_dataset.records.log(records, batch_size=min(len(records), 256))
    except Exception as e:
        detail = str(e).replace(conn.api_key, "***")
        raise ServiceError(
            f"Argilla refused the records for dataset {name!r}: {detail}. If the dataset was created "
            "by another version of embedtune, push under a new name."
        ) from e
    logger.info("Pushed %d records to Argilla dataset %r", len(records), name)
    return len(records)


def _embed_columns(dataset: datasets.Dataset, model_id: str) -> dict[str, np.ndarray]:
    """Embeddings of the document, query and negative_query columns, with one model load."""
    n = len(dataset)
    columns = {
        "document": [_text(t) for t in dataset["document"]],
        "query": [_text(t) for t in dataset["query"]],
        "negative_query": (
            [_text(t) for t in dataset["negative_query"]]
            if "negative_query" in dataset.column_names
            else [""] * n
        ),
    }
    vectors = _embed(model_id, columns["document"] + columns["query"] + columns["negative_query"])
    return {
        "document": vectors[:n],
        "query": vectors[n : 2 * n],
        "negative_query": vectors[2 * n :],
    }
