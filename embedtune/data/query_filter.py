"""Filter synthetic (query, passage) pairs: keep the queries a retriever can learn from.

Generated queries fail in known ways; each rule below drops one kind, in this order (a row is
dropped by the first rule that fires, and the reason is kept beside it):

- ``copy``: the query copies a long span of its passage (a span of at least ``COPY_MIN_WORDS``
  words covering ``copy_fraction`` of the query's words): it teaches string matching, not search.
- ``near_duplicate``: the query's base-model embedding is within ``duplicate_similarity`` (cosine)
  of an earlier kept query's: the later copy is dropped. Rows with the *same* query text are one
  query with several positives (BEIR qrels), not duplicates of each other.
- ``round_trip``: round-trip consistency (Alberti et al. 2019; Promptagator, Dai et al. 2022):
  the query is kept only if its own passage ranks in the top ``top_k`` of the pool for it under
  the base model and, when given, also under a cross-encoder (which reranks the bi-encoder's top
  candidates).
- ``judge``: an optional judge (e.g. an LLM: ``embedtune.synthetic.query_judge``) says the query
  cannot be understood without its passage ("according to the text, ...").

Plain functions: ``filter_queries(pairs, model, settings=...)`` returns a ``FilterOutcome`` with
the kept rows, the dropped rows (with ``reason`` and ``detail`` columns) and the count per rule.
A filter that would drop every row raises ``DataError`` (nothing is written by the caller).

Example::

    from embedtune.data.query_filter import QueryFilterSettings, filter_queries
    outcome = filter_queries(pairs, model, settings=QueryFilterSettings(top_k=3))
    outcome.kept, outcome.dropped, outcome.counts
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from datasets import Dataset

from embedtune.data.retrieval_data import DOCUMENT, QUERY
from embedtune.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

RULES = ("copy", "near_duplicate", "round_trip", "judge")
COPY_MIN_WORDS = 5  # a shared span shorter than this is never a copy
REASON, DETAIL = "reason", "detail"
_WORD = re.compile(r"\w+", re.UNICODE)
_BLOCK = 512  # queries per score block: bounded memory on large sets

# (queries) -> per query True when it needs its passage to be understood (drop it)
Judge = Callable[[list[str]], list[bool]]
# (texts) -> (len(texts), dim) L2-normalised embeddings (e.g. DocumentEmbeddings.embed)
Encoder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class QueryFilterSettings:
    """The filter's settings; validated at construction (ConfigError names the bad one).

    Args:
        top_k: round trip: the query's own passage must rank within the top k (1: first).
        copy_fraction: copy: share of the query's words inside one span shared with its passage
            at or above which the query is a copy (1.0: only whole-query copies).
        duplicate_similarity: near duplicate: cosine similarity between two queries' base-model
            embeddings at or above which the later one is dropped (1.0: identical embeddings).
        rules: the rules to apply (a subset of RULES); ``judge`` also needs a judge.
    """

    top_k: int = 3
    copy_fraction: float = 0.8
    duplicate_similarity: float = 0.95
    rules: tuple[str, ...] = RULES

    def __post_init__(self) -> None:
        check_filter_settings(self.top_k, self.copy_fraction, self.duplicate_similarity)
        unknown = sorted(set(self.rules) - set(RULES))
        if unknown:
            raise ConfigError(f"query filter rules {unknown} unknown; the rules are {RULES}")


def check_filter_settings(top_k: Any, copy_fraction: Any, duplicate_similarity: Any) -> None:
    """The ranges of the filter's settings (shared by FinetuneConfig and GenerateConfig)."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"filter_top_k must be a whole number of at least 1, got {top_k!r}")
    for name, value in (
        ("filter_copy_fraction", copy_fraction),
        ("filter_duplicate_similarity", duplicate_similarity),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name} must be a number in (0, 1], got {value!r}")
        if not (math.isfinite(value) and 0 < value <= 1):
            raise ConfigError(f"{name} must be in (0, 1], got {value!r}")


@dataclass
class FilterOutcome:
    kept: Dataset  # the input's rows that passed, in input order
    dropped: Dataset  # the others, with `reason` (a rule) and `detail`
    counts: dict[str, int]  # rule -> rows dropped by it (every rule of RULES, 0 when off)
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self, examples: int = 3, clip: int = 200) -> dict[str, Any]:
        """What results.json and the generate summary record: sizes, drops per rule, settings and
        the first `examples` dropped rows of each rule (texts clipped to `clip` characters)."""
        shown: dict[str, list[dict[str, str]]] = {}
        for row in self.dropped:
            items = shown.setdefault(row[REASON], [])
            if len(items) < examples:
                items.append(
                    {
                        "query": _clip(row[QUERY], clip),
                        "document": _clip(row[DOCUMENT], clip),
                        "detail": row[DETAIL],
                    }
                )
        return {
            "rows": len(self.kept) + len(self.dropped),
            "kept": len(self.kept),
            "dropped": dict(self.counts),
            "settings": dict(self.settings),
            "examples": shown,
        }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def copied_span(query: str, passage: str, copy_fraction: float) -> int:
    """The length (in words) of a span of `query` found in `passage` that makes it a copy, or 0.

    The span needed is max(COPY_MIN_WORDS, ceil(copy_fraction x the query's words)); a query
    shorter than COPY_MIN_WORDS words is never a copy."""
    q = words(query)
    need = max(COPY_MIN_WORDS, math.ceil(copy_fraction * len(q) - 1e-9))
    if len(q) < need:
        return 0
    p = words(passage)
    grams = {tuple(p[i : i + need]) for i in range(len(p) - need + 1)}
    if not any(tuple(q[i : i + need]) in grams for i in range(len(q) - need + 1)):
        return 0
    longest = need  # grow the span while a longer one is still shared
    while longest < len(q):
        size = longest + 1
        longer = {tuple(p[i : i + size]) for i in range(len(p) - size + 1)}
        if not any(tuple(q[i : i + size]) in longer for i in range(len(q) - size + 1)):
            break
        longest = size
    return longest


def _normalise(vectors: Any) -> np.ndarray:
    array = np.asarray(
        vectors.float().cpu().numpy() if hasattr(vectors, "cpu") else vectors, dtype=np.float32
    )
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)


def _near_duplicates(
    queries: list[str], vectors: np.ndarray, alive: list[int], threshold: float
) -> dict[int, tuple[int, float]]:
    """Row -> (earlier kept row, similarity) for each row in `alive` that repeats an earlier one."""
    rows = np.asarray(alive, dtype=np.int64)
    matrix = vectors[rows]
    found: dict[int, tuple[int, float]] = {}
    for start in range(0, len(rows), _BLOCK):
        sims = matrix[start : start + _BLOCK] @ matrix.T
        for offset in range(sims.shape[0]):
            position = start + offset
            row = int(rows[position])
            earlier = np.nonzero(sims[offset, :position] >= threshold - 1e-6)[0]
            for other in earlier:
                candidate = int(rows[other])
                if candidate in found or queries[candidate] == queries[row]:
                    continue  # dropped already, or the same query with another positive
                found[row] = (candidate, float(sims[offset, other]))
                break
    return found


def _ranks(
    query_vectors: np.ndarray,
    pool_vectors: np.ndarray,
    own: list[int],
    positives: list[set[int]],
) -> list[int]:
    """Per query, 1 + the pool documents scoring above its own passage (its other positives
    excluded): 1 means its passage comes first."""
    ranks = []
    for start in range(0, len(own), _BLOCK):
        scores = query_vectors[start : start + _BLOCK] @ pool_vectors.T
        for offset in range(scores.shape[0]):
            i = start + offset
            row = scores[offset]
            above = row > row[own[i]] + 1e-6
            above[list(positives[i])] = False
            ranks.append(1 + int(above.sum()))
    return ranks


def _cross_encoder_ranks(
    cross_encoder: Any,
    queries: list[str],
    pool: list[str],
    query_vectors: np.ndarray,
    pool_vectors: np.ndarray,
    own: list[int],
    positives: list[set[int]],
    depth: int,
    batch_size: int,
) -> list[int]:
    """Per query, the rank of its passage among the bi-encoder's top `depth` candidates (plus
    itself) rescored by the cross-encoder."""
    pairs: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for i, query in enumerate(queries):
        scores = query_vectors[i] @ pool_vectors.T
        top = [int(j) for j in np.argsort(-scores)[: depth + len(positives[i])]]
        candidates = [j for j in top if j not in positives[i] and j != own[i]][:depth]
        candidates.append(own[i])
        spans.append((len(pairs), len(candidates)))
        pairs.extend((query, pool[j]) for j in candidates)
    scores = np.asarray(
        cross_encoder.predict(pairs, batch_size=batch_size, show_progress_bar=False), dtype=float
    ).reshape(len(pairs), -1)[:, -1]
    ranks = []
    for start, size in spans:
        block = scores[start : start + size]
        ranks.append(1 + int((block[:-1] > block[-1] + 1e-9).sum()))
    return ranks


def filter_queries(
    pairs: Dataset,
    model: Any,
    *,
    settings: QueryFilterSettings | None = None,
    corpus: Sequence[str] | None = None,
    cross_encoder: Any | None = None,
    judge: Judge | None = None,
    query_prompt: str | None = None,
    encode_documents: Encoder | None = None,
    batch_size: int = 64,
) -> FilterOutcome:
    """Apply the rules to (query, document) rows; see the module docstring.

    Args:
        pairs: a Dataset with `query` and `document` columns (other columns are kept).
        model: the base SentenceTransformer (query and document embeddings).
        corpus: further documents the round trip ranks against (the pool is the pairs'
            documents plus these).
        cross_encoder: a sentence_transformers CrossEncoder; the round trip then also needs the
            passage in its top k among the bi-encoder's top candidates.
        judge: drops the queries it returns True for (needs the passage).
        encode_documents: embeds documents (e.g. a cache of the run's test encoding); default:
            the model's encode_document.

    Raises:
        DataError: every row would be dropped (the message gives the count per rule).
    """
    settings = settings or QueryFilterSettings()
    for column in (QUERY, DOCUMENT):
        if column not in pairs.column_names:
            raise DataError(f"the pairs to filter lack a {column!r} column ({pairs.column_names})")
    queries, documents = list(pairs[QUERY]), list(pairs[DOCUMENT])
    reasons: dict[int, tuple[str, str]] = {}
    rules = set(settings.rules) - ({"judge"} if judge is None else set())

    if "copy" in rules:
        for i, (query, document) in enumerate(zip(queries, documents)):
            span = copied_span(query, document, settings.copy_fraction)
            if span:
                reasons[i] = ("copy", f"{span} of its {len(words(query))} words are in the passage")
    alive = [i for i in range(len(queries)) if i not in reasons]
    needs_vectors = alive and rules & {"near_duplicate", "round_trip"}
    query_vectors = (
        _normalise(
            model.encode_query(
                queries, prompt=query_prompt, batch_size=batch_size, convert_to_numpy=True
            )
        )
        if needs_vectors
        else None
    )
    if "near_duplicate" in rules and alive:
        duplicates = _near_duplicates(queries, query_vectors, alive, settings.duplicate_similarity)
        for row, (other, similarity) in duplicates.items():
            reasons[row] = ("near_duplicate", f"similarity {similarity:.3f} to row {other}")
        alive = [i for i in alive if i not in reasons]
    if "round_trip" in rules and alive:
        _round_trip(
            alive, queries, documents, query_vectors, reasons, model, settings, corpus,
            cross_encoder, encode_documents, batch_size,
        )  # fmt: skip
        alive = [i for i in alive if i not in reasons]
    if "judge" in rules and alive:
        verdicts = list(judge([queries[i] for i in alive]))
        if len(verdicts) != len(alive):
            raise DataError(f"the judge answered {len(verdicts)} times for {len(alive)} queries")
        for i, needs_passage in zip(alive, verdicts):
            if needs_passage:
                reasons[i] = ("judge", "needs the passage to be understood")
        alive = [i for i in alive if i not in reasons]

    counts = {rule: 0 for rule in RULES}
    for reason, _ in reasons.values():
        counts[reason] += 1
    record = {**asdict(settings), "rules": sorted(rules, key=RULES.index)}
    record["cross_encoder"] = cross_encoder is not None
    if not alive:
        spelled = ", ".join(f"{rule} {n}" for rule, n in counts.items() if n)
        raise DataError(
            f"the query filter would drop every one of the {len(queries)} rows ({spelled})",
            hint="loosen it (a larger --filter-top-k, a higher --filter-copy-fraction or "
            "--filter-duplicate-similarity) or leave out --filter; nothing was written",
        )
    dropped_rows = sorted(reasons)
    dropped = pairs.select(dropped_rows)
    dropped = dropped.add_column(REASON, [reasons[i][0] for i in dropped_rows])
    dropped = dropped.add_column(DETAIL, [reasons[i][1] for i in dropped_rows])
    logger.info(
        "Query filter: kept %d of %d rows; dropped %s",
        len(alive),
        len(queries),
        ", ".join(f"{rule} {n}" for rule, n in counts.items()),
    )
    return FilterOutcome(pairs.select(alive), dropped, counts, record)


def _round_trip(
    alive: list[int],
    queries: list[str],
    documents: list[str],
    query_vectors: np.ndarray,
    reasons: dict[int, tuple[str, str]],
    model: Any,
    settings: QueryFilterSettings,
    corpus: Sequence[str] | None,
    cross_encoder: Any | None,
    encode_documents: Encoder | None,
    batch_size: int,
) -> None:
    pool = list(dict.fromkeys([*documents, *(corpus or [])]))
    position = {text: j for j, text in enumerate(pool)}
    if encode_documents is not None:
        pool_vectors = _normalise(encode_documents(pool))
    else:
        pool_vectors = _normalise(
            model.encode_document(pool, batch_size=batch_size, convert_to_numpy=True)
        )
    by_query: dict[str, set[int]] = {}
    for query, document in zip(queries, documents):
        by_query.setdefault(query, set()).add(position[document])
    own = [position[documents[i]] for i in alive]
    others = [by_query[queries[i]] - {position[documents[i]]} for i in alive]
    vectors = query_vectors[alive]
    ranks = _ranks(vectors, pool_vectors, own, others)
    for i, rank in zip(alive, ranks):
        if rank > settings.top_k:
            reasons[i] = ("round_trip", f"its passage ranks {rank} (top {settings.top_k} needed)")
    if cross_encoder is None:
        return
    rest = [k for k, i in enumerate(alive) if i not in reasons]
    if not rest:
        return
    depth = max(2 * settings.top_k, 10)
    ce_ranks = _cross_encoder_ranks(
        cross_encoder,
        [queries[alive[k]] for k in rest],
        pool,
        vectors[rest],
        pool_vectors,
        [own[k] for k in rest],
        [others[k] for k in rest],
        depth,
        batch_size,
    )
    for k, rank in zip(rest, ce_ranks):
        if rank > settings.top_k:
            reasons[alive[k]] = (
                "round_trip",
                f"the cross-encoder ranks its passage {rank} (top {settings.top_k} needed)",
            )
