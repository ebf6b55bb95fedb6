"""Resolve a SOURCE string to retrieval data.

SOURCE is one of: nothing (the embedded default), a BEIR folder, a local .json/.jsonl/.csv/.parquet
file, a `save_to_disk` folder, `argilla:NAME` (reviewed records), or a Hugging Face hub id with an
optional `:split`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset, DatasetDict, concatenate_datasets

from embedtune.data.beir import is_beir_folder, load_beir
from embedtune.data.cleaning import clean_pairs
from embedtune.data.layouts import ColumnMapping, resolve_columns
from embedtune.data.registry import load_default_corpus, load_registered
from embedtune.data.retrieval_data import RetrievalData
from embedtune.data.split import split_by_document, split_by_query
from embedtune.data.table_files import read_rows
from embedtune.errors import DataError

logger = logging.getLogger(__name__)
DEFAULT_SOURCE = "default"
_SAMPLE_ROWS = 200


@dataclass
class DataOptions:
    source: str | None = None  # None or "default": the embedded pydoc corpus
    query_column: str | None = None
    document_column: str | None = None
    negative_column: str | None = None
    split: str | None = (
        None  # protocol (embedtune.data.protocol); None: given for BEIR, else by-document
    )
    test_fraction: float = 0.1
    seed: int = 42
    max_train_pairs: int | None = None  # seeded subset of the training pairs (quick runs)
    max_test_queries: int | None = None  # seeded subset of the test queries (quick runs)
    require_train: bool = True  # False for evaluation only: a test-only BEIR folder is fine


def _rows_from_dataset(ds: Dataset | DatasetDict, split: str | None, source: str) -> Dataset:
    if isinstance(ds, DatasetDict):
        if split:
            if split not in ds:
                raise DataError(f"no split {split!r}; the splits are {list(ds)}", path=source)
            return ds[split]
        # Published splits often share documents; embedtune re-splits by document.
        return concatenate_datasets([ds[name] for name in ds])
    return ds


def _looks_local(source: str) -> bool:
    """A missing path that cannot be a hub id (owner/name[:split]): report it as missing."""
    hub_id = source.partition(":")[0]
    return (
        source.startswith(("/", ".", "~", "\\"))
        or hub_id.count("/") > 1
        or Path(hub_id).parent.is_dir()
    )


def _load_raw(source: str) -> tuple[list[str], list[dict] | Dataset, str]:
    """(columns, rows, display name) of a non-BEIR source."""
    registered = load_registered(source)  # argilla:NAME and other registered prefixes
    if registered is not None:
        return registered.column_names, registered, source
    path = Path(source)
    if (path.exists() and not path.is_dir()) or path.suffix.lower() in (
        ".json",
        ".jsonl",
        ".csv",
        ".parquet",
        ".tsv",
        ".txt",
    ):
        rows = read_rows(path)
        columns = list(dict.fromkeys(k for row in rows[:_SAMPLE_ROWS] for k in row))
        return columns, rows, str(path)
    if path.is_dir():
        from datasets import load_from_disk

        if not any(
            (path / marker).exists()
            for marker in ("dataset_dict.json", "dataset_info.json", "state.json")
        ):
            raise DataError(
                "folder is neither a BEIR folder (corpus.jsonl, queries.jsonl, qrels/) nor a "
                "`save_to_disk` dataset",
                path=str(path),
            )
        try:
            loaded = load_from_disk(str(path))
        except Exception as err:  # corrupt or partial save_to_disk folder
            raise DataError(
                f"cannot load the `save_to_disk` dataset: {type(err).__name__}: {err}",
                path=str(path),
            ) from None
        ds = _rows_from_dataset(loaded, None, str(path))
        return ds.column_names, ds, str(path)
    if _looks_local(source):
        raise DataError(
            "no such file or folder",
            path=source,
            hint="check the path; a Hugging Face dataset id looks like owner/name[:split]",
        )
    if "/" in source or ":" in source:
        from datasets import load_dataset

        hub_id, _, split = source.partition(":")
        try:
            ds = load_dataset(hub_id, split=split or None)
        except Exception as err:  # offline, unknown id, no access: all end the same way
            raise DataError(
                f"cannot load Hugging Face dataset {hub_id!r}: {type(err).__name__}: {err}",
                path=source,
                hint="check the id and your network (HF_HUB_OFFLINE=1 blocks the hub), "
                "or pass a local file or folder",
            ) from None
        ds = _rows_from_dataset(ds, split or None, source)
        return ds.column_names, ds, source
    raise DataError("no such file or folder", path=source)


def load_pairs(options: DataOptions) -> tuple[Dataset, ColumnMapping, dict[str, int]]:
    """Clean (query, document[, negative]) pairs from a non-BEIR source."""
    source = options.source
    if not source or source == DEFAULT_SOURCE:
        name, rows = load_default_corpus(seed=options.seed)
        columns = rows.column_names
    else:
        columns, rows, name = _load_raw(source)
    if len(rows) == 0:
        raise DataError("the dataset is empty", path=name)
    sample = (
        rows[:_SAMPLE_ROWS]
        if isinstance(rows, list)
        else rows.select(range(min(len(rows), _SAMPLE_ROWS))).to_list()
    )
    mapping = resolve_columns(
        columns,
        sample,
        source=name,
        query_column=options.query_column,
        document_column=options.document_column,
        negative_column=options.negative_column,
    )
    first_row = 2 if name.endswith(".csv") else 1
    iterator = (
        rows
        if isinstance(rows, list)
        else rows.select_columns(
            [c for c in (mapping.query, mapping.document, mapping.negative) if c]
        ).to_list()
    )
    pairs, report = clean_pairs(iterator, mapping, source=name, first_row=first_row)
    return pairs, mapping, report


def _subset(data: RetrievalData, options: DataOptions) -> RetrievalData:
    if options.max_train_pairs is not None and len(data.train) > options.max_train_pairs:
        data.train = data.train.shuffle(seed=options.seed).select(range(options.max_train_pairs))
    if options.max_test_queries is not None and len(data.queries) > options.max_test_queries:
        import random

        keep = sorted(data.queries)
        random.Random(options.seed).shuffle(keep)
        keep = set(keep[: options.max_test_queries])
        data.queries = {q: t for q, t in data.queries.items() if q in keep}
        data.relevant = {q: r for q, r in data.relevant.items() if q in keep}
    return data


def resolve_split(options: DataOptions, *, has_split: bool) -> str:
    """The protocol: the user's, else given for sources with their own split, else by-document."""
    from embedtune.data.protocol import BY_DOCUMENT, GIVEN

    if options.split is None:
        return GIVEN if has_split else BY_DOCUMENT
    if options.split == GIVEN and not has_split:
        raise DataError(
            "--split given needs a source with its own train/test split (a BEIR folder with "
            "qrels/train.tsv and qrels/test.tsv); this source is one set of pairs",
            path=options.source or DEFAULT_SOURCE,
            hint="use --split by-query (held-out queries) or --split by-document",
        )
    return options.split


def load_retrieval_data(options: DataOptions) -> RetrievalData:
    """Training pairs and a held-out retrieval task from any SOURCE, split by the protocol."""
    from embedtune.data.protocol import BY_QUERY, describe

    source = options.source
    if (
        source
        and source != DEFAULT_SOURCE
        and Path(source).is_dir()
        and is_beir_folder(Path(source))
    ):
        logger.info("Loading BEIR folder %s", source)
        split = resolve_split(options, has_split=True)
        data = load_beir(source, split=split, require_train=options.require_train)
        dropped = data.protocol.get("dropped_train_pairs", 0)
        data.layout = "beir"
    else:
        split = resolve_split(options, has_split=False)
        pairs, mapping, report = load_pairs(options)
        splitter = split_by_query if split == BY_QUERY else split_by_document
        data = splitter(
            pairs,
            test_fraction=options.test_fraction,
            seed=options.seed,
            source=source or "default",
        )
        data.report = {**report, **data.report}
        data.layout = mapping.layout
        dropped = 0
    data = _subset(data, options)
    data.protocol = describe(split, data, dropped_train_pairs=dropped)
    return data
