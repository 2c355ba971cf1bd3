"""Literal values of expressions (ints, strings, lists of them), following simple name bindings."""
from __future__ import annotations

import math
from typing import Union

import libcst as cst

from .scopes import ASSIGN, Scope


Number = Union[int, float]
Value = Union[Number, tuple]  # a number, or a tuple of values (`betas=(0.9, 0.999)`, `milestones=[30, 60]`)


def number(expr: cst.BaseExpression | None) -> Value | None:
    """The value of a numeric literal expression (`5e-4`, `-1`, `2**32 - 1`, `0.1 / 256`, `(0.9, 0.999)`), or
    None (names, calls, strings, booleans)."""
    if expr is None:
        return None
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value.replace("_", ""))
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        inner = number(expr.expression)
        if not isinstance(inner, (int, float)):
            return None
        return -inner if isinstance(expr.operator, cst.Minus) else inner
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = [number(e.value) for e in expr.elements if isinstance(e, cst.Element)]
        if items and len(items) == len(expr.elements) and all(i is not None for i in items):
            return tuple(items)
        return None
    if isinstance(expr, cst.BinaryOperation):
        left, right = number(expr.left), number(expr.right)
        if not isinstance(left, (int, float)) or not isinstance(right, (int, float)):
            return None
        return _arith(expr.operator, left, right)
    return None


def _arith(op: cst.BaseBinaryOp, left: Number, right: Number) -> Number | None:
    try:
        if isinstance(op, cst.Add):
            return left + right
        if isinstance(op, cst.Subtract):
            return left - right
        if isinstance(op, cst.Multiply):
            return left * right
        if isinstance(op, cst.Divide) and right:
            return left / right
        if isinstance(op, cst.FloorDivide) and right:
            return left // right
        if isinstance(op, cst.Modulo) and right:
            return left % right
        if isinstance(op, cst.Power):
            if isinstance(left, int) and isinstance(right, int) and 0 <= right <= 128:
                return left**right  # exact: `2**32 - 1`, `2**64`
            if abs(right) <= 64 and abs(left) < 1e6:
                result = left**right
                return result if isinstance(result, (int, float)) and math.isfinite(result) else None
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    return None


def int_value(expr: cst.BaseExpression) -> int | None:
    """An integer literal, possibly negated, or simple arithmetic of literals (`2**32 - 1`)."""
    value = number(expr)
    return value if type(value) is int else None


def str_value(expr: cst.BaseExpression | None) -> str | None:
    """A plain string literal (no f-string), or an implicit concatenation of them."""
    kind = type(expr)
    if kind is cst.SimpleString:
        raw = expr.value
        if raw[0] in "'\"" and "\\" not in raw and "\r" not in raw:  # plain: the text between the quotes, no literal_eval
            quote = 3 if raw[:3] in ('"""', "'''") else 1
            return raw[quote:-quote]
        try:
            value = expr.evaluated_value
        except Exception:  # noqa: BLE001 - malformed escapes
            return None
        return value if isinstance(value, str) else None
    if kind is cst.ConcatenatedString:
        left, right = str_value(expr.left), str_value(expr.right)
        return left + right if left is not None and right is not None else None
    return None


def int_list(expr: cst.BaseExpression) -> list[int] | None:
    """`[0, 1, 2]` or `(0, 1, 2)` of int literals."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        values = [int_value(e.value) for e in expr.elements if isinstance(e, cst.Element)]
        if values and all(v is not None for v in values):
            return values  # type: ignore[return-value]
    return None


def resolve_name(name: str, scope: Scope | None, depth: int = 0) -> list[cst.BaseExpression]:
    """The values assigned to a name visible in scope (simple assignments only)."""
    if scope is None or depth > 8:
        return []
    return [b.node for b in scope.lookup(name) if b.kind == ASSIGN and b.index < 0]  # type: ignore[misc]


def keyword(call: cst.Call, *names: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in names:
            return arg.value
    return None


def positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    i = 0
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            if i == index:
                return arg.value
            i += 1
    return None
