"""False-negative screening after mining (embedtune.training.false_negatives), real base model."""

from __future__ import annotations

import pytest
from datasets import Dataset

from embedtune.errors import ConfigError
from embedtune.training.false_negatives import (
    find_false_negatives,
    screen_false_negatives,
    spare_negatives,
)
from embedtune.training.hard_negatives import add_hard_negatives

REFUND = "To refund a card payment, open the admin console, find the charge and press Refund."
REFUND_COPY = "To refund card payments, open the admin console, find the charge and press Refund."
CHARGEBACK = "A chargeback is opened by the cardholder's bank; upload the receipt within 7 days."
DEPLOY = "Deploy the payments service with make deploy; roll back with make rollback."
CURRENCY = "We settle in euro, pound and dollar; other currencies use the daily rate."
TIMEOUT = "Requests to the payments API time out after thirty seconds and are retried twice."


def mined(negatives: list[list[str]]) -> Dataset:
    """Two training pairs with the given negatives per pair (negative_1..n), hardest first."""
    rows = {
        "query": ["how do I refund a card payment", "how do I roll back a deploy"],
        "document": [REFUND, DEPLOY],
    }
    for i in range(len(negatives[0])):
        rows[f"negative_{i + 1}"] = [n[i] for n in negatives]
    return Dataset.from_dict(rows)


def test_a_paraphrased_positive_is_flagged_and_replaced_by_the_next_candidate(short_model):
    train = mined([[REFUND_COPY, CHARGEBACK], [CURRENCY, TIMEOUT]])
    out, block, flagged = screen_false_negatives(
        train, short_model, num_negatives=1, margin=0.05, pool=[REFUND, DEPLOY, TIMEOUT]
    )
    assert [(f.row, f.negative, f.reason) for f in flagged] == [(0, REFUND_COPY, "margin")]
    assert flagged[0].negative_score >= flagged[0].positive_score - 0.05
    assert out.column_names == ["query", "document", "negative"]
    assert out["negative"] == [CHARGEBACK, CURRENCY]  # the spare took the flagged one's place
    assert block["checked"] == 2 and block["flagged"] == 1 and block["dropped"] == 1
    assert block["replaced_with_mined"] == 1 and block["replaced_with_random"] == 0
    assert block["examples"][0]["negative"] == REFUND_COPY
    assert "replaced by the next mined candidate" in block["rule"]


def test_keep_only_counts_and_a_confirmed_negative_is_never_flagged(short_model):
    train = mined([[REFUND_COPY], [CURRENCY]])
    out, block, _ = screen_false_negatives(
        train, short_model, num_negatives=1, margin=0.05, action="keep"
    )
    assert out["negative"] == [REFUND_COPY, CURRENCY] and block["flagged"] == 1
    assert block["dropped"] == 0
    confirmed = {("how do I refund a card payment", REFUND_COPY)}
    flagged, checked, exempted = find_false_negatives(
        train, short_model, margin=0.05, confirmed=confirmed
    )
    assert flagged == [] and checked == 2 and exempted == 1


def test_without_a_spare_a_random_document_that_is_no_positive_replaces_it(short_model):
    train = mined([[REFUND_COPY], [CURRENCY]])
    out, block, _ = screen_false_negatives(
        train, short_model, num_negatives=1, margin=0.05, pool=[REFUND, DEPLOY, TIMEOUT], seed=3
    )
    assert out["negative"][0] not in (REFUND, REFUND_COPY)
    assert block["replaced_with_random"] == 1


def test_mined_duplicates_of_positives_are_caught_after_real_mining(short_model):
    """A corpus holding near-copies of positives under other ids: mined without a margin, the
    copies become negatives; the screen flags every one of them and nothing else."""
    train = Dataset.from_dict(
        {
            "query": ["how do I refund a card payment", "how do I roll back a deploy"],
            "document": [REFUND, DEPLOY],
        }
    )
    deploy_copy = "Roll back with make rollback; deploy the payments service with make deploy."
    corpus = [REFUND_COPY, deploy_copy, CHARGEBACK, CURRENCY, TIMEOUT]
    with_negatives, _ = add_hard_negatives(
        train, short_model, num_negatives=2, corpus=corpus, relative_margin=None, batch_size=8
    )
    assert {REFUND_COPY, deploy_copy} <= {
        *with_negatives["negative_1"],
        *with_negatives["negative_2"],
    }
    out, block, flagged = screen_false_negatives(
        with_negatives, short_model, num_negatives=1, margin=0.05, pool=corpus
    )
    assert {f.negative for f in flagged} <= {REFUND_COPY, deploy_copy}
    assert out["negative"][0] != REFUND_COPY and out["negative"][1] != deploy_copy
    assert block["flagged"] == sum(
        n in (REFUND_COPY, deploy_copy) for n in with_negatives["negative_1"]
    )


@pytest.mark.parametrize("margin", [-0.1, 1.5, float("nan"), "0.1", True])
def test_a_margin_outside_its_range_is_refused(short_model, margin):
    with pytest.raises(ConfigError, match=r"false_negative_margin must be"):
        screen_false_negatives(
            mined([[CURRENCY], [TIMEOUT]]), short_model, num_negatives=1, margin=margin
        )


def test_an_unknown_action_is_refused(short_model):
    with pytest.raises(ConfigError, match="false_negatives must be one of"):
        screen_false_negatives(
            mined([[CURRENCY], [TIMEOUT]]), short_model, num_negatives=1, margin=0.1, action="maybe"
        )


def test_spare_candidates_stay_within_the_window():
    assert spare_negatives(1, 30) == 1
    assert spare_negatives(3, 4) == 1
    assert spare_negatives(2, 2) == 0
