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
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(tp: type) -> tuple[str, ...]:
    names = _FIELDS.get(tp)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(tp) if f.name not in _SKIP and "whitespace" not in f.name
        )
        _FIELDS[tp] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif type(value) in (tuple, list):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Pre-order traversal of node and its semantic descendants (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        kids = list(children(current))
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
        for name in _fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.visit(value)
            elif type(value) in (tuple, list):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.visit(item)
