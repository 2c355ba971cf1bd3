"""Rule registry: the built-in families and third-party rules from the `mllint.rules` entry point."""
from __future__ import annotations

import os
import sys
from importlib import import_module

from .base import AUX_EXTRACTORS, EXTRACTORS, Rule, _register_shared, aux_extractor, extractor

_register_shared()

__all__ = ["AUX_EXTRACTORS", "EXTRACTORS", "Rule", "aux_extractor", "extractor", "all_rules", "select_rules", "is_selected"]

BUILTIN_MODULES = ("mllint.rules.file", "mllint.rules.seed", "mllint.rules.leak", "mllint.rules.hparam",
                   "mllint.rules.eval", "mllint.rules.prep")
# The modules the per-file analysis of the built-in families imports on first use (their extractors import them
# lazily, so that a run served from the cache never loads them). A worker started early, for `mllint FILE...`,
# imports them while the parent discovers and hashes the project (workers.start_early); a module missing here is
# only imported later, where the analysis needs it (tests/test_early_workers.py keeps the list complete).
ANALYSIS_MODULES = (
    "mllint.core.config_model", "mllint.core.configs", "mllint.core.gradients", "mllint.core.origins",
    "mllint.core.syntax", "mllint.core.text_gates", "mllint.core.values", "mllint.dataflow.dispatch",
    "mllint.dataflow.interpreter", "mllint.dataflow.library", "mllint.dataflow.terms", "mllint.rules.eval.domain",
    "mllint.rules.eval.extract", "mllint.rules.hparam.apis", "mllint.rules.hparam.extract",
    "mllint.rules.hparam.facts", "mllint.rules.hparam.syntax", "mllint.rules.leak.configs",
    "mllint.rules.leak.domain", "mllint.rules.leak.report", "mllint.rules.leak.syntax", "mllint.rules.prep.domain",
    "mllint.rules.prep.extract", "mllint.rules.prep.gates", "mllint.rules.prep.loaders", "mllint.rules.prep.protocol",
    "mllint.rules.prep.statistics", "mllint.rules.seed.extract", "mllint.rules.seed.facts",
    "mllint.rules.seed.sweeps",
)
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
    points = _entry_points() if _may_have_plugins() else []
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


def _entry_points() -> list:
    try:
        from importlib.metadata import entry_points

        return list(entry_points(group="mllint.rules"))
    except Exception:  # noqa: BLE001 - broken metadata must not stop linting
        return []


def _may_have_plugins() -> bool:
    """Could any installed distribution declare `mllint.rules` entry points? A look at the entry_points.txt
    files beside sys.path is a tenth of what importing importlib.metadata costs (every run pays it).
    Anything it cannot see through (a zip or another kind of path entry) answers yes."""
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True  # a zip archive
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                        if "mllint.rules" in f.read():
                            return True
                except OSError:
                    continue
    return False


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


# input diagnostics: a file that could not be read, parsed or analysed whole. They say which files the other codes
# did not see, so a narrower `--select` (`--select EVAL`) keeps them; only an `--ignore` that matches drops them
# (as ruff reports syntax errors whatever is selected).
INPUT_DIAGNOSTICS = frozenset({"FILE001", "FILE002", "FILE003", "FILE004", "FILE005", "FILE006", "FILE007",
                               "FILE008", "FILE009"})  # FILE012 (an older grammar) is analysed as usual


def is_reported(code: str, select: list[str], ignore: list[str]) -> bool:
    """Is a finding of this code reported: selected, or an input diagnostic that no `--ignore` names?"""
    return is_selected(code, select, ignore) or code in INPUT_DIAGNOSTICS and _specificity(code, ignore) < 0


def select_rules(select: list[str], ignore: list[str]) -> list[type[Rule]]:
    return [rule for code, rule in all_rules().items() if is_selected(code, select, ignore)]
