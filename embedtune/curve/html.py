"""curve.html: the learning curve on one self-contained page (chart inlined, no network):
the verdict per dim, the chart, and a table of every point and step with intervals."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from embedtune.curve.chart import build_curve_figure
from embedtune.curve.fractions import fraction_label
from embedtune.curve.schema import HELPS, HURTS
from embedtune.io import write_text_atomic
from embedtune.reporting.figure_png import figure_png
from embedtune.reporting.html_report import _CSS
from embedtune.results_schema import read_comparison_entry


def _point_name(point: dict[str, Any]) -> str:
    return "base model" if point["pairs"] == 0 else fraction_label(point["fraction"])


def _table(curve: dict[str, Any]) -> str:
    metric, dims = curve["metric"], [str(d) for d in curve["dims"]]
    head = "".join(f"<th>{escape(metric)} @ {d}</th><th>gain @ {d}</th>" for d in dims)
    rows = [f"<tr><th>point</th><th>pairs</th><th>kept</th>{head}</tr>"]
    for i, point in enumerate(curve["points"]):
        cells = []
        for dim in dims:
            score = point[metric][dim]
            low, high = score["interval"]
            cells.append(f"<td>{score['value']:.4f} [{low:.4f}, {high:.4f}]</td>")
            if i == 0:
                cells.append("<td></td>")
                continue
            delta, g_low, g_high, significant = read_comparison_entry(
                curve["steps"][i - 1]["gain"][dim]
            )
            css = ("win" if delta > 0 else "loss") if significant else "ns"
            cells.append(f'<td class="{css}">{delta:+.4f} [{g_low:+.4f}, {g_high:+.4f}]</td>')
        rows.append(
            f"<tr><td>{escape(_point_name(point))}</td><td>{point['pairs']}</td>"
            f"<td>{escape(point['selected'])}</td>{''.join(cells)}</tr>"
        )
    return f'<div class="scroll"><table>{"".join(rows)}</table></div>'


def render_curve_html(curve: dict[str, Any]) -> str:
    png = base64.b64encode(figure_png(build_curve_figure(curve))).decode("ascii")
    outcomes = {entry["outcome"] for entry in curve["verdict"].values()}
    tone = "good" if HELPS in outcomes else ("bad" if HURTS in outcomes else "neutral")
    verdict = "<br>".join(escape(entry["message"]) for entry in curve["verdict"].values())
    validation = curve["validation"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Learning curve: {escape(curve['base_model_name'])}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Learning curve: {escape(curve['base_model_name'])}</h1>"
        f'<p class="sub">{escape(str(curve["data"].get("source", "")))}: '
        f"{curve['data'].get('test_queries')} test queries, the same for every point; selection "
        f"on {validation['validation_queries']} validation queries carved once</p>"
        f'<div class="banner {tone}">{verdict}</div>'
        f'<p><img alt="learning curve chart" src="data:image/png;base64,{png}"></p>'
        "<h2>Points</h2>"
        f"{_table(curve)}"
        '<p class="note">Scores: mean over the test queries [95% bootstrap interval]; gain: '
        "over the previous point, paired bootstrap over the same queries [95% interval]. "
        f"{escape(curve['note'])}</p>"
        "</body></html>\n"
    )


def write_curve_html(curve: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, render_curve_html(curve))
    return Path(path)
