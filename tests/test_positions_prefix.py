"""The statement pass of positions.py generates a top-level statement only up to the end of the last target it
holds, and places that prefix in the text; a prefix found more than once falls back to the whole statement. Either
way the positions are libcst's (PositionProvider)."""
from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mllint import positions
from mllint.core.walk import Index, walk
from mllint.findings import Loc

# `optimizer.step()` occurs several times: it is placed by its top-level statement, not by its own text.
MAIN = '''\
import torch


def main(args):
    """Train."""
    optimizer.step()
    for epoch in range(args.epochs):
        optimizer.step()
''' + "".join(f"        value_{i} = compute({i}, epoch)\n" for i in range(200)) + '''
    optimizer.step()


def main2(args):
    """Train."""
    optimizer.step()
    return args
'''


def _expected(module: cst.Module) -> dict[int, tuple[int, int, int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1) for node, r in ranges.items()}


def _resolve(text: str, pick) -> tuple[list, dict]:
    module = cst.parse_module(text)
    expected = _expected(module)
    requests = [(node, Loc()) for node in walk(module) if pick(node)]
    positions.resolve_positions(module, requests, text, Index(module))
    return requests, expected


def _generated(monkeypatch) -> list:
    """What each top-level statement's generations were asked for: how many targets (None: the whole statement)."""
    asked: list = []
    original = positions._generate

    def counting(state, stmt, left):
        asked.append(left)
        return original(state, stmt, left)

    monkeypatch.setattr(positions, "_generate", counting)
    # calls are placed through CPython's tree before this pass (tests/test_positions_tree.py): here the pass itself
    monkeypatch.setattr(positions, "_resolve_by_tree", lambda targets, *_: targets)
    return asked


def test_a_statement_is_generated_up_to_its_last_target(monkeypatch):
    asked = _generated(monkeypatch)
    first_step = lambda node: isinstance(node, cst.Call) and cst.Module([]).code_for_node(node) == "optimizer.step()"
    requests, expected = _resolve(MAIN, first_step)
    assert len(requests) == 4
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]
    assert asked == [3, 1]  # main's three calls, main2's one, each by its prefix alone


def test_a_prefix_found_twice_falls_back_to_the_whole_statement(monkeypatch):
    asked = _generated(monkeypatch)
    # main's prefix (up to its last call, after the `value_` lines) is found once, but main2 now occurs twice: its
    # prefix, then the whole statement, are found twice, and the whole module is generated
    text = MAIN + MAIN.split("\n\n\n", 1)[1].replace("value_", "other_")
    first_calls = lambda node: isinstance(node, cst.Call) and cst.Module([]).code_for_node(node) == "optimizer.step()"
    requests, expected = _resolve(text, first_calls)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]
    assert None in asked


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_every_statement_and_expression_of_a_long_function(newline):
    text = MAIN.replace("\n", newline)
    requests, expected = _resolve(text, lambda node: isinstance(node, (cst.BaseSmallStatement, cst.Call, cst.Name)))
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)], type(node).__name__
