"""Building, saving (atomically) and loading the generated dataset."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk

from embedtune.errors import DataError
from embedtune.hub import push_dataset
from embedtune.synthetic.chunking import Chunk
from embedtune.synthetic.dataset import (
    GENERATED_COLUMNS,
    JSONL_NAME,
    MARKER_NAME,
    build_generated_dataset,
    save_generated_dataset,
)


@pytest.fixture
def chunks() -> list[Chunk]:
    return [
        Chunk("c1", "Install with pip install acme.", "guide.md", "Guide > Install", 5),
        Chunk("c2", "Backups run nightly at 2am.", "ops.md", "Ops > Backups", 5),
        Chunk("c3", "Restores need an admin ticket.", "ops.md", "Ops > Restores", 5),
    ]


def _examples():
    return [
        {"chunk_id": "c3", "query": "how to restore?", "negative_query": "how to back up?"},
        {"chunk_id": "c1", "query": "install acme", "negative_query": "uninstall acme"},
        {"chunk_id": "c2", "query": " when do backups run? ", "negative_query": ""},  # unusable
    ]


def test_build_matches_examples_by_chunk_id(chunks):
    ds = build_generated_dataset(chunks, _examples())
    assert ds.column_names == list(GENERATED_COLUMNS)
    assert ds["chunk_id"] == ["c1", "c3"]  # chunk order; c2 left out (empty negative)
    row = ds[0]
    assert row == {
        "chunk_id": "c1",
        "document": "Install with pip install acme.",
        "query": "install acme",
        "negative_query": "uninstall acme",
        "source": "guide.md",
        "section": "Guide > Install",
        "token_count": 5,
    }
    assert ds.features["token_count"].dtype == "int64"


def test_build_keeps_several_examples_per_chunk(chunks):
    examples = [
        *_examples(),
        {"chunk_id": "c1", "query": "how do I install acme", "negative_query": "remove acme"},
        {"chunk_id": "c1", "query": "Install ACME", "negative_query": "repeated query"},
    ]
    ds = build_generated_dataset(chunks, examples)
    assert list(zip(ds["chunk_id"], ds["query"], strict=True)) == [
        ("c1", "install acme"),
        ("c1", "how do I install acme"),
        ("c3", "how to restore?"),
    ]


def test_build_by_position_needs_one_example_per_chunk(chunks):
    examples = [{"query": f"q{i}", "negative_query": f"n{i}"} for i in range(3)]
    ds = build_generated_dataset(chunks, examples)
    assert ds["query"] == ["q0", "q1", "q2"] and ds["chunk_id"] == ["c1", "c2", "c3"]
    with pytest.raises(DataError, match="2 examples for 3 chunks"):
        build_generated_dataset(chunks, examples[:2])


def test_build_rejects_unknown_ids_and_empty_results(chunks):
    with pytest.raises(DataError, match="unknown chunk id 'zz'"):
        build_generated_dataset(chunks, [{"chunk_id": "zz", "query": "q", "negative_query": "n"}])
    with pytest.raises(DataError, match="no usable"):
        build_generated_dataset(chunks, [])


def test_save_round_trip_and_jsonl(chunks, tmp_path):
    ds = build_generated_dataset(chunks, _examples())
    out = save_generated_dataset(ds, tmp_path / "generated")
    assert out == tmp_path / "generated"
    loaded = load_from_disk(str(out))
    assert loaded.to_list() == ds.to_list()
    lines = (out / JSONL_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ds.to_list()
    assert json.loads((out / MARKER_NAME).read_text())["written_by"] == "embedtune generate"
    assert [p.name for p in tmp_path.iterdir()] == ["generated"]  # no temp folders left


def test_save_replaces_an_earlier_save(chunks, tmp_path):
    first = build_generated_dataset(chunks, _examples())
    save_generated_dataset(first, tmp_path / "out")
    second = first.select([0])
    save_generated_dataset(second, tmp_path / "out")
    assert load_from_disk(str(tmp_path / "out"))["chunk_id"] == ["c1"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_save_keeps_the_earlier_save(chunks, tmp_path):
    good = build_generated_dataset(chunks, _examples())
    save_generated_dataset(good, tmp_path / "out")

    class Unsavable:
        # a real dataset whose saving fails half-way (after the Arrow files are written)
        column_names = good.column_names

        def save_to_disk(self, path):
            good.save_to_disk(path)

        def __iter__(self):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_generated_dataset(Unsavable(), tmp_path / "out")
    assert load_from_disk(str(tmp_path / "out")).to_list() == good.to_list()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_save_refuses_to_replace_other_folders(chunks, tmp_path):
    ds = build_generated_dataset(chunks, _examples())
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(DataError, match="refusing to replace"):
        save_generated_dataset(ds, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"
    with pytest.raises(DataError, match="lacks the columns"):
        save_generated_dataset(ds.remove_columns(["negative_query"]), tmp_path / "x")


def test_push_to_hub_fails_softly_offline(chunks, monkeypatch):
    ds = build_generated_dataset(chunks, _examples())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token_for_tests")
    result = push_dataset(ds, "someone/embedtune-generated")
    assert result["pushed"] is False and result["repo"] == "someone/embedtune-generated"
    assert result["error"] and "hf_not_a_real_token" not in result["error"]


def test_push_uses_the_zenml_secret_when_no_token_is_set(chunks, monkeypatch):
    """The token comes from the ZenML secret `huggingface` (key `token`) as the README says."""
    from zenml.client import Client

    token = "hf_zenml_secret_token_for_tests_0123456789"
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    client = Client()
    client.create_secret("huggingface", values={"token": token})
    seen: list[str | None] = []

    class Recording:
        column_names = list(GENERATED_COLUMNS)

        def push_to_hub(self, repo, *, private, token):
            seen.append(token)
            raise ConnectionError(f"no network for {repo} (token={token})")

    try:
        result = push_dataset(Recording(), "someone/data")
    finally:
        client.delete_secret("huggingface")
    assert seen == [token]
    assert result["pushed"] is False and "ConnectionError" in result["error"]
    assert token not in result["error"]
