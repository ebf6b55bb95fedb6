"""`embedtune generate`: its parser (GenerateConfig fields with a flag); dispatched by
embedtune/cli.py, registered in embedtune/cli_parser.py."""

from __future__ import annotations

import argparse
from typing import Any

from embedtune.cli_flags import (
    EXIT_CODES_NO_STRICT,
    HelpFormatter,
    _escape,
    _wrap,
    add_output_flags,
    field_defaults,
)

GENERATE = "generate"
EXAMPLES = """examples:
  embedtune generate --docs docs/                          # offline generator
  embedtune generate --docs docs/ --llm openai:gpt-4o-mini --context "payments runbooks"
  embedtune generate --docs docs/ --output outputs/generated --argilla my-review"""

# GenerateConfig fields with a flag, when the field exists (help, metavar, type).
GENERATE_FLAGS: dict[str, tuple[str, str | None, Any]] = {
    "output": ("output folder", "DIR", str),
    "llm": ("openai:MODEL or hf:PATH_OR_ID[:FILE.gguf]", "SPEC", str),
    "context": ("what the documents are about (steers the LLM's questions)", "TEXT", str),
    "max_tokens": ("chunk size in tokens", "N", int),
    "overlap_tokens": ("tokens shared by neighbouring chunks", "N", int),
    "min_tokens": ("drop chunks shorter than this", "N", int),
    "drop_pii": ("drop chunks with e-mails, phone numbers, keys or tokens", None, bool),
    "tokenizer": ("tokenizer that counts chunk tokens", "ID_OR_PATH", str),
    "llm_batch_size": ("chunks per call of a local hf: model (--ray: of each replica)", "N", int),
    "max_new_tokens": ("LLM answer length in tokens", "N", int),
    "llm_timeout": ("seconds before an LLM request is abandoned", "SECONDS", float),
    "llm_retries": ("retries of a failed LLM request (with backoff)", "N", int),
    "llm_concurrency": ("requests in flight at once to an endpoint (--ray: replicas)", "N", int),
    "resume": ("continue a killed LLM run into OUTPUT from its saved progress", None, bool),
    "ray": ("run the LLM task on Ray via distilabel (pip install 'ray[default]')", None, bool),
    "overwrite": ("replace an existing generated dataset in OUTPUT", None, bool),
    "seed": ("seed of the generator", "N", int),
    "push_to_hub": ("push the dataset to this Hub repo (token: HF_TOKEN)", "REPO", str),
    "argilla_dataset": ("push the examples for review to this Argilla dataset", "DATASET", str),
    "filter": ("drop copied, duplicate or round-trip-failing queries", None, bool),
    "filter_top_k": ("round trip: the query's own chunk must rank in the top K", "K", int),
    "filter_copy_fraction": ("share of a query copied from its chunk: a copy", "X", float),
    "filter_duplicate_similarity": ("cosine between two queries: duplicates", "X", float),
    "filter_cross_encoder": ("round trip also under this cross-encoder", "PATH", str),
    "filter_judge": ("LLM judging queries that need their chunk", "SPEC", str),
}
GENERATE_NONE_MEANS = {
    "llm": "the offline generator",
    "tokenizer": "all-MiniLM-L6-v2's",
    "push_to_hub": "no push",
    "argilla_dataset": "no push",
    "filter_cross_encoder": "the base model only",
    "filter_judge": "no judge",
}
GENERATE_OPTIONS = {"argilla_dataset": "--argilla"}  # flag names that differ from the field


def add_generate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        GENERATE,
        help="make (query, document, negative query) examples from documents",
        description=_wrap(
            "Chunk a folder of documents and write a query for each chunk, with an LLM "
            "(distilabel) or the offline generator."
        ),
        epilog=f"{EXIT_CODES_NO_STRICT}\n\n{EXAMPLES}",
        formatter_class=HelpFormatter,
    )
    parser.populate = _generate_flags


def _generate_flags(parser: argparse.ArgumentParser) -> None:
    from embedtune.synthetic.generate import GenerateConfig

    parser.add_argument(
        "--docs", nargs="+", required=True, metavar="DIR_OR_FILE", help="documents to chunk"
    )
    defaults = field_defaults(GenerateConfig)
    for name, (help_text, metavar, kind) in GENERATE_FLAGS.items():
        if name not in defaults:
            continue  # not (yet) a setting of GenerateConfig
        option = GENERATE_OPTIONS.get(name, "--" + name.replace("_", "-"))
        value = defaults[name]
        if isinstance(value, bool):
            shown = "on" if value else "off"
        elif value in (None, ""):
            shown = GENERATE_NONE_MEANS.get(name, "none")
        else:
            shown = str(value)
        text = _escape(f"{help_text} (default: {shown})")
        if kind is bool:
            parser.add_argument(option, dest=name, action="store_true", default=None, help=text)
        else:
            parser.add_argument(
                option, dest=name, type=kind, default=None, metavar=metavar, help=text
            )
    parser.add_argument("--pipeline", action="store_true", help="run as a ZenML pipeline")
    add_output_flags(parser)
