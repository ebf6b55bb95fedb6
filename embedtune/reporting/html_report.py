"""OUTPUT/report.html: one self-contained page a person can open (no network, charts inlined).

`render_html_report(results)` returns the page as a string, from the results.json content alone,
so a ZenML step can log it as an HTML visualization; `write_html_report` writes it atomically.
The page reads well from a phone (400 px) to a desktop: wide tables scroll inside their box.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from embedtune.io import write_text_atomic
from embedtune.reporting import guard_sections
from embedtune.reporting import html_sections as sections
from embedtune.reporting.chart import evaluation_png
from embedtune.reporting.curve_chart import curve_png
from embedtune.reporting.data_quality_section import data_quality_section
from embedtune.reporting.export_section import export_section
from embedtune.reporting.guard_chart import merge_curve_png
from embedtune.reporting.html_sections import e
from embedtune.reporting.results_view import ResultsView
from embedtune.results_schema import PRIMARY_METRIC

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;
max-width:62rem;color:#1d2329;padding:0 1rem;line-height:1.45}
h1{font-size:1.45rem;margin-bottom:.2rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem}
.sub{color:#5f6b77;margin-top:0;overflow-wrap:anywhere}
.banner{font-size:1.1rem;padding:.8rem 1rem;border-radius:6px;border-left:6px solid}
.banner.good{background:#eef6ee;border-color:#2ca02c}
.banner.warn{background:#fff4dc;border-color:#e8a33d}
.banner.bad{background:#fdeeee;border-color:#d62728}
.banner.neutral{background:#eef3f8;border-color:#1f77b4}
.warning{background:#fff4dc;padding:.5rem .8rem;border-radius:4px}
.scroll{overflow-x:auto;max-width:100%;margin:.6rem 0}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .6rem;border-bottom:1px solid #e4e7eb;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom}
th:first-child,td:first-child{text-align:left}th{background:#f5f7f9}
.win{color:#1a7f37;font-weight:600}.loss{color:#c62828;font-weight:600}.ns{color:#6b7785}
img{max-width:100%;height:auto;border:1px solid #e4e7eb;border-radius:4px}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) minmax(0,1fr);gap:.2rem 1.2rem}
dt{color:#5f6b77}dd{margin:0;overflow-wrap:anywhere;min-width:0}
.note{color:#5f6b77;font-size:.85rem}
details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}
ol{padding-left:1.3rem}li{margin-bottom:.8rem}.query{margin:.2rem 0;overflow-wrap:anywhere}
.score{color:#5f6b77;white-space:nowrap}
blockquote{margin:.2rem 0;padding:.3rem .6rem;border-left:3px solid #d0d7de;color:#3d4750;
font-size:.9rem;overflow-wrap:anywhere}
.banner .scope{display:block;font-size:.85rem;color:#3d4750;margin-top:.3rem}
.banner .scope-label{font-weight:600;color:#3d4750}
picture{display:block}
@media (max-width:560px){body{padding:0 .6rem}dl{grid-template-columns:minmax(0,2fr) minmax(0,3fr);
gap:.2rem .6rem}.banner{font-size:1rem}th,td{padding:.3rem .45rem}
table.stack,.stack tbody,.stack tr,.stack td{display:block;width:100%}
.stack tr.head{display:none}.stack tr{border-bottom:2px solid #d0d7de;padding:.2rem 0}
.stack td{display:flex;justify-content:space-between;gap:.8rem;border:0;white-space:normal;
padding:.15rem .3rem;text-align:right}
.stack td::before{content:attr(data-label);color:#5f6b77;text-align:left}}
"""


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def _header(view: ResultsView) -> list[str]:
    if view.is_finetune and view.base_kept:
        title = f"embedtune: {view.model_name} kept (finetuning did not beat it)"
        sub = f"base model: {view.model_name}, saved unchanged"
    elif view.is_finetune:
        title = f"embedtune: {view.model_name} finetuned for retrieval"
        sub = f"base model: {view.model_name}"
    else:
        title = f"embedtune: retrieval evaluation of {view.model_name}"
        sub = f"model: {view.model_name}"
    sub += f" · {view.test_queries or '?'} test queries over {view.corpus or '?'} documents"
    if view.split:
        sub += f" · protocol: {view.split}"
    return [f"<title>{e(title)}</title>", f"<h1>{e(title)}</h1>", f'<p class="sub">{e(sub)}</p>']


def render_html_report(results: dict[str, Any]) -> str:
    """The report page for a results.json dict (finetune: base vs finetuned; evaluate: one model)."""
    view = ResultsView(results)
    chart = _b64(evaluation_png(results, PRIMARY_METRIC))
    narrow_chart = _b64(evaluation_png(results, PRIMARY_METRIC, narrow=True))
    title, heading, sub = _header(view)
    body = [
        heading,
        sub,
        sections.banner(view),
        sections.protocol_section(view),
        f'<picture><source media="(max-width: 560px)" '
        f'srcset="data:image/png;base64,{narrow_chart}">'
        f'<img alt="{e(PRIMARY_METRIC)} by embedding size" src="data:image/png;base64,{chart}">'
        "</picture>",
    ]
    if view.is_finetune:
        body += [
            sections.comparison_section(view),
            sections.selection_section(view, _b64(curve_png(results))),
            guard_sections.guard_section(results),
            guard_sections.merge_section(results, _b64(merge_curve_png(results))),
        ]
    body += [
        sections.baselines_section(view),
        sections.deployment_section(view),
        export_section(view),
        sections.per_query_section(view),
        sections.metrics_section(view),
        sections.origin_section(view),
        sections.training_section(view),
        data_quality_section(results),
        sections.timings_section(view),
        sections.hardware_section(view),
    ]
    head = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{title}<style>{_CSS}</style></head><body>"
    )
    return head + "\n" + "\n".join(part for part in body if part) + "\n</body></html>\n"


def write_html_report(results: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, render_html_report(results))
    return Path(path)
