"""Positions for the few nodes that are reported, in one code-generation pass.

libcst's PositionProvider records a range for every node of the tree (about 2x the cost of
the parse). Findings need the range of a handful of nodes, so this pass records only those
and stops as soon as the last one is closed.
"""
from __future__ import annotations

import ast
import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from .findings import Loc

if TYPE_CHECKING:
    from .core.walk import Index

_NEWLINE = re.compile(r"\r\n?|\n")


def _split_lines(code: str) -> list[str]:
    """_NEWLINE.split(code); str.split when the code has no carriage return (the same lines, ~5x cheaper)."""
    return code.split("\n") if "\r" not in code else _NEWLINE.split(code)


def _line_starts(text: str) -> list[int]:
    """The offset of each line's start: [0, *(m.end() for m in _NEWLINE.finditer(text))]."""
    if "\r" in text:
        return [0, *(m.end() for m in _NEWLINE.finditer(text))]
    return list(accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))


def _count_lines(text: str, start: int, stop: int) -> int:
    """len(_NEWLINE.findall(text, start, stop)); str.count when the text has no carriage return."""
    return text.count("\n", start, stop) if "\r" not in text else len(_NEWLINE.findall(text, start, stop))


class _Done(Exception):
    pass


class _Untracked:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


_UNTRACKED = _Untracked()


class _Syntactic:
    """Records the syntactic range (without parentheses) of a target node."""

    __slots__ = ("state", "key", "start")

    def __init__(self, state, key: int) -> None:
        self.state, self.key = state, key

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> bool:
        state = self.state
        if self.key not in state.syntactic:
            state.syntactic.add(self.key)
            state._close(self.key, self.start, (state.line, state.column))
        return False


@lru_cache(maxsize=None)
def _state_class() -> type:
    """Defined on first use: importing libcst's CodegenState loads libcst, which a cached run never needs."""
    from libcst._nodes.internal import CodegenState

    class _TargetedState(CodegenState):
        def __init__(self, module: cst.Module, targets: dict[int, list[Loc]]) -> None:
            super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
            self.targets = targets
            self.remaining = len(targets)
            self.line = 1
            self.column = 0
            self.open: dict[int, tuple[int, int]] = {}
            self.syntactic: set[int] = set()
            self.text: list[str] | None = None  # the generated code, when locating statements (see below)
            self.closed: list[int] = []
            self.left: int | None = None  # targets still open in the statement generated (it stops at 0)

        def add_indent_tokens(self) -> None:
            for tok in self.indent_tokens:
                self.add_token(tok)

        def add_token(self, value: str) -> None:
            if "\r" in value:
                parts = _NEWLINE.split(value)
                self.line += len(parts) - 1
                self.column = len(parts[-1])
            elif "\n" in value:  # the same as the split above, without a list
                self.line += value.count("\n")
                self.column = len(value) - value.rfind("\n") - 1
            else:
                self.column += len(value)
            if self.text is not None:
                self.text.append(value)

        def before_codegen(self, node: cst.CSTNode) -> None:
            if id(node) in self.targets:
                self.open[id(node)] = (self.line, self.column)

        def after_codegen(self, node: cst.CSTNode) -> None:
            key = id(node)
            if key in self.targets and key not in self.syntactic:
                self._close(key, self.open.pop(key), (self.line, self.column))

        def record_syntactic_position(self, node, *, start_node=None, end_node=None):
            # Called for most nodes: a shared no-op unless the node is a target (contextlib's
            # generator-based managers cost more than the rest of the pass).
            key = id(node)
            return _Syntactic(self, key) if key in self.targets else _UNTRACKED

        def _close(self, key: int, start: tuple[int, int], end: tuple[int, int]) -> None:
            for loc in self.targets[key]:
                loc.line, loc.column = start[0], start[1] + 1
                loc.end_line, loc.end_column = end[0], end[1] + 1
            self.closed.append(key)
            self.remaining -= 1
            if self.remaining == 0 and self.text is None:
                raise _Done
            if self.left is not None:
                self.left -= 1
                if self.left == 0:
                    raise _Done

    return _TargetedState


def resolve_positions(module: cst.Module, requests: Iterable[tuple[cst.CSTNode, Loc]], text: str | None = None,
                      index: "Index | None" = None) -> None:
    """Fill the line/column fields of each Loc from the node it was requested for.

    With `text` (the exact source the module was parsed from) and the module's `index`, calls and numbers are
    placed through CPython's tree of the text (_resolve_by_tree). With `text`, the other expressions that occur once
    are found by their own code (_resolve_by_search), and only the top-level statements that hold the nodes left
    are generated, and each is found in the text (see _resolve_by_statement); otherwise the module is generated up
    to the last requested node. With the module's `index`, the statements that hold requested nodes are found
    through their parents.
    """
    targets: dict[int, list[Loc]] = {}
    nodes: dict[int, cst.CSTNode] = {}  # ids are only stable while the nodes are alive
    for node, loc in requests:
        targets.setdefault(id(node), []).append(loc)
        nodes[id(node)] = node
    if not targets:
        return
    if text is not None:
        if index is not None:  # calls and numbers first, through CPython's tree (see _resolve_by_tree)
            from .parsing import guard_tree

            tree = guard_tree(text)  # a large file's, parsed by the depth guard already
            if tree is not None or sum(1 for key in targets if type(nodes[key]) in _PLACED_KINDS) >= _TREE_FROM:
                targets = _resolve_by_tree(targets, nodes, text, index, tree)
        targets = _resolve_by_search(module, targets, nodes, text)
        if not targets or _resolve_by_statement(module, targets, text, nodes, index):
            return
    state = _state_class()(module, targets)
    try:
        module._codegen(state)
    except _Done:
        pass


def _holding(module: cst.Module, targets: dict[int, list[Loc]], nodes: dict[int, cst.CSTNode] | None,
             index: "Index | None") -> list[cst.CSTNode]:
    """The top-level statements that hold a target, in source order: through the index's parents when the
    module is indexed (a few steps per target), else by walking every statement."""
    return [stmt for stmt, _ in _holding_counts(module, targets, nodes, index)]


def _holding_counts(module: cst.Module, targets: dict[int, list[Loc]], nodes: dict[int, cst.CSTNode] | None,
                    index: "Index | None") -> list[tuple[cst.CSTNode, int]]:
    """The top-level statements that hold a target, in source order, each with how many targets it holds."""
    tops: dict[int, int] = {}
    if index is not None and nodes is not None:
        for key in targets:
            chain = [nodes[key], *index.ancestors(nodes[key])]  # up to the module, for a node of this tree
            if len(chain) >= 2 and chain[-1] is module:
                tops[id(chain[-2])] = tops.get(id(chain[-2]), 0) + 1
        return [(stmt, tops[id(stmt)]) for stmt in module.body if id(stmt) in tops]
    from .core.walk import walk

    counted = [(stmt, sum(1 for node in walk(stmt) if id(node) in targets)) for stmt in module.body]
    return [(stmt, count) for stmt, count in counted if count]


_SEARCH_MAX = 2000  # characters: a longer snippet costs more to generate than its statement is likely to
_OCCURRENCES_TRIED = 50  # occurrences of a multi-line snippet's first line checked before giving up


def _resolve_by_search(module: cst.Module, targets: dict[int, list[Loc]], nodes: dict[int, cst.CSTNode],
                       text: str) -> dict[int, list[Loc]]:
    """Place expressions by their own text, and return the targets left to place.

    An expression's generated code is exactly its source text (libcst round-trips), up to the indentation
    of its continuation lines (which comes from the blocks around it); when it occurs once in the file, that
    occurrence is the node. Generating a call or a name costs a few tokens, where its enclosing top-level
    statement (a whole `main()`) costs thousands. Statements, and expressions that occur more than once
    (`loader`, `optimizer.step()`), are left to the statement pass."""
    left: dict[int, list[Loc]] = {}
    line_starts: list[int] | None = None
    state_class = _state_class()
    searchable = (cst.BaseExpression, cst.Arg, cst.Param)
    for key, locs in targets.items():
        node = nodes[key]
        if not isinstance(node, searchable):
            left[key] = locs
            continue
        scratch = Loc()
        state = state_class(module, {key: [scratch]})
        state.text, state.line, state.column = [], 0, 0
        node._codegen(state)
        code = "".join(state.text)
        lines = _split_lines(code) if code and len(code) <= _SEARCH_MAX else []
        found = _only_occurrence(text, lines) if lines and state.closed and scratch.line == 0 else None
        if found is None or scratch.end_line not in (0, len(lines) - 1):
            left[key] = locs
            continue
        offset, last_indent = found
        if line_starts is None:
            line_starts = _line_starts(text)
        row = bisect_right(line_starts, offset)  # 1-based line of the occurrence
        shift = offset - line_starts[row - 1]
        end_shift = shift if scratch.end_line == 0 else last_indent
        for loc in locs:
            loc.line, loc.column = row, scratch.column + shift
            loc.end_line, loc.end_column = row + scratch.end_line, scratch.end_column + end_shift
    return left


def _only_occurrence(text: str, lines: list[str]) -> tuple[int, int] | None:
    """(offset, indentation added to the last line) of the one place where the snippet's lines occur, each
    continuation line possibly indented further (by the blocks the snippet sits in); None if none or several."""
    first = lines[0]
    if len(lines) == 1:
        found = text.find(first)
        return (found, 0) if found >= 0 and text.find(first, found + 1) < 0 else None
    only = None
    found = text.find(first)
    for _ in range(_OCCURRENCES_TRIED):
        if found < 0:
            return only
        indent = _continues(text, found + len(first), lines[1:])
        if indent is not None:
            if only is not None:
                return None
            only = (found, indent)
        found = text.find(first, found + 1)
    return None


def _continues(text: str, at: int, rest: list[str]) -> int | None:
    """Do the snippet's continuation lines follow at `at` (a line break first)? The indentation added to
    the last one, if so."""
    for number, line in enumerate(rest):
        if text.startswith("\r\n", at):
            at += 2
        elif at < len(text) and text[at] in "\r\n":
            at += 1
        else:
            return None
        ws = len(line) - len(line.lstrip(" \t"))  # the snippet's own leading whitespace
        run = at
        while run < len(text) and text[run] in " \t":
            run += 1
        indent = run - at - ws
        if indent < 0 or not text.startswith(line, at + indent):
            return None
        if number < len(rest) - 1 and (at + indent + len(line) < len(text) and text[at + indent + len(line)] not in "\r\n"):
            return None  # a middle line must end where the snippet's line ends
        at += indent + len(line)
    return indent


def _generate(state, stmt: cst.CSTNode, left: int | None) -> str:
    """The code of a top-level statement, from its first line; with `left` (how many targets it holds) only up to
    the end of the last of them. The targets' Locs are relative to the statement (line 0)."""
    state.text, state.closed, state.open, state.syntactic = [], [], {}, set()
    state.line, state.column = 0, 0
    state.indent_tokens = []  # (a generation stopped inside a block leaves its indentation behind)
    state.left = left
    try:
        stmt._codegen(state)
    except _Done:
        pass
    finally:
        state.left = None
    return "".join(state.text)


def _resolve_by_statement(module: cst.Module, targets: dict[int, list[Loc]], text: str,
                          nodes: dict[int, cst.CSTNode] | None = None, index: "Index | None" = None) -> bool:
    """Generate only the top-level statements that hold targets, and place each in the source text.

    A statement's generated code is exactly its source text (libcst round-trips), so it is found
    with str.find after the end of the previous placed statement. If it is not found, or found
    twice (the same statement text later in the file could be the real one), or a target was not
    inside any top-level statement, return False and let the caller generate the whole module.
    """
    holding = _holding_counts(module, targets, nodes, index)
    state = _state_class()(module, targets)
    cursor = 0
    line = 1
    for stmt, count in holding:
        # First only up to the end of its last target (a training script's `main()` holds a few, near its
        # top): that prefix of the statement, found once in the text, places it as the whole statement would.
        # Else the whole statement, as the docstring says.
        code, found = _generate(state, stmt, count), -1
        if code:
            found = text.find(code, cursor)
            if found >= 0 and text.find(code, found + 1) >= 0:
                found = -1
        if found < 0:
            code = _generate(state, stmt, None)
            found = text.find(code, cursor)
            if not code or found < 0 or text.find(code, found + 1) >= 0:
                return False
        line += _count_lines(text, cursor, found)
        cursor = found + len(code)
        if found and text[found - 1] not in "\r\n":
            return False  # statements start at the beginning of a line
        for key in state.closed:
            for loc in targets[key]:
                loc.line += line
                loc.end_line += line
        line += _count_lines(code, 0, len(code))
    return all(loc.line for locs in targets.values() for loc in locs)


# --- calls and numbers, placed through CPython's tree ------------------------------------------------------
# Most requests are calls (the shared call records) and numbers (hyper-parameter literals), and one that occurs
# more than once in its file sends its whole top-level statement (a class, `main()`) to code generation. CPython's
# parser gives every node its range for a tenth of libcst's parse. The module's calls (numbers) in the index's order
# and CPython's calls (numeric constants) in the same order are paired one to one: the index lists each node's
# semantic fields in libcst's field order, which is the source order except where libcst's fields come in another
# order (a definition's decorators after its body, a class's bases after its body, an `except` clause's type after
# its body, a match case's guard after its body, positional-only parameters' defaults last; found by comparing the
# index's order with libcst's `children` on timm and pytorch/examples), and CPython's tree is read in that same
# order. Left
# out on both sides, as the index leaves them: annotations and return annotations; and the inside of f-strings
# (CPython 3.11 places some of their nodes approximately). A kind's pairing is taken only when both sides count
# the same nodes of that kind and every pair asked about agrees (a call: the callee's last name as written, the
# number of arguments, the keywords in order; a number: its value); otherwise none of that kind is placed this way
# and the passes above and below place them as before.

def _arguments(node: ast.arguments) -> list:
    """libcst's order of a signature's defaults: parameters, keyword-only ones, positional-only ones last."""
    positional = [*node.posonlyargs, *node.args]
    defaults: list = [None] * (len(positional) - len(node.defaults)) + list(node.defaults)
    split = len(node.posonlyargs)
    return [d for d in (*defaults[split:], *node.kw_defaults, *defaults[:split]) if d is not None]


def _keyed(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


_ORDER = {
    ast.Call: lambda n: [n.func, *sorted((*n.args, *n.keywords), key=_keyed)],
    ast.Dict: lambda n: [x for k, v in zip(n.keys, n.values) for x in ((v,) if k is None else (k, v))],
    ast.arguments: _arguments,
    ast.arg: lambda n: [],  # its annotation (libcst: left out of the index)
    ast.FunctionDef: lambda n: [n.args, *n.body, *n.decorator_list],
    ast.AsyncFunctionDef: lambda n: [n.args, *n.body, *n.decorator_list],
    ast.ClassDef: lambda n: [*n.body, *n.bases, *n.keywords, *n.decorator_list],
    ast.ExceptHandler: lambda n: [*n.body, *((n.type,) if n.type is not None else ())],
    ast.AnnAssign: lambda n: [n.target, *((n.value,) if n.value is not None else ())],
    ast.JoinedStr: lambda n: [],  # an f-string (see above)
    ast.match_case: lambda n: [n.pattern, *n.body, *((n.guard,) if n.guard is not None else ())],
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_LEFT_OUT = frozenset(("ctx", "type_comment", "annotation", "returns", "op", "ops"))
_NUMBERS = (int, float, complex)


def _ast_nodes(tree: ast.AST) -> tuple[list[ast.Call], list[ast.Constant]]:
    """The calls and the numeric constants of CPython's tree, each in the index's order (see above)."""
    calls: list[ast.Call] = []
    numbers: list[ast.Constant] = []
    stack = [tree]
    pop, push, node_type, call, constant, order, fields_of = (stack.pop, stack.extend, ast.AST, ast.Call,
                                                              ast.Constant, _ORDER, _FIELDS)
    while stack:
        node = pop()
        kind = type(node)
        if kind is constant:
            if type(node.value) in _NUMBERS:
                numbers.append(node)
            continue
        if kind is call:
            calls.append(node)
        special = order.get(kind)
        if special is not None:
            kids = special(node)
        else:
            names = fields_of.get(kind)
            if names is None:
                names = fields_of[kind] = tuple(f for f in kind._fields if f not in _LEFT_OUT)
            kids = []
            for name in names:
                value = getattr(node, name, None)
                if isinstance(value, node_type):
                    kids.append(value)
                elif type(value) is list:
                    kids.extend(item for item in value if isinstance(item, node_type))
        if kids:
            kids.reverse()
            push(kids)
    return calls, numbers


_CST_NUMBERS = (cst.Integer, cst.Float, cst.Imaginary)


def _cst_nodes(index: "Index") -> tuple[list[cst.Call], list[cst.BaseNumber]]:
    """The module's calls and numbers in the index's order, those inside f-strings left out."""
    pos, end = index.pos, index.end
    calls: list[cst.Call] = []
    numbers: list[cst.BaseNumber] = []
    skip_to = 0
    for node in index.of_type(cst.Call, cst.FormattedString, *_CST_NUMBERS):
        at = pos[id(node)]
        if at < skip_to:
            continue
        kind = type(node)
        if kind is cst.Call:
            calls.append(node)
        elif kind is cst.FormattedString:
            skip_to = end[at]
        else:
            numbers.append(node)
    return calls, numbers


def _same_call(mine: cst.Call, theirs: ast.Call) -> bool:
    """Do the two agree on the callee as written (its last name) and on the arguments' shape?"""
    func, other = mine.func, theirs.func
    if type(func) is cst.Name:
        if type(other) is not ast.Name or other.id != func.value:
            return False
    elif type(func) is cst.Attribute:
        if type(other) is not ast.Attribute or other.attr != func.attr.value:
            return False
    elif type(other) in (ast.Name, ast.Attribute):
        return False
    if len(mine.args) != len(theirs.args) + len(theirs.keywords):
        return False
    return [a.keyword.value for a in mine.args if a.keyword is not None] == \
        [k.arg for k in sorted(theirs.keywords, key=_keyed) if k.arg is not None]


def _same_number(mine: cst.BaseNumber, theirs: ast.Constant) -> bool:
    """Does the number's text read as the constant's value (`0x10` is 16, `1_000.` is 1000.0)?"""
    kind, value = type(mine), theirs.value
    text = mine.value.replace("_", "")
    try:
        if kind is cst.Integer:
            return type(value) is int and int(text, 0) == value
        if kind is cst.Float:
            return type(value) is float and float(text) == value
        return type(value) is complex and complex(text) == value
    except ValueError:
        return False


_PLACED_KINDS = (cst.Call, *_CST_NUMBERS)
# Below this many calls and numbers asked for (and without the depth guard's tree), the passes place them for less
# than CPython's parse and a walk of its whole tree (pytorch/examples: 12 requests a file; timm's models: dozens).
_TREE_FROM = 16


def _resolve_by_tree(targets: dict[int, list[Loc]], nodes: dict[int, cst.CSTNode], text: str, index: "Index",
                   tree: ast.AST | None) -> dict[int, list[Loc]]:
    """Place the calls and numbers among the targets through CPython's tree (the depth guard's, for a large file;
    else parsed here), and return the targets left to place (see above)."""
    if not any(type(nodes[key]) in _PLACED_KINDS for key in targets):
        return targets
    if tree is None:
        try:
            tree = ast.parse(text)
        except Exception:  # noqa: BLE001 - CPython rejects what libcst accepted, or nesting too deep: as before
            return targets
    placed: list[tuple[int, ast.AST]] = []
    for mine, theirs, same in zip(_cst_nodes(index), _ast_nodes(tree), (_same_call, _same_number)):
        if len(mine) != len(theirs):
            continue
        rank = {id(node): i for i, node in enumerate(mine)}
        paired = []
        for key in targets:
            i = rank.get(key)
            if i is None:
                continue  # another kind, inside an f-string, or a node built by an analysis: left to the passes
            if not same(mine[i], theirs[i]):
                break
            paired.append((key, theirs[i]))
        else:
            placed.extend(paired)
    if not placed:
        return targets
    lines = _split_lines(text) if not text.isascii() else None
    for key, node in placed:
        column, end_column = node.col_offset, node.end_col_offset
        if lines is not None:  # CPython counts UTF-8 bytes within a line, libcst characters
            column = len(lines[node.lineno - 1].encode("utf-8")[:column].decode("utf-8", "replace"))
            end_column = len(lines[node.end_lineno - 1].encode("utf-8")[:end_column].decode("utf-8", "replace"))
        for loc in targets[key]:
            loc.line, loc.column, loc.end_line, loc.end_column = node.lineno, column + 1, node.end_lineno, end_column + 1
    done = {key for key, _ in placed}
    return {key: locs for key, locs in targets.items() if key not in done}
