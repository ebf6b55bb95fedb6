"""Seed-compatible entry point: `python run.py --embeddings [--argilla] [--config YAML]`.

Runs the ZenML pipeline `finetune_embeddings` on the active stack (a local SQLite store unless you
configured another). With --argilla, trains on the records reviewed in Argilla.
"""

from __future__ import annotations

import argparse
import os
import sys

from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import configure_logging

DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "configs", "embeddings.yaml"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
        help="Argilla dataset name (default: $ARGILLA_DATASET or embedtune-queries)",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="settings YAML")
    parser.add_argument("--output", help="output folder (overrides the config)")
    parser.add_argument(
        "--resume", action="store_true", default=None, help="continue from the last checkpoint"
    )
    args = parser.parse_args(argv)
    if not args.embeddings:
        parser.error("nothing to do: pass --embeddings")
    configure_logging(zenml=True)
    try:
        from embedtune.pipelines.finetune_embeddings import run_pipeline
        from embedtune.config import load_config

        data = f"argilla:{args.argilla_dataset}" if args.argilla else None
        config = load_config(args.config, data=data, output=args.output, resume=args.resume)
        results = run_pipeline(config)
    except EmbedtuneError as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return 2
    for dim in results["dims"]:
        base, tuned = (
            results["base"][str(dim)]["ndcg@10"],
            results["finetuned"][str(dim)]["ndcg@10"],
        )
        print(
            f"dim {dim:>4}: nDCG@10 base {base:.4f} -> finetuned {tuned:.4f} ({tuned - base:+.4f})"
        )
    print(f"outputs in {config.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
