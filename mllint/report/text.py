"""`--format text`: `path:line:col: CODE [severity] message`, the source line with the span underlined, the
rule, related locations and the hint; a summary per family and severity. The severity is written out on
every finding line: colour is not the only signal (CI logs have none)."""
from __future__ import annotations

import textwrap

from ..findings import Finding, Severity
from ..results import RunResult
from . import common

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
_ANSI = {"red": 31, "yellow": 33, "blue": 34, "cyan": 36}


def _style(text: str, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
    """ANSI styles, as click.style writes them."""
    codes = [str(_ANSI[fg])] if fg else []
    codes += ["1"] if bold else []
    codes += ["2"] if dim else []
    return f"\033[{';'.join(codes)}m{text}\033[0m" if codes else text


def _where(f: Finding) -> str:
    cell = f"cell {f.loc.cell}:" if f.loc.cell is not None else ""
    return f"{f.loc.path}:{cell}{f.loc.line}:{f.loc.column}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _wrapped(label: str, text: str, width: int | None) -> list[str]:
    """`  = label: text`, continued lines indented under the text when a width is given."""
    prefix = f"  = {label}: "
    if not width or width <= len(prefix) + 20:
        return [prefix + text]
    return textwrap.wrap(text, width, initial_indent=prefix, subsequent_indent=" " * len(prefix),
                         break_on_hyphens=False, break_long_words=False) or [prefix]


def _one(result: RunResult, f: Finding, colour: bool, quiet: bool, width: int | None) -> list[str]:
    def style(text: str, **kw) -> str:
        return _style(text, **kw) if colour else text

    code = style(f.code, fg=_COLOURS[f.severity], bold=True)
    severity = style(f"[{f.severity}]", fg=_COLOURS[f.severity])
    head = f"{style(_where(f), bold=True)}: {code} {severity} {f.message}"
    if f.suppressed is not None:
        head += style(f"  [suppressed: {f.suppressed or '(no reason given)'}]", dim=True)
    out = [head]
    if quiet:
        return out
    lines = common.finding_lines(result, f)
    if 1 <= f.loc.line <= len(lines):
        source = lines[f.loc.line - 1].replace("\t", " ")
        gutter = str(f.loc.line)
        pad = " " * len(gutter)
        out.append(style(f"{pad} |", fg="blue"))
        out.append(style(f"{gutter} | ", fg="blue") + source)
        start = max(f.loc.column - 1, 0)
        end = f.loc.end_column - 1 if f.loc.end_line == f.loc.line and f.loc.end_column > f.loc.column else len(source)
        span = max(1, min(end, len(source)) - start)
        out.append(style(f"{pad} | ", fg="blue") + " " * start + style("^" * span, fg=_COLOURS[f.severity]))
    summary = common.rule_summary(f.code)
    if summary:
        out.extend(_wrapped("rule", f"{f.name}: {summary}", width))
    for rel in f.related:
        cell = f"cell {rel.loc.cell}:" if rel.loc.cell is not None else ""
        out.extend(_wrapped("related", f"{rel.loc.path}:{cell}{rel.loc.line}:{rel.loc.column}: {rel.message}", width))
    if f.hint:
        help_lines = _wrapped("help", f.hint, width)
        out.append(style("  = help: ", fg="cyan") + help_lines[0][len("  = help: "):])
        out.extend(help_lines[1:])
    out.append("")
    return out


def summary_lines(result: RunResult, show_suppressed: bool) -> list[str]:
    """`By family: ...` (when there are findings) and the closing `Found ...` / `No findings ...` line."""
    lines = []
    files = _plural(result.files, "file")
    if result.findings:
        families = common.family_counts(result.findings)
        parts = []
        for name, by in families.items():
            counts = ", ".join(_plural(by[str(s)], str(s)) for s in common.SEVERITIES if by[str(s)])
            parts.append(f"{name} {counts}")
        lines.append("By family: " + "; ".join(parts) + ".")
        by = common.severity_counts(result.findings)
        counts = ", ".join(_plural(by[str(s)], str(s)) for s in common.SEVERITIES if by[str(s)])
        summary = f"Found {_plural(len(result.findings), 'finding')} ({counts}) in {files}."
    else:
        summary = f"No findings in {files}."
    if result.suppressed:
        summary += f" {len(result.suppressed)} suppressed" + ("." if show_suppressed else " (--show-suppressed lists them).")
    if result.baselined:
        summary += f" {result.baselined} already known (baseline or unchanged lines) not shown."
    lines.append(summary)
    return lines


def render(result: RunResult, *, colour: bool = False, quiet: bool = False, statistics: bool = False,
           show_suppressed: bool = False, width: int | None = None, **_: object) -> str:
    if statistics:
        return common.statistics_text(result)
    lines: list[str] = []
    for f in common.listed(result, show_suppressed):
        lines.extend(_one(result, f, colour, quiet, width))
    if not quiet:
        lines.extend(summary_lines(result, show_suppressed))
    return "\n".join(lines) + "\n" if lines else ""
