"""The evaluation report as an artifact: results.json, the chart PNG and the HTML page (both shown
in the dashboard), per_query.json and deployment.json (--deployment): the files a run writes to
OUTPUT, also on a remote stack."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, ClassVar

from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer

from embedtune.reporting.summary import metadata_summary


@dataclass
class EvaluationReport:
    results: dict[str, Any]
    chart_png: bytes
    html: str
    per_query: dict[str, Any] | None = None  # OUTPUT/per_query.json: scores per query and model
    deployment: dict[str, Any] | None = None  # OUTPUT/deployment.json (--deployment)


class EvaluationReportMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (EvaluationReport,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def _path(self, name: str) -> str:
        return os.path.join(self.uri, name)

    def load(self, data_type: type[Any]) -> EvaluationReport:
        with self.artifact_store.open(self._path("results.json"), "r") as handle:
            results = json.load(handle)
        with self.artifact_store.open(self._path("evaluation.png"), "rb") as handle:
            chart = handle.read()
        with self.artifact_store.open(self._path("report.html"), "r") as handle:
            html = handle.read()
        per_query = None
        if self.artifact_store.exists(self._path("per_query.json")):
            with self.artifact_store.open(self._path("per_query.json"), "r") as handle:
                per_query = json.load(handle)
        deployment = None
        if self.artifact_store.exists(self._path("deployment.json")):
            with self.artifact_store.open(self._path("deployment.json"), "r") as handle:
                deployment = json.load(handle)
        return EvaluationReport(results, chart, html, per_query, deployment)

    def save(self, report: EvaluationReport) -> None:
        with self.artifact_store.open(self._path("results.json"), "w") as handle:
            json.dump(report.results, handle, indent=2, default=str)
        with self.artifact_store.open(self._path("evaluation.png"), "wb") as handle:
            handle.write(report.chart_png)
        with self.artifact_store.open(self._path("report.html"), "w") as handle:
            handle.write(report.html)
        if report.per_query is not None:
            with self.artifact_store.open(self._path("per_query.json"), "w") as handle:
                json.dump(report.per_query, handle, default=str)
        if report.deployment is not None:
            with self.artifact_store.open(self._path("deployment.json"), "w") as handle:
                json.dump(report.deployment, handle, indent=2, default=str)

    def save_visualizations(self, report: EvaluationReport) -> dict[str, VisualizationType]:
        return {
            self._path("evaluation.png"): VisualizationType.IMAGE,
            self._path("report.html"): VisualizationType.HTML,
        }

    def extract_metadata(self, report: EvaluationReport) -> dict[str, Any]:
        """The verdict, protocol and per-dim scores (embedtune.reporting.summary)."""
        return metadata_summary(report.results)
