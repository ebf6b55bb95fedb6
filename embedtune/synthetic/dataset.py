"""Build and save the generated (query, document, negative query) dataset.

The saved folder loads with ``datasets.load_from_disk(folder)`` and has the columns of
:data:`GENERATED_COLUMNS`; a ``generated.jsonl`` copy sits next to the Arrow files for people to
read, and a marker file says the folder was written by ``embedtune generate`` (only such a
folder is ever replaced without ``overwrite``). Saving is atomic (:func:`embedtune.io.
write_dir_atomic`): a crash never leaves a half-written dataset.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from embedtune.errors import DataError
from embedtune.io import write_dir_atomic
from embedtune.synthetic.chunking import Chunk

logger = logging.getLogger(__name__)

# Columns of a generated dataset: the layout `embedtune finetune` reads without flags.
GENERATED_COLUMNS = (
    "chunk_id",
    "document",
    "query",
    "negative_query",
    "source",
    "section",
    "token_count",
)
JSONL_NAME = "generated.jsonl"
FILTERED_NAME = "filtered_out.jsonl"  # rows the query filter dropped, with their reason
MARKER_NAME = ".embedtune-generate"


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

    rows = _rows(_match_examples(chunks, examples))
    if not rows["chunk_id"]:
        raise DataError(
            f"no usable (query, negative_query) pairs for {len(chunks)} chunks",
            hint="check the generator's log; with an LLM, try a larger model",
        )
    return Dataset.from_dict(rows, features=generated_features())


def _match_examples(
    chunks: Sequence[Chunk], examples: Sequence[Mapping]
) -> list[tuple[Chunk, Mapping]]:
    """(chunk, example) pairs in chunk order, matched by ``chunk_id`` or else by position."""
    by_id = {c.id: c for c in chunks}
    if len(by_id) != len(chunks):
        raise DataError("chunk ids are not unique", hint="cut the chunks again")
    if not examples:
        return []
    if all("chunk_id" in e for e in examples):
        pairs = []
        for i, example in enumerate(examples):
            chunk = by_id.get(example["chunk_id"])
            if chunk is None:
                raise DataError(f"example {i} refers to unknown chunk id {example['chunk_id']!r}")
            pairs.append((chunk, example))
        order = {c.id: i for i, c in enumerate(chunks)}
        return sorted(pairs, key=lambda p: order[p[0].id])
    if len(examples) == len(chunks):
        return list(zip(chunks, examples, strict=True))
    raise DataError(
        f"got {len(examples)} examples for {len(chunks)} chunks and the examples have no "
        "'chunk_id' to match them by"
    )


def _rows(pairs: list[tuple[Chunk, Mapping]]) -> dict[str, list]:
    """Columns of the usable pairs: both queries non-empty, each (chunk, query) once."""
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
    return rows


def _clean(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def check_generate_output(output_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Refuse an output folder that saving would wrongly replace, before any work is done.

    A new or empty folder, or one an earlier ``embedtune generate`` wrote (it holds
    :data:`MARKER_NAME`), is fine; any other folder is replaced only with ``overwrite``. The
    parent folder is created and a probe file written (and removed) there, where the dataset
    is written first, so an unwritable place fails now rather than after the LLM calls.
    """
    if not str(output_dir).strip():
        raise DataError(
            "--output is empty (it would be the working directory)",
            hint="give a folder path, e.g. --output outputs/generated",
        )
    target = Path(output_dir)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise DataError(
            "exists and is not a folder (or is a symbolic link)",
            path=str(target),
            hint="give the path of a new folder",
        )
    if (
        target.is_dir()
        and any(target.iterdir())
        and not (target / MARKER_NAME).is_file()
        and not overwrite
    ):
        raise DataError(
            f"exists, is not empty and was not written by `embedtune generate` (no {MARKER_NAME} "
            "file in it); refusing to replace it",
            path=str(target),
            hint="choose a new or empty output folder, or pass --overwrite to replace the folder "
            "and everything in it",
        )
    added = files_added_by_user(target)
    if added:
        more = f" and {len(added) - 5} more" if len(added) > 5 else ""
        raise DataError(
            f"holds files that `embedtune generate` did not write ({', '.join(added[:5])}{more}); "
            "saving replaces the folder whole, so they would be lost",
            path=str(target),
            hint="move them out of the folder, or choose another --output (--overwrite never "
            "deletes a file added to an earlier output)",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise DataError(
            f"cannot write the output folder here: {err.strerror or err}",
            path=str(target),
            hint="choose a folder you can write to",
        ) from None
    return target


def _generated_files(folder: Path) -> set[str] | None:
    """The files the marker of an earlier `embedtune generate` output lists (None: no marker).
    A marker from before the list was kept: the files `save_to_disk` and generate write."""
    try:
        marker = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = marker.get("files") if isinstance(marker, dict) else None
    if isinstance(files, list) and all(isinstance(f, str) for f in files):
        return {*files, MARKER_NAME}
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    legacy = {MARKER_NAME, JSONL_NAME, "dataset_info.json", "state.json"}
    return {n for n in names if n in legacy or (n.startswith("data-") and n.endswith(".arrow"))}


def files_added_by_user(folder: str | os.PathLike) -> list[str]:
    """Files in an earlier `embedtune generate` output that generate did not write."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return []
    ours = _generated_files(folder)
    if ours is None:
        return []  # not generate's folder: refused unless --overwrite (check_generate_output)
    found = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_symlink() or not p.is_dir()
    )
    return [name for name in found if name not in ours]


def save_generated_dataset(
    ds, output_dir: str | os.PathLike, *, overwrite: bool = False, dropped=None
) -> Path:
    """Save ``ds`` to ``output_dir`` atomically, with a JSONL copy and the generate marker;
    ``dropped`` (the query filter's dropped rows, with ``reason``) goes to :data:`FILTERED_NAME`.

    Raises:
        DataError: the dataset lacks a generated column, or ``output_dir`` is refused by
            :func:`check_generate_output`.
    """
    missing = [c for c in GENERATED_COLUMNS if c not in ds.column_names]
    if missing:
        raise DataError(f"dataset lacks the columns {missing}", hint="use build_generated_dataset")
    target = check_generate_output(output_dir, overwrite=overwrite)

    def write(folder: Path) -> None:
        ds.save_to_disk(str(folder))
        with open(folder / JSONL_NAME, "w", encoding="utf-8") as fh:
            for row in ds:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        if dropped is not None:
            with open(folder / FILTERED_NAME, "w", encoding="utf-8") as fh:
                for row in dropped:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        files = sorted(
            p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()
        )
        marker = {"written_by": "embedtune generate", "rows": len(ds), "files": files}
        (folder / MARKER_NAME).write_text(json.dumps(marker) + "\n", encoding="utf-8")

    write_dir_atomic(target, write)
    logger.info("Saved %d generated examples to %s", len(ds), target)
    return target
