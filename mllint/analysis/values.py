"""Literal values of expressions (ints, strings, lists of them), following simple name bindings."""
from __future__ import annotations

import libcst as cst

from .scopes import ASSIGN, Scope


def int_value(expr: cst.BaseExpression) -> int | None:
    """An integer literal, possibly negated, or simple arithmetic of literals (`2**32 - 1`)."""
    if isinstance(expr, cst.Integer):
        try:
            return int(expr.value.replace("_", ""), 0)
        except ValueError:
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        inner = int_value(expr.expression)
        if inner is None:
            return None
        return -inner if isinstance(expr.operator, cst.Minus) else inner
    if isinstance(expr, cst.BinaryOperation):
        left, right = int_value(expr.left), int_value(expr.right)
        if left is None or right is None:
            return None
        op = expr.operator
        try:
            if isinstance(op, cst.Add):
                return left + right
            if isinstance(op, cst.Subtract):
                return left - right
            if isinstance(op, cst.Multiply):
                return left * right
            if isinstance(op, cst.Power) and 0 <= right <= 128:
                return left**right
            if isinstance(op, cst.Modulo) and right:
                return left % right
        except (OverflowError, ValueError):
            return None
    return None


def str_value(expr: cst.BaseExpression | None) -> str | None:
    """A plain string literal (no f-string), or an implicit concatenation of them."""
    kind = type(expr)
    if kind is cst.SimpleString:
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
