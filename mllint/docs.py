"""Rule documentation: the Markdown pages of rules/ (in a checkout, or installed under share/mllint/rules)."""
from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from .rules.base import Rule


def _candidates(code: str) -> list[Path]:
    name = f"{code}.md"
    return [
        Path(__file__).resolve().parent.parent / "rules" / name,  # a checkout / editable install
        Path(sys.prefix) / "share" / "mllint" / "rules" / name,  # pip install (data-files)
        Path(sysconfig.get_path("data")) / "share" / "mllint" / "rules" / name,
    ]


def rule_page(rule: type[Rule]) -> str:
    for path in _candidates(rule.code):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return f"# {rule.code}: {rule.name}\n\n**Severity:** {rule.severity}\n\n{rule.summary}\n\nFix: {rule.hint}\n"
