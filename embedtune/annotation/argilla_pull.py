"""Pull reviewed examples back from Argilla 2.x as (query, document) training pairs.

Written on the Argilla SDK directly: ZenML's annotator ``get_labeled_data`` calls
``records.to_list()``, which needs ``flatten=`` with argilla 2.8 and fails.

Rules, per record:
- only records with at least one *submitted* response count (drafts, discarded-status
  responses and unanswered records are left out);
- if a submitted response's decision is ``discard``, the record is left out (one reviewer's
  discard wins over another's accept);
- otherwise the first submitted response (oldest user first as returned by the server) that
  filled ``query_edit`` / ``negative_query_edit`` with a non-empty text wins over the generated
  query / negative query.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from embedtune.annotation import argilla_settings as S
from embedtune.annotation.argilla_client import (
    connect,
    dataset_names,
    find_dataset,
    get_workspace,
    resolve_connection,
)
from embedtune.errors import DataError, ServiceError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

logger = logging.getLogger(__name__)

PAIR_COLUMNS = ("query", "document", "negative_query", "chunk_id", "section", "source")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


def submitted_answers(record: Any) -> list[dict[str, Any]]:
    """The submitted responses of a record, one dict {question: value} per user."""
    by_user: dict[Any, dict[str, Any]] = defaultdict(dict)
    order: list[Any] = []
    for response in record.responses:
        if _status(response.status) != "submitted":
            continue
        if response.user_id not in by_user:
            order.append(response.user_id)
        by_user[response.user_id][response.question_name] = response.value
    return [by_user[user] for user in order]


def _first_edit(answers: list[dict[str, Any]], question: str) -> str:
    """The first non-empty answer to ``question`` (reviewers in server order), or ""."""
    return next((_text(a.get(question)) for a in answers if _text(a.get(question))), "")


def record_to_pair(record: Any) -> dict[str, str] | None:
    """The training pair for a reviewed record, or None when it is unreviewed or discarded."""
    answers = submitted_answers(record)
    if not answers:
        return None
    if any(_text(a.get(S.QUESTION_DECISION)) == S.LABEL_DISCARD for a in answers):
        return None
    fields = record.fields
    query = _text(fields.get(S.FIELD_QUERY))
    negative = _text(fields.get(S.FIELD_NEGATIVE_QUERY))
    edited_query = _first_edit(answers, S.QUESTION_QUERY_EDIT)
    edited_negative = _first_edit(answers, S.QUESTION_NEGATIVE_QUERY_EDIT)
    metadata = record.metadata or {}
    return {
        "query": edited_query or query,
        "document": _text(fields.get(S.FIELD_DOCUMENT)),
        "negative_query": edited_negative or negative,
        "chunk_id": _text(record.id).split(S.RECORD_ID_SEPARATOR)[0],
        "section": _text(metadata.get(S.META_SECTION)),
        "source": _text(metadata.get(S.META_SOURCE)),
    }


def load_argilla_pairs(
    name: str,
    *,
    workspace: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
) -> datasets.Dataset:
    """The reviewed examples of Argilla dataset ``name`` as a Dataset.

    Columns: query, document, negative_query, chunk_id, section, source. Raises DataError when
    no record has been reviewed (submitted) yet, ServiceError when the server, workspace or
    dataset cannot be found.
    """
    import datasets

    conn = resolve_connection(api_url=api_url, api_key=api_key, workspace=workspace)
    client = connect(conn)
    ws = get_workspace(client, conn.workspace)
    rg_dataset = find_dataset(name, ws)
    if rg_dataset is None:
        known = ", ".join(dataset_names(ws)) or "none"
        raise ServiceError(
            f"Argilla dataset {name!r} does not exist in workspace {ws.name!r} (datasets there: "
            f"{known}). Push it first with `embedtune generate --argilla {name}` (or "
            "`push_to_argilla`), or pass the right workspace."
        )

    _refuse_negative_review(rg_dataset, name)
    rows, seen, reviewed = _reviewed_pairs(rg_dataset, name)
    logger.info(
        "Argilla dataset %r: %d records, %d reviewed, %d kept", name, seen, reviewed, len(rows)
    )
    if not reviewed:
        raise DataError(
            f"nothing has been reviewed yet in Argilla dataset {name!r} ({seen} records, none "
            "with a submitted response)",
            hint="open the dataset in Argilla, answer and *submit* some records, then pull again",
        )
    if not rows:
        logger.warning(
            "All %d reviewed records of Argilla dataset %r were discarded", reviewed, name
        )
    features = datasets.Features({c: datasets.Value("string") for c in PAIR_COLUMNS})
    return datasets.Dataset.from_dict(
        {c: [row[c] for row in rows] for c in PAIR_COLUMNS}, features=features
    )


def _reviewed_pairs(rg_dataset: Any, name: str) -> tuple[list[dict[str, str]], int, int]:
    """(pairs kept, records seen, records reviewed) of an Argilla dataset."""
    from argilla._exceptions import ArgillaAPIError

    rows: list[dict[str, str]] = []
    seen = reviewed = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for record in rg_dataset.records(with_responses=True, with_suggestions=False):
                seen += 1
                if submitted_answers(record):
                    reviewed += 1
                pair = record_to_pair(record)
                if pair is not None:
                    rows.append(pair)
    except ArgillaAPIError as e:
        raise ServiceError(
            f"Argilla refused to list the records of dataset {name!r} (HTTP "
            f"{getattr(e, 'status_code', '?')}). Reading every reviewer's responses needs an "
            "owner or admin API key."
        ) from e
    return rows, seen, reviewed


def _refuse_negative_review(rg_dataset: Any, name: str) -> None:
    """A review of doubtful negatives (embedtune.annotation.negative_review) holds no training
    pairs of its own: say what it is for instead of reading empty documents."""
    candidate = S.NEGATIVE_REVIEW_FIELDS[-1]
    if candidate in {field.name for field in rg_dataset.settings.fields}:
        raise DataError(
            f"Argilla dataset {name!r} is a review of doubtful negatives, not of training pairs",
            hint=f"train on your data and pass --review-negatives {name}: its reviewed answers "
            "become extra positives and confirmed negatives",
        )
