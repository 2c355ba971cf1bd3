"""The project's classes and their bases: one table every family asks which class a method call on `self` may
run (the class itself, an ancestor it inherits from, or a descendant that overrides it on the instance).

Per module the shared extractor `classes` (`extract_classes`) records each class the module defines (qualified:
`pkg.models.SRModel`, nested `pkg.m.Outer.Inner`) and its bases as the module's imports qualify them. Per project
`hierarchy(project)` resolves the bases to project classes (through imports, re-exports and the importer's
folders, as calls are resolved: core/calls.py) once, and answers `related`/`ancestors`."""
from __future__ import annotations

from typing import Any

from .calls import qualify


def extract_classes(ctx: Any) -> dict[str, tuple[str, ...]] | None:
    """Every class the module defines -> its bases (keyword arguments such as `metaclass=` left out), qualified
    through the module's imports and definitions where they can be, else as written."""
    import libcst as cst

    from .names import dotted

    names = ctx.names
    found: dict[str, tuple[str, ...]] = {}

    def visit(body: Any, prefix: str) -> None:
        for stmt in body:
            if type(stmt) is cst.ClassDef:
                path = f"{prefix}{stmt.name.value}"
                found[f"{names.module_name}.{path}"] = tuple(
                    names.qualify(b.value) or dotted(b.value) or "" for b in stmt.bases if b.keyword is None)
                inner = stmt.body
                visit(inner.body if type(inner) is cst.IndentedBlock else (), path + ".")

    visit(ctx.module.body, "")
    return found or None


class Hierarchy:
    """The project's classes, their bases resolved to project classes where the project defines them."""

    def __init__(self, project: Any) -> None:
        self.bases: dict[str, tuple[str, ...]] = {}
        for result, classes in project.facts("classes"):
            for cls, bases in classes.items():
                self.bases[cls] = tuple(qualify(project, result.rel, b) or b for b in bases if b)
        self._ancestors: dict[str, frozenset[str]] = {}

    def known(self, cls: str) -> bool:
        return cls in self.bases

    def ancestors(self, cls: str) -> frozenset[str]:
        """Every class `cls` inherits from, the project's and (as written) the libraries'."""
        found = self._ancestors.get(cls)
        if found is None:
            seen: set[str] = set()
            todo = list(self.bases.get(cls, ()))
            while todo:
                base = todo.pop()
                if base not in seen:
                    seen.add(base)
                    todo.extend(self.bases.get(base, ()))
            found = self._ancestors[cls] = frozenset(seen)
        return found

    def related(self, a: str, b: str) -> bool:
        """Can a method call on `self` in class `a` run a method of class `b`: the same class, an ancestor
        (inherited) or a descendant (overridden, dispatched on the instance)?"""
        return a == b or b in self.ancestors(a) or a in self.ancestors(b)


def hierarchy(project: Any) -> Hierarchy:
    return project.shared("class-hierarchy", Hierarchy)
