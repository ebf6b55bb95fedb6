"""Let a person settle doubtful hard negatives in Argilla 2.x: push, review, pull.

``push_negative_reviews(flagged, NAME)`` sends (query, positive, candidate) triples, the mined
negatives the false-negative screen flagged (embedtune.training.false_negatives), to the Argilla
dataset NAME with one required question, ``also_relevant`` ("Is the candidate also relevant to
the query?", yes / no). ``pull_negative_reviews(NAME)`` reads the submitted answers back:

- every submitted answer "yes": the candidate is an extra positive of the query (a new training
  pair, and never again a negative for it);
- every submitted answer "no": a confirmed negative (never flagged again);
- answers that disagree, drafts and unanswered records: left out (counted as ``disputed`` /
  ``unreviewed``).

Record ids are a hash of (query, candidate), so pushing again updates a record instead of adding
a copy. A dataset NAME that exists with other settings (a query review dataset of `embedtune
generate --argilla`, another tool's) is refused before any record is sent, for push and pull.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from embedtune.annotation.argilla_client import (
    connect,
    find_dataset,
    get_workspace,
    resolve_connection,
)
from embedtune.annotation.argilla_pull import submitted_answers
from embedtune.annotation.argilla_settings import NEGATIVE_REVIEW_FIELDS, settings_signature
from embedtune.errors import DataError, ServiceError

if TYPE_CHECKING:  # pragma: no cover
    import argilla as rg

logger = logging.getLogger(__name__)

FIELD_QUERY, FIELD_POSITIVE, FIELD_CANDIDATE = NEGATIVE_REVIEW_FIELDS
QUESTION_ALSO_RELEVANT = "also_relevant"
YES, NO = "yes", "no"
META_POSITIVE_SCORE, META_CANDIDATE_SCORE = "positive_score", "candidate_score"

GUIDELINES = """\
Each record is a search query, a document known to answer it (**positive**) and a document that
the training data would use as a *wrong* answer (**candidate**). The base model scored the
candidate almost as high as the positive, so it may answer the query too.

**also_relevant**: *yes* if the candidate also answers the query (it becomes a positive),
*no* if it does not (it stays a negative). Then submit.
"""


@dataclass
class NegativeReviews:
    """What a review dataset says, ready for the next run."""

    positives: list[tuple[str, str]] = field(default_factory=list)  # (query, candidate): yes
    negatives: list[tuple[str, str]] = field(default_factory=list)  # (query, candidate): no
    records: int = 0
    disputed: int = 0  # submitted answers disagree
    unreviewed: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "records": self.records,
            "extra_positives": len(self.positives),
            "confirmed_negatives": len(self.negatives),
            "disputed": self.disputed,
            "unreviewed": self.unreviewed,
        }


def build_review_settings() -> rg.Settings:
    import argilla as rg

    return rg.Settings(
        guidelines=GUIDELINES,
        fields=[
            rg.TextField(name=FIELD_QUERY, title="Query"),
            rg.TextField(name=FIELD_POSITIVE, title="Known relevant document", use_markdown=True),
            rg.TextField(
                name=FIELD_CANDIDATE, title="Candidate (mined negative)", use_markdown=True
            ),
        ],
        questions=[
            rg.LabelQuestion(
                name=QUESTION_ALSO_RELEVANT,
                title="Is the candidate also relevant to the query?",
                labels={YES: "yes, also relevant", NO: "no"},
                required=True,
            )
        ],
        metadata=[
            rg.FloatMetadataProperty(name=META_POSITIVE_SCORE, title="base score: positive"),
            rg.FloatMetadataProperty(name=META_CANDIDATE_SCORE, title="base score: candidate"),
        ],
    )


def review_record_id(query: str, candidate: str) -> str:
    digest = hashlib.sha256(f"{query}\x00{candidate}".encode(), usedforsecurity=False)
    return f"neg-{digest.hexdigest()[:24]}"


def _triple(item: Any) -> dict[str, Any]:
    """A flagged negative (FlaggedNegative or a mapping) as the fields of a record."""
    get = (
        item.get
        if isinstance(item, Mapping)
        else lambda key, default=None: getattr(item, key, default)
    )
    triple = {
        FIELD_QUERY: str(get("query") or "").strip(),
        FIELD_POSITIVE: str(get("positive") or "").strip(),
        FIELD_CANDIDATE: str(get("negative") or get("candidate") or "").strip(),
    }
    missing = [name for name, text in triple.items() if not text]
    if missing:
        raise DataError(f"a triple to review has no {', '.join(missing)}")
    scores = {
        META_POSITIVE_SCORE: get("positive_score"),
        META_CANDIDATE_SCORE: get("negative_score"),
    }
    return {"fields": triple, "metadata": {k: float(v) for k, v in scores.items() if v is not None}}


def _open(name: str, *, workspace: str | None, api_url: str | None, api_key: str | None):
    if not name or not str(name).strip():
        raise DataError("the Argilla dataset name is empty", hint="e.g. --review-negatives my-negs")
    conn = resolve_connection(api_url=api_url, api_key=api_key, workspace=workspace)
    client = connect(conn)
    return client, get_workspace(client, conn.workspace), conn


def _check_schema(dataset: Any, name: str, workspace: Any) -> None:
    want = settings_signature(build_review_settings())
    have = settings_signature(dataset.settings)
    if want != have:
        differ = sorted(key for key in want if want[key] != have[key])
        fields = ", ".join(name for name, _ in have["fields"]) or "none"
        raise ServiceError(
            f"Argilla dataset {name!r} in workspace {workspace.name!r} has another schema "
            f"({', '.join(differ)} differ; its fields: {fields}): it is not a negatives review "
            "dataset of embedtune. Nothing was sent or read; give another name, or delete that "
            "dataset in Argilla first."
        )


def push_negative_reviews(
    flagged: Iterable[Any],
    name: str,
    *,
    workspace: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
) -> int:
    """Push (query, positive, candidate) triples for review; returns the records sent.

    `flagged`: FlaggedNegative objects or mappings with query, positive, negative (or
    candidate) and optionally positive_score / negative_score. Repeated (query, candidate)
    triples are sent once. The dataset is created when missing; one that exists with another
    schema is refused (ServiceError) before anything is sent.
    """
    import argilla as rg
    from argilla._exceptions import ArgillaError

    triples: dict[str, dict[str, Any]] = {}
    for item in flagged:
        triple = _triple(item)
        fields = triple["fields"]
        triples.setdefault(review_record_id(fields[FIELD_QUERY], fields[FIELD_CANDIDATE]), triple)
    client, ws, conn = _open(name, workspace=workspace, api_url=api_url, api_key=api_key)
    name = name.strip()
    dataset = find_dataset(name, ws)
    if dataset is not None:
        _check_schema(dataset, name, ws)
    if not triples:
        return 0
    if dataset is None:
        dataset = rg.Dataset(
            name=name, workspace=ws, settings=build_review_settings(), client=client
        )
        try:
            dataset.create()
        except ArgillaError as e:
            raise ServiceError(
                f"Argilla could not create dataset {name!r} in workspace {ws.name!r} "
                f"({type(e).__name__}). Creating datasets needs an owner or admin user."
            ) from e
    records = [
        rg.Record(id=record_id, fields=t["fields"], metadata=t["metadata"])
        for record_id, t in triples.items()
    ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset.records.log(records, batch_size=max(1, min(len(records), 500)))
    except Exception as e:
        detail = str(e).replace(conn.api_key, "***")
        raise ServiceError(f"Argilla refused the review records for {name!r}: {detail}") from e
    logger.info("Pushed %d doubtful negatives to Argilla dataset %r", len(records), name)
    return len(records)


def pull_negative_reviews(
    name: str,
    *,
    workspace: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
    missing_ok: bool = False,
) -> NegativeReviews | None:
    """The submitted answers of review dataset `name` (see the module docstring).

    `missing_ok`: a dataset that does not exist yet gives None (the first run of a loop) instead
    of a ServiceError. A dataset with another schema is a ServiceError.
    """
    from argilla._exceptions import ArgillaAPIError

    _, ws, _ = _open(name, workspace=workspace, api_url=api_url, api_key=api_key)
    name = name.strip()
    dataset = find_dataset(name, ws)
    if dataset is None:
        if missing_ok:
            return None
        raise ServiceError(
            f"Argilla dataset {name!r} does not exist in workspace {ws.name!r}; push the doubtful "
            "negatives first (finetune --review-negatives NAME)"
        )
    _check_schema(dataset, name, ws)
    reviews = NegativeReviews()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for record in dataset.records(with_responses=True, with_suggestions=False):
                reviews.records += 1
                labels = {
                    str(answer.get(QUESTION_ALSO_RELEVANT) or "").strip()
                    for answer in submitted_answers(record)
                } - {""}
                pair = (
                    str(record.fields.get(FIELD_QUERY) or "").strip(),
                    str(record.fields.get(FIELD_CANDIDATE) or "").strip(),
                )
                if not labels:
                    reviews.unreviewed += 1
                elif labels == {YES}:
                    reviews.positives.append(pair)
                elif labels == {NO}:
                    reviews.negatives.append(pair)
                else:
                    reviews.disputed += 1
    except ArgillaAPIError as e:
        raise ServiceError(
            f"Argilla refused to list the records of dataset {name!r} (HTTP "
            f"{getattr(e, 'status_code', '?')}); reading every reviewer's answers needs an owner "
            "or admin API key."
        ) from e
    logger.info("Argilla review %r: %s", name, reviews.summary())
    return reviews


def add_reviewed_positives(
    train: Any, reviews: NegativeReviews, *, queries: Iterable[str] | None = None
) -> tuple[Any, int]:
    """`train` (a Dataset with query, document) plus one (query, candidate) row per reviewed
    "yes" whose query is among `queries` (default: the training queries; a query carved into
    validation is left alone) and that is not a pair already. Returns (dataset, rows added)."""
    from datasets import Dataset, concatenate_datasets

    known = set(queries if queries is not None else train["query"])
    present = set(zip(train["query"], train["document"]))
    extra = [
        (q, d) for q, d in dict.fromkeys(reviews.positives) if q in known and (q, d) not in present
    ]
    if not extra:
        return train, 0
    rows = {column: [None] * len(extra) for column in train.column_names}
    rows["query"] = [q for q, _ in extra]
    rows["document"] = [d for _, d in extra]
    added = Dataset.from_dict(rows, features=train.features)
    return concatenate_datasets([train, added]), len(extra)
