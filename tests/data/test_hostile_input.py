"""Hostile and unusual data input (issue 10, items 6, 8, 15 and 18): each case ends in a clear
error naming the file, row and column and saying what to do, or in documented, counted handling.

Library calls raise DataError; the CLI returns exit code 2 with the message on stderr.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from embedtune.cli import main
from embedtune.data.beir import _qrels, _texts, explain_unmatched_ids, load_beir
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.data.table_files import read_rows, require_regular_file
from embedtune.errors import DataError
from tests.helpers import pairs, write_jsonl


def load(source: Path | str, **options):
    return load_retrieval_data(DataOptions(source=str(source), **options))


def cli_error(capsys, args: list[str], output: Path) -> str:
    """Run the CLI, expect exit code 2 and an untouched output folder; return stderr."""
    code = main([*args, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not output.exists(), f"{output} was written before the error"
    return err


# --- 18: only regular files are read --------------------------------------------------------


def load_without_blocking(fifo: Path, seconds: float = 20) -> BaseException | None:
    """Load `fifo` in a thread; if the load blocks on it, unblock it (open and close a writer)
    and fail. Returns the exception the load raised, if any."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            load(fifo)
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        with open(fifo, "w"):  # the reader gets EOF and the thread ends
            pass
        thread.join(seconds)
        pytest.fail(f"reading {fifo} blocked: the FIFO was opened")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_as_data_is_refused_before_it_is_opened(tmp_path, capsys):
    fifo = tmp_path / "pairs.jsonl"
    os.mkfifo(fifo)
    err = load_without_blocking(fifo)
    assert isinstance(err, DataError), err
    assert "not a regular file" in str(err) and "named pipe (FIFO)" in str(err)
    assert str(fifo) in str(err) and "save the data to a file" in str(err)
    stderr = cli_error(capsys, ["finetune", "--data", str(fifo)], tmp_path / "out")
    assert "named pipe (FIFO)" in stderr and str(fifo) in stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_symlink_to_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "pairs.csv"
    link.symlink_to(fifo)
    err = load_without_blocking(link)
    assert isinstance(err, DataError) and "named pipe (FIFO)" in str(err), err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_character_device_is_refused_without_reading():
    with pytest.raises(DataError, match=r"not a regular file: it is a character device"):
        read_rows("/dev/zero")
    with pytest.raises(DataError, match="character device"):
        require_regular_file(Path("/dev/zero"))


# --- 8: lone UTF-16 surrogates in JSON --------------------------------------------------------


@pytest.mark.parametrize("layout", ["jsonl", "array"])
def test_lone_surrogate_names_file_row_and_column(tmp_path, capsys, layout):
    rows = pairs()
    lines = [json.dumps(r) for r in rows]
    # row 4: a high surrogate with no low one; row 2: a valid escaped pair (an emoji) is fine
    lines[1] = json.dumps({**rows[1], "query": rows[1]["query"] + " \U0001f600"})
    lines[3] = lines[3].replace("work?", "work? \\ud800")
    path = tmp_path / f"pairs.{'jsonl' if layout == 'jsonl' else 'json'}"
    text = "\n".join(lines) + "\n" if layout == "jsonl" else "[\n" + ",\n".join(lines) + "\n]"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"\\ud800 is half of a UTF-16 surrogate pair") as info:
        load(path)
    assert info.value.row == 4 and info.value.column == "query"
    assert str(path) in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert "row 4" in err and "surrogate" in err and str(path) in err


def test_escaped_surrogate_pairs_are_valid_text(tmp_path):
    path = tmp_path / "pairs.jsonl"
    rows = pairs()
    rows[0]["query"] += " \U0001f600"
    write_jsonl(path, rows)  # json.dumps escapes the emoji as \ud83d\ude00
    assert "\\ud83d\\ude00" in path.read_text(encoding="utf-8")
    assert read_rows(path)[0]["query"].endswith("\U0001f600")


# --- 6 and 15: CSV headers ---------------------------------------------------------------------


def test_csv_header_with_a_repeated_column_name(tmp_path, capsys):
    path = tmp_path / "pairs.csv"
    body = "".join(f"q{i} what is it?,document {i} is long enough,note {i}\n" for i in range(12))
    path.write_text("query,document,query\n" + body, encoding="utf-8")
    with pytest.raises(
        DataError, match=r"repeats the column name 'query' \(columns 1, 3\)"
    ) as info:
        read_rows(path)
    assert info.value.row == 1 and "unique name" in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert "repeats the column name 'query'" in err


@pytest.mark.parametrize(
    ("delimiter", "name"), [(";", "semicolon"), ("\t", "tab")], ids=["semicolon", "tab"]
)
def test_csv_with_another_delimiter_says_so(tmp_path, capsys, delimiter, name):
    path = tmp_path / "pairs.csv"
    body = "".join(f"q{i} what is it?{delimiter}document {i}, with a comma\n" for i in range(12))
    path.write_text(f"query{delimiter}document\n" + body, encoding="utf-8")
    with pytest.raises(DataError, match=f"looks {name}-separated") as info:
        load(path)
    message = str(info.value)
    assert "quote fields that contain commas" not in message
    assert "re-save it with commas" in message and info.value.row == 1
    err = cli_error(capsys, ["finetune", "--data", str(path)], tmp_path / "out")
    assert f"{name}-separated" in err


# --- BEIR folders ----------------------------------------------------------------------------


def beir_folder(
    root: Path,
    test_qrels: str = "query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td1\t1\n",
    train_qrels: str | None = "query-id\tcorpus-id\tscore\nq2\td2\t1\nq3\td3\t1\n",
    docs: list[dict] | None = None,
) -> Path:
    root.mkdir()
    if docs is None:
        docs = [{"_id": f"d{i}", "title": f"T{i}", "text": f"document {i} text"} for i in range(6)]
    write_jsonl(root / "corpus.jsonl", docs)
    write_jsonl(
        root / "queries.jsonl", [{"_id": f"q{i}", "text": f"question {i}?"} for i in range(6)]
    )
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text(test_qrels, encoding="utf-8")
    if train_qrels is not None:
        (root / "qrels" / "train.tsv").write_text(train_qrels, encoding="utf-8")
    return root


def docs_with(*extra: dict) -> list[dict]:
    docs = [{"_id": f"d{i}", "title": f"T{i}", "text": f"document {i} text"} for i in range(6)]
    return docs + list(extra)


def test_duplicate_corpus_ids_with_different_texts_name_both_rows(tmp_path, capsys):
    folder = beir_folder(
        tmp_path / "beir", docs=docs_with({"_id": "d2", "title": "T2", "text": "other text"})
    )
    with pytest.raises(
        DataError, match=r"_id 'd2' is given twice with different texts: rows 3 and 7"
    ):
        load_beir(folder)
    err = cli_error(capsys, ["finetune", "--data", str(folder)], tmp_path / "out")
    assert "rows 3 and 7" in err and "corpus.jsonl" in err


def test_identical_duplicate_corpus_rows_are_dropped_and_counted(tmp_path, caplog):
    folder = beir_folder(
        tmp_path / "beir",
        docs=docs_with(
            {"_id": "d2", "title": "T2", "text": "document 2 text"},
            {"_id": "d4", "title": "T4", "text": "document 4 text"},
        ),
    )
    report: dict[str, int] = {}
    corpus = _texts(folder / "corpus.jsonl", with_title=True, report=report)
    assert report == {"dropped_duplicate_corpus_rows": 2}
    assert len(corpus) == 6 and corpus["d2"] == "T2 document 2 text"
    data = load_beir(folder)
    assert len(data.corpus) == 6
    assert "dropped 2 rows repeating an _id with the same text (first at row 7)" in caplog.text


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [("title", ["a", "list"], "list"), ("title", {"a": 1}, "dict"), ("text", ["x"], "list")],
)
def test_non_string_title_or_text_names_row_and_field(tmp_path, capsys, field, value, found):
    docs = docs_with()
    docs[3] = {**docs[3], field: value}
    folder = beir_folder(tmp_path / "beir", docs=docs)
    with pytest.raises(
        DataError, match=f"non-text '{field}': expected a string, found {found}"
    ) as info:
        load_beir(folder)
    assert info.value.row == 4 and info.value.column == field
    err = cli_error(capsys, ["finetune", "--data", str(folder)], tmp_path / "out")
    assert "row 4" in err and f"column '{field}'" in err


def test_test_qrels_with_only_zero_scores_say_so(tmp_path, capsys):
    zeros = "query-id\tcorpus-id\tscore\nq0\td0\t0\nq1\td1\t0\nq1\td2\t0\n"
    folder = beir_folder(tmp_path / "beir", test_qrels=zeros)
    with pytest.raises(DataError, match="all 3 qrels have score 0") as info:
        load_beir(folder)
    assert str(folder / "qrels" / "test.tsv") in str(info.value)
    assert "needs qrels/test.tsv" not in str(info.value)
    err = cli_error(capsys, ["finetune", "--data", str(folder)], tmp_path / "out")
    assert "all 3 qrels have score 0" in err


@pytest.mark.parametrize("sep", ["\t", " "], ids=["tabs", "spaces"])
def test_trec_qrels_are_read_when_unambiguous(tmp_path, sep):
    trec = "".join(
        sep.join(row) + "\n"
        for row in [("q0", "0", "d0", "1"), ("q1", "0", "d1", "2"), ("q1", "0", "d5", "0")]
    )
    train = "".join(
        sep.join(row) + "\n" for row in [("q2", "Q0", "d2", "1"), ("q3", "Q0", "d3", "1")]
    )
    folder = beir_folder(tmp_path / "beir", test_qrels=trec, train_qrels=train)
    assert _qrels(folder / "qrels" / "test.tsv") == [("q0", "d0"), ("q1", "d1")]
    data = load_beir(folder)
    assert data.relevant == {"q0": {"d0"}, "q1": {"d1"}}
    assert sorted(data.train["query"]) == ["question 2?", "question 3?"]


def test_four_column_qrels_that_are_not_trec_say_how_to_convert(tmp_path, capsys):
    mixed = "q0\t0\td0\t1\nq1\t7\td1\t1\n"  # the second column is not TREC's constant 0
    folder = beir_folder(tmp_path / "beir", test_qrels=mixed)
    with pytest.raises(
        DataError, match=r"4 fields .*TREC qrels \(query-id 0 corpus-id score\)"
    ) as info:
        load_beir(folder)
    assert (
        info.value.row == 2 and "awk" in str(info.value) and "print $1, $3, $4" in str(info.value)
    )
    err = cli_error(capsys, ["finetune", "--data", str(folder)], tmp_path / "out")
    assert "TREC" in err


def test_space_separated_beir_qrels_say_to_use_tabs(tmp_path):
    folder = beir_folder(tmp_path / "beir", test_qrels="q0 d0 1\nq1 d1 1\n")
    with pytest.raises(
        DataError, match="separated by spaces; BEIR qrels are tab-separated"
    ) as info:
        load_beir(folder)
    assert info.value.row == 1


def test_float_ids_are_explained(tmp_path):
    docs = [{"_id": float(i), "title": "", "text": f"document {i} text"} for i in range(4)]
    folder = beir_folder(
        tmp_path / "beir",
        test_qrels="query-id\tcorpus-id\tscore\nq0\t0\t1\nq1\t1\t1\n",
        docs=docs,
    )
    corpus = _texts(folder / "corpus.jsonl", with_title=True)
    queries = _texts(folder / "queries.jsonl", with_title=False)
    qrels = _qrels(folder / "qrels" / "test.tsv")
    assert "0" not in corpus and "0.0" in corpus  # ids are compared as text
    hint = explain_unmatched_ids(qrels, queries, corpus)
    assert hint is not None
    assert "'0' and corpus.jsonl _id '0.0' are the same number written differently" in hint
    assert "1, not 1.0" in hint
    swapped = explain_unmatched_ids([("0.0", "q0")], queries, corpus)
    assert swapped is not None and "columns look swapped" in swapped
    assert explain_unmatched_ids([("q0", "0.0")], queries, corpus) is None


def test_non_scalar_ids_are_refused(tmp_path):
    folder = beir_folder(tmp_path / "beir", docs=docs_with({"_id": ["d9"], "text": "x"}))
    with pytest.raises(DataError, match=r"'_id' must be a string or a number, found list") as info:
        load_beir(folder)
    assert info.value.row == 7


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_as_qrels_is_refused_not_reported_missing(tmp_path):
    folder = beir_folder(tmp_path / "beir")
    (folder / "qrels" / "test.tsv").unlink()
    os.mkfifo(folder / "qrels" / "test.tsv")
    with pytest.raises(DataError, match=r"test\.tsv: not a regular file: it is a named pipe"):
        load_beir(folder)


# --- issue 19, item 15: empty BEIR texts are empty text, not missing ids ----------------------


def test_beir_queries_and_documents_with_empty_text_are_counted_as_empty(tmp_path):
    folder = beir_folder(
        tmp_path / "beir",
        "query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td1\t1\nq5\td0\t1\nq0\td5\t1\nq1\tgone\t1\n",
    )
    write_jsonl(
        folder / "queries.jsonl",
        [{"_id": f"q{i}", "text": f"question {i}?" if i != 5 else "  "} for i in range(6)],
    )
    docs = [{"_id": f"d{i}", "title": "", "text": f"document {i} text"} for i in range(5)]
    write_jsonl(folder / "corpus.jsonl", [*docs, {"_id": "d5", "title": "", "text": ""}])
    summary = load(folder).summary()
    assert summary["dropped_empty_text"] == 2  # query q5 and document d5
    assert summary["skipped_qrels_missing_ids"] == 1  # only q1 -> gone names a missing id
