"""Property-based tests (hypothesis) of the file loaders, the cleaning and the split."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from embedtune.data.cleaning import clean_pairs
from embedtune.data.layouts import ColumnMapping
from embedtune.data.split import split_by_document
from embedtune.data.table_files import read_rows
from embedtune.errors import DataError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATASETS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text at all: control characters, U+2028, U+0085, quotes, commas, CR/LF, emoji...
texts = st.text(max_size=40)
rows = st.lists(st.fixed_dictionaries({"query": texts, "document": texts}), min_size=1, max_size=8)


def _roundtrip(suffix: str, write) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        write(path)
        return read_rows(path)


@FAST
@given(rows=rows, ascii_only=st.booleans())
def test_jsonl_roundtrip(rows, ascii_only):
    def write(path):
        lines = (json.dumps(r, ensure_ascii=ascii_only) for r in rows)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")

    assert _roundtrip(".jsonl", write) == rows


@FAST
@given(rows=rows)
def test_json_array_roundtrip(rows):
    def write(path):
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")

    assert _roundtrip(".json", write) == rows


@FAST
@given(rows=rows)
def test_csv_roundtrip(rows):
    def write(path):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["query", "document"])
            writer.writeheader()
            writer.writerows(rows)

    assert _roundtrip(".csv", write) == rows


MAPPING = ColumnMapping("query", "document")
maybe_texts = st.one_of(st.none(), st.sampled_from(["", " ", "\t\n"]), texts)


@DATASETS
@given(
    raw=st.lists(
        st.fixed_dictionaries({"query": maybe_texts, "document": maybe_texts}),
        min_size=1,
        max_size=20,
    )
)
def test_cleaning_keeps_only_usable_unique_pairs_and_counts_the_rest(raw):
    try:
        pairs, report = clean_pairs(raw, MAPPING, source="prop")
    except DataError:
        # only when nothing at all was usable
        assert not any(
            r["query"]
            and r["document"]
            and r["query"].strip()
            and r["document"].strip()
            and r["query"].strip() != r["document"].strip()
            for r in raw
        )
        return
    kept = list(zip(pairs["query"], pairs["document"]))
    assert all(q.strip() and d.strip() and q.strip() != d.strip() for q, d in kept)
    assert len(set(kept)) == len(kept)
    dropped = sum(v for k, v in report.items() if k.startswith("dropped_"))
    assert report["input_rows"] == len(raw) == len(kept) + dropped


# Small pools so that queries and documents are shared between pairs (the hard case).
QUERY_POOL = [f"question {i}?" for i in range(8)]
DOC_POOL = [f"document number {i}." for i in range(8)]


@DATASETS
@given(
    links=st.lists(
        st.tuples(
            st.sampled_from(QUERY_POOL), st.sampled_from(DOC_POOL), st.sampled_from(DOC_POOL)
        ),
        min_size=2,
        max_size=25,
    ),
    with_negatives=st.booleans(),
    test_fraction=st.floats(0.05, 0.6),
    seed=st.integers(0, 2**16),
)
def test_split_never_leaks(links, with_negatives, test_fraction, seed):
    raw = [
        {"query": q, "document": d, **({"negative": n} if with_negatives else {})}
        for q, d, n in links
    ]
    mapping = ColumnMapping("query", "document", "negative" if with_negatives else None)
    try:
        pairs, _ = clean_pairs(raw, mapping, source="prop")
        data = split_by_document(pairs, test_fraction=test_fraction, seed=seed)
    except DataError:
        assume(False)  # one document, or nothing left to train on: refused with a clear error
        return
    test_docs = {data.corpus[d] for docs in data.relevant.values() for d in docs}
    train_docs = set(data.train["document"])
    if with_negatives:
        train_docs |= set(data.train["negative"])
    # no test document is seen in training, as a positive or as a negative
    assert not test_docs & train_docs
    # no test query is trained on
    assert not set(data.queries.values()) & set(data.train["query"])
    # every test query has relevant documents, all in the corpus
    assert data.queries and set(data.relevant) == set(data.queries)
    assert all(docs and docs <= set(data.corpus) for docs in data.relevant.values())
    # every document of the input is in the corpus; train and test both non-empty
    assert set(pairs["document"]) <= set(data.corpus.values())
    assert len(data.train) > 0
    # the split is a function of the seed
    again = split_by_document(pairs, test_fraction=test_fraction, seed=seed)
    assert again.relevant == data.relevant and again.train["query"] == data.train["query"]
