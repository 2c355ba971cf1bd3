"""Command line (click): `mllint [PATH]...` lints (the default command, also `mllint check`); `mllint rules`,
`mllint rule CODE|NAME`; `probe`, `recipe` and `stats` are loaded from their packages only when used.

Exit codes: 0 no findings at or above the fail level, 1 findings, 2 usage error or internal failure.
click's import costs a few milliseconds more than argparse's; everything else (the engine, reporters, rules) is
imported inside the command that needs it, and the engine before the rules, so that a warm run never loads
libcst (tests/test_cli_usage.py checks it).
"""
from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from typing import Any, NoReturn

from .workers import discard_early, start_for_command_line

start_for_command_line(sys.argv)  # `mllint FILE...`: its workers start before click and the engine load

import click  # noqa: E402

from . import __version__
from .console import Failure, write

FORMAT_NAMES = ("text", "json", "json-full", "sarif", "github", "rdjson", "junit", "markdown")
GROUP_OPTIONS = ("--help", "-h", "--version")
# name -> (module, attribute holding a click.Command, one-line help shown without importing it)
LAZY_COMMANDS = {
    "probe": ("mllint.probe.cli", "probe", "Run a training command under the runtime probe."),
    "recipe": ("mllint.recipe.cli", "recipe", "Print the training-recipe card of a project."),
    "stats": ("mllint.compare.cli", "stats", "Compare two methods' per-seed results (Welch's t-test)."),
}
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class MllintGroup(click.Group):
    """A group whose default command is `check`: anything that is not a command name lints."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = _bare_color(list(args))
        completing_a_command = ctx.resilient_parsing and not args
        if not completing_a_command and (not args or (args[0] not in self._names() and args[0] not in GROUP_OPTIONS)):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def _names(self) -> set[str]:
        return {*self.commands, *LAZY_COMMANDS}

    def list_commands(self, ctx: click.Context) -> list[str]:
        available = [name for name, (module, _, _) in LAZY_COMMANDS.items() if _importable(module)]
        return [*self.commands, *available]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in LAZY_COMMANDS:
            return None
        module, attribute, _ = LAZY_COMMANDS[name]
        try:
            from importlib import import_module

            command = getattr(import_module(module), attribute)
        except Exception as exc:  # noqa: BLE001 - a missing or broken extra is a message, not a traceback
            return _unavailable(name, f"{type(exc).__name__}: {exc}")
        if not isinstance(command, click.Command):
            return _unavailable(name, f"{module}.{attribute} is not a click command")
        return command

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        """`mllint <TAB>`: command names, and what the default command completes (its options, paths)."""
        from click.shell_completion import CompletionItem

        items = super().shell_complete(ctx, incomplete)
        check = self.commands["check"]
        if incomplete.startswith("-"):
            items += check.shell_complete(ctx, incomplete)
        else:
            items.append(CompletionItem(incomplete, type="file"))
        return items

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(" ".join([name, *(p.human_readable_name for p in command.params if isinstance(p, click.Argument))]),
                 command.get_short_help_str(60)) for name, command in self.commands.items()]
        rows += [(name, LAZY_COMMANDS[name][2]) for name in self.list_commands(ctx) if name in LAZY_COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The linting options are the ones people need: `mllint --help` shows them with the commands."""
        formatter.write_usage("mllint", "[OPTIONS] [PATH]...")
        formatter.write_usage("mllint", "COMMAND [ARGS]...", prefix="   or: ")
        self.format_help_text(ctx, formatter)
        check = self.commands["check"]
        records = [r for p in check.get_params(ctx)
                   if isinstance(p, click.Option) and (r := p.get_help_record(ctx)) is not None]
        records += [r for p in self.get_params(ctx) if p.name == "version" and (r := p.get_help_record(ctx))]
        with formatter.section("Options"):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text("Exit codes: 0 no findings at or above the fail level, 1 findings, 2 usage error "
                             "or internal failure. Shell completion: eval \"$(_MLLINT_COMPLETE=bash_source mllint)\" "
                             "(zsh_source, fish_source for those shells).")


def _importable(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _unavailable(name: str, reason: str) -> click.Command:
    def say(**_: object) -> NoReturn:
        raise Failure(f"the `{name}` command is not available in this installation ({reason})")

    return click.Command(name, callback=say, help=f"Not available: {reason}", add_help_option=False,
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True})


def _bare_color(args: list[str]) -> list[str]:
    """`--color` alone (the older flag) means `--color always`, whatever follows it."""
    out = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg == "--color" and (i + 1 == len(args) or args[i + 1] not in ("auto", "always", "never")):
            arg = "--color=always"
        out.append(arg)
    return out


@click.group(cls=MllintGroup, context_settings=CONTEXT, invoke_without_command=False,
             help="Find red flags in machine-learning training code: leakage, single seeds, ...\n\n"
                  "`mllint [PATH]...` lints files and folders (default: .); for a folder named like a command, write "
                  "./rules or `mllint check rules`.")
@click.version_option(__version__, "--version", prog_name="mllint", message="%(prog)s %(version)s",
                      help="Show the version and exit.")
def cli() -> None:
    pass


def _codes_option(*names: str, help: str) -> Any:
    return click.option(*names, metavar="CODES", help=help)


@cli.command("check", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(dir_okay=True, file_okay=True))
@_codes_option("--select", help="Comma-separated codes or prefixes to enable (replaces the default, ALL).")
@_codes_option("--ignore", help="Comma-separated codes or prefixes to disable.")
@_codes_option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--format", "--output-format", "fmt", type=click.Choice(FORMAT_NAMES), default="text",
              envvar="MLLINT_OUTPUT_FORMAT", show_envvar=True, help="Output format (default: text).")
@click.option("--output", "-o", metavar="FILE", help="Write the report to a file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fail-on", type=click.Choice(("error", "warning", "info")),
              help="Lowest severity that fails (default: warning).")
@click.option("--config", "config_path", metavar="FILE", help="Configuration file (default: found by walking up).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N", help="Worker processes (default: cores).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache of per-file results.")
@click.option("--cache-dir", metavar="DIR", help="Cache folder (default: .mllint_cache in the project root).")
@click.option("--exclude", metavar="PATTERNS", help="Comma-separated patterns to exclude (replaces the defaults).")
@click.option("--extend-exclude", metavar="PATTERNS", help="Comma-separated patterns to exclude on top.")
@click.option("--per-file-ignores", metavar="GLOB:CODES", multiple=True,
              help="Ignore codes in matching files, e.g. 'scripts/*.py:SEED,LEAK003' (repeatable).")
@click.option("--max-file-size", type=click.IntRange(min=1), metavar="BYTES",
              help="Skip larger files with FILE006 (default: 2 MiB).")
@click.option("--stdin-filename", metavar="PATH",
              help="Lint the source read from stdin (path `-`) as the file PATH, in PATH's project.")
@click.option("--baseline", metavar="FILE", help="Report only findings not recorded in this baseline.")
@click.option("--write-baseline", metavar="FILE", help="Record today's findings in FILE (and exit 0).")
@click.option("--changed-since", metavar="REV", help="Report only findings on lines changed since git revision REV.")
@click.option("--statistics", is_flag=True, help="Print a count of findings per rule instead of the findings.")
@click.option("--show-suppressed", is_flag=True,
              help="Also list findings silenced by suppression comments, with their reasons.")
@click.option("--show-settings", is_flag=True, help="Print the configuration file found and the settings, then exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be linted, then exit.")
@click.option("--quiet", "-q", is_flag=True,
              help="Only the finding lines: no source, hints or summary; nothing at all when clean.")
@click.option("--color", type=click.Choice(("auto", "always", "never")), default=None,
              help="Colour the text output (default: auto, on a terminal; NO_COLOR and FORCE_COLOR respected).")
@click.option("--no-color", is_flag=True, hidden=True, help="Same as --color never.")
def check_command(**options: Any) -> None:
    """Lint PATH... (files and folders; default: the current folder)."""
    from .lint import lint

    lint(options)


@cli.command("rules", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", help="Output format.")
def rules_command(fmt: str) -> None:
    """List every rule: code, name, severity and summary."""
    import json

    rules = _all_rules()
    if fmt == "json":
        from .report.common import docs_url

        write(json.dumps([{"code": r.code, "name": r.name, "severity": str(r.severity), "summary": r.summary,
                           "url": docs_url(r.code)} for r in rules.values()], indent=2) + "\n")
        return
    write("".join(f"{r.code:<9} {r.name:<32} {str(r.severity):<8} {r.summary}\n" for r in rules.values()))


def _all_rules() -> dict:
    from . import engine  # noqa: F401 - first: it defers libcst, which the rule modules would import at once
    from .rules import all_rules

    return all_rules()


def _complete_rule(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    names = [n for rule in _all_rules().values() for n in (rule.code, rule.name)]
    return [n for n in names if n.lower().startswith(incomplete.lower())]


@cli.command("rule", context_settings=CONTEXT)
@click.argument("code", required=False, metavar="CODE|NAME", shell_complete=_complete_rule)
@click.option("--all", "show_all", is_flag=True, help="Print every rule's page.")
def rule_command(code: str | None, show_all: bool) -> None:
    """Print the documentation page of a rule, by code (SEED001) or name (single-fixed-seed)."""
    from .codes import did_you_mean
    from .docs import rule_page

    if show_all and code:
        raise click.UsageError(f"give a rule ({code}) or --all, not both")
    rules = _all_rules()
    if show_all:
        write("\n".join(rule_page(rule).rstrip("\n") + "\n" for rule in rules.values()))
        return
    if not code:
        raise click.UsageError("give a rule code or name (or --all); `mllint rules` lists them")
    by_name = {rule.name: rule for rule in rules.values()}
    rule = rules.get(code.upper()) or by_name.get(code.lower())
    if rule is None:
        hint = did_you_mean(code, rules) if code[:1].isupper() or code.isalnum() else ""
        if not hint:
            import difflib

            close = difflib.get_close_matches(code.lower(), by_name, n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise Failure(f"unknown rule {code!r}{hint}; `mllint rules` lists them")
    write(rule_page(rule) + "\n")


def main(argv: list[str] | None = None) -> NoReturn:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(args=args, prog_name="mllint", standalone_mode=False)
    except click.ClickException as exc:  # usage errors: exit 2 (Failure and click's own)
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):  # not click's "Aborted!" with exit 1, which means findings here
        _interrupted()
    finally:
        discard_early()  # workers started for a run that did not happen (a usage error): ended, not awaited
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted() -> NoReturn:
    """Exit 130 at once: a second Ctrl-C is ignored from here on, any worker process still alive is killed
    (the pools kill theirs; this is the safety net), and the process ends with `os._exit`. A normal exit
    would join the process pool's threads and queue feeders (which can wait for ever on a pipe whose reader
    was killed) and tear down every object of the run, seconds of CPU that a loaded machine gives slowly."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if "multiprocessing" in sys.modules:
        for child in sys.modules["multiprocessing"].active_children():
            child.kill()
            child.join(timeout=1.0)
    lint = sys.modules.get("mllint.lint")
    if lint is not None:
        lint.remove_temporaries()  # what atexit would have done
    print("mllint: interrupted", file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
