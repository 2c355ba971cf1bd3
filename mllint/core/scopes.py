"""Function and module scopes: which names are parameters, loop variables or assigned values.

Built once per module by one walk; analyses look names up instead of re-walking bodies.
Class bodies do not leak into methods, as in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .walk import Visitor

PARAM, ASSIGN, LOOP, OTHER = "param", "assign", "loop", "other"


@dataclass
class Binding:
    kind: str
    node: cst.CSTNode  # the assigned value, the Param, or the loop's iterable
    index: int = -1  # for params: position; for tuple-unpacking assignments: element index


@dataclass
class Scope:
    node: cst.CSTNode
    parent: "Scope | None"
    is_class: bool = False
    bindings: dict[str, list[Binding]] = field(default_factory=dict)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str) -> list[Binding]:
        scope: Scope | None = self
        while scope is not None:
            found = scope.bindings.get(name)
            if found and not (scope.is_class and scope is not self):
                return found
            scope = scope.parent
        return []

    def owner(self, name: str) -> "Scope | None":
        """The scope (this one or an enclosing one) that binds name."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                return scope
            scope = scope.parent
        return None

    def function(self) -> cst.FunctionDef | None:
        return self.node if isinstance(self.node, cst.FunctionDef) else None


def _bind_target(scope: Scope, target: cst.BaseExpression, kind: str, value: cst.CSTNode, index: int = -1) -> None:
    if isinstance(target, cst.Name):
        scope.bind(target.value, Binding(kind, value, index))
    elif isinstance(target, (cst.Tuple, cst.List)):
        for i, element in enumerate(target.elements):
            inner = element.value
            _bind_target(scope, inner, kind if kind != ASSIGN else ASSIGN, value, i)


class ScopeBuilder(Visitor):
    def __init__(self, module: cst.Module) -> None:
        self.module_scope = Scope(module, None)
        self.scopes: dict[int, Scope] = {id(module): self.module_scope}
        self.current = self.module_scope
        self.visit_children(module)

    def _enter(self, node: cst.CSTNode, is_class: bool = False) -> Scope:
        scope = Scope(node, self.current, is_class)
        self.scopes[id(node)] = scope
        return scope

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.current.bind(node.name.value, Binding(OTHER, node))
        for deco in node.decorators:
            self.visit(deco)
        scope = self._enter(node)
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        for i, param in enumerate(ordered):
            scope.bind(param.name.value, Binding(PARAM, param, i))
        for param in params.kwonly_params:
            scope.bind(param.name.value, Binding(PARAM, param, -1))
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                scope.bind(extra.name.value, Binding(PARAM, extra, -2))
        for param in [*ordered, *params.kwonly_params]:
            if param.default is not None:
                self.visit(param.default)
        outer, self.current = self.current, scope
        self.visit(node.body)
        self.current = outer
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.current.bind(node.name.value, Binding(OTHER, node))
        scope = self._enter(node, is_class=True)
        outer, self.current = self.current, scope
        self.visit(node.body)
        self.current = outer
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            _bind_target(self.current, target.target, ASSIGN, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            _bind_target(self.current, node.target, ASSIGN, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        _bind_target(self.current, node.target, OTHER, node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        _bind_target(self.current, node.target, ASSIGN, node.value)

    def visit_For(self, node: cst.For) -> None:
        _bind_target(self.current, node.target, LOOP, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        _bind_target(self.current, node.target, LOOP, node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            _bind_target(self.current, node.asname.name, OTHER, node.item)


def build_scopes(module: cst.Module) -> tuple[Scope, dict[int, Scope]]:
    builder = ScopeBuilder(module)
    return builder.module_scope, builder.scopes


class ScopedVisitor(Visitor):
    """A Visitor that knows, at every node, its scope and the dotted name of the enclosing definitions.

    Subclasses read `self.scope`, `self.scope_name()` (e.g. `train.Trainer.fit`, or "<module>") and
    `self.function_name()` (None at module or class level), and may override `on_function(node, qualified)`
    and `on_class(node)`, called after and before the body is visited respectively.
    """

    def __init__(self, module_name: str, module_scope: Scope, scopes: dict[int, Scope]) -> None:
        self.module_name = module_name
        self.scope = module_scope
        self._scopes = scopes
        self.stack: list[str] = []

    def _descend(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        outer = self.scope
        self.scope = self._scopes.get(id(node), outer)
        self.stack.append(node.name.value)
        self.visit(node.body)
        self.stack.pop()
        self.scope = outer

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for deco in node.decorators:
            self.visit(deco)
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            if param.default is not None:
                self.visit(param.default)
        self._descend(node)
        self.on_function(node, ".".join([self.module_name, *self.stack, node.name.value]))
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for deco in node.decorators:
            self.visit(deco)
        for base in node.bases:
            self.visit(base.value)
        self.on_class(node)
        self._descend(node)
        return False

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        """Called after a function's body was visited."""

    def on_class(self, node: cst.ClassDef) -> None:
        """Called before a class body is visited."""

    def scope_name(self) -> str:
        return ".".join([self.module_name, *self.stack]) if self.stack else "<module>"

    def function_name(self) -> str | None:
        return self.scope_name() if self.scope.function() is not None else None
