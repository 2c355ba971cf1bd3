"""A light walker over the semantic fields of a libcst tree, and the module's node index.

libcst's own visitor visits every whitespace and punctuation node and calls visit/leave
hooks for each (2.5x the cost of the parse on pytorch/examples). Analyses here only need
statements and expressions, so this walker descends through the fields that can hold
them and skips the rest (about 7% of the parse).

The pipeline expands each module once (`Index`): every node's semantic children (and, on
demand, its parent), and the module's nodes in document order with the end of every subtree,
so that a subtree is a slice of one list. While the module is indexed (`indexed`), no
analysis walks the tree again: `walk(node)` is node's slice, a `Visitor` runs over node's
span of that order (its `visit_<Type>` methods looked up in a table per class; returning
False jumps past the subtree; a method may still visit parts itself, in any order), and
`children` reads the table. Nodes outside the index (built during the analysis) are expanded.
"""
from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import libcst as cst

_SKIP = frozenset(
    {
        "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "semicolon",
        "comma", "dot", "equal", "colon", "operator", "star", "asynchronous", "default_indent",
        "default_newline", "newline", "empty_lines", "first_line", "trailing_whitespace",
        "lbracket", "rbracket", "lbrace", "rbrace", "indent", "encoding", "has_trailing_newline",
        "star_arg", "returns", "annotation", "prefix", "quote", "whitespace",
    }
)
_PLAIN = (str, bool, int)  # fields that never hold a node: `Name.value` (leaves then have no fields at all)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(tp: type) -> tuple[str, ...]:
    names = _FIELDS.get(tp)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(tp)
            if f.name not in _SKIP and "whitespace" not in f.name and f.type not in _PLAIN
        )
        _FIELDS[tp] = names
    return names


_IS_NODE: dict[type, bool] = {}  # type -> is it a CSTNode? (an ABC isinstance check costs 4x a dict hit)


def _is_node(tp: type) -> bool:
    known = _IS_NODE.get(tp)
    if known is None:
        known = _IS_NODE[tp] = issubclass(tp, cst.CSTNode)
    return known


def _expand(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The semantic children of a node, read from its fields (the one place the tree is expanded)."""
    kids = []
    is_node = _IS_NODE
    for name in _FIELDS.get(type(node)) or _fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                known = is_node.get(type(item))
                if known or (known is None and _is_node(type(item))):
                    kids.append(item)
        else:
            known = is_node.get(kind)
            if known or (known is None and _is_node(kind)):
                kids.append(value)
    return kids


N = TypeVar("N", bound="cst.CSTNode")
_EMPTY: tuple = ()


class Index:
    """The node table of one module, built in one walk: the module's nodes in document order (pre-order,
    `order`), the end of each node's subtree in that order (`end`, by position) and each node's position
    (`pos`, by id), so that a subtree is a slice and a node's children are found by jumping from subtree to
    subtree. The parents are derived on first use (positions ask for them only in modules with findings)."""

    __slots__ = ("module", "order", "end", "pos", "_parents", "_names")

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        order: list[cst.CSTNode] = []
        end: list[int] = []
        pos: dict[int, int] = {}
        stack: list = [module]  # nodes, and the positions of nodes whose subtree ends when they are popped
        pop, push, push_one, add, ends = stack.pop, stack.extend, stack.append, order.append, end.append
        while stack:
            node = pop()
            if type(node) is int:
                end[node] = len(order)
                continue
            at = len(order)
            add(node)
            pos[id(node)] = at
            found = _expand(node)
            if found:
                ends(0)
                push_one(at)
                found.reverse()
                push(found)
            else:
                ends(at + 1)
        self.order = order
        self.end = end
        self.pos = pos
        self._parents: dict[int, cst.CSTNode] | None = None
        self._names: dict[str, list[int]] | None = None

    def names_at(self, value: str) -> list[int]:
        """The positions of the `Name` nodes spelt `value`, in document order (the table is built on first use)."""
        if self._names is None:
            table: dict[str, list[int]] = {}
            name = cst.Name
            for at, node in enumerate(self.order):
                if type(node) is name:
                    table.setdefault(node.value, []).append(at)
            self._names = table
        return self._names.get(value, [])

    def children_at(self, at: int) -> list[cst.CSTNode]:
        """The children of the node at this position of the document order."""
        order, end = self.order, self.end
        found, child, stop = [], at + 1, end[at]
        while child < stop:
            found.append(order[child])
            child = end[child]
        return found

    @property
    def parents(self) -> dict[int, cst.CSTNode]:
        if self._parents is None:
            order, end, parents, open_ = self.order, self.end, {}, [0]
            for at in range(1, len(order)):
                while end[open_[-1]] <= at:
                    open_.pop()
                parents[id(order[at])] = order[open_[-1]]
                open_.append(at)
            self._parents = parents
        return self._parents

    def of_type(self, *types: type[N]) -> list[N]:
        """The module's nodes of these exact types, in source order (subclasses are not included)."""
        return [n for n in self.order if type(n) in types]

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(id(node))

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parents = self.parents
        current = parents.get(id(node))
        while current is not None:
            yield current
            current = parents.get(id(current))


class _Active(threading.local):
    """The index of the module being analysed on this thread (ids are stable while its tree lives). Per
    thread: an analysis on another thread (the probe's static pass) must neither see nor restore this one."""

    index: "Index | None" = None


_ACTIVE = _Active()


def active_index() -> "Index | None":
    return _ACTIVE.index


@contextmanager
def indexed(index: Index) -> Iterator[Index]:
    """Serve every walk on this thread from the index while the block runs (the per-file pipeline's analysis)."""
    previous, _ACTIVE.index = _ACTIVE.index, index
    try:
        yield index
    finally:
        _ACTIVE.index = previous


def _kids(node: cst.CSTNode) -> "list[cst.CSTNode]":
    """Children of a node: from the index when its module is indexed, else expanded (a node built during the
    analysis, or a tree outside the pipeline)."""
    index = _ACTIVE.index
    if index is not None:
        at = index.pos.get(id(node))
        if at is not None:
            return index.children_at(at)
    return _expand(node)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return iter(_kids(node))


def _span(node: cst.CSTNode) -> "tuple[list[cst.CSTNode], list[int], int] | None":
    """Where node's subtree sits in the active index's document order: (order, end, position), or None."""
    index = _ACTIVE.index
    if index is not None:
        at = index.pos.get(id(node))
        if at is not None:
            return index.order, index.end, at
    return None


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    pop = stack.pop
    push = stack.extend
    while stack:
        current = pop()
        yield current
        kids = _kids(current)
        if kids:
            push(reversed(kids))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Pre-order traversal of node and its semantic descendants (iterative: no recursion limit). In an indexed
    module this is a slice of the walk's document order (no node's children are read)."""
    span = _span(node)
    if span is not None:
        order, end, at = span
        return iter(order[at:end[at]])
    return _walk(node)


class Visitor:
    """Visitor with `visit_<ClassName>` methods; return False to skip children.

    In an indexed module a visitor reads no node's children: `visit_children(node)` runs over node's span of the
    one walk's document order, calling the method of each node's type (a table per class) and jumping past a
    subtree whose method returned False. A method may visit parts itself (`self.visit(part)`) in any order."""

    _dispatch: dict[type, Callable | None]

    def __init_subclass__(cls) -> None:
        cls._dispatch = {}

    def visit(self, node: cst.CSTNode) -> None:
        tp = type(node)
        try:
            method = self._dispatch[tp]
        except KeyError:
            method = self._dispatch[tp] = getattr(type(self), "visit_" + tp.__name__, None)
        if method is None or method(self, node) is not False:
            self.visit_children(node)

    def visit_children(self, node: cst.CSTNode) -> None:
        dispatch = self._dispatch
        index = _ACTIVE.index
        at = index.pos.get(id(node)) if index is not None else None
        if at is not None:
            order, end = index.order, index.end
            i, stop = at + 1, end[at]
            while i < stop:
                child = order[i]
                tp = type(child)
                try:
                    method = dispatch[tp]
                except KeyError:
                    method = dispatch[tp] = getattr(type(self), "visit_" + tp.__name__, None)
                if method is None or method(self, child) is not False:
                    i += 1
                else:
                    i = end[i]
            return
        # a node outside the index: visit() inlined, one Python call per node instead of two
        for child in _kids(node):
            tp = type(child)
            try:
                method = dispatch[tp]
            except KeyError:
                method = dispatch[tp] = getattr(type(self), "visit_" + tp.__name__, None)
            if method is None or method(self, child) is not False:
                self.visit_children(child)
