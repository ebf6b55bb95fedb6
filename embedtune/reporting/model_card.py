"""The saved model's README.md (its model card), written from results.json.

It names the base model, the training data (source, size, layout), the recipe, the evaluation
protocol, the base-vs-saved table per dim with 95% intervals and the verdict, and shows how to
load the model from its real folder or Hub repo. When finetuning did not beat the base model on
validation, the card says plainly that the folder holds the base model, unchanged.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from embedtune.io import write_text_atomic
from embedtune.loss_registry import LOSS_SPECS
from embedtune.reporting.results_view import ResultsView
from embedtune.reporting.sweep_summary import sweep_sentence
from embedtune.results_schema import PRIMARY_METRIC

README = "README.md"
# Hub ids of base models known by a short name (the offline default is a copy of this one).
KNOWN_HUB_IDS = {"all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2"}
LOSS_NAMES = {name: spec.label for name, spec in LOSS_SPECS.items()}
OUTCOME_WORDS = {
    "win": "significant gain",
    "loss": "significant loss",
    "tie": "no significant change",
}


def write_model_card(model_dir: Path, results: dict[str, Any]) -> Path:
    """Write MODEL_DIR/README.md (atomically, replacing Sentence Transformers' own card)."""
    if not ResultsView(results).is_finetune:
        raise ValueError("a model card is written for a finetune run's results, not an evaluation")
    path = Path(model_dir) / README
    write_text_atomic(path, model_card(results, model_ref=_model_ref(results, Path(model_dir))))
    return path


def _model_ref(results: dict[str, Any], model_dir: Path) -> str:
    """What a user passes to SentenceTransformer(): the Hub repo when pushed, else the folder
    the model ends up in (a run writes OUTPUT/.staging/model, then moves it to OUTPUT/model)."""
    return ResultsView(results).hub_repo or str(final_folder(model_dir))


def final_folder(model_dir: Path) -> Path:
    """OUTPUT/.staging/model -> OUTPUT/model; any other folder as is."""
    from embedtune.run_outputs import STAGING_NAME

    if model_dir.parent.name == STAGING_NAME:
        return model_dir.parent.parent / model_dir.name
    return model_dir


def model_card(results: dict[str, Any], *, model_ref: str) -> str:
    view = ResultsView(results)
    sections = [
        _front_matter(view),
        _title_and_summary(view),
        _results_section(view),
        _protocol_section(view),
        _data_section(view),
        _recipe_section(view),
        _usage_section(view, model_ref),
        _provenance_section(view),
    ]
    return "\n\n".join(s for s in sections if s).rstrip() + "\n"


def base_hub_id(view: ResultsView) -> str | None:
    name = view.model_name
    if name in KNOWN_HUB_IDS:
        return KNOWN_HUB_IDS[name]
    return name if name.count("/") == 1 and not Path(name).exists() else None


def _front_matter(view: ResultsView) -> str:
    """Hub metadata: library, tags, license (the base model's), base model, datasets and a
    model-index block, so the Hub shows the evaluation."""
    lines = [
        "---",
        "library_name: sentence-transformers",
        "pipeline_tag: sentence-similarity",
        "tags:",
        *(f"- {tag}" for tag in ("sentence-transformers", "embedtune", "matryoshka", "retrieval")),
    ]
    license_id = base_license(view)
    if license_id:
        lines.append(f"license: {_yaml(license_id)}")
    hub_id = base_hub_id(view)
    if hub_id:
        lines.append(f"base_model: {hub_id}")
        if not view.base_kept:
            lines.append("base_model_relation: finetune")
    dataset = hub_dataset(view)
    if dataset:
        lines += ["datasets:", f"- {_yaml(dataset)}"]
    lines += _model_index(view)
    return "\n".join([*lines, "---"])


def _md(text: Any) -> str:
    """Text from the data or a path, shown as text in the card's Markdown (the Hub renders raw
    HTML and links): HTML escaped, Markdown's active characters backslash-escaped."""
    return re.sub(r"([`*\[\]|])", r"\\\1", html.escape(str(text), quote=False))


def _yaml(text: str) -> str:
    """A YAML scalar: a JSON string is a valid double-quoted YAML one."""
    return json.dumps(str(text))


def front_matter(readme: Path) -> dict[str, Any]:
    """A model card's YAML metadata (between the leading --- lines); {} when none is readable."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    match = re.match(r"---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.S)
    if not match:
        return {}
    import yaml

    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def base_license(view: ResultsView) -> str | None:
    """The base model's license, from its card's metadata (its folder, or the Hub cache)."""
    for readme in _base_readmes(view):
        license_id = front_matter(readme).get("license")
        if isinstance(license_id, str) and license_id:
            return license_id
    return None


def _base_readmes(view: ResultsView) -> list[Path]:
    found = []
    base = view.raw.get("base_model")
    if base and Path(base).is_dir():
        found.append(Path(base) / README)
    hub_id = base_hub_id(view)
    if hub_id:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(hub_id, README)
        except Exception:  # noqa: BLE001 - a metadata lookup never fails the card
            cached = None
        if isinstance(cached, str):
            found.append(Path(cached))
    return [path for path in found if path.is_file()]


def hub_dataset(view: ResultsView) -> str | None:
    """The training data's Hub dataset id (owner/name[:split]), when it came from the Hub."""
    source = view.data_source
    if not source or source.startswith("argilla:"):
        return None
    name = source.split(":", 1)[0]
    if name.count("/") == 1 and not Path(name).exists() and not Path(source).exists():
        return name
    return None


def _model_index(view: ResultsView) -> list[str]:
    """Sentence Transformers' model-index layout: one information-retrieval result per dim,
    every metric of the saved model on the test queries."""
    label = view.labels[-1]
    source = view.data_source or "built-in example data"
    name = view.hub_repo or (
        view.model_name if view.base_kept else f"{view.model_name} finetuned with embedtune"
    )
    lines = ["model-index:", f"- name: {_yaml(name)}", "  results:"]
    for dim in view.dims:
        scores = view.scores(label, dim)
        lines += [
            "  - task:",
            "      type: information-retrieval",
            "      name: Information Retrieval",
            "    dataset:",
            f"      name: {_yaml(f'{source} test queries, {dim} dims')}",
            f"      type: {_yaml(hub_dataset(view) or f'dim_{dim}')}",
            "    metrics:",
        ]
        for metric, value in scores.items():
            lines += [
                f"    - type: {_yaml('cosine_' + metric)}",
                f"      value: {float(value):.6g}",
                f"      name: {_yaml('Cosine ' + metric.capitalize())}",
            ]
    return lines


def _title_and_summary(view: ResultsView) -> str:
    name, pairs = _md(view.model_name), view.data.get("train_pairs")
    source = _md(view.data_source or "embedtune's built-in example data")
    trained_on = f"{pairs} (query, document) pairs from {source}" if pairs else source
    if view.base_kept:
        selection = view.selection or {}
        evidence = ""
        if selection.get("base_score") is not None:
            evidence = (
                f" ({selection['metric']}: base {selection['base_score']:.4f} on "
                f"{selection['validation_queries']} validation queries)"
            )
        return (
            f"# {name} (unchanged: finetuning did not beat it)\n\n"
            f"**This folder holds the base model {name}, unchanged.** embedtune finetuned it on "
            f"{trained_on}, but no checkpoint retrieved better than the base model on the "
            f"validation queries{evidence}, so the base model was kept rather than ship a "
            "regression."
        )
    hub_id = base_hub_id(view)
    url = f"https://huggingface.co/{quote(hub_id, safe='/')}" if hub_id else ""
    linked = f"[{name}]({url})" if hub_id else name
    return (
        f"# {name} finetuned for retrieval\n\n"
        f"This is {linked} finetuned with embedtune on {trained_on}, to "
        "retrieve documents for queries. It was trained with a Matryoshka loss, so its embeddings "
        f"can be truncated to {', '.join(map(str, view.dims))} dimensions."
    )


def _results_section(view: ResultsView) -> str:
    saved = "this model (= base)" if view.base_kept else "this model"
    lines = [
        "## Results",
        "",
        f"**Verdict:** {view.verdict_message}",
        "",
        f"{PRIMARY_METRIC} on {view.test_queries} held-out test queries retrieving from "
        f"{view.corpus} documents; the interval is a 95% paired bootstrap of the gain over the "
        "test queries.",
        "",
        f"| dims | base | {saved} | gain | 95% interval | on the test queries |",
        "|---|---|---|---|---|---|",
    ]
    for row in view.rows():
        interval = "n/a" if row.low is None else f"[{row.low:+.4f}, {row.high:+.4f}]"
        verdict = OUTCOME_WORDS.get(row.outcome or "", "not tested")
        lines.append(
            f"| {row.dim} | {row.base:.4f} | {row.score:.4f} | {row.gain:+.4f} | {interval} "
            f"| {verdict} |"
        )
    lines += ["", *_metrics_table(view)]
    return "\n".join(lines)


def _metrics_table(view: ResultsView) -> list[str]:
    label = view.labels[-1]  # the saved model's scores
    metrics = view.metric_names()
    lines = [
        "All metrics of this model:",
        "",
        "| dims | " + " | ".join(metrics) + " |",
        "|---" * (len(metrics) + 1) + "|",
    ]
    for dim in view.dims:
        scores = view.scores(label, dim)
        lines.append(f"| {dim} | " + " | ".join(f"{scores[m]:.4f}" for m in metrics) + " |")
    return lines


def _protocol_section(view: ResultsView) -> str:
    protocol = view.protocol
    if not protocol:
        return ""
    text = (
        f"## Evaluation protocol\n\n**{protocol['split']}**: {protocol['description']}. "
        f"{protocol['test_queries']} test queries, of which "
        f"{protocol['test_queries_with_trained_documents']} have a relevant document that also "
        f"appears in the training pairs; {protocol['dropped_train_pairs']} training pairs "
        f"({protocol['dropped_share']:.1%}) were set aside by the protocol."
    )
    if protocol["ignore_identical_ids"]:
        text += " A retrieved document whose id equals the query id is ignored (BEIR's rule)."
    return text


def _data_section(view: ResultsView) -> str:
    data, training, selection = view.data, view.training, view.selection or {}
    negatives = training.get("num_negatives", 1) if training.get("hard_negatives") else 0
    layout = "(query, positive document" + (
        f", {negatives} mined hard negative{'s' if negatives > 1 else ''})" if negatives else ")"
    )
    if view.data_layout:
        layout += f", read with the {view.data_layout} column layout"
    size = f"{data.get('train_pairs', 'all')} training pairs"
    if selection.get("validation_queries"):
        size += f" ({selection['validation_queries']} queries held out for model selection)"
    lines = [
        "## Training data",
        "",
        f"- Source: {_md(view.data_source or 'built-in example data (Python documentation)')}",
        f"- Size: {size}; {view.test_queries} test queries; a corpus of {view.corpus} documents",
        f"- Layout: {layout}",
    ]
    return "\n".join(lines)


def _recipe_section(view: ResultsView) -> str:
    training = view.training
    if not training:
        return ""
    loss = LOSS_NAMES.get(training["loss"], training["loss"])
    lines = [
        "## Training recipe",
        "",
        f"- Loss: MatryoshkaLoss around {loss}, dims {', '.join(map(str, view.dims))}",
        f"- Epochs (maximum): {training['epochs']}; batch size {training['batch_size']}"
        + _accumulation(training),
        f"- Learning rate: {training['learning_rate']:g}"
        + (f", warmup ratio {training['warmup_ratio']:g}" if "warmup_ratio" in training else ""),
        f"- Max sequence length: {training['max_seq_length']} tokens",
    ]
    if training.get("optimizer_steps") is not None:
        lines.append(f"- Optimizer steps: {training['optimizer_steps']}")
    sentence = sweep_sentence(training, (view.selection or {}).get("metric"))
    if sentence:
        lines.append(f"- {_md(sentence[0].upper() + sentence[1:])}")
    elif training.get("train_seconds") is not None:
        lines.append(f"- Training time: {training['train_seconds']:,.0f} s")
    lines += _selection_lines(view)
    return "\n".join(lines)


def _accumulation(training: dict[str, Any]) -> str:
    steps = training.get("gradient_accumulation_steps") or 1
    return f" x {steps} accumulation steps" if steps > 1 else ""


def _selection_lines(view: ResultsView) -> list[str]:
    selection = view.selection
    if not selection:
        return []
    line = f"- Model selection: {selection['metric']} on {selection['chosen_on']}"
    if selection["base_score"] is not None:
        line += f"; base model (step 0) {selection['base_score']:.4f}"
    if selection["best_score"] is not None:
        line += f", best checkpoint {selection['best_score']:.4f} at step {selection['best_step']}"
    if selection["stopped_early"]:
        line += "; stopped early"
    return [line]


def _usage_section(view: ResultsView, model_ref: str) -> str:
    dims = view.dims
    small = dims[1] if len(dims) > 1 else dims[0]
    return "\n".join(
        [
            "## Usage",
            "",
            "```python",
            "from sentence_transformers import SentenceTransformer",
            "",
            f"# truncate_dim: any of {', '.join(map(str, dims))} (smaller is faster; see Results)",
            f"model = SentenceTransformer({json.dumps(model_ref)}, truncate_dim={small})",
            'queries = model.encode_query(["How do I rotate the API keys?"])',
            "documents = model.encode_document(",
            '    ["API keys are rotated from the settings page.", "The office opens at 9."]',
            ")",
            "print(model.similarity(queries, documents))",
            "```",
            "",
            _prompt_note(view),
        ]
    )


def _prompt_note(view: ResultsView) -> str:
    prompts = [view.training.get(k) for k in ("query_prompt", "document_prompt")]
    if any(prompts):
        return (
            "`encode_query` and `encode_document` add the prompts the model was trained with "
            "(stored with the model), so queries and documents need no manual prefix."
        )
    return "Encode queries with `encode_query` and documents with `encode_document`."


def _provenance_section(view: ResultsView) -> str:
    provenance = view.provenance
    if not provenance:
        return ""
    version = provenance["packages"].get("embedtune")
    lines = ["## Provenance", ""]
    if version:
        lines.append(f"- embedtune {version}")
    if provenance["git_commit"]:
        dirty = " (with uncommitted changes)" if provenance["git_dirty"] else ""
        lines.append(f"- git commit {provenance['git_commit']}{dirty}")
    lines += [
        f"- data fingerprint {provenance['data_fingerprint']}",
        f"- seed {provenance['seed']}",
    ]
    return "\n".join(lines)
