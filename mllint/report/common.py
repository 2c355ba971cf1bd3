"""What several reporters share: the findings to list, counts, rule metadata and documentation links."""
from __future__ import annotations

import os
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from ..findings import Finding, Severity
from ..results import RunResult

SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def listed(result: RunResult, show_suppressed: bool) -> list[Finding]:
    """The findings a report lists: with show_suppressed, the silenced ones too, in the same order."""
    if not show_suppressed:
        return list(result.findings)
    return sorted([*result.findings, *result.suppressed], key=Finding.sort_key)


def statistics(result: RunResult) -> list[dict]:
    """Findings per rule, most frequent first (`--statistics`)."""
    counts = Counter((f.code, f.name, str(f.severity)) for f in result.findings)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"code": code, "name": name, "severity": severity, "count": count}
            for (code, name, severity), count in ordered]


def statistics_text(result: RunResult) -> str:
    lines = [f"{s['count']:5d}  {s['code']:<8} {s['name']}" for s in statistics(result)]
    return "\n".join(lines) + ("\n" if lines else "")


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    by = Counter(f.severity for f in findings)
    return {str(s): by[s] for s in SEVERITIES}


def family(code: str) -> str:
    return code.rstrip("0123456789")


def family_counts(findings: list[Finding]) -> dict[str, dict[str, int]]:
    """{family: {severity: count}} in family order."""
    out: dict[str, dict[str, int]] = {}
    for f in sorted(findings, key=lambda f: f.code):
        out.setdefault(family(f.code), {str(s): 0 for s in SEVERITIES})[str(f.severity)] += 1
    return out


def docs_url(code: str) -> str | None:
    """Where a rule's page can be read: MLLINT_DOCS_URL + CODE.md when set (a project publishing the pages),
    else the page shipped with this installation as a file: URI, else None."""
    base = os.environ.get("MLLINT_DOCS_URL")
    if base:
        return base.rstrip("/") + f"/{code}.md"
    page = _page_path(code)
    return page.as_uri() if page is not None else None


@lru_cache(maxsize=None)
def _page_path(code: str) -> Path | None:
    from ..docs import _candidates

    return next((p.resolve() for p in _candidates(code) if p.is_file()), None)


def rule_summary(code: str) -> str:
    """The rule's one-line summary (without reading its page)."""
    from ..rules import all_rules

    rule = all_rules().get(code)
    return rule.summary if rule is not None else ""


@lru_cache(maxsize=None)
def rule_meta(code: str) -> dict:
    """name, severity, summary, hint, the page's "What it flags" section, the page and its URL."""
    from ..docs import rule_page
    from ..rules import all_rules

    rule = all_rules().get(code)
    if rule is None:  # a finding from a plugin that is no longer installed, say
        return {"name": code, "severity": "warning", "summary": "", "hint": "", "description": "", "page": "",
                "url": None}
    page = rule_page(rule)
    return {
        "name": rule.name, "severity": str(rule.severity), "summary": rule.summary, "hint": rule.hint,
        "description": _section(page, "What it flags") or rule.summary, "page": page, "url": docs_url(code),
    }


def _section(page: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*\n(.*?)(?=^## |\Z)", page, re.M | re.S)
    return " ".join(match.group(1).split()) if match else ""


@lru_cache(maxsize=256)
def source_lines(path: str, cell: int | None = None) -> tuple[str, ...]:
    """The lines of a linted file (of one notebook cell when cell is given); () when unreadable."""
    from ..source import load

    try:
        src = load(path, 64 * 1024 * 1024)
    except Exception:  # noqa: BLE001 - a snippet or a fingerprint is a nicety
        return ()
    if src.text is None:
        return ()
    lines = src.text.splitlines()
    if cell is None:
        return tuple(lines)
    starts = src.cell_starts
    for i, (start, index) in enumerate(starts):
        if index == cell:
            end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(lines)
            return tuple(lines[start - 1 : end])
    return ()


def finding_lines(result: RunResult, f: Finding) -> tuple[str, ...]:
    return source_lines(result.sources.get(f.loc.path, f.loc.path), f.loc.cell)
