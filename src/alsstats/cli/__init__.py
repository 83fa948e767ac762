"""The ``alsstats`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to the function that runs it (returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..errors import AlsstatsError
from ..version import __version__

__all__ = ["main"]

# Order shown in --help.
_SUBCOMMANDS = ("reproduce", "check", "hr_curve", "rebuild", "km", "design")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alsstats",
        description=(
            "Reanalyse ALS trials from what their papers report. "
            "Run `alsstats reproduce` for the MIROCALS reanalysis from shipped data."
        ),
    )
    parser.add_argument("--version", action="version", version=f"alsstats {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet in this checkout
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AlsstatsError as exc:
        print(f"alsstats {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `alsstats check ... | head`: the reader left; not an error
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
