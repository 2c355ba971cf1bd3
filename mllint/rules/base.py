"""The rule API: one small class per rule.

A rule has a code, a name, a severity, a one-line summary and a hint, and runs in one or both
of two places:
- `check_module(ctx)`: in the worker that parsed the file, with the libcst tree, names and
  scopes at hand (`ctx.report(...)` records a finding);
- `check_project(project)`: once per run, over the per-file facts that extractors produced
  (cross-module questions: is this a seed helper, does the project sweep seeds?).
Extractors are functions registered with `@extractor("name")`; a rule lists the ones it needs
in `needs`, so an unselected family costs nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable

from ..findings import Finding, Loc, Related, Severity

if TYPE_CHECKING:
    from ..context import ModuleContext
    from ..project import Project

EXTRACTORS: dict[str, Callable[["ModuleContext"], Any]] = {}
# Facts of the project's non-Python files (shell, YAML, JSON, TOML), by extractor name: func(path, rel, display).
AUX_EXTRACTORS: dict[str, Callable[[str, str, str], Any]] = {}


def extractor(name: str) -> Callable:
    def register(func: Callable[["ModuleContext"], Any]) -> Callable:
        EXTRACTORS[name] = func
        return func

    return register


def aux_extractor(name: str) -> Callable:
    """Register a reader of non-Python files for the facts named `name` (run when a selected rule needs it);
    a project rule finds what it returned in `project.aux_facts(name)`, by file."""
    def register(func: Callable[[str, str, str], Any]) -> Callable:
        AUX_EXTRACTORS[name] = func
        return func

    return register


def _register_shared() -> None:
    from ..core.classes import extract_classes
    from ..core.names import extract_alternatives, extract_imports, extract_references

    EXTRACTORS.setdefault("imports", extract_imports)
    EXTRACTORS.setdefault("alternatives", extract_alternatives)
    EXTRACTORS.setdefault("references", extract_references)
    EXTRACTORS.setdefault("classes", extract_classes)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    hint: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    in_tests: ClassVar[bool] = False  # report in unit tests (tests/, test_*.py)?

    def check_module(self, ctx: "ModuleContext") -> None:
        """Per-file check; report with ctx.report(self, node, message)."""

    def check_project(self, project: "Project") -> Iterable[Finding]:
        """Cross-file check over extracted facts."""
        return ()

    @classmethod
    def finding(
        cls, loc: Loc, message: str, hint: str | None = None, related: Iterable[Related] = ()
    ) -> Finding:
        return Finding(cls.code, cls.name, cls.severity, loc, message, cls.hint if hint is None else hint, list(related))
