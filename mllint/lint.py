"""`mllint check` (the default command): options -> configuration -> run -> new findings -> report -> exit code.

Kept apart from cli.py (which only declares the click interface) so that option handling can be read in
one place. Every usage problem is a `Failure` (exit 2, one line on stderr, no traceback).
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from .console import Failure, internal_error, write
from .config import Config, ConfigError, load_config, validate_selector
from .findings import Severity

STDIN = "-"
PROGRESS_AFTER_S = 1.0


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _selectors(value: str | None, option: str) -> list[str]:
    codes = [c.upper() for c in _split(value)]
    for code in codes:
        if not validate_selector(code):
            raise Failure(f"{option}: {code!r} is not a rule code or prefix (e.g. SEED, SEED001, ALL)")
    return codes


def _check_known(config: Config, chosen: dict[str, list[str]]) -> None:
    """A selector that matches no rule is a usage error with a suggestion: a typo must not lint nothing."""
    from . import engine  # noqa: F401 - first: it defers libcst, which the rule modules would import at once
    from .codes import is_known, unknown_message
    from .rules import all_rules

    codes = list(all_rules())
    where = config.source or "the configuration"
    sources = [(option, values) for option, values in chosen.items()]
    sources += [(f"{where}: `select`", config.select), (f"{where}: `ignore`", config.ignore),
                (f"{where}: `extend-select`", config.extend_select)]
    sources += [(f"per-file-ignores {glob!r}", values) for glob, values in config.per_file_ignores.items()]
    for option, values in sources:
        for code in values:
            if not is_known(code, codes):
                raise Failure(f"{option}: {unknown_message(code, codes)}")


def _per_file_ignores(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        glob, sep, codes = value.rpartition(":")
        if not sep or not glob or not codes.strip():
            raise Failure(f"--per-file-ignores: {value!r} is not GLOB:CODES (e.g. 'scripts/*.py:SEED,LEAK003')")
        out.setdefault(glob, []).extend(_selectors(codes, "--per-file-ignores"))
    return out


def _colour(choice: str | None, no_color: bool, fmt: str, to_file: bool) -> bool:
    """--color always|never wins; then NO_COLOR, FORCE_COLOR (https://no-color.org); then: is stdout a terminal."""
    if fmt != "text" or no_color or choice == "never":
        return False
    if choice == "always":
        return True
    if to_file or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


class Progress:
    """`mllint: analysing... 3.2 s` on stderr, redrawn in place, from one second into the run; only on a
    terminal and only for the text format (machine formats and logs stay clean)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.done = threading.Event()
        self.shown = False
        self.thread = threading.Thread(target=self._loop, daemon=True) if enabled else None

    def __enter__(self) -> "Progress":
        if self.thread is not None:
            self.start = time.monotonic()
            self.thread.start()
        return self

    def _loop(self) -> None:
        frames = "|/-\\"
        tick = 0
        if self.done.wait(PROGRESS_AFTER_S):
            return
        while not self.done.is_set():
            elapsed = time.monotonic() - self.start
            sys.stderr.write(f"\rmllint: analysing {frames[tick % 4]} {elapsed:5.1f} s")
            sys.stderr.flush()
            self.shown = True
            tick += 1
            self.done.wait(0.2)

    def __exit__(self, *_: object) -> None:
        if self.thread is not None:
            self.done.set()
            self.thread.join()
            if self.shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()


def _configure(options: dict[str, Any], start: Path) -> Config:
    try:
        config = load_config(options["config_path"], start)
    except ConfigError as exc:
        raise Failure(f"configuration error: {exc}") from None
    if options["exclude"] is not None:
        config.exclude = _split(options["exclude"])
    config.extend_exclude = [*config.extend_exclude, *_split(options["extend_exclude"])]
    for glob, codes in _per_file_ignores(options["per_file_ignores"]).items():
        config.per_file_ignores[glob] = [*config.per_file_ignores.get(glob, []), *codes]
    if options["max_file_size"]:
        config.max_file_size = options["max_file_size"]
    return config


def _show_settings(config: Config, select: list[str], ignore: list[str], threshold: Severity) -> str:
    import json

    lines = [f"# configuration file: {config.source or '(none found: defaults)'}"]
    values = {
        "select": select, "ignore": ignore, "fail-on": str(threshold), "exclude": config.exclude,
        "extend-exclude": config.extend_exclude, "respect-gitignore": config.respect_gitignore,
        "held-out-splits": config.held_out_splits, "max-file-size": config.max_file_size,
    }
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value)}")
    if config.per_file_ignores:
        lines.append("[per-file-ignores]")
        lines += [f"{json.dumps(glob)} = {json.dumps(codes)}" for glob, codes in config.per_file_ignores.items()]
    return "\n".join(lines) + "\n"


def _stdin_file(filename: str) -> tuple[str, str]:
    """(absolute path linted, temporary file holding stdin's bytes, with the same suffix)."""
    import tempfile

    data = sys.stdin.buffer.read()
    suffix = os.path.splitext(filename)[1] or ".py"
    handle, tmp = tempfile.mkstemp(prefix="mllint-stdin-", suffix=suffix)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return os.path.abspath(filename), tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


TEMPORARY_FILES: list[str] = []  # removed at exit, and by cli's Ctrl-C handler, which skips atexit


def remove_temporaries() -> None:
    while TEMPORARY_FILES:
        _remove(TEMPORARY_FILES.pop())


def _warn(message: str) -> None:
    print(f"mllint: warning: {message}", file=sys.stderr)


def lint(options: dict[str, Any]) -> NoReturn:
    fmt: str = options["fmt"]
    paths = list(options["paths"])
    stdin_name = options["stdin_filename"]
    if stdin_name and not paths:
        paths = [STDIN]
    if STDIN in paths and len(paths) > 1:
        raise Failure("`-` (stdin) cannot be combined with other paths")
    if STDIN in paths and not stdin_name:
        stdin_name = "stdin.py"
    paths = paths or ["."]
    if STDIN not in paths and not any(os.path.lexists(p) for p in paths):
        missing = ", ".join(repr(p) for p in paths)
        raise Failure(f"path {missing} does not exist" if len(paths) == 1 else f"none of the paths exist: {missing}")
    if options["baseline"] and options["write_baseline"]:
        raise Failure("--baseline and --write-baseline cannot be used together")

    start = Path(stdin_name).parent if STDIN in paths else Path(next(p for p in paths if os.path.lexists(p)))
    config = _configure(options, start)
    cli_select = _selectors(options["select"], "--select")
    cli_extend = _selectors(options["extend_select"], "--extend-select")
    cli_ignore = _selectors(options["ignore"], "--ignore")
    _check_known(config, {"--select": cli_select, "--extend-select": cli_extend, "--ignore": cli_ignore})
    chosen = (cli_select or config.select) + cli_extend + config.extend_select
    ignored = cli_ignore + config.ignore
    threshold = Severity.parse(options["fail_on"]) if options["fail_on"] else config.fail_on

    if options["show_settings"]:
        write(_show_settings(config, chosen, ignored, threshold))
        sys.exit(0)
    if options["show_files"]:
        _show_files(paths, config, stdin_name)
        sys.exit(0)

    changed = None
    if options["changed_since"]:
        from .baseline import BaselineError, changed_lines

        try:
            changed = changed_lines(options["changed_since"])
        except BaselineError as exc:
            raise Failure(str(exc)) from None

    substitutes: dict[str, str] = {}
    temporary = None
    if STDIN in paths:
        target, temporary = _stdin_file(stdin_name)
        substitutes[target] = temporary
        paths = [stdin_name]
    for path in paths:
        if os.path.isfile(path) and not path.endswith((".py", ".pyi", ".ipynb")) and not substitutes:
            from .discovery import is_python_script

            if not is_python_script(path):
                _warn(f"{path} is not a Python file or notebook: skipped")
    if temporary is not None:  # removed at exit: reporters read stdin's lines from it for excerpts and fingerprints
        TEMPORARY_FILES.append(temporary)
        atexit.register(remove_temporaries)
    result = _run(paths, config, chosen, ignored, options, substitutes, fmt)
    _warn_empty_folders(paths, result)

    if options["write_baseline"]:
        from .baseline import BaselineError, write as write_baseline

        try:
            count = write_baseline(result, options["write_baseline"])
        except BaselineError as exc:
            raise Failure(str(exc)) from None
        print(f"mllint: wrote {count} finding{'s' if count != 1 else ''} to the baseline "
              f"{options['write_baseline']}", file=sys.stderr)
        sys.exit(0)
    if options["baseline"]:
        from .baseline import Baseline, BaselineError

        try:
            known = Baseline.load(options["baseline"])
        except BaselineError as exc:
            raise Failure(str(exc)) from None
        new, _ = known.new_findings(result)
        _keep_new(result, new)
    if changed is not None:
        from .baseline import on_changed_lines

        _keep_new(result, on_changed_lines(result.findings, changed))

    output = options["output"]
    colour = _colour(options["color"], options["no_color"], fmt, output is not None)
    width = os.get_terminal_size(sys.stdout.fileno()).columns if output is None and sys.stdout.isatty() else None
    text = _render(result, fmt, colour=colour, quiet=options["quiet"], statistics=options["statistics"],
                   show_suppressed=options["show_suppressed"], width=width)
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Failure(f"cannot write {output}: {exc.strerror or exc}") from None
    elif text:
        write(text)
    failing = [f for f in result.findings if f.severity >= threshold]
    sys.exit(0 if options["exit_zero"] or not failing else 1)


def _keep_new(result, new: list) -> None:
    """Report only `new`; the rest of the findings are counted and kept aside as known."""
    ids = {id(f) for f in new}
    result.known.extend(f for f in result.findings if id(f) not in ids)
    result.known.sort(key=lambda f: f.sort_key())
    result.baselined = len(result.known)
    result.findings = new
    result.compared = True


def _run(paths: list[str], config: Config, chosen: list[str], ignored: list[str], options: dict[str, Any],
         substitutes: dict[str, str], fmt: str):
    from .engine import run

    workers = options["jobs"] or os.cpu_count() or 1
    show = fmt == "text" and not options["quiet"] and options["output"] is None and sys.stderr.isatty()
    try:
        with Progress(show):
            return run(paths, config, chosen, ignored, jobs=workers, cache_dir=options["cache_dir"],
                       use_cache=not options["no_cache"], substitutes=substitutes)
    except Exception as exc:  # noqa: BLE001 - an internal failure is exit 2 with a message
        internal_error(exc)


def _render(result, fmt: str, statistics: bool, **options: Any) -> str:
    from .report import renderer
    from .report.common import statistics_text

    if statistics and fmt not in ("text", "json", "json-full", "markdown"):
        return statistics_text(result)  # as ruff does: other formats have no place for counts
    return renderer(fmt)(result, statistics=statistics, **options)


def _warn_empty_folders(paths: list[str], result) -> None:
    scanned = [os.path.abspath(p) for p in result.scanned]
    for path in paths:
        if os.path.isdir(path):
            folder = os.path.abspath(path).rstrip(os.sep) + os.sep
            if not any(s.startswith(folder) for s in scanned):
                _warn(f"no Python files (.py, .ipynb) found in {path}")


def _show_files(paths: list[str], config: Config, stdin_name: str | None) -> None:
    from .discovery import discover
    from .engine import display_path

    if STDIN in paths:
        write(display_path(os.path.abspath(stdin_name or "stdin.py")) + "\n")
        return
    found = discover(paths, [*config.exclude, *config.extend_exclude], config.respect_gitignore, with_aux=False)
    write("".join(display_path(p) + "\n" for p in found.sources))
