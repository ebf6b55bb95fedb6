"""Pull rules and connection settings, on plain objects (no Argilla server needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from embedtune.annotation import argilla_client
from embedtune.annotation import argilla_settings as S
from embedtune.annotation.argilla_pull import record_to_pair, submitted_answers
from embedtune.errors import ServiceError


@dataclass
class FakeResponse:
    question_name: str
    value: Any
    user_id: str
    status: str = "submitted"


@dataclass
class FakeRecord:
    responses: list[FakeResponse]
    id: str = "c1"
    fields: dict = field(
        default_factory=lambda: {
            S.FIELD_DOCUMENT: "The chunk.",
            S.FIELD_QUERY: "generated query?",
            S.FIELD_NEGATIVE_QUERY: "generated negative?",
        }
    )
    metadata: dict = field(default_factory=lambda: {S.META_SECTION: "Intro", S.META_SOURCE: "a.md"})


def answer(user: str, status: str = "submitted", **values: Any) -> list[FakeResponse]:
    return [FakeResponse(q, v, user, status) for q, v in values.items()]


def test_unanswered_record_is_left_out() -> None:
    assert record_to_pair(FakeRecord(responses=[])) is None


def test_draft_and_discarded_status_are_not_reviews() -> None:
    record = FakeRecord(
        responses=answer("u1", "draft", decision="accept")
        + answer("u2", "discarded", decision="accept")
    )
    assert submitted_answers(record) == []
    assert record_to_pair(record) is None


def test_accepted_record_keeps_generated_texts() -> None:
    pair = record_to_pair(FakeRecord(responses=answer("u1", decision="accept")))
    assert pair == {
        "query": "generated query?",
        "document": "The chunk.",
        "negative_query": "generated negative?",
        "chunk_id": "c1",
        "section": "Intro",
        "source": "a.md",
    }


def test_edits_win_over_generated_texts_and_blank_edits_do_not() -> None:
    record = FakeRecord(
        responses=answer(
            "u1", decision="accept", query_edit="  edited query?  ", negative_query_edit="   "
        )
    )
    pair = record_to_pair(record)
    assert pair["query"] == "edited query?"
    assert pair["negative_query"] == "generated negative?"


def test_discard_by_any_reviewer_wins() -> None:
    record = FakeRecord(
        responses=answer("u1", decision="accept", query_edit="edited?")
        + answer("u2", decision="discard")
    )
    assert record_to_pair(record) is None


def test_connection_from_arguments_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argilla_client, "_zenml_secret", lambda: {})
    monkeypatch.setenv("ARGILLA_API_URL", "http://env:6900/")
    monkeypatch.setenv("ARGILLA_API_KEY", "env-key-123")
    monkeypatch.delenv("ARGILLA_WORKSPACE", raising=False)
    conn = argilla_client.resolve_connection()
    assert (conn.api_url, conn.api_key, conn.workspace) == ("http://env:6900", "env-key-123", None)
    assert "env-key-123" not in repr(conn)
    conn = argilla_client.resolve_connection(api_url="http://arg:1", workspace="ws")
    assert (conn.api_url, conn.api_key, conn.workspace) == ("http://arg:1", "env-key-123", "ws")


def test_connection_falls_back_to_the_zenml_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGILLA_API_URL", "ARGILLA_API_KEY", "ARGILLA_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        argilla_client,
        "_zenml_secret",
        lambda: {"api_url": "http://secret:6900", "api_key": "secret-key-1"},
    )
    conn = argilla_client.resolve_connection()
    assert (conn.api_url, conn.api_key) == ("http://secret:6900", "secret-key-1")


def test_missing_connection_settings_say_how_to_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGILLA_API_URL", "ARGILLA_API_KEY", "ARGILLA_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(argilla_client, "_zenml_secret", lambda: {})
    with pytest.raises(ServiceError, match="ARGILLA_API_URL") as info:
        argilla_client.resolve_connection(api_key="only-a-key")
    assert "only-a-key" not in str(info.value)
    assert "api_url" in str(info.value)
