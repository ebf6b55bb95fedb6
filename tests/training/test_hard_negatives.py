"""Hard-negative mining: never a positive, same rows, the pool follows the protocol, n negatives, rescoring."""

from __future__ import annotations

import dataclasses
import json

import pytest
from datasets import Dataset

from embedtune.config import load_config
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.errors import ConfigError
from embedtune.training.hard_negatives import add_hard_negatives
from embedtune.training.train_and_select import mine_negatives
from tests.conftest import ZENML_QA


@pytest.fixture(scope="module")
def pairs() -> Dataset:
    rows = [json.loads(line) for line in (ZENML_QA / "pairs.jsonl").open()][:40]
    queries = [r["query"] for r in rows]
    documents = [r["positive"] for r in rows]
    # One query with two positives: neither may become its negative.
    queries.append(queries[0])
    documents.append(documents[5])
    return Dataset.from_dict({QUERY: queries, DOCUMENT: documents})


def test_negatives_are_training_documents_and_never_positives(base_model, pairs):
    mined, report = add_hard_negatives(pairs, base_model, range_max=10, batch_size=32)
    assert mined.column_names == [QUERY, DOCUMENT, NEGATIVE]
    assert mined[QUERY] == pairs[QUERY] and mined[DOCUMENT] == pairs[DOCUMENT]  # same rows
    positives: dict[str, set[str]] = {}
    for q, d in zip(pairs[QUERY], pairs[DOCUMENT]):
        positives.setdefault(q, set()).add(d)
    training_documents = set(pairs[DOCUMENT])
    for q, negative in zip(mined[QUERY], mined[NEGATIVE]):
        assert negative in training_documents
        assert negative not in positives[q]
    assert report.pairs == len(pairs) == report.mined + report.random_fallback
    assert report.mined > len(pairs) // 2  # most pairs find a near miss in the window


def test_a_strict_margin_falls_back_to_random_negatives(base_model, pairs):
    mined, report = add_hard_negatives(
        pairs, base_model, range_max=5, relative_margin=0.9, batch_size=32
    )
    assert report.random_fallback > 0 and len(mined) == len(pairs)
    positives = {(q, d) for q, d in zip(pairs[QUERY], pairs[DOCUMENT])}
    assert all((q, n) not in positives for q, n in zip(mined[QUERY], mined[NEGATIVE]))


def test_bad_settings_are_refused(base_model, pairs):
    with pytest.raises(ConfigError, match="range_min < range_max, got 5, 5"):
        add_hard_negatives(pairs, base_model, range_min=5, range_max=5)
    with pytest.raises(ConfigError, match="already has a negative column"):
        add_hard_negatives(pairs.add_column(NEGATIVE, pairs[DOCUMENT]), base_model)
    with pytest.raises(ConfigError, match="range_min < hard_negative_range_max, got 3 and 2"):
        load_config(hard_negative_range_min=3, hard_negative_range_max=2)
    with pytest.raises(ConfigError, match=r"relative_margin must be in \[0, 1\), got 1.5"):
        load_config(hard_negative_relative_margin=1.5)


def _data(train: Dataset, test_document: str, split: str = "by-document") -> RetrievalData:
    corpus = {f"d{i}": d for i, d in enumerate(dict.fromkeys(train[DOCUMENT]))}
    corpus["test"] = test_document
    return RetrievalData(
        train, {"q": "a test query"}, corpus, {"q": {"test"}}, protocol={"split": split}
    )


def test_the_candidate_pool_follows_the_protocol(base_model, pairs, tmp_path):
    config = load_config(max_seq_length=32, output=str(tmp_path))
    # The test document copies a training query: the best possible "negative" if it were allowed.
    data = _data(pairs, test_document=pairs[QUERY][3])
    mined, report = mine_negatives(base_model, data, config)
    assert pairs[QUERY][3] not in mined.train[NEGATIVE]  # by-document: training documents only
    assert set(mined.train[NEGATIVE]) <= set(pairs[DOCUMENT])
    assert report["pairs"] == len(pairs)
    assert NEGATIVE not in data.train.column_names  # the caller's data is left alone

    # A shared corpus: any document may be a negative (no margin, so the copy is the nearest).
    no_margin = dataclasses.replace(
        config, hard_negative_relative_margin=None, false_negatives="off"
    )  # the false-negative flag would replace the copy: tests/training/test_false_negatives.py
    shared, _ = mine_negatives(base_model, _data(pairs, pairs[QUERY][3], "given"), no_margin)
    assert shared.train[NEGATIVE][3] == pairs[QUERY][3]

    own = pairs.add_column(NEGATIVE, list(reversed(pairs[DOCUMENT])))
    kept, report = mine_negatives(base_model, _data(own, "x"), config)
    assert kept.train[NEGATIVE] == own[NEGATIVE] and report is None
    off = load_config(max_seq_length=32, output=str(tmp_path), hard_negatives=False)
    assert NEGATIVE not in mine_negatives(base_model, _data(pairs, "x"), off)[0].train.column_names


def test_several_negatives_per_pair(base_model, pairs):
    mined, report = add_hard_negatives(pairs, base_model, num_negatives=3, batch_size=32)
    assert mined.column_names == [QUERY, DOCUMENT, "negative_1", "negative_2", "negative_3"]
    for row in mined:
        negatives = [row["negative_1"], row["negative_2"], row["negative_3"]]
        assert len(set(negatives)) == 3 and row[DOCUMENT] not in negatives
    assert report.pairs == 3 * len(pairs) == report.mined + report.random_fallback
    with pytest.raises(ConfigError, match="num_negatives 5 is larger than the mining window"):
        load_config(num_negatives=5, hard_negative_range_min=0, hard_negative_range_max=4)


@pytest.fixture(scope="module")
def cross_encoder_path(tmp_path_factory, base_model_path) -> str:
    """A small cross-encoder built locally from the base model's weights (no download)."""
    from sentence_transformers import CrossEncoder

    path = tmp_path_factory.mktemp("cross-encoder")
    CrossEncoder(base_model_path, num_labels=1, max_length=64).save_pretrained(str(path))
    return str(path)


def test_a_cross_encoder_rescores_the_candidates(base_model, pairs, cross_encoder_path):
    from embedtune.training.model_loading import load_cross_encoder

    rescorer = load_cross_encoder(cross_encoder_path)
    mined, report = add_hard_negatives(
        pairs, base_model, cross_encoder=rescorer, relative_margin=None, batch_size=32
    )
    positives = {(q, d) for q, d in zip(pairs[QUERY], pairs[DOCUMENT])}
    assert all((q, n) not in positives for q, n in zip(mined[QUERY], mined[NEGATIVE]))
    assert report.mined > 0


def test_a_rescore_model_that_is_not_a_cross_encoder_is_refused(base_model_path, tmp_path):
    with pytest.raises(ConfigError, match="not a cross-encoder"):
        load_config(rescore_model=base_model_path, output=str(tmp_path))
    with pytest.raises(ConfigError, match="not a model folder"):
        load_config(rescore_model=str(tmp_path / "nothing"), output=str(tmp_path))


def test_quiet_silences_the_miners_own_bars(base_model, pairs, monkeypatch, capfd):
    """Sentence Transformers' miner asks for its "Batches" bars itself (show_progress_bar=True,
    which overrides TQDM_DISABLE): under --quiet embedtune turns them off for the mining call,
    and the model's encode methods are its own again afterwards."""
    monkeypatch.setenv("TQDM_DISABLE", "1")  # what --quiet sets
    capfd.readouterr()
    add_hard_negatives(pairs, base_model, range_max=10, batch_size=32)
    assert "Batches" not in capfd.readouterr().err
    assert "encode" not in vars(base_model) and "encode_query" not in vars(base_model)
    monkeypatch.delenv("TQDM_DISABLE")
    add_hard_negatives(pairs, base_model, range_max=10, batch_size=32)
    err = capfd.readouterr().err
    assert "Mining hard negatives (base model)" in err  # without --quiet: labelled bars
    assert "Batches" not in err
