"""Rule registry: the built-in families and third-party rules from the `mllint.rules` entry point."""
from __future__ import annotations

import sys
from importlib import import_module

from .base import EXTRACTORS, Rule, _register_shared, extractor

_register_shared()

__all__ = ["EXTRACTORS", "Rule", "extractor", "all_rules", "select_rules", "is_selected"]

BUILTIN_MODULES = ("mllint.rules.file", "mllint.rules.seed", "mllint.rules.leak")
_CACHE: dict[str, type[Rule]] | None = None


def _rules_in(obj) -> list[type[Rule]]:
    if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule:
        return [obj]
    found = getattr(obj, "RULES", None)
    if found is None and isinstance(obj, (list, tuple)):
        found = obj
    return [r for r in (found or []) if isinstance(r, type) and issubclass(r, Rule)]


def all_rules() -> dict[str, type[Rule]]:
    global _CACHE
    if _CACHE is not None:
        return _CACHE
    rules: dict[str, type[Rule]] = {}
    for name in BUILTIN_MODULES:
        for rule in _rules_in(import_module(name)):
            rules[rule.code] = rule
    try:
        from importlib.metadata import entry_points

        points = entry_points(group="mllint.rules")
    except Exception:  # noqa: BLE001 - broken metadata must not stop linting
        points = []
    for point in points:
        try:
            loaded = _rules_in(point.load())
        except Exception as exc:  # noqa: BLE001
            print(f"mllint: warning: cannot load rules from entry point {point.name!r}: {exc}", file=sys.stderr)
            continue
        for rule in loaded:
            if rule.code in rules and rules[rule.code] is not rule:
                print(f"mllint: warning: plugin rule {rule.code} from {point.name!r} ignored: code taken", file=sys.stderr)
                continue
            rules[rule.code] = rule
    _CACHE = dict(sorted(rules.items()))
    return _CACHE


def _specificity(code: str, selectors: list[str]) -> int:
    best = -1
    for sel in selectors:
        if sel == "ALL":
            best = max(best, 0)
        elif code.startswith(sel):
            best = max(best, len(sel))
    return best


def is_selected(code: str, select: list[str], ignore: list[str]) -> bool:
    """The most specific selector wins; on a tie, ignore wins (as in ruff)."""
    chosen = _specificity(code, select)
    ignored = _specificity(code, ignore)
    return chosen >= 0 and chosen > ignored


def select_rules(select: list[str], ignore: list[str]) -> list[type[Rule]]:
    return [rule for code, rule in all_rules().items() if is_selected(code, select, ignore)]
