"""Doubtful negatives reviewed in a real argilla-server 2.8.0: push, answer, pull (README.md)."""

from __future__ import annotations

import pytest

pytest.importorskip("argilla")

from embedtune.annotation import argilla_settings as S  # noqa: E402
from embedtune.annotation.negative_review import (  # noqa: E402
    NO,
    QUESTION_ALSO_RELEVANT,
    YES,
    add_reviewed_positives,
    pull_negative_reviews,
    push_negative_reviews,
    review_record_id,
)
from embedtune.errors import ServiceError  # noqa: E402

from .conftest import ArgillaServer  # noqa: E402
from .test_argilla_review import (  # noqa: E402
    Api,
    annotator_key,  # noqa: F401 - the module-scoped fixture
    connection,
    dataset_id,
    unique_name,
)

pytestmark = [pytest.mark.argilla, pytest.mark.usefixtures("no_argilla_env")]

TRIPLES = [
    {
        "query": "how do I refund a card payment",
        "positive": "Open the admin console and press Refund.",
        "negative": "Press Refund in the admin console to refund a card payment.",
        "positive_score": 0.71,
        "negative_score": 0.69,
    },
    {
        "query": "how do I roll back a deploy",
        "positive": "Roll back with make rollback.",
        "negative": "Deploy the payments service with make deploy.",
        "positive_score": 0.66,
        "negative_score": 0.63,
    },
    {
        "query": "which currencies are settled",
        "positive": "We settle in euro, pound and dollar.",
        "negative": "Other currencies are converted at the daily rate.",
        "positive_score": 0.6,
        "negative_score": 0.58,
    },
]


def records(owner: Api, ds_id: str) -> dict[str, dict]:
    items = owner("GET", f"/api/v1/datasets/{ds_id}/records", params={"limit": 100})["items"]
    return {item["external_id"]: item for item in items}


def test_yes_becomes_a_positive_no_a_confirmed_negative_and_disagreement_neither(
    argilla_server: ArgillaServer,
    annotator_key: str,  # noqa: F811 - the fixture imported above
) -> None:
    name = unique_name("negatives")
    conn = connection(argilla_server)
    assert pull_negative_reviews(name, missing_ok=True, **conn) is None  # first run: nothing yet
    assert push_negative_reviews(TRIPLES + TRIPLES[:1], name, **conn) == 3  # repeats sent once
    assert push_negative_reviews(TRIPLES, name, **conn) == 3  # again: the same records updated

    owner = Api(argilla_server, argilla_server.api_key)
    annotator = Api(argilla_server, annotator_key)
    found = records(owner, dataset_id(owner, name, argilla_server.workspace))
    assert len(found) == 3
    first = found[review_record_id(TRIPLES[0]["query"], TRIPLES[0]["negative"])]
    assert first["fields"]["candidate"] == TRIPLES[0]["negative"]
    assert first["metadata"]["candidate_score"] == pytest.approx(0.69)

    def answer(api: Api, triple: dict, label: str) -> None:
        record = found[review_record_id(triple["query"], triple["negative"])]
        api(
            "POST",
            f"/api/v1/records/{record['id']}/responses",
            json={"values": {QUESTION_ALSO_RELEVANT: {"value": label}}, "status": "submitted"},
        )

    answer(annotator, TRIPLES[0], YES)
    answer(annotator, TRIPLES[1], NO)
    answer(annotator, TRIPLES[2], YES)
    answer(owner, TRIPLES[2], NO)  # two reviewers disagree: left out

    reviews = pull_negative_reviews(name, **conn)
    assert reviews.positives == [(TRIPLES[0]["query"], TRIPLES[0]["negative"])]
    assert reviews.negatives == [(TRIPLES[1]["query"], TRIPLES[1]["negative"])]
    assert reviews.summary() == {
        "records": 3,
        "extra_positives": 1,
        "confirmed_negatives": 1,
        "disputed": 1,
        "unreviewed": 0,
    }

    import datasets

    train = datasets.Dataset.from_dict(
        {"query": [t["query"] for t in TRIPLES], "document": [t["positive"] for t in TRIPLES]}
    )
    extended, added = add_reviewed_positives(train, reviews)
    assert added == 1 and len(extended) == 4
    assert extended[3] == {"query": TRIPLES[0]["query"], "document": TRIPLES[0]["negative"]}
    # A reviewed query carved into validation is not a training query: nothing is added.
    assert add_reviewed_positives(train, reviews, queries=[TRIPLES[1]["query"]])[1] == 0


def test_a_dataset_with_another_schema_is_refused_and_nothing_is_sent(
    argilla_server: ArgillaServer,
) -> None:
    import argilla as rg

    name = unique_name("query-review")
    client = rg.Argilla(api_url=argilla_server.api_url, api_key=argilla_server.api_key)
    rg.Dataset(
        name=name,
        workspace=argilla_server.workspace,
        settings=S.build_settings(dimensions=8),
        client=client,
    ).create()
    conn = connection(argilla_server)
    with pytest.raises(ServiceError, match="has another schema .* not a negatives review"):
        push_negative_reviews(TRIPLES, name, **conn)
    with pytest.raises(ServiceError, match="has another schema"):
        pull_negative_reviews(name, **conn)
    owner = Api(argilla_server, argilla_server.api_key)
    assert records(owner, dataset_id(owner, name, argilla_server.workspace)) == {}


def test_a_missing_dataset_is_an_error_unless_allowed(argilla_server: ArgillaServer) -> None:
    with pytest.raises(ServiceError, match="does not exist"):
        pull_negative_reviews(unique_name("none"), **connection(argilla_server))


def test_a_negatives_review_is_not_read_as_training_pairs(argilla_server: ArgillaServer) -> None:
    from embedtune.annotation.argilla_pull import load_argilla_pairs
    from embedtune.errors import DataError

    name = unique_name("negatives-as-data")
    push_negative_reviews(TRIPLES[:1], name, **connection(argilla_server))
    with pytest.raises(DataError, match="(?s)review of doubtful negatives.*--review-negatives"):
        load_argilla_pairs(name, **connection(argilla_server))


def test_a_run_pushes_its_doubtful_negatives_and_the_next_run_learns_from_the_review(
    argilla_server: ArgillaServer,
    annotator_key: str,  # noqa: F811 - the fixture imported above
    short_model,
    tmp_path,
    monkeypatch,
) -> None:
    """mine_and_screen with --review-negatives, as a run calls it: the first run pushes the
    flagged triple; a reviewer says yes; the second run trains on it as a positive."""
    import dataclasses

    import datasets

    from embedtune.config import load_config
    from embedtune.data.retrieval_data import RetrievalData
    from embedtune.training.pair_screening import mine_and_screen

    monkeypatch.setenv("ARGILLA_API_URL", argilla_server.api_url)
    monkeypatch.setenv("ARGILLA_API_KEY", argilla_server.api_key)
    monkeypatch.setenv("ARGILLA_WORKSPACE", argilla_server.workspace)
    name = unique_name("loop")
    refund = "To refund a card payment, open the admin console, find the charge and press Refund."
    copy = "To refund card payments, open the admin console, find the charge and press Refund."
    train = datasets.Dataset.from_dict(
        {
            "query": ["how do I refund a card payment", "roll back a deploy", "card refunds"],
            "document": [refund, "Roll back with make rollback.", copy],
        }
    )
    data = RetrievalData(train, {"q": "x"}, {"d": "unrelated"}, {"q": {"d"}})
    config = load_config(
        max_seq_length=32,
        review_negatives=name,
        false_negative_margin=0.02,
        output=str(tmp_path),
    )
    config = dataclasses.replace(config, hard_negative_relative_margin=None)  # mine the copy
    _, first = mine_and_screen(short_model, data, config)
    review = first["false_negatives"]["review"]
    assert review["records"] == 0 and review["pushed"] >= 1  # nothing reviewed yet

    owner = Api(argilla_server, argilla_server.api_key)
    found = records(owner, dataset_id(owner, name, argilla_server.workspace))
    record = found[review_record_id("how do I refund a card payment", copy)]
    Api(argilla_server, annotator_key)(
        "POST",
        f"/api/v1/records/{record['id']}/responses",
        json={"values": {QUESTION_ALSO_RELEVANT: {"value": YES}}, "status": "submitted"},
    )
    mined, second = mine_and_screen(short_model, data, config)
    review = second["false_negatives"]["review"]
    assert review["extra_positives"] == 1 and review["added_pairs"] == 1
    assert ("how do I refund a card payment", copy) in set(
        zip(mined.train["query"], mined.train["document"])
    )
    row = mined.train["query"].index("how do I refund a card payment")
    assert mined.train["negative"][row] != copy  # a positive now, never its negative
    assert review["pushed"] < first["false_negatives"]["review"]["pushed"]  # reviewed: not again
