"""The families' one walk (core/scopes.FamilyWalk, core/walkers.py): same nodes, order and scopes as a
ScopedVisitor of each family alone; leave_ after a subtree; a family's failure stays its own."""
from __future__ import annotations

import libcst as cst
import pytest

from mllint.context import ModuleContext
from mllint.core import walkers
from mllint.core.scopes import FamilyWalk, Handlers, ScopedVisitor
from mllint.core.walk import Index, indexed

SOURCE = '''
import os, a.b as c
@deco(x for x in range(3))
def f(p, /, q=[y for y in z], *args, k=(w := 2), **kw) -> int:
    """doc"""
    def inner(m=lambda n=1: n):
        return m()
    for i in range(q):
        if i:
            print(i)
        else:
            g = {"a": i}
    return inner

class C(Base, metaclass=Meta):
    field = 1
    def method(self, v=call()):
        with open(v) as fh:
            while fh:
                self.x = fh.read()

if __name__ == "__main__":
    f(1)
else:
    h = [q for q in C()]
'''

_TYPES = [getattr(cst, name) for name in dir(cst)
          if isinstance(getattr(cst, name), type) and issubclass(getattr(cst, name), cst.CSTNode)
          and name not in ("FunctionDef", "ClassDef")]  # definitions: on_function / on_class


def _recording(base: type, events: list, leaves: bool = False) -> type:
    """A subclass of `base` that records every node it is called for, with the scope name at that node."""
    def visit(self, node):
        events.append(("visit", type(node).__name__, self.scope_name(), id(self.scope.node)))

    def leave(self, node):
        events.append(("leave", type(node).__name__))

    attrs = {"visit_" + tp.__name__: visit for tp in _TYPES}
    if leaves:
        attrs.update({"leave_" + tp.__name__: leave for tp in _TYPES})
    attrs["on_function"] = lambda self, node, qualified: events.append(("function", qualified))
    attrs["on_class"] = lambda self, node: events.append(("class", node.name.value))
    return type("Recording", (base,), attrs)


def _context(source: str) -> tuple[ModuleContext, Index]:
    module = cst.parse_module(source)
    index = Index(module)
    return ModuleContext(module, "pkg/train.py", source, index=index), index


def test_one_walk_visits_what_a_scoped_visitor_visits_in_its_order_and_scopes():
    ctx, index = _context(SOURCE)
    with indexed(index):
        alone: list = []
        _recording(ScopedVisitor, alone)(ctx.names.module_name, ctx.module_scope, ctx.scopes).visit_children(ctx.module)
        together: list = []
        handlers = [_recording(Handlers, together)(), _recording(Handlers, together)()]
        FamilyWalk(index, ctx.names.module_name, ctx.module_scope, ctx.scopes, handlers).run(ctx.module)
    assert together[0::2] == alone and together[1::2] == alone  # each family in turn, at every node
    assert ("function", "pkg.train.C.method") in alone and ("class", "C") in alone


def test_leaves_follow_the_subtree_innermost_first_and_after_ends_a_part():
    ctx, index = _context("if x:\n    y = f(1)\nelse:\n    z = 2\n")
    events: list = []

    class Main(_recording(Handlers, events, leaves=True)):
        def visit_If(self, node):
            events.append(("visit", "If"))
            self.walker.after(node.body, lambda body: events.append(("body done", type(body).__name__)))

    with indexed(index):
        FamilyWalk(index, ctx.names.module_name, ctx.module_scope, ctx.scopes, [Main()]).run(ctx.module)
    names = [e[:2] for e in events]
    assert names.index(("body done", "IndentedBlock")) < names.index(("visit", "Else"))
    assert names.index(("leave", "IndentedBlock")) < names.index(("body done", "IndentedBlock"))
    assert names[-1] == ("leave", "If") and names[-2] == ("leave", "Else")
    assert names.index(("leave", "Call")) < names.index(("leave", "Assign")) < names.index(("leave", "SimpleStatementLine"))


def test_a_failing_family_fails_alone(monkeypatch):
    class Counts(Handlers):
        def __init__(self):
            self.calls = 0

        def visit_Call(self, node):
            self.calls += 1

    class Fails(Handlers):
        def visit_Call(self, node):
            raise ValueError("broken")

    monkeypatch.setattr(walkers, "WALKERS", {"counts": lambda ctx: Counts(), "fails": lambda ctx: Fails(),
                                             "absent": lambda ctx: None})
    ctx, index = _context("f(g(1))\n")
    with indexed(index):
        assert walkers.walked(ctx, "counts").calls == 2
        with pytest.raises(ValueError, match="broken"):
            walkers.walked(ctx, "fails")
        assert walkers.walked(ctx, "absent") is None
    other, index = _context("f(1)\n")
    other.extractors = ("fails",)
    with indexed(index):
        assert walkers.walked(other, "counts") is None  # only the run's extractors walk
