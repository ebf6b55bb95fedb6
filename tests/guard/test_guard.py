"""The guard: read like --data, scored with the run's evaluator, refused early when unusable."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.errors import DataError
from embedtune.guard.task import evaluate_guard, guard_block, guard_ok, load_guard
from embedtune.results_schema import comparison_entry
from tests.conftest import LEGAL, ZENML_QA
from tests.helpers import cli_error

GUARD = ZENML_QA / "pairs.jsonl"  # ZenML documentation questions: out of the legal domain


def _config(tmp_path, **settings):
    return load_config(
        data=str(LEGAL), max_seq_length=32, dims=[384, 64], output=str(tmp_path / "out"), **settings
    )


def test_the_guard_is_scored_per_dim_with_intervals(short_model, tmp_path):
    config = _config(tmp_path, guard_data=str(GUARD))
    guard = load_guard(config)
    assert guard.source == str(GUARD) and 5 <= len(guard.data.queries) < 166
    assert len(guard.data.corpus) > len(guard.data.queries)  # test queries over every document
    guard.base = evaluate_guard(short_model, guard, config)
    block = guard_block(guard, guard.base, config)  # the saved model is the base here
    assert set(block["comparison"]) == {"384", "64"} == set(block["base"])
    for entry in block["comparison"].values():
        assert entry["ndcg@10_delta"] == 0.0 and entry["ci95"] == [0.0, 0.0]
    assert block["within_tolerance"] is True and 0 < block["base"]["384"]["ndcg@10"] <= 1
    assert block["test_queries"] == len(guard.data.queries)


def test_the_tolerance_rule():
    assert guard_ok(comparison_entry(-0.005, -0.009, -0.001))  # significant but small
    assert guard_ok(comparison_entry(-0.05, -0.10, 0.01))  # large but not significant
    assert not guard_ok(comparison_entry(-0.02, -0.03, -0.011))  # significant and beyond 0.01


def test_no_guard_is_none(tmp_path):
    assert load_guard(_config(tmp_path)) is None


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("", "no test qrels"),  # no test queries at all
        ("q1\td1\t0\n", "no query has an answer"),  # queries, none with a relevant document
    ],
)
def test_a_guard_without_answerable_test_queries_is_refused(tmp_path, qrels, message):
    folder = tmp_path / "guard"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text('{"_id": "d1", "text": "a document"}\n')
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "a question"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    with pytest.raises(DataError, match=rf"--guard-data {folder}: .*{message}"):
        load_guard(_config(tmp_path, guard_data=str(folder)))


def test_a_missing_guard_is_refused_before_any_work(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "guard.jsonl"
    err = cli_error(
        capsys,
        ["finetune", "--data", str(LEGAL), "--guard-data", str(missing), "--merge-base", "auto"],
        tmp_path / "out",
    )
    assert f"--guard-data {missing}" in err and "file not found" in err
