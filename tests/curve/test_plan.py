"""The curve's plan on real data: validation carved once (every point selected on the same
queries), nested training subsets drawn from what is left, never a validation or test query."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.curve.run import plan_curve
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.errors import ConfigError
from tests.conftest import LEGAL


def test_every_point_shares_the_validation_split_and_nests_its_pairs(tmp_path):
    config = load_config(data=str(LEGAL), max_seq_length=32, output=str(tmp_path / "out"))
    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=60))
    plan = plan_curve(config, data, [0.25, 0.5, 1.0])
    splits = [plan.split(i) for i in range(3)]
    assert all(split.validation is plan.carved.validation for split in splits)
    assert plan.carved.validation is not None and plan.carved.validation.queries
    queries = [set(split.train.train["query"]) for split in splits]
    assert queries[0] < queries[1] < queries[2]
    assert [len(split.train.train) for split in splits] == plan.counts
    assert plan.counts[-1] == len(plan.carved.train.train)  # 100%: every pair left
    held_out = set(plan.carved.validation.queries.values()) | set(data.queries.values())
    assert not queries[-1] & held_out
    assert all(split.train.queries == data.queries for split in splits)  # same test task
    again = plan_curve(config, data, [0.25, 0.5, 1.0])
    assert again.subsets == plan.subsets  # seeded: the same pairs every time


def test_a_fraction_below_a_handful_of_pairs_is_refused(tmp_path):
    config = load_config(data=str(LEGAL), max_seq_length=32, output=str(tmp_path / "out"))
    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=60))
    with pytest.raises(
        ConfigError, match=r"--fractions: 0.1 of the \d+ training pairs .* is \d pairs"
    ):
        plan_curve(config, data, [0.1, 1.0])


def test_settings_a_curve_cannot_honour_are_refused(tmp_path):
    from embedtune.curve.run import check_curve_config

    with pytest.raises(ConfigError, match="--resume: a learning curve .* keeps no checkpoint"):
        check_curve_config(load_config(resume=True, output=str(tmp_path / "out")))
    with pytest.raises(ConfigError, match="--push-to-hub: a learning curve keeps no model"):
        check_curve_config(load_config(push_to_hub="me/model", output=str(tmp_path / "out")))
