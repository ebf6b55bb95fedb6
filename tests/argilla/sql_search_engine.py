"""An SQL-backed stand-in for argilla-server's Elasticsearch/OpenSearch search engine.

argilla-server 2.8 needs a search engine (Elasticsearch or OpenSearch) that cannot be installed
on the test machines. The server picks its engine by name (``ARGILLA_SEARCH_ENGINE``) from the
classes registered with ``SearchEngine.register(engine_name=...)``; this module registers one
called ``sql`` that answers every query from the server's own SQL database, so nothing has to be
indexed: the ``index_*``/``update_*``/``delete_*`` hooks are no-ops and searches read the records
(with their responses, suggestions and vectors) straight from the database and filter, sort and
page them in Python. That is slow for big datasets but exact, and fine for tests.

This module runs inside the argilla-server venv (it imports ``argilla_server``), not the
project's; ``run_argilla_server.py`` imports it before starting uvicorn.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from argilla_server._version import __version__ as server_version
from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import (
    MetadataPropertyType,
    RecordSortField,
    ResponseStatusFilter,
    SimilarityOrder,
    SortOrder,
)
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Record,
    Response,
    Suggestion,
    User,
    VectorSettings,
)
from argilla_server.search_engine import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload

ENGINE_NAME = "sql"

_MISSING = object()


def _as_list(value: Any) -> list:
    if value is None or value is _MISSING:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Answers searches from the SQL database the server already writes to."""

    @classmethod
    async def new_instance(cls) -> SQLSearchEngine:
        return cls()

    async def close(self) -> None:
        pass

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"distribution": ENGINE_NAME, "version": server_version}

    # -- Index maintenance: the database is the index, so there is nothing to do. --------------

    async def create_index(self, dataset: Dataset) -> None:
        pass

    async def delete_index(self, dataset: Dataset) -> None:
        pass

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        pass

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        pass

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        pass

    async def partial_record_update(self, record: Record, **update) -> None:
        pass

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        pass

    async def update_record_response(self, response: Response) -> None:
        pass

    async def delete_record_response(self, response: Response) -> None:
        pass

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        pass

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        pass

    # -- Reading ---------------------------------------------------------------------------

    @staticmethod
    async def _records(dataset_id) -> list[Record]:
        async with AsyncSessionLocal() as db:
            result = await db.execute(
                select(Record)
                .where(Record.dataset_id == dataset_id)
                .options(
                    selectinload(Record.responses),
                    selectinload(Record.suggestions).selectinload(Suggestion.question),
                    selectinload(Record.vectors),
                )
                .order_by(Record.inserted_at.asc(), Record.id.asc())
            )
            return list(result.scalars().all())

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        records = await self._records(dataset.id)
        counts = Counter(str(record.status) for record in records)
        return {"total": len(records), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        records = await self._records(dataset.id)
        counts = Counter(
            str(response.status)
            for record in records
            for response in record.responses
            if response.user_id == user.id
        )
        return {"total": sum(counts.values()), **counts}

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: str | None = None,
    ) -> SearchResponses:
        records = await self._records(dataset.id)
        hits = [r for r in records if self._matches_text(r, query) and self._matches(r, filter)]
        for order in reversed(sort or []):
            hits = self._sorted(hits, order)
        items = [SearchResponseItem(record_id=r.id, score=1.0) for r in hits]
        return SearchResponses(items=items[offset : offset + limit], total=len(items))

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError(
                "Must provide either vector value or record to compute the similarity search"
            )
        target = value or record.vector_value_by_vector_settings(vector_settings)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        excluded = record.id if record is not None else None

        scored = []
        for candidate in await self._records(dataset.id):
            if candidate.id == excluded:
                continue
            vector = next(
                (v.value for v in candidate.vectors if v.vector_settings_id == vector_settings.id),
                None,
            )
            if vector is None:
                continue
            if not (self._matches_text(candidate, query) and self._matches(candidate, filter)):
                continue
            score = _cosine(target, vector)
            if order == SimilarityOrder.least_similar:
                score = -score
            # Elasticsearch reports cosine similarity as (1 + cos) / 2.
            scored.append((candidate, (1.0 + score) / 2.0))

        scored.sort(key=lambda pair: pair[1], reverse=True)
        if threshold is not None:
            scored = [pair for pair in scored if pair[1] >= threshold]
        scored = scored[:max_results]
        items = [SearchResponseItem(record_id=r.id, score=s) for r, s in scored]
        return SearchResponses(items=items, total=len(items))

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        records = await self._records(metadata_property.dataset_id)
        values = [
            (r.metadata_ or {}).get(metadata_property.name)
            for r in records
            if (r.metadata_ or {}).get(metadata_property.name) is not None
        ]
        if metadata_property.type == MetadataPropertyType.terms:
            flat = [str(v) for value in values for v in _as_list(value)]
            counts = Counter(flat).most_common()
            return TermsMetrics(
                total=len(counts),
                values=[TermsMetrics.TermCount(term=term, count=n) for term, n in counts],
            )
        metrics_class = (
            IntegerMetadataMetrics
            if metadata_property.type == MetadataPropertyType.integer
            else FloatMetadataMetrics
        )
        if not values:
            return metrics_class()
        return metrics_class(min=min(values), max=max(values))

    # -- Query evaluation ------------------------------------------------------------------

    @staticmethod
    def _matches_text(record: Record, query: TextQuery | str | None) -> bool:
        if query is None:
            return True
        if isinstance(query, str):
            query = TextQuery(q=query)
        text = query.q.strip().lower()
        if not text or text == "*":
            return True
        if query.field:
            haystack = str(record.fields.get(query.field) or "")
        else:
            haystack = " ".join(str(v) for v in record.fields.values() if v is not None)
        haystack = haystack.lower()
        # Like Elasticsearch's simple_query_string with the default AND operator on words.
        return all(word in haystack for word in text.split())

    def _matches(self, record: Record, filter: Filter | None) -> bool:
        if filter is None:
            return True
        if isinstance(filter, AndFilter):
            return all(self._matches(record, f) for f in filter.filters)
        scope = filter.scope
        if (
            isinstance(scope, ResponseFilterScope)
            and scope.question is None
            and scope.property == "status"
        ):
            return self._matches_response_status(record, filter)
        values = self._scope_values(record, scope)
        if isinstance(filter, TermsFilter):
            wanted = {str(v) for v in filter.values}
            return any(str(v) in wanted for value in values for v in _as_list(value))
        if isinstance(filter, RangeFilter):
            for value in values:
                if value is None or value is _MISSING:
                    continue
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    continue
                if (filter.ge is None or number >= filter.ge) and (
                    filter.le is None or number <= filter.le
                ):
                    return True
            return False
        raise ValueError(f"Cannot process filter {filter!r}")

    @staticmethod
    def _user_responses(record: Record, user: User | None) -> list[Response]:
        return [r for r in record.responses if user is None or r.user_id == user.id]

    def _matches_response_status(self, record: Record, filter: Filter) -> bool:
        if not isinstance(filter, TermsFilter):
            raise ValueError(f"Cannot process filter {filter!r}")
        responses = self._user_responses(record, filter.scope.user)
        wanted = {str(v) for v in filter.values}
        if ResponseStatusFilter.pending in wanted and not responses:
            return True
        return any(str(r.status) in wanted for r in responses)

    def _scope_values(self, record: Record, scope) -> list:
        """The values a filter or sort scope refers to for one record (several for responses)."""
        if isinstance(scope, RecordFilterScope):
            prop = scope.property
            if prop in ("id", "_server_id"):
                return [str(record.id)]
            return [getattr(record, prop, None)]
        if isinstance(scope, MetadataFilterScope):
            return [(record.metadata_ or {}).get(scope.metadata_property, _MISSING)]
        if isinstance(scope, SuggestionFilterScope):
            for suggestion in record.suggestions:
                if suggestion.question.name == scope.question:
                    return [getattr(suggestion, scope.property or "value", None)]
            return []
        if isinstance(scope, ResponseFilterScope):
            responses = self._user_responses(record, scope.user)
            if scope.question is None:
                return [getattr(r, scope.property, None) for r in responses]
            return [((r.values or {}).get(scope.question) or {}).get("value") for r in responses]
        raise ValueError(f"Cannot process scope {scope!r}")

    def _sorted(self, records: list[Record], order: Order) -> list[Record]:
        def key(record: Record):
            if isinstance(order.scope, RecordFilterScope) and order.scope.property in list(
                RecordSortField
            ):
                value = getattr(record, str(order.scope.property), None)
                if order.scope.property == RecordSortField.id:
                    value = str(value)
            else:
                values = [
                    v
                    for v in self._scope_values(record, order.scope)
                    if v is not None and v is not _MISSING
                ]
                value = values[0] if values else None
            # Records without a value go last, whatever the order.
            return (value is None, value if value is not None else 0)

        present = [r for r in records if key(r)[0] is False]
        missing = [r for r in records if key(r)[0] is True]
        present.sort(key=lambda r: key(r)[1], reverse=order.order == SortOrder.desc)
        return present + missing
