"""Command line: `mllint [PATH ...]`, `mllint rules`, `mllint rule CODE`.

Exit codes: 0 no findings at or above the fail level, 1 findings, 2 usage error or internal failure.
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, load_config, validate_selector
from .findings import Severity

SUBCOMMANDS = ("check", "rules", "rule")
FORMAT_CHOICES = ("text", "json")


class DefaultGroup(click.Group):
    """`mllint PATH` means `mllint check PATH`; a folder named like a subcommand needs `./rules`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _codes(value: str | None) -> list[str]:
    if not value:
        return []
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not validate_selector(code):
            raise click.BadParameter(f"{code!r} is not a rule code or prefix (e.g. SEED, SEED001, ALL)")
    return codes


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mllint")
def main() -> None:
    """mllint: find red flags in machine-learning training code (leakage, single seeds, ...).

    \b
    mllint [OPTIONS] [PATH]...   lint files and folders (default: .)
    mllint rules                 list every rule
    mllint rule CODE             show a rule's documentation
    """


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", help="Comma-separated codes or prefixes to enable (replaces the default, ALL).")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable.")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_CHOICES), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to a file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), help="Lowest severity that fails (default: warning).")
@click.option("--config", "config_path", type=click.Path(), help="Configuration file (default: found by walking up).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: cores).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache of per-file results.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache folder (default: .mllint_cache in the project root).")
@click.option("--statistics", is_flag=True, help="Print a count of findings per rule instead of the findings.")
@click.option("--show-suppressed", is_flag=True, help="Also list findings silenced by suppression comments, with their reasons.")
@click.option("--quiet", "-q", is_flag=True, help="Only the finding lines: no source, hints or summary.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: on a terminal).")
def check(paths, select, ignore, extend_select, fmt, output, exit_zero, fail_on, config_path, jobs, no_cache, cache_dir,
          statistics, show_suppressed, quiet, color) -> None:
    """Lint PATHS (files and folders; default: the current folder)."""
    from .engine import run
    from .report import FORMATS

    paths = list(paths) or ["."]
    for path in paths:
        if not os.path.lexists(path):
            raise click.BadParameter(f"path {path!r} does not exist", param_hint="PATH")
    try:
        config = load_config(config_path, Path(paths[0]))
    except ConfigError as exc:
        click.echo(f"mllint: configuration error: {exc}", err=True)
        sys.exit(2)
    chosen = _codes(select) or config.select
    chosen = chosen + _codes(extend_select) + config.extend_select
    ignored = _codes(ignore) + config.ignore
    threshold = Severity.parse(fail_on) if fail_on else config.fail_on
    workers = jobs or os.cpu_count() or 1
    try:
        result = run(paths, config, chosen, ignored, jobs=workers, cache_dir=cache_dir, use_cache=not no_cache)
    except Exception as exc:  # noqa: BLE001 - an internal failure is exit 2 with a message
        click.echo(f"mllint: internal error: {type(exc).__name__}: {exc}", err=True)
        if os.environ.get("MLLINT_DEBUG"):
            traceback.print_exc()
        else:
            click.echo("mllint: set MLLINT_DEBUG=1 for the traceback, and please report it.", err=True)
        sys.exit(2)
    colour = color if color is not None else (output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    text = FORMATS[fmt](result, colour=colour, quiet=quiet, statistics=statistics, show_suppressed=show_suppressed)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"mllint: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(2)
    else:
        click.echo(text, nl=False)
    failing = [f for f in result.findings if f.severity >= threshold]
    sys.exit(0 if exit_zero or not failing else 1)


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_rules(fmt: str) -> None:
    """List every rule: code, name, severity and summary."""
    import json

    from .rules import all_rules

    rules = all_rules()
    if fmt == "json":
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": str(r.severity), "summary": r.summary}
                               for r in rules.values()], indent=2))
        return
    for rule in rules.values():
        click.echo(f"{rule.code:<9} {rule.name:<32} {str(rule.severity):<8} {rule.summary}")


@main.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Print the documentation page of rule CODE."""
    from .docs import rule_page
    from .rules import all_rules

    rule = all_rules().get(code.upper())
    if rule is None:
        click.echo(f"mllint: unknown rule {code!r}; `mllint rules` lists them", err=True)
        sys.exit(2)
    click.echo(rule_page(rule))


if __name__ == "__main__":  # pragma: no cover
    main()
