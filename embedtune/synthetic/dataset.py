"""Build, save and publish the generated (query, document, negative query) dataset.

The saved folder loads with ``datasets.load_from_disk(folder)`` and has the columns of
:data:`embedtune.synthetic.chunk.GENERATED_COLUMNS`; a ``generated.jsonl`` copy sits next to
the Arrow files for people to read. Saving is atomic: the dataset is written to a temporary
sibling folder which then replaces the target, so a crash never leaves a half-written dataset.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from embedtune.errors import DataError
from embedtune.synthetic.chunk import GENERATED_COLUMNS, Chunk

logger = logging.getLogger(__name__)

JSONL_NAME = "generated.jsonl"


def generated_features():
    """The ``datasets.Features`` of a generated dataset."""
    from datasets import Features, Value

    return Features(
        {
            name: Value("int64") if name == "token_count" else Value("string")
            for name in GENERATED_COLUMNS
        }
    )


def build_generated_dataset(chunks: Sequence[Chunk], examples: Sequence[Mapping]):
    """One row per usable example, with :data:`GENERATED_COLUMNS`.

    ``examples`` are dicts with ``query`` and ``negative_query``. They are matched to chunks
    by their ``chunk_id`` key when every example has one (a chunk may have several examples,
    or none: then it is left out), else by position (then there must be one example per
    chunk). Rows follow chunk order. Examples whose query or negative query is empty, or that
    repeat a (chunk, query) pair, are left out and counted in the log.

    Raises:
        DataError: examples can't be matched to chunks, or no usable example is left.
    """
    from datasets import Dataset

    by_id = {c.id: c for c in chunks}
    if len(by_id) != len(chunks):
        raise DataError("chunk ids are not unique", hint="cut the chunks again")
    if not examples:
        pairs = []
    elif all("chunk_id" in e for e in examples):
        pairs = []
        for i, example in enumerate(examples):
            chunk = by_id.get(example["chunk_id"])
            if chunk is None:
                raise DataError(f"example {i} refers to unknown chunk id {example['chunk_id']!r}")
            pairs.append((chunk, example))
        order = {c.id: i for i, c in enumerate(chunks)}
        pairs.sort(key=lambda p: order[p[0].id])
    elif len(examples) == len(chunks):
        pairs = list(zip(chunks, examples, strict=True))
    else:
        raise DataError(
            f"got {len(examples)} examples for {len(chunks)} chunks and the examples have no "
            "'chunk_id' to match them by"
        )

    rows: dict[str, list] = {name: [] for name in GENERATED_COLUMNS}
    unusable = 0
    seen: set[tuple[str, str]] = set()
    for chunk, example in pairs:
        query = _clean(example.get("query"))
        negative = _clean(example.get("negative_query"))
        key = (chunk.id, query.casefold())
        if not query or not negative or key in seen:
            unusable += 1
            continue
        seen.add(key)
        row = {
            "chunk_id": chunk.id,
            "document": chunk.text,
            "query": query,
            "negative_query": negative,
            "source": chunk.source,
            "section": chunk.section,
            "token_count": int(chunk.token_count),
        }
        for name in GENERATED_COLUMNS:
            rows[name].append(row[name])
    if unusable:
        logger.warning("Left out %d example(s) with an empty or repeated query", unusable)
    if not rows["chunk_id"]:
        raise DataError(
            f"no usable (query, negative_query) pairs for {len(chunks)} chunks",
            hint="check the generator's log; with an LLM, try a larger model",
        )
    return Dataset.from_dict(rows, features=generated_features())


def _clean(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def save_generated_dataset(ds, output_dir: str | os.PathLike) -> Path:
    """Save ``ds`` to ``output_dir`` atomically (replacing an earlier save) plus a JSONL copy.

    Raises:
        DataError: the dataset lacks a generated column, or ``output_dir`` exists and is
            neither empty nor a saved dataset (so it is not overwritten).
    """
    missing = [c for c in GENERATED_COLUMNS if c not in ds.column_names]
    if missing:
        raise DataError(f"dataset lacks the columns {missing}", hint="use build_generated_dataset")
    target = Path(output_dir)
    if target.exists():
        if not target.is_dir():
            raise DataError("exists and is not a folder", path=str(target))
        if any(target.iterdir()) and not (target / "state.json").exists():
            raise DataError(
                "exists and is not a saved dataset; refusing to replace it",
                path=str(target),
                hint="choose an empty or new output folder",
            )
    target.parent.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    old: Path | None = None
    try:
        ds.save_to_disk(str(tmp))
        with open(tmp / JSONL_NAME, "w", encoding="utf-8") as fh:
            for row in ds:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:  # put the earlier save back
                os.replace(old, target)
                old = None
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    logger.info("Saved %d generated examples to %s", len(ds), target)
    return target


def load_generated_dataset(path: str | os.PathLike):
    """Load a dataset saved by :func:`save_generated_dataset`, checking its columns."""
    from datasets import load_from_disk

    path = Path(path)
    if not (path / "state.json").exists() and not (path / "dataset_dict.json").exists():
        raise DataError("is not a saved dataset", path=str(path))
    ds = load_from_disk(str(path))
    missing = [c for c in GENERATED_COLUMNS if c not in ds.column_names]
    if missing:
        raise DataError(f"lacks the columns {missing}", path=str(path))
    return ds


@dataclass(frozen=True)
class PushResult:
    """Outcome of :func:`push_to_hub`; true when the dataset was pushed."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok


def push_to_hub(ds, repo: str, *, private: bool = True, token: str | None = None) -> PushResult:
    """Push ``ds`` to the Hugging Face Hub dataset repo ``repo``; never raises.

    The token comes from ``token`` or the ``HF_TOKEN`` environment variable and is never
    logged. When offline, unauthenticated or the Hub refuses, it returns a false result whose
    message says why (also logged as a warning).
    """
    token = token or os.environ.get("HF_TOKEN") or None
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return _push_failed(repo, "HF_HUB_OFFLINE is set, so the Hub can't be reached")
    if token is None:
        return _push_failed(repo, "no token: set the HF_TOKEN environment variable")
    try:
        ds.push_to_hub(repo, private=private, token=token)
    except Exception as exc:  # network errors, auth errors, repo errors: all reported softly
        reason = f"{type(exc).__name__}: {exc}".replace(token, "***")
        return _push_failed(repo, reason.splitlines()[0][:300])
    message = f"pushed {len(ds)} examples to https://huggingface.co/datasets/{repo}"
    logger.info(message)
    return PushResult(True, message)


def _push_failed(repo: str, reason: str) -> PushResult:
    message = f"could not push the generated dataset to {repo!r}: {reason}"
    logger.warning(message)
    return PushResult(False, message)
