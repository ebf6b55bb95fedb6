"""The Argilla review loop against a real argilla-server 2.8.0 (see README.md here)."""

from __future__ import annotations

import itertools
import uuid

import pytest

pytest.importorskip("argilla")

import datasets  # noqa: E402
import httpx  # noqa: E402

from embedtune.annotation import argilla_settings as S  # noqa: E402
from embedtune.annotation.argilla_pull import PAIR_COLUMNS, load_argilla_pairs  # noqa: E402
from embedtune.annotation.argilla_push import push_to_argilla  # noqa: E402
from embedtune.errors import DataError, ServiceError  # noqa: E402
from embedtune.synthetic.dataset import GENERATED_COLUMNS  # noqa: E402

from .conftest import ArgillaServer, free_port  # noqa: E402

pytestmark = [pytest.mark.argilla, pytest.mark.usefixtures("no_argilla_env")]

_counter = itertools.count()

ROWS = [
    {
        "chunk_id": "install.md#0",
        "document": "# Install\n\nRun `pip install embedtune` in a Python 3.10+ environment.",
        "query": "How do I install embedtune?",
        "negative_query": "How do I uninstall embedtune?",
        "source": "docs/install.md",
        "section": "Install",
        "token_count": 17,
    },
    {
        "chunk_id": "config.md#0",
        "document": "Set `EMBEDTUNE_CACHE` to choose where models are cached.",
        "query": "where are models cached",
        "negative_query": "How do I clear the model cache?",
        "source": "docs/config.md",
        "section": "Configuration > Cache",
        "token_count": 13,
    },
    {
        "chunk_id": "faq.md#3",
        "document": "Lorem ipsum dolor sit amet.",
        "query": "What is the meaning of life?",
        "negative_query": "What is lorem ipsum?",
        "source": "docs/faq.md",
        "section": "FAQ",
        "token_count": 8,
    },
    {
        "chunk_id": "train.md#1",
        "document": "Training uses MultipleNegativesRankingLoss with in-batch negatives.",
        "query": "Which loss is used for training?",
        "negative_query": "Which optimizer is used for training?",
        "source": "docs/train.md",
        "section": "Training",
        "token_count": 12,
    },
    {
        "chunk_id": "eval.md#0",
        "document": "Evaluation reports NDCG@10 and MRR@10 on the held-out split.",
        "query": "Which metrics does the evaluation report?",
        "negative_query": "How long does evaluation take?",
        "source": "docs/eval.md",
        "section": "",
        "token_count": 14,
    },
]


def generated_dataset(rows=ROWS) -> datasets.Dataset:
    return datasets.Dataset.from_dict({c: [r[c] for r in rows] for c in GENERATED_COLUMNS})


def unique_name(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def connection(server: ArgillaServer) -> dict[str, str]:
    return {"api_url": server.api_url, "api_key": server.api_key, "workspace": server.workspace}


class Api:
    """Plain REST calls, as the Argilla UI makes them."""

    def __init__(self, server: ArgillaServer, api_key: str) -> None:
        self.client = httpx.Client(
            base_url=server.api_url, headers={"X-Argilla-Api-Key": api_key}, timeout=30
        )

    def __call__(self, method: str, path: str, **kwargs) -> dict:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else {}


def dataset_id(owner: Api, name: str, workspace: str) -> str:
    for item in owner("GET", "/api/v1/me/datasets")["items"]:
        if item["name"] == name:
            return item["id"]
    raise AssertionError(f"dataset {name!r} not found")


def records_by_chunk_id(owner: Api, ds_id: str) -> dict[str, dict]:
    items = owner(
        "GET",
        f"/api/v1/datasets/{ds_id}/records",
        params={"include": "responses,suggestions,vectors", "limit": 100},
    )["items"]
    return {item["external_id"]: item for item in items}


@pytest.fixture(scope="module")
def annotator_key(argilla_server: ArgillaServer) -> str:
    """An annotator user in the test workspace; returns their API key."""
    owner = Api(argilla_server, argilla_server.api_key)
    user = owner(
        "POST",
        "/api/v1/users",
        json={
            "first_name": "Anna",
            "username": f"annotator-{uuid.uuid4().hex[:6]}",
            "password": "annotator-password",
            "role": "annotator",
        },
    )
    workspace = next(
        w for w in owner("GET", "/api/v1/me/workspaces")["items"] if w["name"] == "argilla"
    )
    owner("POST", f"/api/v1/workspaces/{workspace['id']}/users", json={"user_id": user["id"]})
    return user["api_key"]


def test_round_trip_keeps_reviewed_edits_and_drops_discarded_and_unanswered(
    argilla_server: ArgillaServer, annotator_key: str
) -> None:
    name = unique_name("round-trip")
    assert push_to_argilla(generated_dataset(), name, **connection(argilla_server)) == len(ROWS)

    owner = Api(argilla_server, argilla_server.api_key)
    annotator = Api(argilla_server, annotator_key)
    records = records_by_chunk_id(owner, dataset_id(owner, name, argilla_server.workspace))
    assert set(records) == {r["chunk_id"] for r in ROWS}

    def answer(chunk_id: str, values: dict, status: str = "submitted") -> None:
        annotator(
            "POST",
            f"/api/v1/records/{records[chunk_id]['id']}/responses",
            json={"values": {k: {"value": v} for k, v in values.items()}, "status": status},
        )

    # Accepted as is: the UI submits the prefilled suggestions unchanged.
    answer(
        "install.md#0",
        {
            S.QUESTION_DECISION: S.LABEL_ACCEPT,
            S.QUESTION_QUERY_EDIT: ROWS[0]["query"],
            S.QUESTION_NEGATIVE_QUERY_EDIT: ROWS[0]["negative_query"],
        },
    )
    # Accepted with an edited query (negative left empty -> generated one kept).
    answer(
        "config.md#0",
        {S.QUESTION_DECISION: S.LABEL_ACCEPT, S.QUESTION_QUERY_EDIT: "Where are models cached?"},
    )
    # Discarded.
    answer("faq.md#3", {S.QUESTION_DECISION: S.LABEL_DISCARD})
    # Answered but only saved as a draft: not reviewed yet.
    answer("eval.md#0", {S.QUESTION_DECISION: S.LABEL_ACCEPT}, status="draft")
    # "train.md#1" is left unanswered.

    pairs = load_argilla_pairs(name, **connection(argilla_server))

    assert tuple(pairs.column_names) == PAIR_COLUMNS
    by_id = {row["chunk_id"]: row for row in pairs}
    assert set(by_id) == {"install.md#0", "config.md#0"}
    assert by_id["config.md#0"]["query"] == "Where are models cached?"
    assert by_id["config.md#0"]["negative_query"] == ROWS[1]["negative_query"]
    assert by_id["config.md#0"]["document"] == ROWS[1]["document"]
    assert by_id["config.md#0"]["section"] == "Configuration > Cache"
    assert by_id["config.md#0"]["source"] == "docs/config.md"
    assert by_id["install.md#0"]["query"] == ROWS[0]["query"]
    assert by_id["install.md#0"]["document"] == ROWS[0]["document"]


def test_pushed_records_have_metadata_vector_and_suggestions(
    argilla_server: ArgillaServer,
) -> None:
    name = unique_name("metadata")
    push_to_argilla(generated_dataset(), name, **connection(argilla_server))
    # Pushing again updates the same records (id = chunk_id) instead of adding new ones.
    assert push_to_argilla(generated_dataset(), name, **connection(argilla_server)) == len(ROWS)

    owner = Api(argilla_server, argilla_server.api_key)
    ds_id = dataset_id(owner, name, argilla_server.workspace)
    records = records_by_chunk_id(owner, ds_id)
    assert len(records) == len(ROWS)

    vector_settings = owner("GET", f"/api/v1/datasets/{ds_id}/vectors-settings")["items"]
    assert [(v["name"], v["dimensions"]) for v in vector_settings] == [(S.VECTOR_DOCUMENT, 384)]

    for row in ROWS:
        record = records[row["chunk_id"]]
        assert record["fields"][S.FIELD_DOCUMENT] == row["document"]
        assert record["fields"][S.FIELD_QUERY] == row["query"]
        assert record["fields"][S.FIELD_NEGATIVE_QUERY] == row["negative_query"]
        metadata = record["metadata"]
        assert metadata[S.META_SOURCE] == row["source"]
        assert metadata.get(S.META_SECTION) == (row["section"] or None)
        assert metadata[S.META_TOKEN_COUNT] == row["token_count"]
        for key in S.SIMILARITY_METADATA:
            assert isinstance(metadata[key], float)
            assert -1.0 <= metadata[key] <= 1.0
        vector = record["vectors"][S.VECTOR_DOCUMENT]
        assert len(vector) == 384
        assert abs(sum(x * x for x in vector) - 1.0) < 1e-3
        suggestions = {
            s["question_id"]: s["value"] for s in record["suggestions"]
        }  # values by question id
        assert row["query"] in suggestions.values()
        assert row["negative_query"] in suggestions.values()

    # A query is closer to its own chunk than to an unrelated chunk's.
    sims = {r["chunk_id"]: records[r["chunk_id"]]["metadata"] for r in ROWS}
    assert sims["install.md#0"][S.META_SIM_CHUNK_POSITIVE] > 0.3

    # The search endpoint works through the stand-in search engine (filters on metadata).
    found = owner(
        "POST",
        f"/api/v1/datasets/{ds_id}/records/search",
        json={
            "filters": {
                "and": [
                    {
                        "type": "terms",
                        "scope": {"entity": "metadata", "metadata_property": S.META_SOURCE},
                        "values": ["docs/install.md", "docs/train.md"],
                    }
                ]
            }
        },
    )
    assert sorted(item["record"]["external_id"] for item in found["items"]) == [
        "install.md#0",
        "train.md#1",
    ]


def test_pull_before_any_review_says_nothing_reviewed(argilla_server: ArgillaServer) -> None:
    name = unique_name("unreviewed")
    push_to_argilla(generated_dataset(ROWS[:2]), name, **connection(argilla_server))
    with pytest.raises(DataError, match="nothing has been reviewed yet"):
        load_argilla_pairs(name, **connection(argilla_server))


def test_wrong_server_url_is_a_clear_service_error(argilla_server: ArgillaServer) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceError, match="Cannot reach the Argilla server"):
        load_argilla_pairs("anything", api_url=url, api_key=argilla_server.api_key)
    with pytest.raises(ServiceError, match="Cannot reach the Argilla server"):
        push_to_argilla(generated_dataset(), "anything", api_url=url, api_key="key")


def test_bad_api_key_is_a_clear_service_error(argilla_server: ArgillaServer) -> None:
    bad_key = "not-the-right-key-123"
    with pytest.raises(ServiceError, match="refused the API key") as info:
        load_argilla_pairs("anything", api_url=argilla_server.api_url, api_key=bad_key)
    assert bad_key not in str(info.value)
    with pytest.raises(ServiceError, match="refused the API key"):
        push_to_argilla(
            generated_dataset(), "anything", api_url=argilla_server.api_url, api_key=bad_key
        )


def test_missing_workspace_is_a_clear_service_error(argilla_server: ArgillaServer) -> None:
    conn = {**connection(argilla_server), "workspace": "no-such-workspace"}
    with pytest.raises(ServiceError, match="workspace 'no-such-workspace' does not exist"):
        push_to_argilla(generated_dataset(), unique_name("ws"), **conn)
    with pytest.raises(ServiceError, match="workspace 'no-such-workspace' does not exist"):
        load_argilla_pairs("anything", **conn)


def test_missing_dataset_is_a_clear_service_error(argilla_server: ArgillaServer) -> None:
    with pytest.raises(ServiceError, match="dataset 'no-such-dataset' does not exist"):
        load_argilla_pairs("no-such-dataset", **connection(argilla_server))


def test_connection_settings_come_from_the_environment(
    argilla_server: ArgillaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGILLA_API_URL", argilla_server.api_url)
    monkeypatch.setenv("ARGILLA_API_KEY", argilla_server.api_key)
    monkeypatch.setenv("ARGILLA_WORKSPACE", argilla_server.workspace)
    name = unique_name("env")
    assert push_to_argilla(generated_dataset(ROWS[:1]), name) == 1
    with pytest.raises(DataError, match="nothing has been reviewed yet"):
        load_argilla_pairs(name)


def test_existing_dataset_with_other_settings_is_not_reused(
    argilla_server: ArgillaServer,
) -> None:
    import argilla as rg

    name = unique_name("other-settings")
    client = rg.Argilla(api_url=argilla_server.api_url, api_key=argilla_server.api_key)
    rg.Dataset(
        name=name,
        workspace=argilla_server.workspace,
        settings=S.build_settings(dimensions=8),
        client=client,
    ).create()
    with pytest.raises(ServiceError, match="exists with different settings"):
        push_to_argilla(generated_dataset(ROWS[:1]), name, **connection(argilla_server))


def test_annotator_key_cannot_push_or_pull_and_is_told_why(
    argilla_server: ArgillaServer, annotator_key: str
) -> None:
    name = unique_name("annotator")
    push_to_argilla(generated_dataset(ROWS[:1]), name, **connection(argilla_server))
    conn = {**connection(argilla_server), "api_key": annotator_key}
    with pytest.raises(ServiceError, match="owner or admin"):
        push_to_argilla(generated_dataset(ROWS[:1]), unique_name("by-annotator"), **conn)
    with pytest.raises(ServiceError, match="owner or admin"):
        load_argilla_pairs(name, **conn)
