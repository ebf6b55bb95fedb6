"""report.html sections for the guard (in-domain gain beside the guard change, per dim) and the
merge (the kept base weight, the rule, the curve)."""

from __future__ import annotations

from typing import Any

from embedtune.reporting.html_sections import _delta_cell, definition_list, e, fmt, table
from embedtune.results_schema import PRIMARY_METRIC


def guard_section(results: dict[str, Any]) -> str:
    guard = results.get("guard")
    if not guard:
        return ""
    rows = []
    for dim in results["dims"]:
        key = str(dim)
        rows.append(
            [
                e(dim),
                _delta_cell(results["comparison"].get(key)),
                f"{guard['base'][key][PRIMARY_METRIC]:.4f}",
                f"{guard['finetuned'][key][PRIMARY_METRIC]:.4f}",
                _delta_cell(guard["comparison"].get(key)),
            ]
        )
    head = [
        "dims",
        "in-domain gain (95% interval)",
        "guard: base",
        "guard: saved",
        "guard change (95% interval)",
    ]
    status = "within" if guard["within_tolerance"] else "BEYOND"
    return "".join(
        [
            f"<h2>General-domain guard ({e(PRIMARY_METRIC)})</h2>",
            f"<p>Guard <strong>{e(guard['source'])}</strong>: {e(guard['test_queries'])} test "
            f"queries over {e(guard['corpus'])} documents. At {e(guard['best_dim'])} dims the "
            f"change is {e(status)} the tolerance (a drop of at most {e(guard['tolerance'])}, "
            "or not significant).</p>",
            table(head, rows),
            '<p class="note">The same evaluator and paired bootstrap as the in-domain test; the '
            "saved model is the one in model/ (merged when --merge-base was given).</p>",
        ]
    )


def merge_section(results: dict[str, Any], curve_png_b64: str | None) -> str:
    merge = results.get("merge")
    if not merge:
        return ""
    weight = merge["base_weight"]
    parts = [
        "<h2>Weight merging</h2>",
        f"<p>The saved model is <strong>{weight:g} × base + {1 - weight:g} × finetuned</strong> "
        f"({e(merge['mode'])}: {e(merge['chosen_on'])}).</p>",
    ]
    if curve_png_b64:
        parts.append(
            f'<img alt="validation and guard score per base weight" '
            f'src="data:image/png;base64,{curve_png_b64}">'
        )
    if merge["curve"]:
        rows = [
            [
                e(f"{p['base_weight']:g}"),
                e(fmt(p["validation"])),
                e(fmt(p["guard"])),
                e("—" if p["guard_change"] is None else f"{p['guard_change']:+.4f}"),
                e(fmt(p["guard_ok"])),
            ]
            for p in merge["curve"]
        ]
        head = ["base weight", "validation", "guard", "guard change", "guard ok"]
        parts.append(table(head, rows))
        parts.append(
            '<p class="note">Every base weight is scored on the validation queries; the guard '
            "only until a weight passes, best validation first (unscored: —).</p>"
        )
    facts = {k: v for k, v in merge.items() if k not in ("curve", "chosen_on")}
    parts.append(definition_list(facts))
    return "".join(parts)
