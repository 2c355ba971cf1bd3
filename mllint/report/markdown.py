"""`--format markdown`: a summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`: counts per family and
severity, then the findings grouped by file."""
from __future__ import annotations

from ..findings import Finding
from ..results import RunResult
from . import common

# GitHub truncates a job summary at 1 MiB and a comment at 64 KiB: the table lists the first findings only
MAX_ROWS = 200


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _row(f: Finding) -> str:
    where = f"cell {f.loc.cell}, {f.loc.line}:{f.loc.column}" if f.loc.cell is not None else f"{f.loc.line}:{f.loc.column}"
    message = f.message
    for rel in f.related:
        message += f"\nrelated: {rel.loc.path}:{rel.loc.line}: {rel.message}"
    if f.suppressed is not None:
        message += f"\nsuppressed: {f.suppressed or '(no reason given)'}"
    return f"| {where} | {f.severity} | {_code(f.code)} {f.name} | {_cell(message)} |"


def render(result: RunResult, *, show_suppressed: bool = False, statistics: bool = False, **_: object) -> str:
    out = ["## mllint", ""]
    counts = common.severity_counts(result.findings)
    if result.findings:
        parts = ", ".join(_plural(counts[s], s) for s in ("error", "warning", "info") if counts[s])
        out.append(f"**{_plural(len(result.findings), 'finding')}** ({parts}) in {_plural(result.files, 'file')}.")
    else:
        out.append(f"No findings in {_plural(result.files, 'file')}.")
    extra = []
    if result.suppressed:
        extra.append(f"{len(result.suppressed)} suppressed")
    if result.baselined:
        extra.append(f"{result.baselined} already known (baseline or unchanged lines)")
    if extra:
        out[-1] += " " + "; ".join(extra).capitalize() + "."
    if statistics:
        out += ["", "| count | code | name | severity |", "|---:|---|---|---|"]
        out += [f"| {s['count']} | `{s['code']}` | {s['name']} | {s['severity']} |" for s in common.statistics(result)]
        return "\n".join(out) + "\n"
    families = common.family_counts(result.findings)
    if families:
        out += ["", "| family | error | warning | info |", "|---|---:|---:|---:|"]
        out += [f"| {name} | {by['error']} | {by['warning']} | {by['info']} |" for name, by in families.items()]
    listed = common.listed(result, show_suppressed)
    by_file: dict[str, list[Finding]] = {}
    for f in listed[:MAX_ROWS]:
        by_file.setdefault(f.loc.path, []).append(f)
    for path, findings in by_file.items():
        out += ["", f"### {_code(path)}", "", "| where | severity | rule | message |", "|---|---|---|---|"]
        out += [_row(f) for f in findings]
    if len(listed) > MAX_ROWS:
        out += ["", f"... and {len(listed) - MAX_ROWS} more, not listed here (the json or sarif report has them all)."]
    return "\n".join(out) + "\n"
