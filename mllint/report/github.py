"""`--format github`: GitHub Actions workflow commands, one annotation per finding
(`::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=T::message`).

GitHub's escaping: in the message, `%` -> %25, CR -> %0D, LF -> %0A; in property values, also `:` -> %3A and
`,` -> %2C. Severities map to error, warning and notice. A notebook finding names its cell in the message (its
lines are within the cell, not the .ipynb file). A closing plain line summarises the run in the log.
"""
from __future__ import annotations

from ..findings import Finding, Severity
from ..results import RunResult
from . import common

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = [("file", f.loc.path)]
    if f.loc.cell is None and f.loc.line >= 1:
        props += [("line", str(f.loc.line)), ("col", str(f.loc.column))]
        if f.loc.end_line >= f.loc.line:
            props.append(("endLine", str(f.loc.end_line)))
            if f.loc.end_line == f.loc.line and f.loc.end_column > f.loc.column:
                props.append(("endColumn", str(f.loc.end_column)))
    props.append(("title", f"{f.code} {f.name}"))
    lines = [f"cell {f.loc.cell}, line {f.loc.line}: {f.message}" if f.loc.cell is not None else f.message]
    for rel in f.related:
        cell = f"cell {rel.loc.cell}:" if rel.loc.cell is not None else ""
        lines.append(f"related: {rel.loc.path}:{cell}{rel.loc.line}:{rel.loc.column}: {rel.message}")
    if f.suppressed is not None:
        lines.append(f"suppressed: {f.suppressed or '(no reason given)'}")
    if f.hint:
        lines.append(f"help: {f.hint}")
    properties = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMANDS[f.severity]} {properties}::{escape_data(chr(10).join(lines))}"


def render(result: RunResult, *, show_suppressed: bool = False, **_: object) -> str:
    out = [annotation(f) for f in common.listed(result, show_suppressed)]
    from .text import summary_lines

    out.append("mllint: " + summary_lines(result, show_suppressed)[-1])
    return "\n".join(out) + "\n"
