"""The run's verdict in one place: which model was kept, and what the test queries say.

Selection happens on validation queries (embedtune.training.selection); the test comparison
(paired bootstrap per dim) only reports. A dim "wins" or "loses" when its 95% interval excludes 0.
"""

from __future__ import annotations

from typing import Any

from embedtune.results_schema import outcome, read_comparison_entry


def test_outcomes(comparison: dict[str, dict[str, Any]]) -> dict[str, str]:
    """{"<dim>": "win" | "loss" | "tie"} from the comparison block."""
    outcomes = {}
    for dim, entry in comparison.items():
        delta, _, _, significant = read_comparison_entry(entry)
        outcomes[dim] = outcome(delta, significant)
    return outcomes


def verdict_block(selection: dict[str, Any], comparison: dict[str, dict[str, Any]]) -> dict:
    """results.json "verdict": selected model, validation evidence, test outcome, a sentence."""
    outcomes = test_outcomes(comparison)
    selected = selection["selected"]
    metric = selection["metric"]
    if selected == "base":
        message = (
            f"Finetuning did not beat the base model on {selection['validation_queries']} "
            f"validation queries ({metric}: base {selection['base_score']:.4f}); the saved model "
            "is the base model, unchanged."
        )
    elif selection.get("base_score") is None:
        message = (
            "Finetuned model kept WITHOUT a validation check (too few training pairs to hold "
            "any out); judge it by the test comparison."
        )
    else:
        message = (
            f"Finetuned model kept: {metric} {selection['best_score']:.4f} vs base "
            f"{selection['base_score']:.4f} on {selection['validation_queries']} validation "
            "queries."
        )
    wins = [d for d, o in outcomes.items() if o == "win"]
    losses = [d for d, o in outcomes.items() if o == "loss"]
    if selected == "finetuned":
        test = []
        if wins:
            test.append(f"significant gain at {', '.join(wins)} dims")
        if losses:
            test.append(f"significant LOSS at {', '.join(losses)} dims")
        if not wins and not losses:
            test.append("no significant difference at any dim")
        message += " Test queries: " + "; ".join(test) + "."
    return {
        "selected": selected,
        "improved_on_validation": selected == "finetuned"
        and selection.get("base_score") is not None,
        "test": outcomes,
        "message": message,
    }
