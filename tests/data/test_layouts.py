"""Both anchor/positive layouts load in the right direction; ambiguity stops with a clear error."""

from __future__ import annotations

import json

import pytest

from embedtune.data.layouts import resolve_columns
from embedtune.data.sources import DataOptions, load_pairs
from embedtune.errors import DataError
from tests.conftest import LEGAL, ZENML_QA


def test_distilabel_layout_reads_anchor_as_document():
    path = ZENML_QA / "original" / "test_dataset.json"
    pairs, mapping, _ = load_pairs(DataOptions(source=str(path)))
    assert (mapping.query, mapping.document, mapping.layout) == ("positive", "anchor", "distilabel")
    # The negative column holds unrelated questions: never used as a hard-negative document.
    assert mapping.negative is None and "negative" not in pairs.column_names
    raw = json.loads(path.read_text().splitlines()[0])
    assert pairs[0]["query"] == raw["positive"] and pairs[0]["document"] == raw["anchor"]


def test_tutorial_layout_reads_anchor_as_query():
    path = LEGAL / "original" / "test_dataset.json"
    pairs, mapping, _ = load_pairs(DataOptions(source=str(path)))
    assert (mapping.query, mapping.document) == ("anchor", "positive")
    raw = json.loads(path.read_text().splitlines()[0])
    assert pairs[0]["query"] == raw["anchor"] and pairs[0]["document"] == raw["positive"]
    assert pairs[0]["query"].endswith("?")


def test_similar_lengths_are_ambiguous_and_the_error_names_the_flags(tmp_path):
    rows = [
        {"anchor": f"text number {i} here", "positive": f"other text {i} there"} for i in range(5)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match="ambiguous") as err:
        load_pairs(DataOptions(source=str(path)))
    message = str(err.value)
    assert str(path) in message
    assert "--query-column anchor --document-column positive" in message
    assert "--query-column positive --document-column anchor" in message


def test_distilabel_markers_that_contradict_lengths_are_refused():
    sample = [{"anchor": "short q?", "positive": " ".join(["word"] * 50)}] * 3
    with pytest.raises(DataError, match="lengths disagree"):
        resolve_columns(["anchor", "positive", "distilabel_metadata"], sample, source="x.json")


def test_explicit_columns_win(tmp_path):
    rows = [{"q": f"question {i}?", "d": f"document {i} " * 20} for i in range(4)]
    path = tmp_path / "pairs.csv"
    path.write_text("q,d\n" + "\n".join(f"{r['q']},{r['d']}" for r in rows))
    pairs, mapping, _ = load_pairs(
        DataOptions(source=str(path), query_column="q", document_column="d")
    )
    assert mapping.layout == "explicit" and pairs[0]["query"] == "question 0?"


def test_unknown_columns_say_which_flags(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"a": "x", "b": "y"}) + "\n")
    with pytest.raises(DataError, match="--query-column"):
        load_pairs(DataOptions(source=str(path)))


def test_save_to_disk_folder_and_generated_layout(tmp_path):
    from embedtune.data.default_corpus import default_pairs

    generated = default_pairs(max_chunks=30)
    generated.save_to_disk(str(tmp_path / "generated"))
    pairs, mapping, _ = load_pairs(DataOptions(source=str(tmp_path / "generated")))
    assert (mapping.query, mapping.document) == ("query", "document")
    assert len(pairs) > 20
