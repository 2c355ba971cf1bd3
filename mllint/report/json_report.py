"""`--format json`: one array of finding objects (PRODUCT §3)."""
from __future__ import annotations

import json

from ..engine import RunResult


def render(result: RunResult, *, show_suppressed: bool = False, **_: object) -> str:
    items = [f.to_json() for f in result.findings]
    if show_suppressed:
        items += [f.to_json() for f in result.suppressed]
        items.sort(key=lambda d: (d["path"], d.get("cell", 0), d["line"], d["column"], d["code"], d["message"]))
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
