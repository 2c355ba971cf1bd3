"""The per-file pipeline, run in a worker or in-process: load, parse once, extract facts, run per-file
rules, locate the reported nodes, map notebook lines to cells, seal facts. Never raises: failures become
FILE findings. The orchestration (discovery, cache, workers, project rules) is engine.py's."""
from __future__ import annotations

import gc
import sys
from typing import Any, Callable

from . import source as source_mod
from .cache import ProbedNames
from .context import ModuleContext
from .core.paths import is_test_path, is_unit_test
from .core.walk import Index, indexed
from .findings import Finding, Loc
from .parsing import parse_for
from .positions import resolve_positions
from .project import FileResult
from .rules import EXTRACTORS, all_rules
from .rules.base import Rule
from .settings import Settings  # noqa: F401 - re-exported
from .suppress import find_suppressions




def diagnostic(code: str, message: str, loc: Loc) -> Finding:
    rule = all_rules()[code]
    return rule.finding(loc, message)


def analyze_file(path: str, display: str, rel: str, settings: Settings) -> FileResult:
    """Analyse one file in isolation. Never raises: failures become FILE findings."""
    return analyze(path, display, rel, settings)[0]


def analyze(path: str, display: str, rel: str, settings: Settings) -> tuple[FileResult, dict[str, bool]]:
    """The result, and which project module names the analysis asked about (see cache.py)."""
    # The cyclic collector is paused while one file is analysed: a syntax tree and the facts built on it
    # hold no reference cycles worth a collection (reference counting frees them), and the collections the
    # allocations would trigger cost 5-8% of the run. Whatever cycles a file does leave are collected once
    # the collector runs again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyze(path, display, rel, settings)
    finally:
        if enabled:
            gc.enable()


def _analyze(path: str, display: str, rel: str, settings: Settings) -> tuple[FileResult, dict[str, bool]]:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    names = ProbedNames(settings.project_modules)
    result = FileResult(display, rel, is_test=is_test_path(rel), is_notebook=path.endswith(".ipynb"))
    src = source_mod.load(path, settings.max_file_size)
    result.is_test = is_unit_test(rel, src.text)
    diagnostics = list(src.diagnostics)
    module, parsed_text = None, None
    if src.text is not None:
        module, problems, parsed_text = parse_for(path, src)
        diagnostics.extend(problems)
    for diag in diagnostics:
        cell, line = (diag.cell, diag.line) if diag.cell is not None else src.to_cell(diag.line)
        loc = Loc(line, diag.column, line, diag.column, display, cell)
        result.findings.append(diagnostic(diag.code, diag.message, loc))
    if module is None:
        return result, names.probes
    result.parsed = True
    index = Index(module)  # the one walk of the tree: every analysis below reads the tree through it
    with indexed(index):
        return _analyze_module(result, src, module, parsed_text, index, names, settings, display)


def _analyze_module(result: FileResult, src: source_mod.Source, module: Any, parsed_text: str | None, index: Index,
                    names: ProbedNames, settings: Settings, display: str) -> tuple[FileResult, dict[str, bool]]:
    ctx = ModuleContext(module, result.rel, src.text, names, settings.options, index)
    ctx.extractors = settings.extractors  # families not selected take no lane of the one interpretation
    rules = all_rules()
    for name in settings.extractors:
        fact = guarded(result, f"the {name} analysis", EXTRACTORS[name], ctx)
        if fact is not FAILED:
            result.facts[name] = fact
    for code in settings.rule_codes:
        rule = rules[code]
        if rule.check_module is not Rule.check_module:
            guarded(result, f"rule {code}", lambda rule=rule: rule().check_module(ctx))  # a plugin's too
    result.findings.extend(ctx.findings)
    for memo in ("_shared_runs", "_eval_analysis"):  # per-module results that hold ctx: free the tree now
        ctx.__dict__.pop(memo, None)
    try:
        resolve_positions(module, ctx.position_requests(), parsed_text, index)
    except RecursionError:
        result.findings.append(diagnostic("FILE004", "too deeply nested to locate findings", Loc(1, 1, 1, 1, display)))
    for _, loc in ctx.position_requests():
        loc.path = display
        if src.is_notebook:
            loc.cell, loc.line = src.to_cell(loc.line)
            _, loc.end_line = src.to_cell(loc.end_line)
    for sup in find_suppressions(src.text):
        if src.is_notebook:
            cell, line = src.to_cell(sup.line)
            sup.cell, sup.line = cell, line
            sup.applies_to = tuple(line + (a - sup.applies_to[0]) for a in sup.applies_to)
        result.suppressions.append(sup)
    for name, fact in list(result.facts.items()):
        seal = getattr(fact, "sealed", None)  # facts that keep their bulk pickled until a project rule needs it
        if seal is not None:
            sealed = guarded(result, f"the {name} analysis", seal, display)
            if sealed is FAILED:
                del result.facts[name]
            else:
                result.facts[name] = sealed
    return result, names.probes


FAILED = object()


def guarded(result: FileResult, what: str, step: Callable[..., Any], *args: Any) -> Any:
    """One analysis step of a file; if it fails, a finding on the file says so (FILE004 for nesting too deep
    for Python's recursion, FILE008 otherwise), the step gives FAILED, and the other steps go on."""
    try:
        return step(*args)
    except RecursionError:
        result.findings.append(diagnostic("FILE004", f"too deeply nested for {what}", Loc(1, 1, 1, 1, result.display)))
    except Exception as exc:  # noqa: BLE001
        result.findings.append(internal(result.display, what, exc))
    return FAILED


def internal(display: str, what: str, exc: BaseException) -> Finding:
    message = f"internal error in {what}: {type(exc).__name__}: {exc}"[:300]
    return diagnostic("FILE008", message, Loc(1, 1, 1, 1, display))
