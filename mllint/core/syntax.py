"""Syntax helpers shared by the analyses: literals, keys, arguments, module-level names."""
from __future__ import annotations

import libcst as cst

from .walk import walk
from .values import str_value


def const(expr: cst.BaseExpression) -> object:
    if type(expr) is cst.Name and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    return string(expr)


def string(expr: cst.BaseExpression | None) -> str | None:
    """A plain string literal (`str_value`, which reads the common plain literal without literal_eval)."""
    return str_value(expr)


def text_of(expr: cst.BaseExpression) -> str | None:
    """A literal string or the literal parts of an f-string (`{}` for the holes)."""
    value = string(expr)
    if value is not None:
        return value
    if isinstance(expr, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else "{}" for p in expr.parts)
    return None


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


def literal(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(expr, cst.UnaryOperation) and isinstance(expr.expression, (cst.Integer, cst.Float)))


def callee_name(func: cst.BaseExpression) -> str:
    """The last name of a called expression (`model` in `self.model(x)`, `f` in `f(x)`), or ""."""
    kind = type(func)
    return func.attr.value if kind is cst.Attribute else func.value if kind is cst.Name else ""


def body_of(node: cst.CSTNode) -> list:
    """The statements of a compound statement or definition (an indented block or a one-line body)."""
    body = node.body
    return list(body.body) if isinstance(body, cst.IndentedBlock) else [body] if isinstance(body, cst.CSTNode) \
        else list(body)


# torch.optim's optimiser classes, by the name a call is written with (`torch.optim.Adam`, `optim.SGD`, `Adam`):
# what LEAK and SEED ask when they tell an optimiser over data (an attack's `Adam([w])`) from a model's.
TORCH_OPTIMIZERS = frozenset({"SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "LBFGS", "NAdam",
                              "RAdam", "Rprop", "ASGD", "SparseAdam"})
