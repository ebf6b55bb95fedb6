"""report.html's section for --export: the exported model's nDCG@10 next to the torch model's
with the interval of the difference, the warnings, and torch vs export encoding speed."""

from __future__ import annotations

from typing import Any

from embedtune.reporting.html_sections import _delta_cell, e, table
from embedtune.reporting.results_view import ResultsView


def _latency(latency: dict[str, Any]) -> str:
    rows = []
    for name, figures in latency["models"].items():
        rows.append(
            [
                e(name),
                f"{figures['query_ms_p50']:.2f}",
                f"{figures['query_ms_p95']:.2f}",
                f"{figures.get('query_speedup', 1.0):.2f}×",
                f"{figures['corpus_docs_per_second']:.1f}",
                f"{figures.get('corpus_speedup', 1.0):.2f}×",
            ]
        )
    head = [
        "model",
        "query p50 (ms, batch 1)",
        "query p95 (ms)",
        "query speed-up",
        "corpus docs/s",
        "corpus speed-up",
    ]
    settings = latency.get("settings", {})
    hardware = latency.get("hardware", {})
    machine = ", ".join(
        str(hardware[k]) for k in ("cpu", "cpu_count", "accelerator", "platform") if hardware.get(k)
    )
    return table(head, rows) + (
        f'<p class="note">Timed on {e(settings.get("texts", "?"))}: the median of '
        f"{e(settings.get('rounds', '?'))} rounds, {e(settings.get('threads', '?'))} threads, on "
        f"{e(machine or 'this machine')} (cpu_count, accelerator, platform). A busy machine makes "
        "these noisy.</p>"
    )


def export_section(view: ResultsView) -> str:
    block = view.raw.get("export")
    if not block:
        return ""
    metric = block["metric"]
    rows = [
        [
            e(dim),
            f"{block['torch'][dim]:.4f}",
            f"{block['exported'][dim]:.4f}",
            _delta_cell(block["vs_torch"].get(dim)),
        ]
        for dim in block["torch"]
    ]
    head = ["dims", "torch", e(block["name"]), "export − torch (95% interval)"]
    warnings = "".join(
        f'<p><span class="loss">Warning: {e(w)}</span></p>' for w in block["warnings"]
    )
    verdict = (
        ""
        if block["warnings"]
        else f"<p>No significant {e(metric)} drop at any dim (largest drop "
        f"{block['largest_drop']:.4f}).</p>"
    )
    parts = [
        f"<h2>Export: {e(block['name'])} ({e(metric)})</h2>",
        f"<p>{e(block['path'])}/{e(block['file'])}, exported from the {e(block['model'])} model "
        "and scored on the same test queries by the same evaluator.</p>",
        warnings,
        verdict,
        table(head, rows),
    ]
    if block.get("latency"):
        parts += ["<h3>Encoding speed: torch fp32 vs the export</h3>", _latency(block["latency"])]
    return "".join(parts)
