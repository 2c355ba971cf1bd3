"""The context pass of positions.py: a target whose own text occurs several times is placed through the smallest
node around it (an argument, a call, a statement, a method) whose code, generated alone, occurs once in the text,
each line possibly indented further by the blocks around it. The positions are those of the whole module's generation
(`resolve_positions` without the text; libcst's PositionProvider agrees except at the end of compound statements,
whose `end_node` the generation does not follow, before this pass as after) in every shape: elif chains (an `elif`
generated alone reads `if`), decorators, comments and blank lines above statements, multi-line strings, semicolons,
tabs and CRLF; and the top-level statement is no longer generated for them."""
from __future__ import annotations

import libcst as cst
import pytest

from mllint import positions
from mllint.core.walk import Index, walk
from mllint.findings import Loc

SOURCE = '''\
import torch


class Block(nn.Module):
    """Two convolutions."""

    def __init__(self, dim):
        super().__init__()
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    # the forward pass
    @torch.no_grad()
    def forward(self, x):
        x = self.act(x)
        if x.dim() == 4:
            x = self.act(x)
        elif x.dim() == 3:
            x = self.act(x); y = 0
        elif x.dim() == 2:
            x = self.act(x)
        else:
            x = self.act(x)
        return x


class Other(nn.Module):
    """Two convolutions."""

    def __init__(self, dim):
        super().__init__()
        self.act = nn.ReLU()
        note = """a string
  with lines
        self.act = nn.ReLU()
"""
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    @torch.no_grad()
    def forward(self, x):
        try:
            x = self.act(x)
        except ValueError:
            x = self.act(x)
        finally:
            y = 0
        for _ in range(3):
            x = self.act(x)
        while x:
            with torch.no_grad():
                x = self.act(x)
        return x
'''

KINDS = [
    (cst.Call,), (cst.Integer,), (cst.Name,), (cst.SimpleStatementLine,), (cst.BaseSmallStatement,),
    (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.FunctionDef), (cst.Arg, cst.Param, cst.Attribute),
]


def _expected(module: cst.Module) -> dict[int, tuple[int, int, int, int]]:
    """Every node's place by the whole module's generation."""
    requests = [(node, Loc()) for node in walk(module)]
    positions.resolve_positions(module, requests)
    return {id(node): (loc.line, loc.column, loc.end_line, loc.end_column) for node, loc in requests}


def _check(text: str, kinds: tuple[type, ...]) -> list:
    module = cst.parse_module(text)
    expected = _expected(module)
    requests = [(node, Loc()) for node in walk(module) if isinstance(node, kinds)]
    positions.resolve_positions(module, requests, text, Index(module))
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)], \
            (type(node).__name__, module.code_for_node(node))
    return requests


@pytest.mark.parametrize("kinds", KINDS, ids=lambda kinds: "-".join(k.__name__ for k in kinds))
@pytest.mark.parametrize("variant", ["plain", "crlf", "tabs"])
def test_positions_through_their_context_match_libcst(kinds, variant):
    text = {"plain": SOURCE, "crlf": SOURCE.replace("\n", "\r\n"), "tabs": SOURCE.replace("    ", "\t")}[variant]
    assert _check(text, kinds)


def test_repeated_calls_inside_methods_do_not_generate_their_class(monkeypatch):
    generated: list = []
    original = positions._generate
    monkeypatch.setattr(positions, "_generate", lambda state, stmt, left: generated.append(stmt) or original(state, stmt, left))
    requests = _check(SOURCE, (cst.Call,))
    assert len(requests) > 20
    assert not any(isinstance(stmt, cst.ClassDef) for stmt in generated)


def test_an_elif_is_not_placed_as_an_if():
    # the elif's own code, generated alone, is `if x.dim() == 3:`, which occurs inside `elif x.dim() == 3:`: placed
    # there, it would be two columns off; it is placed through its enclosing `if` instead
    module = cst.parse_module(SOURCE)
    elifs = [node for node in walk(module) if isinstance(node, cst.If) and isinstance(node.test, cst.Comparison)
             and cst.Module([]).code_for_node(node.test) != "x.dim() == 4"]
    assert len(elifs) == 2
    expected = _expected(module)
    requests = [(node, Loc()) for node in elifs]
    positions.resolve_positions(module, requests, SOURCE, Index(module))
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]
