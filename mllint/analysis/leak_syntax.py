"""Syntax-level helpers of the LEAK analysis: literals, keys, names and what a guarded block does."""
from __future__ import annotations

import libcst as cst

from ..walk import walk
from . import leak_patterns as P
from .names import dotted
from .values import str_value


def const(expr: cst.BaseExpression) -> object:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    return string(expr)


def string(expr: cst.BaseExpression | None) -> str | None:
    """str_value without literal_eval for the common plain literal (no prefix, no escapes)."""
    if isinstance(expr, cst.SimpleString):
        raw = expr.value
        if raw[0] in "'\"" and "\\" not in raw:
            quote = 3 if raw[:3] in ('"""', "'''") else 1
            return raw[quote:-quote]
    return str_value(expr)


def text_of(expr: cst.BaseExpression) -> str | None:
    """A literal string or the literal parts of an f-string (`{}` for the holes)."""
    value = string(expr)
    if value is not None:
        return value
    if isinstance(expr, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else "{}" for p in expr.parts)
    return None


def ordering(test: cst.BaseExpression) -> bool:
    """Does the condition compare magnitudes (`<`, `>=`), as a score against a best value or a target?"""
    return any(isinstance(n, cst.ComparisonTarget) and isinstance(n.operator, (cst.LessThan, cst.GreaterThan,
               cst.LessThanEqual, cst.GreaterThanEqual)) for n in walk(test))


def literal_strings(expr: cst.BaseExpression) -> list[str] | None:
    """`("train", "test")` or `["train", "val"]`: a short display of string literals."""
    if isinstance(expr, (cst.Tuple, cst.List)) and 0 < len(expr.elements) <= 6:
        values = [string(e.value) for e in expr.elements]
        if all(v is not None for v in values):
            return values  # type: ignore[return-value]
    return None


def module_level_names(module: cst.Module) -> set[str]:
    """Names bound at module level, also under `if __name__ == "__main__":`, loops, `with` and `try`."""
    names: set[str] = set()
    stack = list(module.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                    [small.target] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else []
                for target in targets:
                    for node in walk(target):
                        if isinstance(node, cst.Name):
                            names.add(node.value)
        elif isinstance(stmt, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            if isinstance(stmt, cst.For):
                names.update(n.value for n in walk(stmt.target) if isinstance(n, cst.Name))
            for block in (getattr(stmt, "body", None), getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                while isinstance(block, (cst.If, cst.Else, cst.Finally)):
                    if isinstance(block, cst.If):
                        stack.extend(block.body.body if isinstance(block.body, cst.IndentedBlock) else [])
                        block = block.orelse
                    else:
                        block = block.body
                if isinstance(block, cst.IndentedBlock):
                    stack.extend(block.body)
            for handler in getattr(stmt, "handlers", ()):
                if isinstance(handler.body, cst.IndentedBlock):
                    stack.extend(handler.body.body)
    return names




def arg_keys(node: cst.Call):
    position = 0
    for arg in node.args:
        if arg.star:
            yield None, arg
        elif arg.keyword is not None:
            yield arg.keyword.value, arg
        else:
            yield position, arg
            position += 1


def slice_key(node: cst.Subscript) -> object:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    text = str_value(value)
    if text is not None:
        return text
    if isinstance(value, cst.Integer):
        try:
            return int(value.value, 0)
        except ValueError:
            return None
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus) and isinstance(value.expression, cst.Integer):
        return -int(value.expression.value, 0)
    return None


def config_like(expr: cst.BaseExpression) -> bool:
    name = expr.attr.value if isinstance(expr, cst.Attribute) else expr.value if isinstance(expr, cst.Name) else ""
    if isinstance(expr, cst.Subscript):
        return config_like(expr.value)
    return bool(P.CONFIG_RECEIVER.search(name))


def receiver_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        value = func.value
        if isinstance(value, cst.Attribute):
            return value.attr.value
        if isinstance(value, cst.Name):
            return value.value
        if isinstance(value, cst.Call):
            return dotted(value.func) or ""
    return ""


def literal(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, (cst.Integer, cst.Float)))


def decided(expr: cst.BaseExpression) -> bool:
    """Does the construction name its split (a split word, a `train=` or `split=` argument)?"""
    for node in walk(expr):
        if isinstance(node, cst.Arg) and node.keyword is not None and (
            node.keyword.value in P.TRAIN_KEYWORDS or node.keyword.value in P.SPLIT_KEYWORDS
        ):
            return True
        if isinstance(node, cst.SimpleString):
            text = (str_value(node) or "").lower()
            words = text.replace("\\", "/").split("/")
            if text in P.TRAIN_LIKE_SPLITS or any(w in words for w in P.TRAIN_LIKE_SPLITS) or text in P.HELD_OUT_WORDS:
                return True
    return False


def selection_action(node: cst.If) -> str | None:
    """What the code under a held-out condition does that selects: save, keep the best, stop.
    Scans statements only (not every expression): these actions are statements."""
    stack: list = [node.body]
    actions: list[str] = []
    if node.orelse is not None and not isinstance(node.orelse, cst.If):
        stack.append(node.orelse)
    while stack:
        item = stack.pop()
        if isinstance(item, (cst.IndentedBlock, cst.Else)):
            stack.extend(item.body.body if isinstance(item, cst.Else) else item.body)
        elif isinstance(item, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            for block in (item.body, getattr(item, "orelse", None), getattr(item, "finalbody", None)):
                if block is not None:
                    stack.append(block.body if isinstance(block, (cst.Else, cst.Finally)) else block)
            stack.extend(h.body for h in getattr(item, "handlers", ()))
        elif isinstance(item, cst.SimpleStatementLine):
            for small in item.body:
                found = _small_action(small)
                if found:
                    actions.append(found)
    # the strongest evidence of selection first: a checkpoint, a kept model, a best score, patience, a stop
    return min(actions, key=lambda a: _ACTION_ORDER.index(a.split(" ", 1)[0])) if actions else None


_ACTION_ORDER = ("saves", "keeps", "updates", "drives", "stops")


def _small_action(small: cst.CSTNode) -> str | None:
    if isinstance(small, cst.Break):
        return "stops training (`break`)"
    calls = []
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        calls.append(small.value)
    if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
        calls.append(small.value)
    for call in calls:
        name = dotted(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last in P.SAVE_CALLS or last.startswith("save_") and ("model" in last or "ckpt" in last or "checkpoint" in last):
            return f"saves a checkpoint (`{name}()`)"
        if last == "deepcopy":
            return f"keeps a copy of the model (`{name}()`)"
    if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        for target in targets:
            for name_node in (target.elements if isinstance(target, (cst.Tuple, cst.List)) else [target]):
                inner = getattr(name_node, "value", name_node) if isinstance(name_node, cst.Element) else name_node
                name = inner.value if isinstance(inner, cst.Name) else inner.attr.value if isinstance(inner, cst.Attribute) else ""
                if name and P.BEST_NAME.search(name):
                    return f"updates the best score (`{name}`)"
                if name and P.PATIENCE_NAME.search(name):
                    return f"drives early stopping (`{name}`)"
    return None
