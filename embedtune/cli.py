"""`embedtune` command line: thin over embedtune.workflow (and the ZenML pipelines)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import configure_logging
from embedtune.config import load_config, parse_dims

logger = logging.getLogger("embedtune")


def _add_data_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        metavar="SOURCE",
        help="BEIR folder, .json/.jsonl/.csv/.parquet file, save_to_disk folder, hub id[:split], "
        "or argilla:NAME (default: Python's bundled docs with offline queries)",
    )
    group.add_argument("--query-column", help="column holding the queries")
    group.add_argument("--document-column", help="column holding the documents")
    group.add_argument("--negative-column", help="column holding hard-negative documents")
    group.add_argument("--test-fraction", type=float, help="share of documents held out (0.1)")
    group.add_argument("--max-train-pairs", type=int, help="train on a seeded subset")
    group.add_argument("--max-test-queries", type=int, help="evaluate on a seeded subset")


def _dims_flag(text: str) -> list[int]:
    try:
        return parse_dims(text)
    except EmbedtuneError as err:  # argparse reports it with the usage line, exit code 2
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="YAML", help="settings file (flags win)")
    parser.add_argument(
        "--dims", type=_dims_flag, help="Matryoshka dims, largest first: 384,256,128,64"
    )
    parser.add_argument("--max-seq-length", type=int)
    parser.add_argument("--output", metavar="DIR", help="output folder (outputs/embedtune)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--query-prompt", help="prefix for queries, e.g. 'query: '")
    parser.add_argument("--document-prompt", help="prefix for documents, e.g. 'passage: '")
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        default=None,
        help="run the model repository's own code (off unless you ask)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    _add_data_flags(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embedtune",
        description="Finetune sentence-embedding models for retrieval and prove they retrieve better.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    finetune = commands.add_parser("finetune", help="finetune and evaluate base vs finetuned")
    _add_common_flags(finetune)
    finetune.add_argument("--base-model", metavar="ID_OR_PATH")
    finetune.add_argument("--epochs", type=int)
    finetune.add_argument("--batch-size", type=int)
    finetune.add_argument("--gradient-accumulation-steps", type=int)
    finetune.add_argument("--learning-rate", type=float)
    finetune.add_argument("--loss", choices=["mnrl", "cached_mnrl", "gist"])
    finetune.add_argument("--mini-batch-size", type=int, help="cached_mnrl memory knob")
    finetune.add_argument(
        "--hard-negatives",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mine one hard negative per pair with the base model (on by default)",
    )
    finetune.add_argument("--hard-negative-range-min", type=int, help="skip the top N ranks (0)")
    finetune.add_argument("--hard-negative-range-max", type=int, help="look at most N deep (30)")
    finetune.add_argument(
        "--hard-negative-relative-margin",
        type=float,
        help="keep a negative only if its similarity is below (1 - margin) x the positive's (0.05)",
    )
    finetune.add_argument("--best-dim", type=int, help="dim whose nDCG@10 picks the best epoch")
    finetune.add_argument("--push-to-hub", metavar="REPO", help="push the model (token: HF_TOKEN)")
    finetune.add_argument(
        "--resume", action="store_true", default=None, help="continue from the last checkpoint"
    )
    finetune.add_argument(
        "--pipeline", action="store_true", help="run as the ZenML pipeline finetune_embeddings"
    )

    evaluate = commands.add_parser("evaluate", help="evaluate one model on held-out queries")
    _add_common_flags(evaluate)
    evaluate.add_argument("--model", required=True, metavar="ID_OR_PATH")

    generate = commands.add_parser(
        "generate", help="make (query, document, negative query) examples from documents"
    )
    generate.add_argument("--docs", nargs="+", required=True, metavar="DIR_OR_FILE")
    generate.add_argument("--output", required=True, metavar="DIR")
    generate.add_argument(
        "--llm", metavar="SPEC", help="openai:MODEL or hf:PATH_OR_ID[:GGUF] (default: offline)"
    )
    generate.add_argument("--context", default="", help="what the documents are about")
    generate.add_argument("--max-tokens", type=int, default=256, help="chunk size in tokens")
    generate.add_argument("--overlap-tokens", type=int, default=32)
    generate.add_argument("--drop-pii", action="store_true", help="drop chunks with PII/secrets")
    generate.add_argument("--push-to-hub", metavar="REPO")
    generate.add_argument("--argilla", metavar="DATASET", help="push for review to Argilla")
    generate.add_argument("--pipeline", action="store_true", help="run as a ZenML pipeline")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("-v", "--verbose", action="store_true")
    return parser


def _run_generate(args: argparse.Namespace) -> dict:
    from embedtune.synthetic.generate import GenerateConfig, run_generate

    config = GenerateConfig(
        docs=list(args.docs),
        output=args.output,
        llm=args.llm,
        context=args.context,
        max_tokens=args.max_tokens,
        overlap_tokens=args.overlap_tokens,
        drop_pii=args.drop_pii,
        push_to_hub=args.push_to_hub,
        argilla_dataset=args.argilla,
        seed=args.seed,
    )
    if args.pipeline:
        from embedtune.pipelines.generate_synthetic_data import run_generate_pipeline

        return run_generate_pipeline(config)
    return run_generate(config)


_NOT_SETTINGS = {"command", "config", "verbose", "pipeline", "model"}


def _config_from(args: argparse.Namespace):
    overrides = {k: v for k, v in vars(args).items() if k not in _NOT_SETTINGS}
    overrides["data"] = overrides.pop("data", None)
    return load_config(args.config, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, zenml=bool(getattr(args, "pipeline", False)))
    try:
        if args.command == "generate":
            print(json.dumps(_run_generate(args), indent=1, default=str))
            return 0
        config = _config_from(args)
        if args.command == "finetune":
            if args.pipeline:
                from embedtune.pipelines.finetune_embeddings import run_pipeline

                results = run_pipeline(config)
            else:
                from embedtune.workflow import run_finetune

                results = run_finetune(config)
            _print_summary(results, config.output)
        elif args.command == "evaluate":
            from embedtune.workflow import run_evaluate

            results = run_evaluate(args.model, config)
            _print_summary(results, config.output)
    except EmbedtuneError as err:
        print(f"embedtune: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("embedtune: interrupted", file=sys.stderr)
        return 130
    return 0


def _print_summary(results: dict, output: str) -> None:
    rows = []
    for dim in results["dims"]:
        row = {"dim": dim}
        for label in ("base", "finetuned", "model"):
            if label in results:
                row[label] = round(results[label][str(dim)]["ndcg@10"], 4)
        rows.append(row)
    print(json.dumps({"ndcg@10": rows, "output": output}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
