"""Import and definition tables: the qualified name of a Name or Attribute, without libcst metadata.

A light pass over the module replaces libcst's scope and qualified-name providers (the most
expensive part of a metadata run): imports anywhere in the module, top-level definitions and
module-level aliases (`npr = np.random`). Names are dotted strings: `numpy.random.seed` for
libraries, `pkg.utils.set_seed` for project code (relative imports resolved against the
module's own dotted path). Which dotted names are project modules is decided later, by the
project index, which sees every file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from .paths import module_dotted_name  # noqa: F401 - re-exported


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of Names and Attributes, else None."""
    # type identity, not isinstance: libcst's node classes are ABCs (a failed isinstance costs 4x), and this
    # runs for every call and attribute of every family
    kind, name, attribute = type(expr), cst.Name, cst.Attribute
    if kind is name:
        return expr.value
    parts: list[str] = []
    while kind is attribute:
        parts.append(expr.attr.value)
        expr = expr.value
        kind = type(expr)
    if kind is not name:
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


_BODIES = ("body", "handlers", "orelse", "finalbody", "cases")


def statements(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every statement under root, in source order, without descending into expressions: simple statement
    lines, compound statements and their clauses (`else`, `except`, `finally`, `case`); not the small
    statements of a one-line suite (`if x: y = 1`), which are read from the clause's `body`."""
    stack: list = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node, (cst.Module, cst.IndentedBlock, cst.SimpleStatementSuite)):
            yield node
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        inner: list = []
        for name in _BODIES:
            value = getattr(node, name, None)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                inner.extend(value)
            elif isinstance(value, cst.IndentedBlock):
                inner.extend(value.body)
            else:
                inner.append(value)  # a one-line suite, an `else`/`finally` clause, an `elif` If
        stack.extend(reversed(inner))


def import_statements(module: cst.Module) -> Iterator[cst.Import | cst.ImportFrom]:
    """Every import statement, in source order. Imports are statements, so only statement bodies are
    visited, never expressions (a tenth of the nodes of a full walk)."""
    for stmt in statements(module):
        lines = [stmt] if isinstance(stmt, cst.SimpleStatementLine) else \
            [body] if isinstance(body := getattr(stmt, "body", None), cst.SimpleStatementSuite) else ()
        for line in lines:
            for small in line.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small




class NameTable:
    def __init__(self, module: cst.Module, rel_path: str) -> None:
        self.module_name = module_dotted_name(rel_path)
        self.is_package = rel_path.endswith("__init__.py")
        self.aliases: dict[str, str] = {}
        self.imported: dict[str, str] = {}  # names bound by import statements (re-exports included)
        # names that import statements bind to more than one target (`from a import f` in one branch of an `if`,
        # `from b import f` in the other): every target, in order; `aliases` keeps the last
        self.alternatives: dict[str, tuple[str, ...]] = {}
        self.stars: list[str] = []  # modules imported whole into the namespace (`from M import *`)
        self.functions: dict[str, cst.FunctionDef] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        for stmt in module.body:
            if isinstance(stmt, cst.FunctionDef):
                self.functions[stmt.name.value] = stmt
                self.aliases[stmt.name.value] = f"{self.module_name}.{stmt.name.value}"
            elif isinstance(stmt, cst.ClassDef):
                self.classes[stmt.name.value] = stmt
                self.aliases[stmt.name.value] = f"{self.module_name}.{stmt.name.value}"
        for node in import_statements(module):
            if isinstance(node, cst.Import):
                self._import(node)
            else:
                self._import_from(node)
        for stmt in module.body:  # `npr = np.random`: a module-level alias of an imported name
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if (
                        isinstance(small, cst.Assign)
                        and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)
                        and isinstance(small.value, (cst.Name, cst.Attribute))
                    ):
                        target = small.targets[0].target.value
                        resolved = self.qualify(small.value)
                        if resolved and target not in self.functions:
                            self.aliases[target] = resolved

    def _import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if not full:
                continue
            if alias.asname and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, full)
            else:
                root = full.split(".")[0]
                self.aliases[root] = self.imported[root] = root

    def _import_from(self, node: cst.ImportFrom) -> None:
        base = dotted(node.module) if node.module is not None else ""
        if node.relative:
            package = self.module_name.split(".") if self.module_name else []
            if not self.is_package and package:
                package = package[:-1]
            up = len(node.relative) - 1
            package = package[: len(package) - up] if up <= len(package) else []
            base = ".".join(p for p in [*package, base] if p)
        if isinstance(node.names, cst.ImportStar):
            if base:
                self.stars.append(base)
            return
        if base is None:
            return
        for alias in node.names:
            name = dotted(alias.name)
            if not name:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            self._bind(local, f"{base}.{name}" if base else name)

    def _bind(self, local: str, target: str) -> None:
        before = self.imported.get(local)
        if before is not None and before != target:
            self.alternatives[local] = (*self.alternatives.get(local, (before,)), target)
        self.aliases[local] = self.imported[local] = target

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """The dotted qualified name of a Name/Attribute chain, if its root is imported or defined here."""
        name = dotted(expr)
        if name is None:
            return None
        root, _, rest = name.partition(".")
        target = self.aliases.get(root)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target

    def callee(self, call: cst.Call) -> str | None:
        return self.qualify(call.func)


def extract_imports(ctx) -> dict[str, str] | None:
    """Imported names of a module, so that the project can follow re-exports (`from .misc import f` in
    a package's __init__.py)."""
    names = ctx.names
    imported = {k: v for k, v in names.imported.items() if k not in names.functions and k not in names.classes}
    return imported or None


def extract_alternatives(ctx) -> dict[str, tuple[str, ...]] | None:
    """Names a module's imports bind to several targets (`from a import f` on one branch, `from b import f` on
    another): name -> every target, so that the project phase resolves a call of `f` to either (core/calls.py
    `alternatives`)."""
    return dict(ctx.names.alternatives) or None


@dataclass(frozen=True)
class References:
    """The names a module's code uses, so that the project phase can tell whether a function is named anywhere
    without reading source text: bare names (read, written, passed, a keyword; not a definition's own name),
    attribute names (`mod.NAME`), the names strings hold (`getattr(m, "NAME")`, `__all__`, `"pkg.NAME"`), and
    the modules imported with `from M import *`."""

    names: frozenset[str]
    attributes: frozenset[str]
    strings: frozenset[str]
    stars: tuple[str, ...]


def extract_references(ctx) -> References | None:
    name_t, attribute_t, string_t, function_t, class_t = (cst.Name, cst.Attribute, cst.SimpleString, cst.FunctionDef,
                                                          cst.ClassDef)
    buckets: dict[type, list] = {name_t: [], attribute_t: [], string_t: [], function_t: [], class_t: []}
    bucket = buckets.get
    for node in ctx.index.order:  # one pass over the index, by type
        found = bucket(type(node))
        if found is not None:
            found.append(node)
    attributes = buckets[attribute_t]
    # the Name nodes that name a definition or an attribute (`x.NAME`) are no bare use
    skip = {id(n.attr) for n in attributes}
    skip.update(id(n.name) for n in buckets[function_t])
    skip.update(id(n.name) for n in buckets[class_t])
    names = {n.value for n in buckets[name_t] if id(n) not in skip}
    strings = {text.rpartition(".")[2] for n in buckets[string_t]
               if len(text := n.raw_value) < 80 and text.replace(".", "_").isidentifier()}
    stars = tuple(ctx.names.stars)
    if not (names or attributes or strings or stars):
        return None
    return References(frozenset(names), frozenset(n.attr.value for n in attributes), frozenset(strings), stars)
