"""`--format rdjson`: reviewdog's Diagnostic Format (`reviewdog -f=rdjson`), one DiagnosticResult.

Positions are 1-based lines and UTF-8 byte columns, ranges end-exclusive, as reviewdog.proto defines them;
related locations (LEAK's source and hops) go in `related_locations`. A notebook finding has no range (its
lines are within a cell) and names the cell in its message.
"""
from __future__ import annotations

import json

from ..findings import Finding, Loc, Severity
from ..results import RunResult
from . import common

SEVERITIES = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


def _byte_column(lines: tuple[str, ...], line: int, column: int) -> int:
    """A 1-based code-point column as a 1-based UTF-8 byte column."""
    if 1 <= line <= len(lines):
        return len(lines[line - 1][: column - 1].encode("utf-8", "surrogatepass")) + 1
    return column


def _location(result: RunResult, loc: Loc, with_end: bool) -> dict:
    location: dict = {"path": loc.path}
    if loc.cell is not None or loc.line < 1:
        return location
    lines = common.source_lines(result.sources.get(loc.path, loc.path))
    start = {"line": loc.line, "column": _byte_column(lines, loc.line, max(loc.column, 1))}
    location["range"] = {"start": start}
    if with_end and loc.end_line >= loc.line and (loc.end_line, loc.end_column) > (loc.line, loc.column):
        location["range"]["end"] = {"line": loc.end_line, "column": _byte_column(lines, loc.end_line, loc.end_column)}
    return location


def _message(loc: Loc, text: str) -> str:
    return f"cell {loc.cell}, line {loc.line}: {text}" if loc.cell is not None else text


def _diagnostic(result: RunResult, f: Finding) -> dict:
    message = _message(f.loc, f.message) + (f"\nhelp: {f.hint}" if f.hint else "")
    code: dict = {"value": f.code}
    url = common.rule_meta(f.code)["url"]
    if url and url.startswith(("http://", "https://")):  # reviewdog links it; a file: URI is of no use there
        code["url"] = url
    out: dict = {
        "message": message,
        "location": _location(result, f.loc, True),
        "severity": SEVERITIES[f.severity],
        "source": {"name": "mllint"},
        "code": code,
    }
    if f.related:
        out["related_locations"] = [{"message": _message(r.loc, r.message), "location": _location(result, r.loc, False)}
                                    for r in f.related]
    return out


def render(result: RunResult, *, show_suppressed: bool = False, **_: object) -> str:
    data = {
        "source": {"name": "mllint"},
        "diagnostics": [_diagnostic(result, f) for f in common.listed(result, show_suppressed)],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
