"""Hard-negative mining: training documents only, never a positive, same rows, wired into train()."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

import embedtune.workflow as workflow
from embedtune.config import FinetuneConfig, load_config
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.errors import ConfigError
from embedtune.training.hard_negatives import add_hard_negatives
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


def _data(train: Dataset, test_document: str) -> RetrievalData:
    corpus = {f"d{i}": d for i, d in enumerate(dict.fromkeys(train[DOCUMENT]))}
    corpus["test"] = test_document
    return RetrievalData(train, {"q": "a test query"}, corpus, {"q": {"test"}})


def test_train_mines_with_the_base_model_and_never_uses_test_documents(
    monkeypatch, tmp_path, pairs, base_model_path
):
    seen = {}

    def fake_finetune(model, data, config, dims, checkpoint_dir, *, guide=None):
        seen["train"] = data.train
        return workflow.TrainingSummary(0.0, 0.0, 0, None, None, [])

    monkeypatch.setattr(workflow, "finetune", fake_finetune)
    # The test document copies a training query: the best possible "negative" if it were allowed.
    data = _data(pairs, test_document=pairs[QUERY][3])
    config = FinetuneConfig(base_model=base_model_path, max_seq_length=32, hard_negatives=True)
    _, summary = workflow.train(config, data, [384, 64], tmp_path)
    negatives = seen["train"][NEGATIVE]
    assert len(negatives) == len(pairs) and pairs[QUERY][3] not in negatives
    assert set(negatives) <= set(pairs[DOCUMENT])
    assert summary.hard_negative_mining["pairs"] == len(pairs)
    assert NEGATIVE not in data.train.column_names  # the caller's data is left alone

    # Data with its own negatives keeps them; mining off leaves pairs as pairs.
    own = pairs.add_column(NEGATIVE, list(reversed(pairs[DOCUMENT])))
    _, summary = workflow.train(config, _data(own, "x"), [384], tmp_path)
    assert seen["train"][NEGATIVE] == own[NEGATIVE] and summary.hard_negative_mining is None
    config.hard_negatives = False
    workflow.train(config, _data(pairs, "x"), [384], tmp_path)
    assert NEGATIVE not in seen["train"].column_names
