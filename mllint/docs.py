"""Rule documentation: the Markdown pages of rules/ (shipped inside the package as mllint/rule_docs)."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .rules.base import Rule


def _page_text(code: str) -> str | None:
    repo_page = Path(__file__).resolve().parent.parent / "rules" / f"{code}.md"
    if repo_page.is_file():
        return repo_page.read_text(encoding="utf-8")
    try:
        return resources.files("mllint").joinpath("rule_docs", f"{code}.md").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return None


def rule_page(rule: type[Rule]) -> str:
    text = _page_text(rule.code)
    if text is None:
        return f"# {rule.code} {rule.name}\n\nSeverity: {rule.severity}\n\n{rule.summary}\n\nFix: {rule.hint}\n"
    return text
