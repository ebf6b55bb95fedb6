"""The run's screens around mining (embedtune.training.pair_screening): settings refused before
any weights, the query filter and the false-negative flag in a tiny finetune run's outputs."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.errors import ConfigError
from tests.helpers import TINY_RUN


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"false_negative_margin": 1.5}, r"false_negative_margin must be in \[0, 1\]"),
        ({"false_negative_margin": -0.01}, r"false_negative_margin must be in \[0, 1\]"),
        ({"false_negatives": "maybe"}, "false_negatives must be one of"),
        ({"filter": True, "filter_top_k": 0}, "filter_top_k must be a whole number"),
        ({"filter": True, "filter_copy_fraction": 0.0}, r"filter_copy_fraction must be in"),
        ({"review_negatives": " "}, "review_negatives is empty"),
    ],
)
def test_bad_screen_settings_are_refused_before_any_weights(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        load_config(output=str(tmp_path / "out"), **settings)


def test_the_screens_of_a_run_and_their_results_blocks(tmp_path, short_model):
    """filter_training_pairs and mine_and_screen as the run calls them (the legal slice, 48
    pairs), then their blocks in a results.json: valid under the schema, shown in the report."""
    from embedtune.evaluation.embedding_cache import DocumentEmbeddings
    from embedtune.reporting.html_report import render_html_report
    from embedtune.results_schema import ResultsError, validate_results
    from embedtune.training.pair_screening import filter_training_pairs, mine_and_screen
    from embedtune.workflow import load_data
    from tests.reporting.results_helpers import finetune_results

    config = load_config(
        **{**TINY_RUN, "hard_negatives": True},
        filter=True,
        filter_top_k=2,
        false_negatives="drop",
        false_negative_margin=0.1,
        output=str(tmp_path / "run"),
    )
    data = load_data(config)
    embeddings = DocumentEmbeddings(short_model)  # one encoding of the pool, as in a run
    filtered, query_filter = filter_training_pairs(short_model, data, config, embeddings=embeddings)
    assert query_filter["rows"] == len(data.train) == 48
    assert query_filter["kept"] == len(filtered.train) < 48  # the legal chunks overlap
    assert sum(query_filter["dropped"].values()) == 48 - len(filtered.train)
    mined, mining = mine_and_screen(short_model, filtered, config, embeddings=embeddings)
    block = mining["false_negatives"]
    assert mined.train.column_names == ["query", "document", "negative"]
    assert block["action"] == "drop" and block["margin"] == 0.1
    assert block["checked"] == len(filtered.train) == mining["pairs"]
    assert mining["candidates_asked"] == 2 * mining["pairs"]  # one spare candidate each
    assert block["dropped"] == block["flagged"] > 0
    assert block["replaced_with_mined"] + block["replaced_with_random"] == block["dropped"]
    flagged = {(e["query"], e["negative"]) for e in block["examples"]}
    assert not flagged & set(zip(mined.train["query"], mined.train["negative"]))

    results = finetune_results()
    results["training"].update(query_filter=query_filter, hard_negative_mining=mining)
    validate_results(results)
    report = render_html_report(results)
    assert "Training data screens" in report and "Query filter: kept" in report
    block["flagged"] = "3"
    with pytest.raises(ResultsError, match="training.hard_negative_mining"):
        validate_results(results)
