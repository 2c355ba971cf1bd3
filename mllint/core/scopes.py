"""Function and module scopes: which names are parameters, loop variables or assigned values.

Built once per module by one walk; analyses look names up instead of re-walking bodies.
Class bodies do not leak into methods, as in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

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


class ScopeNames:
    """What a visitor or a family's handlers know of where the walk is: the enclosing definitions' names, and the
    hooks called around definitions (ScopedVisitor and Handlers share them)."""

    module_name: str
    scope: "Scope"
    stack: list[str]

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        """Called after a function's body was visited."""

    def on_class(self, node: cst.ClassDef) -> None:
        """Called before a class body is visited."""

    def scope_name(self) -> str:
        return ".".join([self.module_name, *self.stack]) if self.stack else "<module>"

    def function_name(self) -> str | None:
        return self.scope_name() if self.scope.function() is not None else None


class ScopedVisitor(ScopeNames, Visitor):
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


class Handlers(ScopeNames):
    """A family's node handlers in the module's one walk (`FamilyWalk`, registered with `core.walkers.walker`).

    The walk calls `visit_<ClassName>(node)` when it reaches a node and `leave_<ClassName>(node)` once the node's
    subtree is done, `on_class(node)` before a class body and `on_function(node, qualified)` after a function body,
    in ScopedVisitor's order (a definition's decorators, then its parameters' defaults or its bases, then its body;
    names are not visited). The walk is shared, so a handler neither skips a subtree nor visits parts itself: state
    that holds over a subtree is set in `visit_` and undone in `leave_` (or `self.walker.after(part, fn)`).
    Scope entry and exit are the walk's, once for every family: `scope`, `stack` (the enclosing definitions'
    names), `definitions` (their nodes), `scope_name()`, `function_name()`, as in ScopedVisitor.
    """

    needs_scopes = True  # False: the family reads no Scope (the walk then builds none for it)
    module_name: str
    scope: Scope
    stack: list[str]
    definitions: list[cst.CSTNode]
    walker: "FamilyWalk"



_DEFINITION = ((), ())  # the table's entry for FunctionDef and ClassDef: walked by `FamilyWalk._definition`
_METHODS: dict[tuple[type, type], tuple] = {}  # (handlers' class, node type) -> (visit_, leave_ functions or None)


def _flush(pending: list, i: int, stop: int) -> int:
    """Call the leaves of the pending subtrees that end at or before i; where the next one ends (else stop)."""
    while pending and pending[-1][0] <= i:
        _, done, leaves = pending.pop()
        for leave in leaves:
            leave(done)
    return pending[-1][0] if pending else stop


class FamilyWalk:
    """One pass over a module's index for several families' `Handlers`: each node's type is looked up once, and
    the node goes to the `visit_`/`leave_` methods of the families that define one for that type."""

    def __init__(self, index, module_name: str, module_scope: Scope, scopes: dict[int, Scope],
                 handlers: "list[Handlers]") -> None:
        self._order, self._end, self._pos = index.order, index.end, index.pos
        self._scopes = scopes
        self.handlers = handlers
        self.stack: list[str] = []
        self.definitions: list[cst.CSTNode] = []
        self._pending: list = []
        self._table: dict[type, tuple | None] = {cst.FunctionDef: _DEFINITION, cst.ClassDef: _DEFINITION}
        for handler in handlers:
            handler.module_name, handler.walker = module_name, self
            handler.scope, handler.stack, handler.definitions = module_scope, self.stack, self.definitions

    def run(self, module: cst.Module) -> None:
        at = self._pos[id(module)]
        self._span(at + 1, self._end[at])

    def after(self, node: cst.CSTNode, leave: Callable[[cst.CSTNode], None]) -> None:
        """Call `leave(node)` once node's subtree is done (node: a part of the node being visited)."""
        at = self._pos[id(node)]
        self._pending.append((self._end[at], node, (leave,)))

    def _methods(self, tp: type) -> tuple[tuple, tuple]:
        """The visit_ and leave_ methods of tp, bound to the handlers (leaves in reverse order)."""
        found = []
        for handler in self.handlers:
            key = (type(handler), tp)
            methods = _METHODS.get(key)
            if methods is None:
                cls, name = type(handler), tp.__name__
                methods = _METHODS[key] = (getattr(cls, "visit_" + name, None), getattr(cls, "leave_" + name, None))
            found.append((handler, methods))
        visits = tuple(visit.__get__(h) for h, (visit, _) in found if visit is not None)
        leaves = tuple(leave.__get__(h) for h, (_, leave) in reversed(found) if leave is not None)
        self._table[tp] = entry = (visits, leaves) if visits or leaves else None
        return entry

    def _span(self, i: int, stop: int) -> None:
        """Dispatch the subtrees in order[i:stop], in document order; definitions are walked by `_definition`."""
        order, end, table = self._order, self._end, self._table
        outer, pending = self._pending, []  # (end, node, leaves): the innermost last
        self._pending = pending
        due = stop  # where the innermost pending subtree ends
        while i < stop:
            if i >= due:
                due = _flush(pending, i, stop)
            node = order[i]
            try:
                entry = table[type(node)]  # None: no family handles the type (most nodes)
            except KeyError:
                entry = self._methods(type(node))
            if entry is not None:
                if entry is _DEFINITION:
                    self._definition(node)
                    i = end[i]
                    continue
                visits, leaves = entry
                if leaves:
                    pending.append((end[i], node, leaves))  # before the visits: `after` entries end inside it
                    due = end[i]
                if visits:
                    for visit in visits:
                        visit(node)
                    if pending and pending[-1][0] < due:  # an `after`
                        due = pending[-1][0]
            i += 1
        _flush(pending, stop, stop)
        self._pending = outer

    def _part(self, node: cst.CSTNode) -> None:
        at = self._pos[id(node)]
        self._span(at, self._end[at])

    def _definition(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        """ScopedVisitor's order: decorators, then the parameters' defaults (a function) or the bases and
        `on_class` (a class), then the body in the definition's scope, then `on_function`."""
        for deco in node.decorators:
            self._part(deco)
        is_function = type(node) is cst.FunctionDef
        if is_function:
            params = node.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                if param.default is not None:
                    self._part(param.default)
        else:
            for base in node.bases:
                self._part(base.value)
            for handler in self.handlers:
                handler.on_class(node)
        handlers = self.handlers
        outer = handlers[0].scope
        inner = self._scopes.get(id(node), outer)
        for handler in handlers:
            handler.scope = inner
        self.stack.append(node.name.value)
        self.definitions.append(node)
        self._part(node.body)
        self.definitions.pop()
        self.stack.pop()
        for handler in handlers:
            handler.scope = outer
        if is_function:
            qualified = ".".join([handlers[0].module_name, *self.stack, node.name.value])
            for handler in handlers:
                handler.on_function(node, qualified)
