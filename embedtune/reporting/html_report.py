"""OUTPUT/report.html: one self-contained page a person can open (no network, chart inlined).

`render_html_report(results)` returns the page as a string, from the results.json content alone,
so a ZenML step can log it as an HTML visualization; `write_html_report` writes it atomically.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from embedtune.io import write_text_atomic
from embedtune.reporting.chart import evaluation_png

METRIC = "ndcg@10"
OTHER_METRICS = ("mrr@10", "recall@1", "recall@10", "map@100")
TRAINING_KEYS = (
    "loss",
    "epochs",
    "batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "max_seq_length",
    "hard_negatives",
    "query_prompt",
    "document_prompt",
    "optimizer_steps",
    "train_seconds",
    "samples_per_second",
    "seed",
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:60rem;
color:#1d2329;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.sub{color:#5f6b77;margin-top:0}.verdict{font-size:1.15rem;padding:.8rem 1rem;border-radius:6px;
background:#eef6ee;border-left:5px solid #2ca02c}.verdict.mixed{background:#fff6e5;border-color:#e8a33d}
.verdict.none{background:#fdeeee;border-color:#d62728}
table{border-collapse:collapse;margin:.6rem 0;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .8rem;border-bottom:1px solid #e4e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f5f7f9}
.win{color:#1a7f37;font-weight:600}.loss{color:#c62828;font-weight:600}.ns{color:#6b7785}
img{max-width:100%;border:1px solid #e4e7eb;border-radius:4px}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1.2rem}dt{color:#5f6b77}dd{margin:0}
.note{color:#5f6b77;font-size:.85rem}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    return str(value)


def _definition_list(items: dict[str, Any]) -> str:
    rows = "".join(
        f"<dt>{_e(k.replace('_', ' '))}</dt><dd>{_e(_fmt(v))}</dd>" for k, v in items.items()
    )
    return f"<dl>{rows}</dl>"


def _verdict(results: dict[str, Any]) -> tuple[str, str]:
    """(css class, sentence) summarising the significant wins."""
    comparison = results.get("comparison") or {}
    dims = [str(d) for d in results["dims"]]
    if not comparison:
        if "base" in results and "finetuned" in results:
            wins = sum(results["finetuned"][d][METRIC] > results["base"][d][METRIC] for d in dims)
            return (
                "" if wins == len(dims) else "mixed",
                f"Finetuned beats base at {wins} of "
                f"{len(dims)} dimensions ({METRIC}); no confidence intervals were computed.",
            )
        return ("", "")
    wins = [
        d for d in dims if comparison[d]["significant"] and comparison[d][f"{METRIC}_delta"] > 0
    ]
    losses = [
        d for d in dims if comparison[d]["significant"] and comparison[d][f"{METRIC}_delta"] < 0
    ]
    css = "" if len(wins) == len(dims) else ("none" if not wins else "mixed")
    sentence = (
        f"The finetuned model retrieves significantly better at {len(wins)} of {len(dims)} "
        f"embedding sizes ({METRIC}, 95% paired bootstrap)"
    )
    if losses:
        sentence += f"; significantly worse at {', '.join(losses)} dims"
    return css, sentence + "."


def _comparison_table(results: dict[str, Any]) -> str:
    dims = [str(d) for d in results["dims"]]
    comparison = results.get("comparison") or {}
    head = (
        "<tr><th>dimensions</th><th>base</th><th>finetuned</th><th>gain</th>"
        "<th>95% interval of the gain</th><th>verdict</th></tr>"
    )
    rows = []
    for d in dims:
        base, tuned = results["base"][d][METRIC], results["finetuned"][d][METRIC]
        entry = comparison.get(d)
        if entry:
            low, high = entry["ci95"]
            interval = f"[{low:+.4f}, {high:+.4f}]"
            if entry["significant"]:
                cls, verdict = (
                    ("win", "significant win")
                    if entry[f"{METRIC}_delta"] > 0
                    else (
                        "loss",
                        "significant loss",
                    )
                )
            else:
                cls, verdict = "ns", "not significant"
        else:
            interval, cls, verdict = "—", "ns", "—"
        relative = f" ({(tuned - base) / base:+.1%})" if base else ""
        rows.append(
            f"<tr><td>{_e(d)}</td><td>{base:.4f}</td><td>{tuned:.4f}</td>"
            f'<td class="{cls}">{tuned - base:+.4f}{_e(relative)}</td><td>{interval}</td>'
            f'<td class="{cls}">{verdict}</td></tr>'
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _metrics_table(results: dict[str, Any], labels: list[str]) -> str:
    dims = [str(d) for d in results["dims"]]
    metrics = (METRIC, *OTHER_METRICS)
    head = (
        "<tr><th>dimensions</th>"
        + "".join(f"<th>{_e(m)} {_e(label)}</th>" for m in metrics for label in labels)
        + "</tr>"
    )
    rows = []
    for d in dims:
        cells = "".join(
            f"<td>{results[label][d].get(m, float('nan')):.4f}</td>"
            for m in metrics
            for label in labels
        )
        rows.append(f"<tr><td>{_e(d)}</td>{cells}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def render_html_report(results: dict[str, Any]) -> str:
    """The report page for a results.json dict (finetune: base vs finetuned; evaluate: one model)."""
    labels = [label for label in ("base", "finetuned", "model") if label in results]
    chart = base64.b64encode(evaluation_png(results, METRIC)).decode("ascii")
    data = results.get("data") or {}
    training = results.get("training") or {}
    title = (
        "embedtune: finetuned vs base retrieval"
        if "finetuned" in results
        else (f"embedtune: retrieval evaluation of {results.get('model_name', 'a model')}")
    )
    css, verdict = _verdict(results)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">base model: {_e(results.get("base_model") or results.get("model_name") or "—")}'
        f" · {_e(data.get('test_queries', '?'))} test queries over a corpus of "
        f"{_e(data.get('corpus', '?'))} documents</p>",
    ]
    if verdict:
        parts.append(f'<p class="verdict {css}">{_e(verdict)}</p>')
    parts.append(f'<img alt="{_e(METRIC)} by embedding size" src="data:image/png;base64,{chart}">')
    if "base" in results and "finetuned" in results:
        parts += [
            f"<h2>{_e(METRIC)}: base vs finetuned</h2>",
            _comparison_table(results),
            '<p class="note">The interval is a paired bootstrap over the test queries (2,000 '
            "resamples): it is where the true gain most likely lies. A win is significant when the "
            "whole interval is above 0. Per-query scores are in per_query.json.</p>",
        ]
    parts += ["<h2>All metrics</h2>", _metrics_table(results, labels)]
    parts += ["<h2>Data</h2>", _definition_list(data)]
    if training:
        summary = {k: training[k] for k in TRAINING_KEYS if k in training}
        if training.get("dims"):
            summary["matryoshka_dims"] = ", ".join(map(str, training["dims"]))
        parts += ["<h2>Training</h2>", _definition_list(summary)]
        if isinstance(training.get("hard_negative_mining"), dict):
            parts += [
                "<h3>Hard negatives (mined with the base model from training documents)</h3>",
                _definition_list(training["hard_negative_mining"]),
            ]
    if results.get("hardware"):
        parts += ["<h2>Hardware</h2>", _definition_list(results["hardware"])]
    if "total_seconds" in results:
        parts.append(f'<p class="note">Whole run: {_e(results["total_seconds"])} s.</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html_report(results: dict[str, Any], path: str | Path) -> Path:
    write_text_atomic(path, render_html_report(results))
    return Path(path)
