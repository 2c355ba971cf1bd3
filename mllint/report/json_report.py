"""`--format json`: one array of finding objects (PRODUCT §3); `--format json-full`: the same findings in an
envelope with the tool, the files scanned, counts and rule URLs."""
from __future__ import annotations

import json

from ..findings import Finding
from ..results import RunResult
from . import common


def finding_json(f: Finding) -> dict:
    data = f.to_json()
    if "suppressed" in data:
        data["suppressed"] = {"reason": f.suppressed or None}  # a suppression without a reason: null
    return data


def _items(result: RunResult, show_suppressed: bool) -> list[dict]:
    findings = common.listed(result, show_suppressed)
    return [finding_json(f) for f in findings]


def render(result: RunResult, *, show_suppressed: bool = False, statistics: bool = False, **_: object) -> str:
    if statistics:
        return _dump(common.statistics(result))
    return _dump(_items(result, show_suppressed))


def render_full(result: RunResult, *, show_suppressed: bool = False, statistics: bool = False, **_: object) -> str:
    from .. import __version__

    codes = sorted({f.code for f in (*result.findings, *result.suppressed)})
    envelope = {
        "tool": {"name": "mllint", "version": __version__},
        "files_scanned": result.files,
        "files": result.scanned,
        "counts": {
            "findings": len(result.findings),
            "suppressed": len(result.suppressed),
            "baselined": result.baselined,
            **common.severity_counts(result.findings),
        },
        "rules": {code: common.rule_meta(code) for code in codes},
        "statistics": common.statistics(result),
        "findings": [] if statistics else _items(result, show_suppressed),
    }
    return _dump(envelope)


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
