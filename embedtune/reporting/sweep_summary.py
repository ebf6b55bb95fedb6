"""`learning_rate: auto` as the report and the model card tell it: each candidate's validation
score, which one went on and why, and the training time of them all (results.json
training.learning_rate_sweep, written by embedtune.training.sweep)."""

from __future__ import annotations

from typing import Any

from embedtune.results_schema import LEARNING_RATE_TIE_RULE as TIE_RULE


def sweep_candidates(training: dict[str, Any]) -> list[dict[str, Any]]:
    """The candidates of `learning_rate: auto`, or [] when one rate trained."""
    candidates = training.get("learning_rate_sweep")
    return [c for c in candidates if isinstance(c, dict)] if isinstance(candidates, list) else []


def _score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"


def sweep_rows(training: dict[str, Any]) -> list[list[str]]:
    """Rows: lr, validation score where they were compared, seconds, outcome (plain text)."""
    rows = []
    chosen = training.get("learning_rate")
    for candidate in sweep_candidates(training):
        rate = candidate.get("learning_rate")
        halving = "slice_score" in candidate
        score = candidate.get("slice_score") if halving else candidate.get("best_score")
        seconds = candidate.get("slice_seconds") if halving else candidate.get("train_seconds")
        if halving:
            outcome = "went on, chosen" if candidate.get("continued") else "stopped"
        else:
            outcome = "chosen" if rate == chosen else "not chosen"
        rows.append(
            [
                f"{rate:g}" if isinstance(rate, int | float) else str(rate),
                _score(score),
                f"{seconds:,.0f}" if isinstance(seconds, int | float) else "—",
                outcome,
            ]
        )
    return rows


def sweep_sentence(training: dict[str, Any], metric: str | None = None) -> str | None:
    """One sentence: how the rate was chosen, on what, and the training time of all
    candidates; None when one rate trained."""
    candidates = sweep_candidates(training)
    if not candidates:
        return None
    on = f" ({metric})" if metric else ""
    scores = ", ".join(f"lr {row[0]} {row[1]}" for row in sweep_rows(training))
    cut = candidates[0].get("slice_steps")
    if cut is not None:
        how = (
            f"successive halving: every candidate trained the first {cut} steps from the base; "
            f"validation{on} at step {cut}: {scores}; the leader went on ({TIE_RULE})"
        )
    else:
        how = f"every candidate trained the whole run; best validation{on}: {scores}"
    total = training.get("train_seconds")
    spent = f"; training time of all candidates {total:,.0f} s" if total is not None else ""
    rate = training.get("learning_rate")
    chosen = f"{rate:g}" if isinstance(rate, int | float) else str(rate)
    return f"learning_rate auto chose {chosen} by {how}{spent}."
