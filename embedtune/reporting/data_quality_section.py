"""report.html section for the training data's screens (issue 23): how many generated queries the
filter dropped, by rule, and the false negatives flagged after mining, with examples.

Reads results.json `training.query_filter` and `training.hard_negative_mining.false_negatives`
(docs/results.md); an empty string when neither is there.
"""

from __future__ import annotations

from typing import Any

from embedtune.reporting.html_sections import definition_list, e, table


def data_quality_section(results: dict[str, Any]) -> str:
    training = results.get("training") or {}
    query_filter = training.get("query_filter")
    false_negatives = (training.get("hard_negative_mining") or {}).get("false_negatives")
    if not query_filter and not false_negatives:
        return ""
    parts = ["<h2>Training data screens</h2>"]
    if query_filter:
        parts.append(_filter_part(query_filter))
    if false_negatives:
        parts.append(_false_negative_part(false_negatives))
    return "".join(parts)


def _filter_part(block: dict[str, Any]) -> str:
    rows = [[e(rule), e(count)] for rule, count in block["dropped"].items()]
    examples = [
        [e(rule), e(item["query"]), e(item["detail"])]
        for rule, items in block.get("examples", {}).items()
        for item in items
    ]
    parts = [
        f"<p>Query filter: kept <strong>{e(block['kept'])}</strong> of {e(block['rows'])} "
        "training pairs.</p>",
        table(["rule", "pairs dropped"], rows),
    ]
    if examples:
        parts.append(table(["rule", "dropped query", "why"], examples, "Examples"))
    parts.append(definition_list(block.get("settings", {})))
    return "".join(parts)


def _false_negative_part(block: dict[str, Any]) -> str:
    parts = [
        f"<p>False negatives: <strong>{e(block['flagged'])}</strong> of {e(block['checked'])} "
        f"mined negatives flagged; {e(block['rule'])}.</p>"
    ]
    examples = [
        [
            e(item["query"]),
            e(item["positive"]),
            e(item["negative"]),
            e(f"{item['positive_score']:.3f} / {item['negative_score']:.3f}"),
        ]
        for item in block.get("examples", [])
    ]
    if examples:
        head = ["query", "positive", "flagged negative", "base score: positive / negative"]
        parts.append(table(head, examples, "The most doubtful", stack=True))
    facts = {k: v for k, v in block.items() if k not in ("examples", "rule", "review")}
    parts.append(definition_list(facts))
    if block.get("review"):
        parts.append("<p>Argilla review:</p>" + definition_list(block["review"]))
    return "".join(parts)
