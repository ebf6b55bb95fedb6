"""The query filter (embedtune.data.query_filter) on tiny pairs with the real base model."""

from __future__ import annotations

import pytest
from datasets import Dataset

from embedtune.data.query_filter import (
    RULES,
    QueryFilterSettings,
    copied_span,
    filter_queries,
)
from embedtune.errors import ConfigError, DataError

REFUND = (
    "To refund a card payment, open the admin console, find the charge by its id and press "
    "Refund. Partial refunds are allowed up to the captured amount."
)
CHARGEBACK = (
    "A chargeback is opened by the cardholder's bank. Upload the receipt and the delivery proof "
    "within seven days, otherwise the dispute is lost."
)
DEPLOY = "Deploy the payments service with make deploy ENV=prod; roll back with make rollback."
CURRENCY = "We settle in euro, pound and dollar; other currencies are converted at the daily rate."


def pairs(rows: list[tuple[str, str]]) -> Dataset:
    return Dataset.from_dict(
        {
            "query": [q for q, _ in rows],
            "document": [d for _, d in rows],
            "id": list(range(len(rows))),
        }
    )


def test_copied_span_counts_words_shared_in_one_run():
    assert copied_span("open the admin console, find the charge", REFUND, 0.8) == 7
    assert copied_span("how do I refund a payment", REFUND, 0.8) == 0
    assert copied_span("admin console", REFUND, 0.8) == 0  # under the 5-word floor
    # 5 of 8 words copied: a copy at 0.6, not at 0.8
    query = "why: open the admin console, find it"
    assert copied_span(query, REFUND, 0.6) == 5
    assert copied_span(query, REFUND, 0.8) == 0


def test_each_rule_drops_its_kind_and_keeps_the_reason(short_model):
    rows = [
        ("how do I refund a card payment", REFUND),  # 0 kept
        ("deadline for answering a chargeback", CHARGEBACK),  # 1 kept
        ("find the charge by its id and press Refund", REFUND),  # 2 copy
        ("how do I refund a card payment?", REFUND),  # 3 near duplicate of 0
        ("which currencies are settled", DEPLOY),  # 4 round trip: its passage is not the answer
        ("how to roll back a deploy", DEPLOY),  # 5 kept
    ]
    outcome = filter_queries(
        pairs(rows),
        short_model,
        settings=QueryFilterSettings(top_k=1),
        corpus=[CURRENCY],
        judge=lambda queries: [q.startswith("deadline") for q in queries],
    )
    reasons = dict(zip(outcome.dropped["id"], outcome.dropped["reason"]))
    assert reasons == {1: "judge", 2: "copy", 3: "near_duplicate", 4: "round_trip"}
    assert outcome.kept["id"] == [0, 5]
    assert outcome.counts == {"copy": 1, "near_duplicate": 1, "round_trip": 1, "judge": 1}
    assert "similarity" in outcome.dropped["detail"][outcome.dropped["id"].index(3)]
    summary = outcome.summary(examples=1)
    assert summary["rows"] == 6 and summary["kept"] == 2
    assert summary["examples"]["copy"][0]["query"] == rows[2][0]
    assert summary["settings"]["top_k"] == 1


def test_a_larger_k_keeps_a_query_whose_passage_ranks_second(short_model):
    rows = [("which currencies are settled", DEPLOY), ("refund a card", REFUND)]
    strict = filter_queries(
        pairs(rows), short_model, settings=QueryFilterSettings(top_k=1), corpus=[CURRENCY]
    )
    loose = filter_queries(
        pairs(rows), short_model, settings=QueryFilterSettings(top_k=3), corpus=[CURRENCY]
    )
    assert strict.counts["round_trip"] == 1
    assert loose.counts["round_trip"] == 0 and len(loose.kept) == 2


def test_a_filter_that_would_drop_every_row_is_an_error(short_model):
    rows = [("open the admin console, find the charge by its id", REFUND)]
    with pytest.raises(DataError, match=r"drop every one of the 1 rows \(copy 1\)"):
        filter_queries(pairs(rows), short_model)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"top_k": 0}, "filter_top_k must be a whole number of at least 1"),
        ({"copy_fraction": 0}, r"filter_copy_fraction must be in \(0, 1\]"),
        ({"duplicate_similarity": 1.5}, r"filter_duplicate_similarity must be in \(0, 1\]"),
        ({"rules": ("copy", "typo")}, "rules \\['typo'\\] unknown"),
    ],
)
def test_settings_out_of_range_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        QueryFilterSettings(**settings)


def test_rules_can_be_chosen():
    assert set(RULES) == {"copy", "near_duplicate", "round_trip", "judge"}
    only_copy = QueryFilterSettings(rules=("copy",))
    assert only_copy.rules == ("copy",)


def test_one_query_with_two_positives_is_not_a_duplicate_of_itself(short_model):
    rows = [("how to roll back a deploy", DEPLOY), ("how to roll back a deploy", CURRENCY)]
    outcome = filter_queries(pairs(rows), short_model, settings=QueryFilterSettings(top_k=5))
    assert outcome.counts["near_duplicate"] == 0
    assert outcome.kept["id"] == [0, 1]
