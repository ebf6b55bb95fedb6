"""The `embedtune` parser: the top-level flags and one subcommand per entry of SUBCOMMANDS.

A subcommand is a function that adds its parser to argparse's subparsers, built with the public
helpers of embedtune/cli_flags.py (settings flags from FinetuneConfig's fields, the output-stream
flags, the help formatter); a new one is added to SUBCOMMANDS here and dispatched in
embedtune/cli.py. Nothing below this module imports it, so no subcommand module imports back.
"""

from __future__ import annotations

import argparse

import embedtune
from embedtune.cli_flags import (
    EXIT_CODES,
    HelpFormatter,
    LazyParser,
    TopParser,
    _wrap,
    add_evaluate_parser,
    add_finetune_parser,
)
from embedtune.curve.cli import add_curve_parser
from embedtune.export.command import add_export_parser
from embedtune.synthetic.cli import add_generate_parser

SUBCOMMANDS = (
    add_finetune_parser,
    add_evaluate_parser,
    add_generate_parser,
    add_curve_parser,
    add_export_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = TopParser(
        prog="embedtune",
        description=_wrap(
            "Finetune sentence-embedding models for retrieval and prove they retrieve better. "
            "Results go to stdout as JSON; logs and progress to stderr."
        ),
        epilog=f"{EXIT_CODES}\n\nrun `embedtune COMMAND --help` for a command's flags",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"embedtune {embedtune.__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=LazyParser
    )
    for add_parser in SUBCOMMANDS:
        add_parser(commands)
    return parser
