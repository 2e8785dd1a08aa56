"""`rapport insights evaluate KIND ...`: check how well the models do on any file."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from rapport.insights.ml.encoder import EncoderUnavailable
from rapport.insights.ml.evaluate import KINDS


def _load(kind: str):
    return importlib.import_module(f"rapport.insights.ml.evaluate.{kind}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport insights")
    commands = parser.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser("evaluate", help="evaluate a model on your own data")
    kinds = evaluate.add_subparsers(dest="kind", required=True)
    for kind in KINDS:
        sub = kinds.add_parser(kind)
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        _load(kind).register(sub)
    return parser


def _print_table(figures: dict) -> None:
    width = max(len(str(key)) for key in figures) if figures else 0
    for key, value in figures.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, default=str)
        print(f"{str(key).ljust(width)}  {value}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        figures = _load(args.kind).run(args)
    except (ValueError, FileNotFoundError, KeyError, EncoderUnavailable) as error:
        message = error.args[0] if error.args else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        _print_table(figures)
    return 0
