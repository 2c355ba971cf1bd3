"""`--format markdown`: a summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`: counts per family and
severity, then the findings grouped by file."""
from __future__ import annotations

from ..findings import Finding
from ..results import RunResult
from . import common

# GitHub rejects a comment longer than 65,536 characters and truncates a job summary at 1 MiB: the tables list
# the first findings only, within MAX_CHARS (the margin leaves room for the note and a workflow's own text).
# The counts above the tables always cover every finding.
MAX_ROWS = 200
MAX_CHARS = 60_000
MAX_MESSAGE = 1_500  # one finding with dozens of related locations must not fill the comment alone
TABLE_HEAD = ("| where | severity | rule | message |", "|---|---|---|---|")


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
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
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
    budget = MAX_CHARS - sum(len(line) + 1 for line in out) - 400  # 400: the note below
    shown: list[Finding] = []
    path = None
    for f in listed[:MAX_ROWS]:  # sorted by path: one table per file
        lines = ["", f"### {_code(f.loc.path)}", "", *TABLE_HEAD] if f.loc.path != path else []
        lines.append(_row(f))
        size = sum(len(line) + 1 for line in lines)
        if size > budget:
            break
        budget -= size
        out += lines
        shown.append(f)
        path = f.loc.path
    left = listed[len(shown):]
    if left:
        files = len({f.loc.path for f in left} - {path})
        why = "at most" + (f" {MAX_ROWS} rows" if len(shown) == MAX_ROWS else
                           f" {MAX_CHARS:,} characters (GitHub's comment limit is 65,536)")
        out += ["", f"... and {_plural(len(left), 'more finding')}" + (f" (in {_plural(files, 'more file')})" if files else "")
                + f", not listed here: this summary lists {why}; the counts above include them, and the json or sarif "
                "report has them all."]
    return "\n".join(out) + "\n"
