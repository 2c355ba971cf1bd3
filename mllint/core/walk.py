"""A light walker over the semantic fields of a libcst tree.

libcst's own visitor visits every whitespace and punctuation node and calls visit/leave
hooks for each (2.5x the cost of the parse on pytorch/examples). Analyses here only need
statements and expressions, so this walker descends through the fields that can hold
them and skips the rest (about 7% of the parse).
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

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


def _kids(node: cst.CSTNode) -> list[cst.CSTNode]:
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


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    return iter(_kids(node))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Pre-order traversal of node and its semantic descendants (iterative: no recursion limit)."""
    stack = [node]
    pop = stack.pop
    while stack:
        current = pop()
        yield current
        kids = _kids(current)
        if kids:
            kids.reverse()
            stack.extend(kids)


class Visitor:
    """Recursive visitor with `visit_<ClassName>` methods; return False to skip children."""

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
        # visit() inlined: one Python call per node instead of two (every family walks every tree)
        dispatch = self._dispatch
        for child in _kids(node):
            tp = type(child)
            try:
                method = dispatch[tp]
            except KeyError:
                method = dispatch[tp] = getattr(type(self), "visit_" + tp.__name__, None)
            if method is None or method(self, child) is not False:
                self.visit_children(child)
