"""parsing._ast_depth (the depth guard's walk, with each class's fields read from a table) gives the depth that a walk
through `ast.iter_child_nodes` gives, on the shipped code and fixtures and on trees deeper than the limit."""
from __future__ import annotations

import ast
import pathlib

from mllint import parsing


def _reference(tree: ast.AST) -> int:
    best, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > best:
            best = depth
            if best > parsing.MAX_TREE_DEPTH:
                return best
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return best


def test_depth_equals_the_reference_walk():
    root = pathlib.Path(__file__).resolve().parent.parent
    checked = 0
    for path in sorted([*(root / "mllint").rglob("*.py"), *(root / "fixtures").rglob("*.py")]):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        assert parsing._ast_depth(tree) == _reference(tree), path
        checked += 1
    assert checked > 100


def test_deep_trees_are_over_the_limit():
    for text in ("x = " + "+".join(["1"] * 1000), "f(" * 150 + ")" * 150, "x = [" + "[" * 90 + "]" * 91):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        assert parsing._ast_depth(tree) == _reference(tree)
    assert parsing._ast_depth(ast.parse("x = " + "+".join(["1"] * 1000))) > parsing.MAX_TREE_DEPTH
