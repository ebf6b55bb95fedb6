"""The sections of report.html, each a function of a ResultsView returning an HTML fragment.

Every value is escaped; tables sit in a `.scroll` box so a wide table scrolls inside the page
instead of widening it.
"""

from __future__ import annotations

import html
import re
from typing import Any

from embedtune.reporting.results_view import DimRow, ResultsView
from embedtune.reporting.sweep_summary import sweep_rows, sweep_sentence
from embedtune.results_schema import (
    PRIMARY_METRIC,
    ComparisonEntry,
    QueryExample,
    outcome,
    read_comparison_entry,
)

OUTCOME_WORDS = {"win": "significant win", "loss": "significant loss", "tie": "not significant"}
OUTCOME_CLASS = {"win": "win", "loss": "loss", "tie": "ns"}
TRAINING_KEYS = (
    "loss",
    "epochs",
    "batch_size",
    "gradient_accumulation_steps",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_ratio",
    "weight_decay",
    "max_seq_length",
    "hard_negatives",
    "num_negatives",
    "eval_every",
    "early_stopping_patience",
    "query_prompt",
    "document_prompt",
    "optimizer_steps",
    "train_seconds",
    "samples_per_second",
    "seed",
)
# Shown only for a finetune run: an evaluate report has no training fields.
TRAINING_ONLY_DATA = ("train_pairs", "dropped_train_pairs", "dropped_share")


def e(value: Any) -> str:
    return html.escape(str(value))


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def definition_list(items: dict[str, Any]) -> str:
    rows = "".join(
        f"<dt>{e(k.replace('_', ' '))}</dt><dd>{e(fmt(v))}</dd>"
        for k, v in items.items()
        if not isinstance(v, dict)
    )
    return f"<dl>{rows}</dl>"


def table(head: list[str], rows: list[list[str]], caption: str = "", *, stack: bool = False) -> str:
    """A table in a box that scrolls sideways; cells are already-escaped HTML. `stack`: on a
    phone-width page each row becomes a block of "column: value" lines, so no column (the
    interval, the verdict) scrolls out of sight."""
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    header = "".join(f"<th>{h}</th>" for h in head)
    labels = [html.escape(re.sub(r"<[^>]+>", "", html.unescape(h))) for h in head]

    def cell(i: int, content: str) -> str:
        label = f' data-label="{labels[i]}"' if stack and i < len(labels) else ""
        return f"<td{label}>{content}</td>"

    body = "".join(
        "<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    cls = ' class="stack"' if stack else ""
    return (
        f'<div class="scroll"><table{cls}>{cap}<tr class="head">{header}</tr>{body}</table></div>'
    )


def saved_label(view: ResultsView) -> str:
    return "saved (= base)" if view.base_kept else "finetuned"


def banner(view: ResultsView) -> str:
    if view.is_finetune:
        message = view.verdict_message
        if view.base_kept:
            lead = "Finetuning did not help."
        elif view.losses():
            lead = "Careful: the saved model is significantly worse at some sizes."
        else:
            lead = ""
        lead_html = f"<strong>{e(lead)}</strong> " if lead else ""
        scope = ""
        if view.selection or view.verdict:  # the verdict's numbers are validation numbers
            lead_html += '<span class="scope-label">Validation queries (model selection):</span> '
            scope = f'<span class="scope">{e(_test_outcome(view))}</span>'
        tone = "warn" if view.base_kept and view.tone == "good" else view.tone  # never "success"
        return f'<p class="banner {tone}" role="status">{lead_html}{e(message)}{scope}</p>'
    best = max(view.rows(), key=lambda row: row.score)
    return (
        f'<p class="banner neutral" role="status">{e(view.model_name)}: {PRIMARY_METRIC} '
        f"{best.score:.4f} at {best.dim} dims on {e(view.test_queries)} test queries.</p>"
    )


def _test_outcome(view: ResultsView) -> str:
    """The test queries' side, as the table below shows it."""
    counts = view.outcome_counts()
    where = (
        f"On the {view.test_queries} test queries" if view.test_queries else "On the test queries"
    )
    if not any(counts.values()):
        return f"{where} (table below): no confidence intervals were computed."
    return (
        f"{where} (table below, {PRIMARY_METRIC}): {counts['win']} significant gain(s), "
        f"{counts['tie']} no significant change, {counts['loss']} significant loss(es) across "
        f"{len(view.dims)} embedding sizes."
    )


def protocol_section(view: ResultsView) -> str:
    protocol = view.protocol
    if not protocol:
        return ""
    facts = {k: v for k, v in protocol.items() if k not in ("split", "description")}
    if not view.is_finetune:
        facts = {k: v for k, v in facts.items() if k not in TRAINING_ONLY_DATA}
    warning = view.protocol_warning() if view.is_finetune else None
    parts = [
        "<h2>Evaluation protocol</h2>",
        f"<p><strong>{e(protocol['split'])}</strong>: {e(protocol['description'])}.</p>",
        definition_list(facts),
    ]
    if warning:
        parts.append(f'<p class="warning">{e(warning)}</p>')
    return "".join(parts)


def _interval(row: DimRow) -> str:
    return "—" if row.low is None else f"[{row.low:+.4f}, {row.high:+.4f}]"


def comparison_section(view: ResultsView) -> str:
    rows = []
    for row in view.rows():
        cls = OUTCOME_CLASS.get(row.outcome or "", "ns")
        relative = f" ({row.relative:+.1%})" if row.relative is not None else ""
        rows.append(
            [
                e(row.dim),
                f"{row.base:.4f}",
                f"{row.score:.4f}",
                f'<span class="{cls}">{row.gain:+.4f}{e(relative)}</span>',
                _interval(row),
                f'<span class="{cls}">{e(OUTCOME_WORDS.get(row.outcome or "", "—"))}</span>',
            ]
        )
    head = ["dims", "base", e(saved_label(view)), "gain", "95% interval", "test verdict"]
    return "".join(
        [
            f"<h2>{e(PRIMARY_METRIC)} on the test queries: base vs {e(saved_label(view))}</h2>",
            table(head, rows, stack=True),
            '<p class="note">The interval is a paired bootstrap over the test queries (2,000 '
            "resamples): where the true gain most likely lies. A win or loss is significant when "
            "the whole interval is above or below 0. Per-query scores are in per_query.json.</p>",
        ]
    )


def metrics_section(view: ResultsView) -> str:
    """Every metric the results hold, one row per dim (and model, in a finetune run)."""
    names = {"base": "base", "finetuned": saved_label(view)}
    metrics = view.metric_names()
    rows, head = [], ["dims", *map(e, metrics)]
    for dim in view.dims:
        for label in view.labels:
            cells = [f"{view.scores(label, dim)[m]:.4f}" for m in metrics]
            rows.append([e(dim), *([e(names[label])] if view.is_finetune else []), *cells])
    if view.is_finetune:
        head.insert(1, "model")
    return "<h2>All metrics</h2>" + table(head, rows)


def selection_section(view: ResultsView, curve_png_b64: str | None) -> str:
    selection = view.selection
    if not selection:
        return ""
    facts = {k: v for k, v in selection.items() if k != "curve"}
    parts = ["<h2>Model selection (validation queries, never the test queries)</h2>"]
    if curve_png_b64:
        parts.append(
            f'<img alt="validation score per step, base model at step 0" '
            f'src="data:image/png;base64,{curve_png_b64}">'
        )
    parts.append(definition_list(facts))
    return "".join(parts)


def _example(example: QueryExample) -> str:
    expected = "".join(f"<blockquote>{e(text)}</blockquote>" for text in example["expected"])
    if example["delta"] is None:
        scores = f"{example['score']:.3f}"
    else:
        scores = (
            f"{example['reference_score']:.3f} → {example['score']:.3f} ({example['delta']:+.3f})"
        )
    return (
        f'<li><p class="query">{e(example["query"])} <span class="score">{e(scores)}</span></p>'
        f'<p class="note">expected document:</p>{expected}</li>'
    )


def per_query_section(view: ResultsView) -> str:
    summary = view.per_query
    if not summary:
        return ""
    metric, compared = summary["metric"], summary["reference"] is not None
    parts = [f"<h2>Per query ({e(metric)})</h2>"]
    if compared:
        rows = [
            [e(dim), e(entry.get("improved")), e(entry.get("unchanged")), e(entry.get("worse"))]
            for dim, entry in summary["dims"].items()
        ]
        parts.append(table(["dims", "improved", "unchanged", "worse"], rows))
    titles = (
        ("worst", "Largest regressions"),
        ("best", "Largest gains"),
    )
    if not compared:
        titles = (("worst", "Lowest-scoring queries"), ("best", "Highest-scoring queries"))
    for i, (dim, entry) in enumerate(summary["dims"].items()):
        lists = "".join(
            f"<h3>{e(title)}</h3><ol>{''.join(map(_example, entry[key]))}</ol>"
            for key, title in titles
            if entry[key]
        )
        if lists:
            opened = " open" if i == 0 else ""
            parts.append(f"<details{opened}><summary>{e(dim)} dims</summary>{lists}</details>")
    return "".join(parts)


def origin_section(view: ResultsView) -> str:
    """Where the data came from: source, sizes, fingerprint, commit, versions, command line."""
    data = view.data_counts()
    if not view.is_finetune:
        data = {k: v for k, v in data.items() if k not in TRAINING_ONLY_DATA}
    origin: dict[str, Any] = {"source": view.data_source or "built-in data"}
    if view.data_layout:
        origin["layout"] = view.data_layout
    provenance = view.provenance
    if provenance:
        commit = provenance["git_commit"] or "not a git checkout"
        if provenance["git_dirty"]:
            commit += " (uncommitted changes)"
        origin |= {
            "data_fingerprint": provenance["data_fingerprint"],
            "git_commit": commit,
            "command_line": provenance.get("command_line"),
            "seed": provenance["seed"],
            "versions": ", ".join(
                f"{name} {version}" for name, version in provenance["packages"].items() if version
            ),
        }
    origin = {k: v for k, v in origin.items() if v is not None}
    return "<h2>Where the data came from</h2>" + definition_list({**origin, **data})


def training_section(view: ResultsView) -> str:
    training = view.training
    if not view.is_finetune or not training:
        return ""
    summary = {k: training[k] for k in TRAINING_KEYS if k in training}
    summary["matryoshka_dims"] = view.dims
    parts = ["<h2>Training</h2>", definition_list(summary)]
    sentence = sweep_sentence(training, (view.selection or {}).get("metric"))
    if sentence:
        parts += [
            "<h3>Learning rate: auto</h3>",
            table(
                ["learning rate", "validation score", "seconds", "outcome"],
                [[e(cell) for cell in row] for row in sweep_rows(training)],
            ),
            f'<p class="note">{e(sentence)}</p>',
        ]
    mining = training.get("hard_negative_mining")
    if isinstance(mining, dict):
        parts += ["<h3>Hard negatives (mined with the base model)</h3>", definition_list(mining)]
    return "".join(parts)


def timings_section(view: ResultsView) -> str:
    """results["timings"] (phase -> seconds) as "Where the time went", each phase's share of the
    whole run (total_seconds; the phases' sum when the run has no total)."""
    timings = view.raw.get("timings")
    if not isinstance(timings, dict) or not timings:
        return ""
    phases = {
        str(k): float(v)
        for k, v in timings.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    timed = sum(phases.values())
    total = float(view.total_seconds or timed)
    if total - timed >= 0.5:
        phases["other (untimed)"] = total - timed
    rows = [
        [e(name), f"{seconds:,.1f}", f"{seconds / total:.0%}" if total else "—"]
        for name, seconds in phases.items()
    ]
    rows.append(["<strong>whole run</strong>", f"<strong>{total:,.1f}</strong>", ""])
    return "<h2>Where the time went</h2>" + table(["phase", "seconds", "share of the run"], rows)


def hardware_section(view: ResultsView) -> str:
    parts = []
    if view.hardware:
        parts += ["<h2>Hardware</h2>", definition_list(view.hardware)]
    if view.total_seconds is not None:
        parts.append(f'<p class="note">Whole run: {e(view.total_seconds)} s.</p>')
    return "".join(parts)


def _dense_words(label: str) -> str:
    return {"finetuned": "finetuned", "base": "base (kept)", "model": "model"}.get(label, label)


def _the_model(label: str) -> str:
    return {"finetuned": "the finetuned model", "base": "the base model (kept)"}.get(
        label, "the model"
    )


def _delta_cell(entry: ComparisonEntry | None) -> str:
    """`+0.0123 [+0.0010, +0.0240]`, coloured by outcome; — when there is no entry."""
    if entry is None:
        return "—"
    delta, low, high, significant = read_comparison_entry(entry)
    cls = OUTCOME_CLASS[outcome(delta, significant)]
    return f'<span class="{cls}">{delta:+.4f}</span> [{low:+.4f}, {high:+.4f}]'


def baselines_section(view: ResultsView) -> str:
    """BM25 and the hybrid (BM25 + the model, RRF) per dim with intervals, and the verdict."""
    block = view.raw.get("baselines")
    if not block:
        return ""
    dense = block["dense"]
    dense_name = _dense_words(dense)
    bm25 = block["bm25"]["metrics"][PRIMARY_METRIC]
    hybrid = block["hybrid"]
    rows = []
    for dim in view.dims:
        key = str(dim)
        row = [
            e(dim),
            f"{view.scores(dense, dim)[PRIMARY_METRIC]:.4f}",
            f"{bm25:.4f}",
            _delta_cell(block["vs_bm25"].get(key)),
        ]
        if hybrid is not None:
            row += [
                f"{hybrid['metrics'][key][PRIMARY_METRIC]:.4f}",
                _delta_cell(hybrid["vs_dense"].get(key)),
            ]
        rows.append(row)
    head = ["dims", e(dense_name), "BM25", f"{e(dense_name)} − BM25 (95% interval)"]
    if hybrid is not None:
        head += ["hybrid", f"hybrid − {e(dense_name)} (95% interval)"]
    cls = OUTCOME_CLASS.get(block["verdict"]["outcome"], "ns")
    settings = dict(block["bm25"]["settings"])
    parts = [
        f"<h2>Baselines: BM25 and hybrid ({e(PRIMARY_METRIC)})</h2>",
        f'<p><span class="{cls}">{e(block["verdict"]["message"])}</span></p>',
        table(head, rows, stack=True),
        '<p class="note">Same test queries and corpus; intervals are paired bootstraps over the '
        "queries, as above. BM25 has no embedding size: one score for every row. The hybrid "
        "fuses the BM25 and dense rankings by reciprocal rank fusion"
        + (
            f" (k {e(hybrid['settings'].get('k'))}, top {e(hybrid['settings'].get('depth'))} of each)"
            if hybrid is not None
            else ""
        )
        + ".</p>",
        "<h3>BM25 settings</h3>",
        definition_list(settings),
    ]
    return "".join(parts)


def deployment_section(view: ResultsView) -> str:
    """The deployment matrix's summary: the recommended and the best cell, and the rule."""
    summary = view.raw.get("deployment")
    if not summary:
        return ""
    rows = []
    for name in ("recommended", "best"):
        cell = summary[name]
        rows.append(
            [
                e(name),
                e(cell["dim"]),
                e(cell["precision"]),
                e(cell["bytes_per_document"]),
                f"{cell[PRIMARY_METRIC]:.4f}",
            ]
        )
    head = ["", "dims", "precision", "bytes per document", e(PRIMARY_METRIC)]
    reference = summary["reference"]
    return "".join(
        [
            "<h2>Deployment: embedding size × precision</h2>",
            table(head, rows),
            f"<p>Recommended: {e(summary['recommended']['reason'])}. Rule: {e(summary['rule'])}.</p>",
            f'<p class="note">{e(summary["cells"])} cells (float32, int8, binary at each dim) '
            f"scored from one encoding of the test set by {e(_the_model(summary['model']))}, against "
            f"float32 at {e(reference.get('dim'))} dims; every cell with its interval, recall and "
            f"search time is in {e(summary['file'])}.</p>",
        ]
    )
