"""`embedtune curve`: the learning curve from the command line (thin over embedtune.curve.run and
the ZenML pipeline learning_curve). Takes the finetune flags, except those a curve cannot honour
(it keeps no model: nothing to resume, push, export or merge)."""

from __future__ import annotations

import argparse
from typing import Any

from embedtune.cli_flags import (
    EXIT_CODES_NO_STRICT,
    FINETUNE,
    FLAGS,
    HelpFormatter,
    _add_run_flags,
    _add_setting,
    _wrap,
    add_output_flags,
    default_text,
    field_defaults,
    settings_from,
)
from embedtune.config import load_config
from embedtune.curve.fractions import DEFAULT_FRACTIONS, MIN_CURVE_PAIRS, parse_fractions
from embedtune.curve.schema import CURVE_OUTPUT

CURVE = "curve"
# Finetune settings that a learning curve does not offer (it keeps no model): curve=False on
# their FinetuneConfig field.
NOT_OFFERED = tuple(flag.name for flag in FLAGS if not flag.curve)
EXAMPLES = """examples:
  embedtune curve                                            # built-in data, 25%, 50%, 100%
  embedtune curve --data path/to/beir --fractions 0.1,0.25,0.5,1 --output outputs/curve-legal
  embedtune curve --data pairs.jsonl --learning-rate 2e-4 --epochs 1 --pipeline"""


def add_curve_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        CURVE,
        help="learning curve: nDCG@10 vs training pairs (would more data help?)",
        description=_wrap(
            "Finetune on nested seeded fractions of the training pairs with the finetune "
            "recipe, score every model (the base as 0 pairs) on the same test queries, and say "
            "per dim whether the last step of data still helped. Writes curve.json, curve.png "
            "and curve.html; the models themselves are not kept."
        ),
        epilog=f"{EXIT_CODES_NO_STRICT}\n\n{EXAMPLES}",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--fractions",
        default=",".join(f"{f:g}" for f in DEFAULT_FRACTIONS),
        metavar="F1,F2,..",
        help="strictly increasing shares of the training pairs in (0, 1], nested (each subset "
        f"inside the next); each must give at least {MIN_CURVE_PAIRS} pairs",
    )
    defaults = field_defaults()
    groups: dict[str, argparse._ArgumentGroup] = {}
    for flag in FLAGS:
        if FINETUNE not in flag.commands or flag.name in NOT_OFFERED:
            continue
        if flag.group not in groups:
            groups[flag.group] = parser.add_argument_group(flag.group)
        shown = CURVE_OUTPUT if flag.name == "output" else default_text(flag.name, defaults)
        _add_setting(groups[flag.group], flag, shown)
    _add_run_flags(parser).add_argument(
        "--pipeline", action="store_true", help="run as the ZenML pipeline learning_curve"
    )
    add_output_flags(parser)


def curve_dry_run(config: Any, fractions: list[float]) -> dict[str, Any]:
    """The resolved settings and each point's pair count; loads the data, never the weights."""
    from embedtune.curve.run import plan_curve
    from embedtune.workflow import load_data

    plan = plan_curve(config, load_data(config), fractions)
    return {
        "dry_run": True,
        "command": CURVE,
        "config": config.public_dict(),
        "fractions": plan.fractions,
        "pairs": plan.counts,
        "validation_queries": plan.carved.info.get("validation_queries", 0),
    }


def curve_command(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """`embedtune curve`: (the stdout JSON summary, exit code)."""
    fractions = parse_fractions(args.fractions)
    settings = settings_from(args)
    settings["output"] = args.output or CURVE_OUTPUT
    config = load_config(args.config, **settings)
    if args.dry_run:
        return curve_dry_run(config, fractions), 0
    from embedtune.curve.run import curve_summary

    if args.pipeline:
        from embedtune.pipelines.learning_curve import run_curve_pipeline
        from embedtune.pipelines.source_root import pin_zenml_source_root

        pin_zenml_source_root()
        curve = run_curve_pipeline(config, fractions, overwrite=args.overwrite)
    else:
        from embedtune.curve.run import run_curve

        curve = run_curve(config, fractions, overwrite=args.overwrite)
    return curve_summary(curve, config.output), 0
