"""What every command says on the terminal: findings and pages on stdout (a closed pipe is no error), a usage
error as one line with exit 2, an internal error without a traceback. `cli` and `lint` both use it."""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import click


class Failure(click.ClickException):
    """A usage or configuration error found after parsing: `mllint: error: ...`, exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mllint: error: {self.message}", err=True)


def write(text: str) -> None:
    """Print to stdout; a reader that closed the pipe early (`mllint | head`) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python would report the failed flush at exit
        sys.exit(0)


def internal_error(exc: BaseException) -> NoReturn:
    print(f"mllint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
    if os.environ.get("MLLINT_DEBUG"):
        traceback.print_exc()
    else:
        print("mllint: set MLLINT_DEBUG=1 for the traceback, and please report it.", file=sys.stderr)
    sys.exit(2)
