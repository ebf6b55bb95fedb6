"""Flag mined hard negatives that are probably positives (false negatives), and drop them.

Mining picks the documents the base model ranks just below a query's positive; on real data many
of them answer the query too (an unlabelled duplicate, the other chunk of the same passage, a
paraphrase). Training on one teaches the model to push a right answer away. After mining:

- ``margin`` rule: a negative whose base-model cosine similarity to the query is at least the
  positive's minus ``margin`` is flagged (0: only negatives scoring as high as the positive);
- ``cross_encoder`` rule (when a cross-encoder is given): a negative the cross-encoder scores at
  or above ``cross_encoder_threshold`` (its sigmoid output: "relevant") is flagged;
- a (query, negative) a person confirmed as not relevant (``confirmed``: an Argilla review,
  embedtune.annotation.negative_review) is never flagged.

``action="drop"`` replaces each flagged negative with the pair's next mined candidate that is not
flagged (mining asks for spare candidates: ``spare_negatives``), else with a random document that
is no positive of the query (seeded); ``"keep"`` only counts. The returned block is what
results.json records under ``training.hard_negative_mining.false_negatives``.

Example::

    from embedtune.training.false_negatives import screen_false_negatives
    train, block = screen_false_negatives(mined, model, num_negatives=1, margin=0.05)
    block["flagged"], block["examples"]
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from datasets import Dataset

from embedtune.data.retrieval_data import DOCUMENT, QUERY, negative_columns
from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

ACTIONS = ("drop", "keep")
MARGIN, CROSS_ENCODER = "margin", "cross_encoder"
DEFAULT_CROSS_ENCODER_THRESHOLD = 0.5
EXAMPLES = 5

Encoder = Callable[[list[str]], np.ndarray]  # texts -> normalised rows (DocumentEmbeddings.embed)


@dataclass
class FlaggedNegative:
    row: int
    column: str
    query: str
    positive: str
    negative: str
    positive_score: float  # base model cosine (query, positive)
    negative_score: float  # base model cosine (query, negative)
    cross_encoder_score: float | None
    reason: str  # MARGIN or CROSS_ENCODER

    def example(self, clip: int = 200) -> dict[str, Any]:
        out = asdict(self)
        for key in ("query", "positive", "negative"):
            text = out[key]
            out[key] = text if len(text) <= clip else text[: clip - 1] + "…"
        return out


def check_margin(margin: Any, name: str = "false_negative_margin") -> None:
    """The margin is a cosine-similarity gap: a number in [0, 1]."""
    if isinstance(margin, bool) or not isinstance(margin, int | float):
        raise ConfigError(f"{name} must be a number in [0, 1], got {margin!r}")
    if not (math.isfinite(margin) and 0 <= margin <= 1):
        raise ConfigError(
            f"{name} must be in [0, 1] (a gap in cosine similarity below the positive's), "
            f"got {margin!r}"
        )


def check_action(action: Any) -> None:
    if action not in ACTIONS:
        raise ConfigError(f"false_negatives must be one of {ACTIONS}, got {action!r}")


def spare_negatives(num_negatives: int, window: int) -> int:
    """Further candidates to mine per pair so that a dropped negative has a replacement:
    as many again as asked for, within the mining window."""
    return max(0, min(num_negatives, window - num_negatives))


def _normalise(vectors: Any) -> np.ndarray:
    array = np.asarray(
        vectors.float().cpu().numpy() if hasattr(vectors, "cpu") else vectors, dtype=np.float32
    )
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)


def find_false_negatives(
    train: Dataset,
    model: Any,
    *,
    margin: float,
    cross_encoder: Any | None = None,
    cross_encoder_threshold: float = DEFAULT_CROSS_ENCODER_THRESHOLD,
    confirmed: Collection[tuple[str, str]] = (),
    query_prompt: str | None = None,
    encode_documents: Encoder | None = None,
    batch_size: int = 64,
) -> tuple[list[FlaggedNegative], int, int]:
    """(flagged negatives, negatives checked, confirmed negatives exempted) of a mined Dataset
    (query, document, negative[_i] columns)."""
    check_margin(margin)
    columns = negative_columns(train)
    if not columns or len(train) == 0:
        return [], 0, 0
    queries, positives = list(train[QUERY]), list(train[DOCUMENT])
    negatives = {column: list(train[column]) for column in columns}
    unique_queries = list(dict.fromkeys(queries))
    query_row = {q: i for i, q in enumerate(unique_queries)}
    query_vectors = _normalise(
        model.encode_query(
            unique_queries, prompt=query_prompt, batch_size=batch_size, convert_to_numpy=True
        )
    )
    texts = list(dict.fromkeys([*positives, *(t for c in columns for t in negatives[c])]))
    text_row = {t: i for i, t in enumerate(texts)}
    if encode_documents is not None:
        document_vectors = _normalise(encode_documents(texts))
    else:
        document_vectors = _normalise(
            model.encode_document(texts, batch_size=batch_size, convert_to_numpy=True)
        )
    confirmed = set(confirmed)
    candidates: list[FlaggedNegative] = []
    checked = exempted = 0
    for column in columns:
        for row, (query, positive, negative) in enumerate(
            zip(queries, positives, negatives[column])
        ):
            checked += 1
            if (query, negative) in confirmed:
                exempted += 1
                continue
            q = query_vectors[query_row[query]]
            positive_score = float(q @ document_vectors[text_row[positive]])
            negative_score = float(q @ document_vectors[text_row[negative]])
            candidates.append(
                FlaggedNegative(
                    row, column, query, positive, negative,
                    round(positive_score, 6), round(negative_score, 6), None, "",
                )
            )  # fmt: skip
    if cross_encoder is not None and candidates:
        scores = np.asarray(
            cross_encoder.predict(
                [(c.query, c.negative) for c in candidates],
                batch_size=batch_size,
                show_progress_bar=False,
            ),
            dtype=float,
        ).reshape(len(candidates), -1)[:, -1]
        for candidate, score in zip(candidates, scores):
            candidate.cross_encoder_score = round(float(score), 6)
    flagged = []
    for c in candidates:
        if c.negative_score >= c.positive_score - margin - 1e-9:
            c.reason = MARGIN
        elif c.cross_encoder_score is not None and c.cross_encoder_score >= cross_encoder_threshold:
            c.reason = CROSS_ENCODER
        else:
            continue
        flagged.append(c)
    return flagged, checked, exempted


def replace_flagged(
    train: Dataset,
    flagged: Sequence[FlaggedNegative],
    *,
    num_negatives: int,
    pool: Sequence[str],
    seed: int = 42,
) -> tuple[Dataset, int, int]:
    """`train` with `num_negatives` negative columns, none of them flagged: each row keeps its
    mined candidates in order minus the flagged ones, topped up with random pool documents that
    are no positive of the query. Returns (dataset, replaced by a mined spare, by a random one)."""
    from embedtune.training.hard_negatives import negative_column_names

    columns = negative_columns(train)
    bad = {(f.row, f.negative) for f in flagged}
    queries, documents = list(train[QUERY]), list(train[DOCUMENT])
    positives: dict[str, set[str]] = {}
    for query, document in zip(queries, documents):
        positives.setdefault(query, set()).add(document)
    rng = random.Random(seed)
    pool = list(dict.fromkeys(pool))
    mined = [list(train[column]) for column in columns]
    chosen_columns: list[list[str]] = [[] for _ in range(num_negatives)]
    from_spare = from_random = 0
    for row, query in enumerate(queries):
        original = [mined[c][row] for c in range(len(columns))]
        chosen: list[str] = []
        for negative in original:
            if (row, negative) not in bad and negative not in chosen:
                chosen.append(negative)
        chosen = chosen[:num_negatives]
        first = original[:num_negatives]
        from_spare += sum(1 for n in chosen if n not in first)
        avoid = positives[query] | {n for n in original if (row, n) in bad}
        while len(chosen) < num_negatives:
            others = [d for d in pool if d not in avoid and d not in chosen]
            if not others:
                raise ConfigError(
                    "cannot replace a false negative: every document is a positive or flagged"
                )
            chosen.append(others[rng.randrange(len(others))])
            from_random += 1
        for column, negative in zip(chosen_columns, chosen):
            column.append(negative)
    out = train.remove_columns(columns)
    for name, column in zip(negative_column_names(num_negatives), chosen_columns):
        out = out.add_column(name, column)
    return out, from_spare, from_random


def screen_false_negatives(
    train: Dataset,
    model: Any,
    *,
    num_negatives: int,
    margin: float,
    action: str = "drop",
    cross_encoder: Any | None = None,
    cross_encoder_threshold: float = DEFAULT_CROSS_ENCODER_THRESHOLD,
    confirmed: Collection[tuple[str, str]] = (),
    pool: Sequence[str] | None = None,
    query_prompt: str | None = None,
    encode_documents: Encoder | None = None,
    batch_size: int = 64,
    seed: int = 42,
) -> tuple[Dataset, dict[str, Any], list[FlaggedNegative]]:
    """Flag the mined negatives of `train` (which may hold spare candidates beyond
    `num_negatives`, hardest first) and, under action "drop", replace the flagged ones.

    Only the first `num_negatives` candidates of a pair count as checked and flagged (the ones
    training would have used); spares are screened only to serve as replacements.
    Returns (train with `num_negatives` negative columns, results block, flagged negatives)."""
    check_action(action)
    check_margin(margin)
    flagged, _, exempted = find_false_negatives(
        train,
        model,
        margin=margin,
        cross_encoder=cross_encoder,
        cross_encoder_threshold=cross_encoder_threshold,
        confirmed=confirmed,
        query_prompt=query_prompt,
        encode_documents=encode_documents,
        batch_size=batch_size,
    )
    columns = negative_columns(train)
    used = set(columns[:num_negatives])
    counted = [f for f in flagged if f.column in used]
    if action == "drop":
        pool = list(pool) if pool is not None else list(dict.fromkeys(train[DOCUMENT]))
        for column in columns:
            pool.extend(train[column])
        out, from_spare, from_random = replace_flagged(
            train, flagged, num_negatives=num_negatives, pool=pool, seed=seed
        )
    else:
        out = replace_flagged(train, [], num_negatives=num_negatives, pool=[], seed=seed)[0]
        from_spare = from_random = 0
    block = {
        "rule": describe_rule(margin, cross_encoder is not None, cross_encoder_threshold, action),
        "action": action,
        "margin": margin,
        "cross_encoder": cross_encoder is not None,
        "checked": len(train) * min(num_negatives, len(columns)),
        "flagged": len(counted),
        "flagged_by_margin": sum(1 for f in counted if f.reason == MARGIN),
        "flagged_by_cross_encoder": sum(1 for f in counted if f.reason == CROSS_ENCODER),
        "confirmed_kept": exempted,
        "dropped": len(counted) if action == "drop" else 0,
        "replaced_with_mined": from_spare,
        "replaced_with_random": from_random,
        "examples": [f.example() for f in sorted(counted, key=_closeness)[:EXAMPLES]],
    }
    logger.info(
        "False negatives: %d of %d mined negatives flagged (%s)%s",
        block["flagged"],
        block["checked"],
        block["rule"],
        f"; replaced {from_spare} by the next candidate, {from_random} by a random document"
        if action == "drop"
        else "; kept (action keep)",
    )
    return out, block, counted


def _closeness(flag: FlaggedNegative) -> float:
    return flag.positive_score - flag.negative_score  # the most doubtful first


def describe_rule(margin: float, cross_encoder: bool, threshold: float, action: str) -> str:
    """The rule as recorded in results.json and shown in the report."""
    rule = f"base score >= positive's - {margin:g}"
    if cross_encoder:
        rule += f", or cross-encoder score >= {threshold:g}"
    then = (
        "replaced by the next mined candidate (else a random document)"
        if action == "drop"
        else "kept in training"
    )
    return f"flagged when {rule}; {then}"
