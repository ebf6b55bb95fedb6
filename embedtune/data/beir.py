"""BEIR folders: corpus.jsonl, queries.jsonl, qrels/train.tsv and qrels/test.tsv.

Training pairs come from the train qrels, evaluation from the test qrels against the whole corpus.
Train pairs touching a test document or repeating a test query are dropped (no leakage).
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from datasets import Dataset

from embedtune.data.retrieval_data import DOCUMENT, QUERY, RetrievalData
from embedtune.data.table_files import decode_file, read_rows
from embedtune.errors import DataError

logger = logging.getLogger(__name__)


def is_beir_folder(path: Path) -> bool:
    return (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file()


def _texts(path: Path, *, with_title: bool) -> dict[str, str]:
    texts: dict[str, str] = {}
    for row_number, row in enumerate(read_rows(path), start=1):
        if "_id" not in row:
            raise DataError("missing '_id'", path=str(path), row=row_number, column="_id")
        text = row.get("text")
        if not isinstance(text, str):
            raise DataError(
                "missing or non-text 'text'", path=str(path), row=row_number, column="text"
            )
        title = row.get("title") or ""
        full = f"{title} {text}".strip() if with_title and title else text
        if full.strip():
            texts[str(row["_id"])] = full
    return texts


def _qrels(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        return []
    pairs = []
    text = decode_file(path)  # DataError for unreadable or non-UTF-8 files
    for line_number, row in enumerate(
        csv.reader(io.StringIO(text, newline=""), delimiter="\t"), start=1
    ):
        if not row or (line_number == 1 and row[0] == "query-id"):
            continue
        if len(row) < 2:
            raise DataError(
                "expected query-id<TAB>corpus-id[<TAB>score]", path=str(path), row=line_number
            )
        score = row[2] if len(row) > 2 else "1"
        try:
            relevant = float(score) > 0
        except ValueError:
            raise DataError(
                f"score {score!r} is not a number",
                path=str(path),
                row=line_number,
                column="score",
            ) from None
        if relevant:
            pairs.append((row[0], row[1]))
    return pairs


def load_beir(folder: str | Path, *, require_train: bool = True) -> RetrievalData:
    """`require_train=False` (evaluation only) accepts a folder without train qrels."""
    folder = Path(folder)
    corpus = _texts(folder / "corpus.jsonl", with_title=True)
    queries = _texts(folder / "queries.jsonl", with_title=False)
    test_file = folder / "qrels" / "test.tsv"
    if not test_file.is_file() and (folder / "qrels.tsv").is_file():
        test_file = folder / "qrels.tsv"
    test_qrels, train_qrels = _qrels(test_file), _qrels(folder / "qrels" / "train.tsv")
    if not test_qrels:
        raise DataError(
            "no test qrels", path=str(test_file), hint="a BEIR folder needs qrels/test.tsv"
        )
    if not train_qrels and require_train:
        raise DataError(
            "no train qrels: nothing to train on",
            path=str(folder / "qrels" / "train.tsv"),
            hint="use `embedtune evaluate` for a test-only BEIR folder",
        )

    report = {"skipped_qrels_missing_ids": 0, "dropped_train_pairs_leaking_test": 0}
    relevant: dict[str, set[str]] = {}
    for qid, did in test_qrels:
        if qid in queries and did in corpus:
            relevant.setdefault(qid, set()).add(did)
        else:
            report["skipped_qrels_missing_ids"] += 1
    test_docs = set().union(*relevant.values()) if relevant else set()
    test_texts = {queries[q] for q in relevant}

    rows: dict[str, list[str]] = {QUERY: [], DOCUMENT: []}
    seen: set[tuple[str, str]] = set()
    for qid, did in train_qrels:
        if qid not in queries or did not in corpus:
            report["skipped_qrels_missing_ids"] += 1
            continue
        if did in test_docs or qid in relevant or queries[qid] in test_texts:
            report["dropped_train_pairs_leaking_test"] += 1
            continue
        if (qid, did) in seen:
            continue
        seen.add((qid, did))
        rows[QUERY].append(queries[qid])
        rows[DOCUMENT].append(corpus[did])
    for reason, count in report.items():
        if count:
            logger.warning("%s: %s: %d", folder, reason.replace("_", " "), count)
    if not relevant:
        raise DataError("no test query has a relevant document in the corpus", path=str(test_file))
    if not rows[QUERY] and require_train:
        raise DataError("no usable training pairs", path=str(folder / "qrels" / "train.tsv"))
    test_queries = {qid: queries[qid] for qid in relevant}
    return RetrievalData(Dataset.from_dict(rows), test_queries, corpus, relevant, report)
