"""Bad data: every case ends in a clear error (file, row, column, what to do) or in documented
handling with a count in results.json "data", and nothing is written to the output folder first.

Library calls raise DataError; the CLI returns exit code 2 with the message on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedtune.config import load_config
from embedtune.data.beir import load_beir
from embedtune.errors import DataError
from embedtune.training.model_loading import load_model
from tests.helpers import cli_error, load, pairs, write_csv, write_jsonl

# --- files -----------------------------------------------------------------------------------


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match="file not found") as info:
        load(missing)
    assert str(missing) in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(missing)], tmp_path / "out")
    assert "file not found" in err and str(missing) in err


@pytest.mark.parametrize("name", ["nope", "sub/dir/nope", "./nope", "data/nope"])
def test_missing_path_is_not_sent_to_the_hub(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="no such file or folder"):
        load(name)


def test_unknown_format(tmp_path, capsys):
    path = tmp_path / "pairs.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="unknown format '.xlsx'") as info:
        load(path)
    assert ".jsonl" in str(info.value)  # says what to use instead
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert "unknown format" in err


def test_unreadable_path(tmp_path):
    folder = tmp_path / "pairs.jsonl"
    folder.mkdir()
    with pytest.raises(DataError, match="cannot read"):
        load(folder)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_non_utf8_bytes_name_the_line(tmp_path, capsys, suffix):
    path = tmp_path / f"pairs{suffix}"
    if suffix == ".csv":
        write_csv(path, pairs(4))
    else:
        write_jsonl(path, pairs(4))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"works", "w\u00f6rks".encode("latin-1"))
    path.write_bytes(b"".join(lines))
    with pytest.raises(DataError, match="not valid UTF-8") as info:
        load(path)
    assert info.value.row == 3 and "re-save the file as UTF-8" in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert "row 3" in err and "UTF-8" in err


def test_invalid_json_line_names_the_row(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(pairs(1)[0]) + '\n{"query": "x", "document": \n', encoding="utf-8")
    with pytest.raises(DataError, match="invalid JSON line") as info:
        load(path)
    assert info.value.row == 2


def test_csv_with_extra_fields_names_the_row(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("query,document\na question?,a document\nq2,doc, with comma\n")
    with pytest.raises(DataError, match="more fields than the header") as info:
        load(path)
    assert info.value.row == 3 and "quote" in str(info.value)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "pairs.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read parquet"):
        load(path)


# --- columns ---------------------------------------------------------------------------------


def test_unknown_columns_say_which_flags_to_pass(tmp_path, capsys):
    path = write_jsonl(
        tmp_path / "p.jsonl", [{"foo": r["query"], "bar": r["document"]} for r in pairs()]
    )
    with pytest.raises(DataError, match="cannot tell which columns") as info:
        load(path)
    assert "--query-column" in str(info.value) and "'foo'" in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert "--query-column" in err
    # ...and with the flags it loads
    data = load(path, query_column="foo", document_column="bar")
    assert len(data.train) + len(data.queries) == 12


def test_missing_explicit_column(tmp_path, capsys):
    path = write_jsonl(tmp_path / "p.jsonl", pairs())
    with pytest.raises(DataError, match="column 'question' not found") as info:
        load(path, query_column="question", document_column="document")
    assert info.value.column == "question"
    err = cli_error(
        capsys,
        [
            "finetune",
            "--data",
            str(path),
            "--query-column",
            "question",
            "--document-column",
            "document",
        ],
        tmp_path / "out",
    )
    assert "'question' not found" in err


def test_only_one_column_flag(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", pairs())
    with pytest.raises(DataError, match="give both --query-column and --document-column"):
        load(path, query_column="query")


def test_ambiguous_anchor_positive(tmp_path):
    rows = [
        {"anchor": f"text number {i} here", "positive": f"other text {i} there"} for i in range(8)
    ]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    with pytest.raises(DataError, match="ambiguous") as info:
        load(path)
    assert "--query-column anchor --document-column positive" in str(info.value)


# --- rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("e.jsonl", ""), ("e.jsonl", "\n\n  \n"), ("e.json", "[]"), ("e.csv", "query,document\n")],
)
def test_empty_dataset(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match="empty"):
        load(path)
    assert "empty" in cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")


def test_null_empty_and_whitespace_texts_are_dropped_and_counted(tmp_path):
    rows = pairs(12) + [
        {"query": None, "document": "a document"},
        {"query": "", "document": "a document"},
        {"query": "a question", "document": " \t\n "},
        {"query": "a question"},  # missing key
    ]
    data = load(write_jsonl(tmp_path / "p.jsonl", rows))
    assert data.summary()["dropped_empty_text"] == 4
    assert data.summary()["input_rows"] == 16
    texts = set(data.train["query"]) | set(data.queries.values())
    assert all(t.strip() for t in texts)


def test_empty_cells_in_csv_are_dropped(tmp_path):
    path = tmp_path / "p.csv"
    write_csv(
        path, pairs(12) + [{"query": "", "document": "doc"}, {"query": "q", "document": "  "}]
    )
    assert load(path).summary()["dropped_empty_text"] == 2


def test_only_empty_texts_is_an_error(tmp_path, capsys):
    path = write_jsonl(tmp_path / "p.jsonl", [{"query": " ", "document": None}] * 3)
    with pytest.raises(DataError, match="no usable"):
        load(path)
    cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")


def test_non_text_value_names_row_and_column(tmp_path):
    rows = pairs(3) + [{"query": 42, "document": "a document"}]
    with pytest.raises(DataError, match="expected text, found int") as info:
        load(write_jsonl(tmp_path / "p.jsonl", rows))
    assert (info.value.row, info.value.column) == (4, "query")


def test_duplicate_pairs_are_dropped_and_counted(tmp_path):
    rows = pairs(12)
    data = load(write_jsonl(tmp_path / "p.jsonl", rows + rows[:3] + rows[:1]))
    assert data.summary()["dropped_duplicates"] == 4
    assert len(data.train) + sum(len(r) for r in data.relevant.values()) == 12


def test_query_identical_to_document_is_dropped(tmp_path):
    rows = pairs(12) + [{"query": "same text", "document": "same text "}]
    data = load(write_jsonl(tmp_path / "p.jsonl", rows))
    assert data.summary()["dropped_query_equals_document"] == 1
    assert "same text" not in set(data.train["query"]) | set(data.queries.values())


def test_dropped_counts_reach_results_data(tmp_path):
    from embedtune.workflow import load_data

    rows = pairs(12) + pairs(2) + [{"query": "", "document": "d"}]
    config = load_config(
        data=str(write_jsonl(tmp_path / "p.jsonl", rows)), output=str(tmp_path / "o")
    )
    summary = load_data(config).summary()
    assert summary["dropped_duplicates"] == 2 and summary["dropped_empty_text"] == 1


# --- split -----------------------------------------------------------------------------------


def test_split_with_a_single_document_leaves_no_test_queries(tmp_path, capsys):
    rows = [{"query": f"question {i}?", "document": "the only document there is"} for i in range(5)]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    with pytest.raises(DataError, match="cannot split") as info:
        load(path)
    assert "add more documents" in str(info.value)
    assert "cannot split" in cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")


def test_split_that_leaves_no_training_pairs(tmp_path):
    # Each row's negative is the other row's document: whichever is held out, the remaining
    # training row would teach the test document as a negative, so it is dropped.
    rows = [
        {
            "query": "what is alpha?",
            "document": "Alpha is the first letter.",
            "negative": "Beta is the second letter.",
        },
        {
            "query": "what is beta?",
            "document": "Beta is the second letter.",
            "negative": "Alpha is the first letter.",
        },
    ]
    with pytest.raises(DataError, match="no training pairs"):
        load(write_jsonl(tmp_path / "p.jsonl", rows), test_fraction=0.5)


# --- BEIR ------------------------------------------------------------------------------------


def beir_folder(root: Path, test_qrels: list[str], train_qrels: list[str] | None) -> Path:
    root.mkdir()
    docs = [{"_id": f"d{i}", "title": f"T{i}", "text": f"document {i} text"} for i in range(6)]
    queries = [{"_id": f"q{i}", "text": f"question {i}?"} for i in range(6)]
    write_jsonl(root / "corpus.jsonl", docs)
    write_jsonl(root / "queries.jsonl", queries)
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(test_qrels))
    if train_qrels is not None:
        (root / "qrels" / "train.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(train_qrels)
        )
    return root


def test_beir_qrels_naming_absent_documents_are_skipped_and_counted(tmp_path):
    folder = beir_folder(
        tmp_path / "beir",
        ["q0\td0\t1\n", "q1\td1\t1\n", "q1\tmissing-doc\t1\n", "missing-q\td1\t1\n"],
        ["q2\td2\t1\n", "q3\td3\t1\n", "q4\tgone\t1\n"],
    )
    data = load(folder)
    assert data.summary()["skipped_qrels_missing_ids"] == 3
    assert data.relevant == {"q0": {"d0"}, "q1": {"d1"}}
    assert len(data.train) == 2


def test_beir_test_qrels_all_absent(tmp_path, capsys):
    folder = beir_folder(tmp_path / "beir", ["q0\tnope\t1\n"], ["q2\td2\t1\n"])
    with pytest.raises(DataError, match="no test query has a relevant document"):
        load(folder)
    cli_error(capsys, ["finetune", "--data", str(folder)], tmp_path / "out")


def test_beir_without_train_qrels(tmp_path):
    folder = beir_folder(tmp_path / "beir", ["q0\td0\t1\n"], None)
    with pytest.raises(DataError, match="no train qrels") as info:
        load_beir(folder)
    assert "embedtune evaluate" in str(info.value)
    # ...which is what `embedtune evaluate` accepts: a test-only folder
    data = load(folder, require_train=False)
    assert len(data.train) == 0 and data.relevant == {"q0": {"d0"}}


def test_beir_non_utf8_qrels(tmp_path):
    folder = beir_folder(tmp_path / "beir", ["q0\td0\t1\n"], ["q2\td2\t1\n"])
    (folder / "qrels" / "train.tsv").write_bytes(b"query-id\tcorpus-id\tscore\nq\xe92\td2\t1\n")
    with pytest.raises(DataError, match="not valid UTF-8") as info:
        load_beir(folder)
    assert info.value.row == 2


def test_beir_bad_score(tmp_path):
    folder = beir_folder(tmp_path / "beir", ["q0\td0\thigh\n"], ["q2\td2\t1\n"])
    with pytest.raises(DataError, match="not a number") as info:
        load_beir(folder)
    assert info.value.column == "score"


# --- truncation ------------------------------------------------------------------------------


def test_truncated_texts_are_counted(tmp_path, base_model_path):
    from embedtune.data.truncation import count_truncated

    model = load_model(base_model_path, max_seq_length=16)
    rows = pairs(10)
    rows[0]["document"] = "a long document " + "with many many words " * 20
    rows[1]["query"] = "a long question " + "that goes on and on " * 10 + "?"
    data = load(write_jsonl(tmp_path / "p.jsonl", rows))
    assert count_truncated(model, data) == {"truncated_queries": 1, "truncated_documents": 1}
    # a prompt counts too: it is part of what the model reads
    counts = count_truncated(model, data, document_prompt="passage: " * 20)
    assert counts["truncated_documents"] == 10
