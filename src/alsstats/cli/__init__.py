"""The ``alsstats`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to the function that runs it (returning an exit code).

The command never shows a Python traceback: a bad option or input is one line on stderr
(``alsstats COMMAND: error: ...``) and exit 2; Ctrl-C is one line and exit 130, leaving no
partial file (writes go through :mod:`alsstats.io`); anything unforeseen is one line naming the
exception, exit 1 (set ``ALSSTATS_DEBUG=1`` to see the traceback). Every command writes only
into an existing folder (a missing one is reported, never created), with the user's umask.

Numeric options are checked by the argparse types below (:func:`positive_float`,
:func:`nonnegative_float`, :func:`positive_int`, :func:`confidence_level`, ...), shared by all
subcommands so that ``--max-seconds -1`` or ``--level 95`` fail the same way everywhere.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from ..errors import AlsstatsError
from ..version import __version__

__all__ = [
    "confidence_level",
    "main",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "prepare_engine",
    "probability",
]

# Order shown in --help.
_SUBCOMMANDS = (
    "reproduce",
    "check",
    "verify",
    "catalogue",
    "hr_curve",
    "rebuild",
    "bounds",
    "km",
    "design",
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EXIT_ERROR, EXIT_INTERRUPTED = 2, 130


# ------------------------------------------------------------------ option types (shared)
def _number(text: str, kind: type) -> float:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        name = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _bounded(kind: type, test: Callable[[float], bool], what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(text, kind)
        if not test(value):
            raise argparse.ArgumentTypeError(f"{text} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


positive_float = _bounded(float, lambda v: v > 0, "a positive number")
nonnegative_float = _bounded(float, lambda v: v >= 0, "a number >= 0")
positive_int = _bounded(int, lambda v: v > 0, "a positive whole number")
nonnegative_int = _bounded(int, lambda v: v >= 0, "a whole number >= 0")
probability = _bounded(float, lambda v: 0 < v < 1, "a proportion between 0 and 1 (e.g. 0.8)")


def confidence_level(text: str) -> float:
    """``0.95`` or ``95%``; a bare ``95`` is refused rather than guessed."""
    percent = text.strip().endswith("%")
    value = _number(text.strip().rstrip("%"), float)
    level = value / 100 if percent else value
    if not 0 < level < 1:
        if not percent and 50 <= value < 100:  # 95 for 95%: say so rather than guess
            raise argparse.ArgumentTypeError(
                f"{text} is not between 0 and 1; for {value:g}% write {value / 100:g} or {value:g}%"
            )
        raise argparse.ArgumentTypeError(
            f"{text} is not a confidence level between 0 and 1 (e.g. 0.95 or 95%)"
        )
    return level


# ------------------------------------------------------------------ the parser
class _UsageError(Exception):
    """A bad command line, raised by the parser and reported by :func:`main`."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other error."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alsstats",
        description=(
            "Reanalyse ALS trials from what their papers report. "
            "Run `alsstats reproduce` for the MIROCALS reanalysis from shipped data."
        ),
    )
    parser.add_argument("--version", action="version", version=f"alsstats {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def _say(line: str) -> None:
    """One line on stderr: colour codes removed, inner line breaks folded."""
    text = " ".join(part.strip() for part in _ANSI.sub("", line).splitlines() if part.strip())
    print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _say(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("alsstats: interrupted")
        return EXIT_INTERRUPTED
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_ERROR
    prog = f"alsstats {args.command}"
    try:
        return int(args.func(args) or 0)
    except AlsstatsError as exc:
        _say(f"{prog}: error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted (no partial file left)")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `alsstats check ... | head`: the reader left; not an error
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file system refusal not caught closer to the write
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        _say(f"{prog}: error: {where}{exc.strerror or exc}")
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: a bug, reported in one line
        if os.environ.get("ALSSTATS_DEBUG"):
            raise
        _say(
            f"{prog}: internal error: {type(exc).__name__}: {exc} "
            "(please report it; ALSSTATS_DEBUG=1 shows the traceback)"
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def prepare_engine() -> None:
    """Say on stderr when the first Cox fit will wait for numba to compile, then compile.

    The compiled kernel is cached per machine; without the message a first run looks hung for
    10-15 s. Commands that fit Cox models call this before their work.
    """
    from ..survival import kernel_compiled, warm_up

    if not kernel_compiled():
        print("compiling the Cox engine (once per machine) ...", file=sys.stderr, flush=True)
        seconds = warm_up()
        print(f"compiled in {seconds:.0f} s", file=sys.stderr)
    else:
        warm_up()
