"""Seed-compatible entry point: `python run.py --embeddings [--argilla] [--config YAML]`.

Runs the ZenML pipeline `finetune_embeddings` on the active stack (a local SQLite store unless you
configured another) with configs/embeddings.yaml, which holds FinetuneConfig's defaults: the same
job as `embedtune finetune --pipeline`. With --argilla, trains on the records reviewed in Argilla.
stdout carries the JSON summary only; logs go to stderr. Exit codes as `embedtune finetune`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from embedtune.cli import EXIT_BASE_KEPT, EXIT_INTERRUPTED, EXIT_USER_ERROR, base_kept, summary
from embedtune.cli_flags import EXIT_CODES, HelpFormatter, add_output_flags
from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import configure_logging, stdout_reserved

DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "configs", "embeddings.yaml"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog=f"{EXIT_CODES}\n\nexamples:\n  python run.py --embeddings\n"
        "  python run.py --embeddings --argilla --argilla-dataset my-review",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--embeddings", action="store_true", help="finetune and evaluate embeddings"
    )
    parser.add_argument(
        "--argilla", action="store_true", help="train on records reviewed in Argilla"
    )
    parser.add_argument(
        "--argilla-dataset",
        default=os.environ.get("ARGILLA_DATASET", "embedtune-queries"),
        help="Argilla dataset name (default: $ARGILLA_DATASET, else embedtune-queries)",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="settings YAML")
    parser.add_argument("--output", metavar="DIR", help="output folder (overrides the config)")
    parser.add_argument(
        "--remote-config",
        metavar="YAML",
        help="Docker, resources and step operator for a remote ZenML stack, e.g. "
        "configs/remote.yaml (docs/remote.md)",
    )
    parser.add_argument(
        "--resume", action="store_true", default=None, help="continue from the last checkpoint"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="exit with code 3 when finetuning does not beat the base model on validation",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into an output folder that holds another kind of run",
    )
    add_output_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.embeddings:
        parser.error("nothing to do: pass --embeddings")
    configure_logging(args.verbose, quiet=args.quiet, log_format=args.log_format, zenml=True)
    try:
        with stdout_reserved() as stdout:
            from embedtune.config import load_config
            from embedtune.output_folder import check_output_folder
            from embedtune.pipelines.finetune_embeddings import run_pipeline
            from embedtune.pipelines.remote_settings import load_remote_settings

            data = f"argilla:{args.argilla_dataset}" if args.argilla else None
            config = load_config(
                args.config, data=data, output=args.output, resume=args.resume, strict=args.strict
            )
            remote = load_remote_settings(args.remote_config) if args.remote_config else None
            check_output_folder(config.output, "finetune", overwrite=args.overwrite)
            results = run_pipeline(config, remote=remote)
    except EmbedtuneError as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("run.py: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(json.dumps(summary(results, config.output), indent=1, default=str), file=stdout)
    return EXIT_BASE_KEPT if config.strict and base_kept(results) else 0


if __name__ == "__main__":
    sys.exit(main())
