"""Syntax-level helpers of the LEAK analysis: what a guarded block does, receivers, split words."""
from __future__ import annotations

import libcst as cst

from ...core.walk import walk
from . import patterns as P
from ...core.names import dotted
from ...core.values import str_value


def ordering(test: cst.BaseExpression) -> list[cst.Comparison]:
    """The comparisons in a condition that compare magnitudes (`<`, `>=`), as a score against a best value or
    a target."""
    return [n for n in walk(test) if isinstance(n, cst.Comparison) and any(
        isinstance(c.operator, (cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual))
        for c in n.comparisons)]


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
        if name in ("shutil.copy", "shutil.copyfile", "shutil.copy2"):  # the latest checkpoint kept as the best
            return f"keeps a checkpoint (`{name}()`)"
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


def config_chain(expr: cst.BaseExpression, key_of) -> tuple[str, ...] | None:
    """The keys of a config value read by a chain of literal keys on a receiver named like a config:
    `cfg.data.test.root`, `opt["datasets"]["test"]`, `self.cfg.DATA.TEST`, `config.get("test_dir")`,
    `cfg.data[split]` with split bound to a literal (key_of: the interpreter's reading of a subscript's key).
    None when the chain is not rooted at a config-like name, a key is not literal, or no key could name data."""
    keys: list[str] = []
    node = expr
    while True:
        if isinstance(node, cst.Attribute):
            keys.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Subscript):
            key = key_of(node)
            if not isinstance(key, str):
                return None
            keys.append(key)
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" \
                and node.args and node.args[0].keyword is None and not node.args[0].star:
            key = str_value(node.args[0].value)
            if key is None:
                return None
            keys.append(key)
            node = node.func.value
        else:
            break
    if not keys:
        return None
    if not isinstance(node, cst.Name):
        return None
    root = node.value
    if root == "self":  # `self.cfg.data.test`: the attribute is the config
        if len(keys) < 2:
            return None
        root = keys.pop()
    if not P.CONFIG_ROOT.search(root) or P.not_data_key(keys[0]) or not any(P.config_data_key(k) for k in keys):
        return None
    return tuple(reversed(keys))
