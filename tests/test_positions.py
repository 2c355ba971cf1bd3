"""Positions of reported nodes (positions.py) agree with libcst's own PositionProvider, whichever way they are
found: by an expression's own text, by its top-level statement, or by generating the whole module."""
from __future__ import annotations

import pathlib

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mllint.findings import Loc
from mllint.positions import resolve_positions
from mllint.core.walk import Index, walk

SAMPLE = '''\
import torch


def train(model, loader, epochs):
    for epoch in range(epochs):
        for images, labels in loader:
            loss = criterion(
                model(images),
                labels,  # a comment inside the call
            )
            optimizer.step()
        if epoch % 10 == 0:
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer,
                                                        step_size=30,
                                                        gamma=0.1)
            optimizer.step()
    return (model)


class Trainer:
    def fit(self):
        best = max(self.scores,
            key=lambda s: s.value)
        self.save(best, "best.pt"); self.save(best, "last.pt")
'''


def _expected(module: cst.Module) -> dict[int, tuple[int, int, int, int]]:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    ranges = wrapper.resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1) for node, r in ranges.items()}


def _check(text: str, kinds: tuple[type, ...], indexed: bool = False) -> int:
    module = cst.parse_module(text)
    expected = _expected(module)
    nodes = [n for n in walk(module) if isinstance(n, kinds)]
    requests = [(node, Loc()) for node in nodes]
    resolve_positions(module, requests, text, Index(module) if indexed else None)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)], \
            (type(node).__name__, module.code_for_node(node))
    return len(requests)


@pytest.mark.parametrize("kinds", [
    (cst.Call,), (cst.Name,), (cst.Float, cst.Integer, cst.SimpleString), (cst.Arg, cst.Param),
    (cst.SimpleStatementLine,), (cst.Call, cst.Name, cst.SimpleStatementLine),
])
@pytest.mark.parametrize("indexed", [False, True], ids=["walked", "indexed"])
def test_positions_match_libcst_for_unique_repeated_and_multiline_nodes(kinds, indexed):
    assert _check(SAMPLE, kinds, indexed) > 0


def test_positions_match_libcst_with_crlf_and_tabs():
    assert _check(SAMPLE.replace("\n", "\r\n"), (cst.Call, cst.Name)) > 0
    assert _check(SAMPLE.replace("    ", "\t"), (cst.Call, cst.Arg)) > 0


def test_positions_match_libcst_on_the_shipped_fixtures():
    root = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
    checked = 0
    for path in sorted(root.rglob("*.py"))[:60]:
        text = path.read_text(encoding="utf-8")
        try:
            checked += _check(text, (cst.Call, cst.Float, cst.Attribute))
        except cst.ParserSyntaxError:
            continue
    assert checked > 500
