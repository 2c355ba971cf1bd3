"""Command line: `mllint [PATH ...]`, `mllint rules`, `mllint rule CODE`.

Exit codes: 0 no findings at or above the fail level, 1 findings, 2 usage error or internal failure.
argparse rather than click: a pre-commit hook starts a process per commit, and click's import costs
as much as reading a warm project of a hundred files from the cache.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from . import __version__
from .config import ConfigError, load_config, validate_selector
from .findings import Severity

SUBCOMMANDS = ("check", "rules", "rule")
FORMAT_CHOICES = ("text", "json")

DESCRIPTION = """mllint: find red flags in machine-learning training code (leakage, single seeds, ...).

  mllint [OPTIONS] [PATH]...   lint files and folders (default: .)
  mllint rules                 list every rule
  mllint rule CODE             show a rule's documentation

A folder named like a subcommand is linted as ./rules."""


class UsageError(Exception):
    """A bad argument: reported as `mllint: error: ...` with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        _fail(f"error: {message}")


def _fail(message: str) -> NoReturn:
    print(f"mllint: {message}", file=sys.stderr)
    sys.exit(2)


def _codes(value: str | None) -> list[str]:
    if not value:
        return []
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not validate_selector(code):
            raise UsageError(f"{code!r} is not a rule code or prefix (e.g. SEED, SEED001, ALL)")
    return codes


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def _check_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mllint", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("paths", nargs="*", metavar="PATH", help="files and folders to lint (default: .)")
    add("--version", action="version", version=f"mllint {__version__}")
    add("--select", help="Comma-separated codes or prefixes to enable (replaces the default, ALL).")
    add("--ignore", help="Comma-separated codes or prefixes to disable.")
    add("--extend-select", help="Codes or prefixes to enable on top of the selection.")
    add("--format", dest="fmt", choices=FORMAT_CHOICES, default="text", help="Output format (default: text).")
    add("--output", "-o", help="Write the report to a file.")
    add("--exit-zero", action="store_true", help="Exit 0 even when there are findings.")
    add("--fail-on", choices=("error", "warning", "info"), help="Lowest severity that fails (default: warning).")
    add("--config", dest="config_path", help="Configuration file (default: found by walking up).")
    add("--jobs", "-j", type=_jobs, help="Worker processes (default: cores).")
    add("--no-cache", action="store_true", help="Do not read or write the cache of per-file results.")
    add("--cache-dir", help="Cache folder (default: .mllint_cache in the project root).")
    add("--statistics", action="store_true", help="Print a count of findings per rule instead of the findings.")
    add("--show-suppressed", action="store_true", help="Also list findings silenced by suppression comments, with their reasons.")
    add("--quiet", "-q", action="store_true", help="Only the finding lines: no source, hints or summary.")
    add("--color", dest="color", action="store_true", default=None, help="Colour the text output (default: on a terminal).")
    add("--no-color", dest="color", action="store_false", help="Never colour the text output.")
    return parser


def main(argv: list[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args and args[0] in SUBCOMMANDS else "check"
    if args and args[0] in SUBCOMMANDS:
        args = args[1:]
    try:
        if command == "rules":
            parser = _Parser(prog="mllint rules", description="List every rule: code, name, severity and summary.")
            parser.add_argument("--format", dest="fmt", choices=FORMAT_CHOICES, default="text")
            list_rules(parser.parse_args(args).fmt)
        elif command == "rule":
            parser = _Parser(prog="mllint rule", description="Print the documentation page of rule CODE.")
            parser.add_argument("code", metavar="CODE")
            show_rule(parser.parse_args(args).code)
        else:
            check(_check_parser().parse_args(args))
    except UsageError as exc:
        _fail(f"error: {exc}")
    sys.exit(0)


def check(options: argparse.Namespace) -> NoReturn:
    """Lint PATHS (files and folders; default: the current folder)."""
    from .engine import run
    from .report import FORMATS

    paths = list(options.paths) or ["."]
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"path {path!r} does not exist")
    try:
        config = load_config(options.config_path, Path(paths[0]))
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    chosen = _codes(options.select) or config.select
    chosen = chosen + _codes(options.extend_select) + config.extend_select
    ignored = _codes(options.ignore) + config.ignore
    threshold = Severity.parse(options.fail_on) if options.fail_on else config.fail_on
    workers = options.jobs or os.cpu_count() or 1
    try:
        result = run(paths, config, chosen, ignored, jobs=workers, cache_dir=options.cache_dir,
                     use_cache=not options.no_cache)
    except Exception as exc:  # noqa: BLE001 - an internal failure is exit 2 with a message
        print(f"mllint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("MLLINT_DEBUG"):
            traceback.print_exc()
        else:
            print("mllint: set MLLINT_DEBUG=1 for the traceback, and please report it.", file=sys.stderr)
        sys.exit(2)
    output = options.output
    colour = options.color if options.color is not None else (
        output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    text = FORMATS[options.fmt](result, colour=colour, quiet=options.quiet, statistics=options.statistics,
                                show_suppressed=options.show_suppressed)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        _write(text)
    failing = [f for f in result.findings if f.severity >= threshold]
    sys.exit(0 if options.exit_zero or not failing else 1)


def list_rules(fmt: str) -> None:
    """List every rule: code, name, severity and summary."""
    import json

    from .rules import all_rules

    rules = all_rules()
    if fmt == "json":
        _write(json.dumps([{"code": r.code, "name": r.name, "severity": str(r.severity), "summary": r.summary}
                           for r in rules.values()], indent=2) + "\n")
        return
    _write("".join(f"{r.code:<9} {r.name:<32} {str(r.severity):<8} {r.summary}\n" for r in rules.values()))


def show_rule(code: str) -> None:
    """Print the documentation page of rule CODE."""
    from .docs import rule_page
    from .rules import all_rules

    rule = all_rules().get(code.upper())
    if rule is None:
        _fail(f"unknown rule {code!r}; `mllint rules` lists them")
    _write(rule_page(rule) + "\n")


def _write(text: str) -> None:
    """Print to stdout; a reader that closed the pipe early (`mllint | head`) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python would report the failed flush at exit
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
