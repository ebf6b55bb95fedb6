"""BEIR folders: corpus.jsonl, queries.jsonl, qrels/train.tsv and qrels/test.tsv.

Training pairs come from the train qrels, evaluation from the test qrels against the whole corpus.
Train pairs repeating a test query are dropped; under --split by-document, also those touching a
test document.
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


_ID_TYPES = (str, int, float)


def _row_id(row: dict, path: Path, row_number: int) -> str:
    if "_id" not in row:
        raise DataError("missing '_id'", path=str(path), row=row_number, column="_id")
    value = row["_id"]
    if isinstance(value, bool) or not isinstance(value, _ID_TYPES):
        raise DataError(
            f"'_id' must be a string or a number, found {type(value).__name__} {value!r}",
            path=str(path),
            row=row_number,
            column="_id",
        )
    return str(value)


def _text_field(row: dict, field: str, path: Path, row_number: int, *, required: bool) -> str:
    """A text field as a string; a list or dict is refused rather than embedded as its repr."""
    value = row.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        found = "nothing" if value is None else type(value).__name__
        raise DataError(
            f"{'missing or ' if required else ''}non-text {field!r}: expected a string, "
            f"found {found}",
            path=str(path),
            row=row_number,
            column=field,
            hint=f"write {field!r} as one JSON string per row",
        )
    return value


def _texts(
    path: Path,
    *,
    with_title: bool,
    report: dict[str, int] | None = None,
    empty: set[str] | None = None,
) -> dict[str, str]:
    """Id -> text of a BEIR corpus.jsonl/queries.jsonl (title + text for the corpus).

    An id given twice with the same text is dropped and counted in `report` (as
    `dropped_duplicate_<file stem>_rows`); with different texts it is an error naming both rows.
    An entry whose text is empty is left out, counted in `report` as `dropped_empty_text` and
    its id added to `empty` (so the qrels naming it are not reported as naming a missing id).
    """
    texts: dict[str, str] = {}
    first_row: dict[str, int] = {}
    duplicates: list[int] = []
    for row_number, row in enumerate(read_rows(path), start=1):
        doc_id = _row_id(row, path, row_number)
        text = _text_field(row, "text", path, row_number, required=True)
        title = _text_field(row, "title", path, row_number, required=False) if with_title else ""
        full = f"{title} {text}".strip() if title else text
        if doc_id in first_row:
            if texts.get(doc_id, "") != (full if full.strip() else ""):
                raise DataError(
                    f"_id {doc_id!r} is given twice with different texts: rows "
                    f"{first_row[doc_id]} and {row_number}",
                    path=str(path),
                    row=row_number,
                    column="_id",
                    hint="give each entry its own _id, or remove the wrong copy",
                )
            duplicates.append(row_number)
            continue
        first_row[doc_id] = row_number
        if full.strip():
            texts[doc_id] = full
        else:
            if report is not None:
                report["dropped_empty_text"] = report.get("dropped_empty_text", 0) + 1
            if empty is not None:
                empty.add(doc_id)
    if duplicates:
        logger.warning(
            "%s: dropped %d rows repeating an _id with the same text (first at row %d)",
            path,
            len(duplicates),
            duplicates[0],
        )
    if report is not None:
        report[f"dropped_duplicate_{path.stem}_rows"] = len(duplicates)
    return texts


QRELS_FORMAT = "query-id<TAB>corpus-id<TAB>score"
_TREC_ITERATIONS = ("0", "Q0")
_TREC_TO_BEIR = (
    'convert it to BEIR: awk -v OFS=\'\\t\' \'BEGIN {print "query-id", "corpus-id", '
    '"score"} {print $1, $3, $4}\' QRELS > qrels/test.tsv'
)


def _qrels_lines(text: str) -> tuple[list[tuple[int, list[str]]], bool]:
    """(line number, fields) of the data lines, and whether the fields were split on spaces.

    BEIR qrels are tab-separated; a file without any tab is split on runs of whitespace (TREC).
    """
    if "\t" in text:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
        lines = [(number, row) for number, row in enumerate(reader, start=1)]
        spaces = False
    else:
        lines = [(number, line.split()) for number, line in enumerate(text.split("\n"), start=1)]
        spaces = True
    data = [
        (number, row)
        for number, row in lines
        if any(field.strip() for field in row) and not (number == 1 and row[0] == "query-id")
    ]
    return data, spaces


def _is_trec(lines: list[tuple[int, list[str]]]) -> bool:
    """query-id 0 corpus-id score on every line: unambiguous TREC qrels."""
    return bool(lines) and all(len(row) == 4 and row[1] in _TREC_ITERATIONS for _, row in lines)


def _qrels(path: Path) -> list[tuple[str, str]]:
    """(query-id, corpus-id) pairs with a score above 0, from BEIR or TREC qrels."""
    if not path.exists():  # a FIFO or a folder is not "missing": decode_file refuses it
        return []
    text = decode_file(path)  # DataError for unreadable or non-UTF-8 files
    lines, spaces = _qrels_lines(text)
    trec = _is_trec(lines)
    if trec:
        logger.info("%s: read as TREC qrels (query-id 0 corpus-id score)", path)
    elif any(len(row) == 4 for _, row in lines):
        line_number, row = next(
            (n, r) for n, r in lines if len(r) != 4 or r[1] not in _TREC_ITERATIONS
        )
        raise DataError(
            f"{len(row)} fields ({' | '.join(row)}) in a file with 4-field lines: TREC qrels "
            "(query-id 0 corpus-id score) are read only when every line has 4 fields with 0 or "
            "Q0 in the second",
            path=str(path),
            row=line_number,
            hint=f"make every line TREC, or {_TREC_TO_BEIR}",
        )
    pairs = []
    for line_number, row in lines:
        if trec:
            row = [row[0], row[2], row[3]]
        elif spaces and len(row) in (2, 3):
            raise DataError(
                f"fields separated by spaces; BEIR qrels are tab-separated ({QRELS_FORMAT})",
                path=str(path),
                row=line_number,
                hint="replace the spaces between fields by tabs, e.g. "
                "sed -E 's/ +/\\t/g' QRELS > qrels/test.tsv (ids must not contain spaces)",
            )
        elif len(row) not in (2, 3):
            raise DataError(
                f"expected {QRELS_FORMAT} (score optional), found {len(row)} field(s)",
                path=str(path),
                row=line_number,
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
    if lines and not pairs:
        zero = all(float((r[3] if trec else r[2]) if len(r) > 2 else 1) == 0 for _, r in lines)
        raise DataError(
            f"all {len(lines)} qrels have score {'0' if zero else '0 or below'}, and only a "
            "score above 0 marks a relevant document: no query has an answer",
            path=str(path),
            column="score",
            hint="give relevant (query, document) pairs a score of 1 or more; pairs judged "
            "not relevant can stay at 0",
        )
    return pairs


def _as_number(value: str) -> str | None:
    """'1', '1.0', ' 01 ' -> '1'; None for ids that are not integers."""
    try:
        number = float(value)
    except ValueError:
        return None
    return str(int(number)) if number.is_integer() else None


def explain_unmatched_ids(
    qrels: list[tuple[str, str]], queries: dict[str, str], corpus: dict[str, str]
) -> str | None:
    """A hint naming the cause when qrels ids are missing from queries.jsonl/corpus.jsonl.

    Recognised: ids written as different numbers (1 vs 1.0, as a float column in pandas writes
    them), ids with surrounding spaces, and the two id columns swapped.
    """
    missing_queries = {q for q, _ in qrels if q not in queries}
    missing_docs = {d for _, d in qrels if d not in corpus}
    if not missing_queries and not missing_docs:
        return None
    if (
        missing_queries
        and missing_queries <= set(corpus)
        and missing_docs
        and missing_docs <= set(queries)
    ):
        return (
            f"the qrels columns look swapped (e.g. query-id {sorted(missing_queries)[0]!r} is a "
            f"corpus _id): the order is {QRELS_FORMAT}"
        )
    for missing, known, column, file in (
        (missing_queries, queries, "query-id", "queries.jsonl"),
        (missing_docs, corpus, "corpus-id", "corpus.jsonl"),
    ):
        by_number = {_as_number(k): k for k in known}
        by_number.pop(None, None)
        by_strip = {k.strip(): k for k in known}
        for value in sorted(missing):
            number = _as_number(value)
            if number is not None and number in by_number:
                return (
                    f"qrels {column} {value!r} and {file} _id {by_number[number]!r} are the same "
                    "number written differently; ids are compared as text. Write the ids the "
                    "same way in both files, as integers (1, not 1.0: a float column in pandas "
                    "writes 1.0; use .astype(int) or .astype('Int64') before saving)"
                )
            if value.strip() in by_strip:
                return (
                    f"qrels {column} {value!r} matches {file} _id {by_strip[value.strip()]!r} "
                    "only without surrounding spaces; remove the spaces from the ids"
                )
    return None


def load_beir(
    folder: str | Path, *, split: str = "given", require_train: bool = True
) -> RetrievalData:
    """Train on the train qrels, evaluate the test queries against the whole corpus.

    `split` is the evaluation protocol (embedtune.data.protocol): given and by-query keep train
    pairs whose documents also answer test queries (BEIR's own protocol: one corpus); by-document
    drops them. Train pairs whose query is a test query (or a near-copy) are always dropped.
    `require_train=False` (evaluation only) accepts a folder without train qrels.
    """
    from embedtune.data.protocol import BY_DOCUMENT, normalize_query

    folder = Path(folder)
    report: dict[str, int] = {"skipped_qrels_missing_ids": 0, "dropped_empty_text": 0}
    empty_docs: set[str] = set()
    empty_queries: set[str] = set()
    corpus = _texts(folder / "corpus.jsonl", with_title=True, report=report, empty=empty_docs)
    queries = _texts(folder / "queries.jsonl", with_title=False, report=report, empty=empty_queries)

    def missing(qid: str, did: str) -> None:
        """A qrel that cannot be used: its text was empty (counted already) or its id is
        in neither file."""
        if qid not in empty_queries and did not in empty_docs:
            report["skipped_qrels_missing_ids"] += 1

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

    relevant: dict[str, set[str]] = {}
    for qid, did in test_qrels:
        if qid in queries and did in corpus:
            relevant.setdefault(qid, set()).add(did)
        else:
            missing(qid, did)
    test_docs = set().union(*relevant.values()) if relevant else set()
    test_texts = {normalize_query(queries[q]) for q in relevant}

    rows: dict[str, list[str]] = {QUERY: [], DOCUMENT: []}
    seen: set[tuple[str, str]] = set()
    dropped = {"test_query": 0, "test_document": 0}
    for qid, did in train_qrels:
        if qid not in queries or did not in corpus:
            missing(qid, did)
            continue
        if (qid, did) in seen:
            continue
        seen.add((qid, did))
        if qid in relevant or normalize_query(queries[qid]) in test_texts:
            dropped["test_query"] += 1
            continue
        if split == BY_DOCUMENT and did in test_docs:
            dropped["test_document"] += 1
            continue
        rows[QUERY].append(queries[qid])
        rows[DOCUMENT].append(corpus[did])
    report["dropped_train_pairs_repeating_test_query"] = dropped["test_query"]
    report["dropped_train_pairs_on_test_document"] = dropped["test_document"]
    for reason, count in report.items():
        if count:
            logger.warning("%s: %s: %d", folder, reason.replace("_", " "), count)
    if not relevant:
        raise DataError(
            "no test query has a relevant document in the corpus",
            path=str(test_file),
            hint=explain_unmatched_ids(test_qrels, queries, corpus),
        )
    if not rows[QUERY] and require_train:
        raise DataError(
            "no usable training pairs"
            + (" under --split by-document" if split == BY_DOCUMENT else ""),
            path=str(folder / "qrels" / "train.tsv"),
            hint="every training pair touches a test document; try --split given"
            if split == BY_DOCUMENT
            else None,
        )
    test_queries = {qid: queries[qid] for qid in relevant}
    data = RetrievalData(Dataset.from_dict(rows), test_queries, corpus, relevant, report)
    # load_retrieval_data describes the protocol once the subsets are taken
    data.protocol = {"dropped_train_pairs": dropped["test_query"] + dropped["test_document"]}
    return data
