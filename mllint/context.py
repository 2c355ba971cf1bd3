"""What a rule or extractor sees of one module while it runs in the worker that parsed it."""
from __future__ import annotations

from functools import cached_property
from typing import Iterable, Protocol

import libcst as cst

from .core.calls import CallTable
from .core.names import NameTable
from .core.paths import TEST_DIRS, TEST_FILES, is_test_path, is_unit_test  # noqa: F401 - re-exported
from .core.scopes import Scope, build_scopes
from .core.walk import Index
from .config import FamilyOptions
from .findings import Finding, Loc, Related


class MakesFindings(Protocol):
    """What `report` needs of a rule (a `Rule` class or instance): its `finding` factory."""

    def finding(self, loc: Loc, message: str, hint: str | None = None, related: Iterable[Related] = ()) -> Finding: ...



class ModuleContext:
    def __init__(
        self,
        module: cst.Module,
        rel: str,
        text: str,
        project_modules: frozenset[str] = frozenset(),
        options: FamilyOptions = FamilyOptions(),
        index: Index | None = None,
    ) -> None:
        self.module = module
        self._index = index
        self.rel = rel  # path relative to the project root, posix
        self.text = text
        self.is_test = is_unit_test(rel, text)
        self.project_modules = project_modules  # top-level module names present in the project
        self.options = options  # options(family) -> that family's configuration
        self.extractors: tuple[str, ...] | None = None  # the run's extractors (None: all); dataflow/families.py
        self.findings: list[Finding] = []
        self._positions: list[tuple[cst.CSTNode, Loc]] = []

    @cached_property
    def index(self) -> Index:
        """The module's node table (children, parents on demand), built once by the pipeline."""
        return self._index if self._index is not None else Index(self.module)

    @cached_property
    def names(self) -> NameTable:
        return NameTable(self.module, self.rel)

    @cached_property
    def calls(self) -> CallTable:
        """The module's call records (core/calls.py), shared by the families that keep the same call."""
        return CallTable(self)

    @cached_property
    def _scopes(self) -> tuple[Scope, dict[int, Scope]]:
        return build_scopes(self.module)

    @property
    def module_scope(self) -> Scope:
        return self._scopes[0]

    @property
    def scopes(self) -> dict[int, Scope]:
        """Scopes by id() of the FunctionDef/ClassDef/Module that opens them."""
        return self._scopes[1]

    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        """The scope a FunctionDef/ClassDef/Module opens."""
        return self._scopes[1].get(id(node))

    def is_project_name(self, qualified: str | None) -> bool:
        """Could this dotted name live in the project (rather than in an installed library)?"""
        if not qualified:
            return False
        root = qualified.split(".", 1)[0]
        return root in self.project_modules or qualified.startswith(self.names.module_name + ".")

    def loc(self, node: cst.CSTNode) -> Loc:
        """A location for node; its numbers are filled in after the rules ran."""
        return self.locate(node, Loc())

    def locate(self, node: cst.CSTNode, loc: Loc) -> Loc:
        """Have the position pass fill in `loc` (once: a notebook's lines are mapped to cells in place)."""
        self._positions.append((node, loc))
        return loc

    def report(
        self,
        rule: MakesFindings,
        node: cst.CSTNode,
        message: str,
        hint: str | None = None,
        related: Iterable[tuple[cst.CSTNode, str]] = (),
    ) -> Finding:
        finding = rule.finding(self.loc(node), message, hint, [Related(self.loc(n), m) for n, m in related])
        self.findings.append(finding)
        return finding

    def position_requests(self) -> list[tuple[cst.CSTNode, Loc]]:
        return self._positions
