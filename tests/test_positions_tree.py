"""Calls and numbers placed through CPython's tree (positions._resolve_by_tree) agree with libcst's own
PositionProvider, where libcst's field order is not the source order too; a tree that does not pair leaves them to
the code-generation passes, which still place them; and the parse without libcst's per-node checks
(parsing._parse_module) gives the same module and checks every node built afterwards."""
from __future__ import annotations

import ast

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from mllint import parsing, positions
from mllint.core.walk import Index, walk
from mllint.findings import Loc
from mllint.source import Source

TRICKY = '''\
import functools


@functools.lru_cache(maxsize=size(1))
@register(name=pick("a") if flag(2) else pick("b"))
def train(a=default(3), /, b=other(4), *args, c=kw(5), d: annotated(6) = typed(7), **kwargs) -> ret(8):
    """Docstring."""
    value = first(9) if test(10) else second(11)
    table = {key(12): val(13), **extra(14), "x": 0x10, "y": 1_000, "z": 1e-3, "w": 2j, "v": .5}
    call(a=kw_first(15), *star(16), **dstar(17))
    message = f"{inside(18)} and {nested(f'{deeper(19)}')}" + "é" + after(20)
    chained(21)(22)(23)
    result = (wrapped(24))
    lam = lambda q=lam_default(25): body(q, 26)
    try:
        risky(27)
    except error_type(28) as exc:
        handle(exc, 29)
    match choose(30):
        case [1, 2] if guard(31):
            inner(32)
        case _:
            pass
    items: list[hint(33)] = [made(34) for _ in source(35) if keep(36)]
    return multi(
        line(37),
        -38, +39.5,
    )


@decorate(40)
class Model(base(41), metaclass=meta(42)):
    size: int = 43
    def forward(self, x=layer(44)):
        return self.layer(x) * 45
'''


def _expected(module: cst.Module) -> dict[int, tuple[int, int, int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1) for node, r in ranges.items()}


def _resolve(text: str, kinds: tuple[type, ...], monkeypatch) -> tuple[list, set[int], dict]:
    """Resolve every node of these kinds; also which ones were left to the code-generation passes."""
    module = cst.parse_module(text)
    requests = [(node, Loc()) for node in walk(module) if isinstance(node, kinds)]
    left: set[int] = set()
    search = positions._resolve_by_search

    def recording(module, targets, nodes, text):
        left.update(targets)
        return search(module, targets, nodes, text)

    monkeypatch.setattr(positions, "_resolve_by_search", recording)
    positions.resolve_positions(module, requests, text, Index(module))
    return requests, left, _expected(module)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_calls_and_numbers_placed_through_the_tree_match_libcst(monkeypatch, newline):
    text = TRICKY.replace("\n", newline)
    kinds = (cst.Call, cst.Integer, cst.Float, cst.Imaginary)
    requests, left, expected = _resolve(text, kinds, monkeypatch)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)], \
            (type(node).__name__, cst.Module([]).code_for_node(node))
    module = cst.parse_module(text)  # (a second parse, to find what lies inside f-strings by code)
    inside = {cst.Module([]).code_for_node(n) for f in walk(module) if isinstance(f, cst.FormattedString)
              for n in walk(f) if isinstance(n, kinds)}
    assert inside == {"inside(18)", "18", "nested(f'{deeper(19)}')", "deeper(19)", "19"}
    # everything but the nodes inside f-strings was placed through CPython's tree, not by generating code
    assert sorted(cst.Module([]).code_for_node(n) for n, _ in requests if id(n) in left) == sorted(inside)
    assert len(requests) > 45


def test_the_index_and_the_tree_pair_and_calls_in_annotations_are_placed_by_the_passes(monkeypatch):
    module = cst.parse_module(TRICKY)
    calls, numbers = positions._cst_nodes(Index(module))
    tree_calls, tree_numbers = positions._ast_nodes(ast.parse(TRICKY))
    assert len(calls) == len(tree_calls) == 43 and len(numbers) == len(tree_numbers)
    assert all(positions._same_call(a, b) for a, b in zip(calls, tree_calls))
    assert all(positions._same_number(a, b) for a, b in zip(numbers, tree_numbers))

    class Annotated(cst.CSTVisitor):  # libcst's full walk: the calls in annotations, left out of the index
        def __init__(self) -> None:
            self.found: list[cst.Call] = []

        def visit_Annotation(self, node: cst.Annotation) -> None:
            self.found.extend(n for n in walk(node.annotation) if isinstance(n, cst.Call))

    visitor = Annotated()
    module.visit(visitor)
    assert [module.code_for_node(n) for n in visitor.found] == ["annotated(6)", "ret(8)", "hint(33)"]
    requests = [(node, Loc()) for node in [*visitor.found, *calls[:5]]]
    positions.resolve_positions(module, requests, TRICKY, Index(module))
    expected = _expected(module)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]


def test_a_tree_that_does_not_pair_leaves_the_nodes_to_the_passes(monkeypatch):
    real = positions._ast_nodes

    def reversed_order(tree):
        calls, numbers = real(tree)
        return calls[::-1], numbers[::-1]

    monkeypatch.setattr(positions, "_ast_nodes", reversed_order)
    kinds = (cst.Call, cst.Integer, cst.Float)
    requests, left, expected = _resolve(TRICKY, kinds, monkeypatch)
    assert len(left) == len(requests)  # nothing placed through the tree
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]


SMALL = "def f():\n    x = g(1)\n    return h(x, 2.5)\nprint(f(3), end=g(4))\n"


def test_code_cpython_rejects_is_placed_by_the_passes(monkeypatch):
    text = SMALL * 4
    monkeypatch.setattr(positions.ast, "parse", lambda text: (_ for _ in ()).throw(SyntaxError("rejected")))
    requests, left, expected = _resolve(text, (cst.Call, cst.Integer, cst.Float), monkeypatch)
    assert len(requests) >= positions._TREE_FROM
    assert len(left) == len(requests)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]


def test_a_few_calls_are_placed_by_the_passes_without_cpythons_parse(monkeypatch):
    monkeypatch.setattr(positions.ast, "parse", lambda text: pytest.fail("parsed for a few calls"))
    requests, left, expected = _resolve(SMALL, (cst.Call, cst.Integer, cst.Float), monkeypatch)
    assert 0 < len(requests) < positions._TREE_FROM
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]


def test_a_large_file_reuses_the_depth_guards_tree(monkeypatch):
    text = TRICKY + "".join(f"def padding_{i}(x=fill({i})):\n    return x + {i}\n" for i in range(2500))
    assert len(text) > 64 * 1024
    module, problems, parsed = parsing.parse_with_text(Source(text=text, is_notebook=False))
    assert module is not None and not problems and parsed is text
    assert isinstance(parsing.guard_tree(text), ast.Module)
    assert parsing.guard_tree(text + "") is parsing.guard_tree(text)  # (the same object: no copy was made)
    monkeypatch.setattr(positions.ast, "parse", lambda text: pytest.fail("parsed again"))
    requests = [(node, Loc()) for node in walk(module) if isinstance(node, (cst.Call, cst.Integer))][-40:]
    positions.resolve_positions(module, requests, parsed, Index(module))
    expected = _expected(module)
    for node, loc in requests:
        assert (loc.line, loc.column, loc.end_line, loc.end_column) == expected[id(node)]
    parsing.parse_with_text(Source(text="x = 1\n", is_notebook=False))
    assert parsing.guard_tree(text) is None  # the next file's parse forgets it


def test_parsing_without_node_checks_gives_the_same_module_and_checks_later_nodes():
    checked = cst.CSTNode.__dict__["__post_init__"]
    module, problems, _ = parsing.parse_with_text(Source(text=TRICKY, is_notebook=False))
    assert not problems and module.code == TRICKY
    assert module.deep_equals(cst.parse_module(TRICKY))
    assert cst.CSTNode.__dict__["__post_init__"] is checked
    module, problems, _ = parsing.parse_with_text(Source(text="def f(:\n", is_notebook=False))
    assert module is None and problems[0].code == "FILE002"
    assert cst.CSTNode.__dict__["__post_init__"] is checked  # restored after a failed parse too
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # a node built after the parse is checked
