"""Syntax helpers of the HPARAM analysis: trivial values, learning-rate targets, epoch counters, sums of
losses, numbers of a formula. Pure functions of libcst nodes."""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Iterator

import libcst as cst

from ...core.walk import Index, active_index, children, walk
from ...core.names import dotted
from ...core.origins import Value, number, same_value, statements
from ...core.values import str_value

LR_NAME = re.compile(r"^(?:[a-z0-9]+_)?(?:lr|learning_rate)$", re.I)
LR_KEYS = {"lr", "learning_rate", "initial_lr"}
GROUP_KEYS = {"lr": "learning rate", "learning_rate": "learning rate", "momentum": "momentum",
              "weight_decay": "weight decay", "betas": "betas", "eps": "epsilon"}
EPOCH_NAME = re.compile(r"^(?:[a-z0-9]+_)?(?:epoch|ep|step|it|iter|iters|iteration|itr|batch_idx)"
                        r"(?:_?(?:counter|count|num|no|idx|index))?$", re.I)
LOSS_WORDS = re.compile(r"loss|criterion|penalty|^(kl|kld|ce|bce|nll|mse|aux|l1|l2|gp)(_|$)", re.I)
SCHEDULER_NAME = re.compile(r"sched", re.I)
PENALTY_NAME = re.compile(r"penalty|^gp$|_gp$|^gp_|reg(?:ulari[sz]ation)?_?(?:loss|term)?$", re.I)
LOGGED = re.compile(r"running|avg|average|smooth|meter|log|print|display|ema|moving|hist|record|epoch_loss", re.I)
TRIVIAL = (0, 1, -1, 2)
CONFIG_BLOCK = re.compile(r"hyper|config|setting|param|option|recipe", re.I)  # `# Hyper-parameters` above a block
FORWARDING_OPTIMIZERS = ("DistributedOptimizer", "ZeroRedundancyOptimizer")
PIXEL = (255, 127.5, 256, 100)
TRIGGERS = ("optim", "lr", "loss", "Loss", "clip_grad", "Ema", "EMA", "mixup", "Mixup", "MixUp", "CutMix", "beta",
            "TrainingArguments", "learning_rate", "Scheduler", "schedule", "add_argument", "mul_(", "lerp_(", "decay",
            "momentum")

from .facts import NOT_RECIPE  # noqa: E402,F401 - defined in facts.py: the project phase reads it without libcst


def trivial(value: Value | None, extra: tuple = ()) -> bool:
    if isinstance(value, tuple):
        return all(trivial(v, extra) for v in value)
    return value is None or isinstance(value, bool) or any(same_value(value, t) for t in (*TRIVIAL, *extra))


def unwrap_tensor(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`torch.tensor([1., 3.]).cuda()` -> `[1., 3.]`: class weights built from a literal."""
    for _ in range(4):
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            method = expr.func.attr.value
            if method in ("to", "cuda", "float", "double", "half") and isinstance(expr.func.value, cst.Call):
                expr = expr.func.value
                continue
            root = dotted(expr.func) or ""
            if root.rsplit(".", 1)[-1] in ("tensor", "Tensor", "FloatTensor", "as_tensor", "array") and expr.args:
                expr = expr.args[0].value
                continue
        break
    return expr


def opens_body(function: cst.FunctionDef | None, body: list) -> bool:
    """Is body the body of function (whose first statement may be its docstring)?"""
    return function is not None and isinstance(function.body, cst.IndentedBlock) and bool(body) \
        and bool(function.body.body) and body[0] is function.body.body[0]


def combined_terms(value: cst.BaseExpression, accumulating: bool) -> list[cst.BaseExpression]:
    """The terms of a sum of losses (`ce + 0.37 * aux` -> [ce, 0.37 * aux]), looking through a scale of the
    whole (`(a + 0.5 * b) / 4`); a lone term only when it is added to a loss (`loss += 0.1 * aux`)."""
    while isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Multiply, cst.Divide)) \
            and isinstance(value.left, cst.BinaryOperation):
        value = value.left  # `(a + 0.5 * b) / 4 * w`: the sum inside the scales
        if isinstance(value.operator, (cst.Add, cst.Subtract)):
            break
    terms = sum_terms(value)
    if len(terms) < 2 and not accumulating:
        return []
    if not any(loss_like(t) or _has_loss_product(t) for t in terms):
        return []  # the target is a loss (the caller checks): one loss term among the sum is enough
    return terms


def sum_terms(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The terms of a sum or difference, left to right: `a + 0.5 * b - c` -> [a, 0.5 * b, c]."""
    terms: list[cst.BaseExpression] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Subtract)):
            stack.extend((node.right, node.left))
        else:
            terms.append(node)
    return terms


def _has_loss_product(term: cst.BaseExpression) -> bool:
    return isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Multiply) and (
        loss_like(term.left) or loss_like(term.right))


def averages(value, term: cst.BaseExpression) -> bool:
    """`0.5 * (a + b)`: the mean of n losses, not a weighting."""
    count = 1
    while isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Add):
        count += 1
        term = term.left
    return count > 1 and isinstance(value, (int, float)) and abs(value * count - 1) < 1e-9


def numbers_of(expr: cst.CSTNode):
    """Numeric literal nodes of an expression, outermost first, skipping subscripts and call arguments of
    shape helpers (`x[0]`, `range(5)`, `len(...)`), and whole literal sub-expressions once (`1e-3 * 5`)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Subscript):
            stack.append(node.value)
            continue
        if number(node) is not None and not isinstance(node, (cst.Tuple, cst.List)):
            yield node
            continue
        if isinstance(node, cst.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] in ("range", "len", "int", "round", "print"):
            continue
        stack.extend(reversed(list(children(node))))


def name_of(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Subscript):
        index = expr.slice[0].slice if len(expr.slice) == 1 else None
        key = str_value(index.value) if isinstance(index, cst.Index) else None
        return key or name_of(expr.value)
    return ""


_LOW_RESOLUTION = re.compile(r"^(?:transforms?|imgs?|images?|patch(?:es)?|inputs?|data|crops?|sizes?|paths?|dirs?)_",
                             re.I)  # `transforms_lr`, `img_lr`: low-resolution images, not learning rates


def lr_target(target: cst.BaseExpression, group_vars: set[str]) -> tuple[str, str] | None:
    """(setting, label) when an assignment target holds a learning rate or a param-group setting."""
    if isinstance(target, cst.Name) and LR_NAME.match(target.value) and not _LOW_RESOLUTION.match(target.value):
        return target.value, "learning rate"
    if isinstance(target, cst.Attribute) and target.attr.value in LR_KEYS and isinstance(target.value, cst.Name) \
            and target.value.value != "self":
        return dotted(target) or target.attr.value, "learning rate"
    if isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        key = str_value(target.slice[0].slice.value)
        receiver = target.value
        in_group = (isinstance(receiver, cst.Name) and receiver.value in group_vars) or (
            isinstance(receiver, cst.Subscript) and isinstance(receiver.value, cst.Attribute)
            and receiver.value.attr.value == "param_groups")
        if key in GROUP_KEYS and in_group:
            return f"['{key}']", f"parameter-group {GROUP_KEYS[key]}"
    return None


def changes_lr(body: cst.CSTNode, group_vars: set[str]) -> bool:
    for stmt in statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(lr_target(t.target, group_vars) for t in small.targets):
                    return True
                if isinstance(small, cst.AugAssign) and lr_target(small.target, group_vars):
                    return True
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    name = (dotted(small.value.func) or "").rsplit(".", 1)[-1].lower()
                    if "lr" in name.split("_") or "learning_rate" in name:
                        return True
                    func = small.value.func  # `if epoch >= 10: scheduler.step()`: a gate on the schedule
                    if isinstance(func, cst.Attribute) and func.attr.value == "step" \
                            and SCHEDULER_NAME.search(name_of(func.value)):
                        return True
    return False


_SCALING = re.compile(r"batch|bs\b|world|gpus|devices|accum", re.I)


def _names_in(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """Names and attributes of a product (not inside calls): `args.lr * args.batch_size`."""
    found, stack = [], [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)):
            found.append(node)
        elif isinstance(node, cst.BinaryOperation):
            stack.extend((node.left, node.right))
    return found


_BATCH = re.compile(r"batch|bs\b", re.I)


def reference_batch(expr: cst.CSTNode) -> set[int]:
    """The literals in the divisor of a batch-size ratio, anywhere in the expression: the reference batch of
    the linear scaling rule, whatever its value (`base / (4 * len(gpus)) * batch_size`: the 4; `lr * bs / 512`:
    the 512). A literal of the numerator (the base learning rate) is not one."""
    found: set[int] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide)):
            factors: list[tuple[cst.BaseExpression, bool]] = []
            _factors(node, False, factors)
            if any(not below and isinstance(f, (cst.Name, cst.Attribute)) and _BATCH.search(name_of(f))
                   for f, below in factors):
                found |= {id(f) for f, below in factors if below and number(f) is not None}
            stack.extend(f for f, _ in factors)
        elif isinstance(node, cst.BinaryOperation):
            stack.extend((node.left, node.right))
        elif isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in node.elements)
    return found


def _factors(node: cst.BaseExpression, below: bool, out: list) -> None:
    """The factors of a product or quotient, each with whether it divides (`a / (k * n) * b`: a, b above; k, n
    below)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide)):
        _factors(node.left, below, out)
        _factors(node.right, below != isinstance(node.operator, cst.Divide), out)
    else:
        out.append((node, below))


def literal_factors(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The literal factors of a product or power that scales a value (`args.lr * 10`, `lr / 3`,
    `0.99 ** ratio`, in tuples too): not the reference batch of the linear scaling rule
    (`lr * batch_size / 256`), and nothing from inside calls or subscripts."""
    found: list[cst.BaseExpression] = []
    reference = reference_batch(expr)
    stack = [expr]
    while stack:
        node = stack.pop()
        if id(node) in reference:
            continue  # `lr / (4 * len(gpus)) * batch_size`: the reference batch of the scaling rule
        if isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in node.elements)
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Multiply, cst.Divide, cst.Power)):
            if isinstance(node.operator, cst.Divide) and same_value(number(node.right), 256) and any(
                    isinstance(n, (cst.Name, cst.Attribute)) and _SCALING.search(name_of(n)) for n in _names_in(node.left)):
                stack.append(node.left)
                continue  # the linear scaling rule's reference batch (Goyal et al.): `lr * batch_size / 256`
            for side in (node.left, node.right):
                (found if number(side) is not None else stack).append(side)
    return found


def is_counter(expr: cst.BaseExpression) -> bool:
    name = name_of(expr) if isinstance(expr, (cst.Name, cst.Attribute)) else ""
    return bool(name) and bool(EPOCH_NAME.match(name))


def loss_like(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)):
        return bool(LOSS_WORDS.search(name_of(expr)))
    if isinstance(expr, cst.Call):
        name = (dotted(expr.func) or "").rsplit(".", 1)[-1]
        return bool(LOSS_WORDS.search(name)) or name in ("cross_entropy", "kl_div", "nll_loss", "mse_loss", "l1_loss")
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
        return loss_like(expr.left) and loss_like(expr.right)
    return False


def one_minus(expr: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """`d` in `1 - d` (`1. - d`, `(1 - d)`), else None."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Subtract) \
            and same_value(number(expr.left), 1):
        return expr.right
    return None


def _same(a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    if isinstance(a, cst.Name) and isinstance(b, cst.Name):
        return a.value == b.value
    if isinstance(a, cst.Attribute) and isinstance(b, cst.Attribute):
        return dotted(a) is not None and dotted(a) == dotted(b)
    value = number(a)
    return value is not None and same_value(value, number(b))


def moving_average_weight(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """`d` in `d * a + (1 - d) * b` (either order of terms and factors), else None."""
    if not (isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add)):
        return None
    factors = []
    for term in (value.left, value.right):
        if not (isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Multiply)):
            return None
        factors.append((term.left, term.right))
    for first in factors[0]:
        for second in factors[1]:
            for decay, rest in ((first, second), (second, first)):
                inner = one_minus(rest)
                if inner is not None and _same(inner, decay):
                    return decay
    return None


_WEIGHTS = ("parameters", "named_parameters", "state_dict", "buffers", "named_buffers")


def over_weights(iterable: cst.BaseExpression) -> int:
    """1 if a loop iterates over a model's parameters or state dict (`zip(ema.parameters(), model.parameters())`)."""
    for call in _calls_in(iterable):
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _WEIGHTS:
            return 1
    return 0


def _calls_in(node: cst.CSTNode):
    return (current for current in walk(node) if type(current) is cst.Call)


_SHAPE_EXPONENTS = (0.5, -0.5, 1.5, -1.5)


def shape_exponents(expr: cst.CSTNode) -> set[int]:
    """ids of the exponents of an inverse-square-root schedule (`step ** -0.5`, `warmup ** -1.5`,
    `np.power(step, -0.5)`): the schedule's shape (Vaswani et al.'s Noam schedule), as the half of a half-cosine."""
    found: set[int] = set()
    for node in walk(expr):
        exponent = None
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Power):
            exponent = node.right
        elif isinstance(node, cst.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] in ("pow", "power", "float_power") \
                and len(node.args) == 2:
            exponent = node.args[1].value
        if exponent is not None and any(same_value(number(exponent), e) for e in _SHAPE_EXPONENTS):
            found.add(id(exponent))
    return found


_LOGGING_CALL = re.compile(r"^(?:print|pprint|log|logging|info|debug|warning|warn|error|write|add_scalars?|log_metrics?|"
                           r"set_description|set_postfix|format|str|repr|update_lr_display)$", re.I)


def logging_call(node: cst.CSTNode) -> bool:
    """Is node a call that only prints or logs (or formats a message), or an f-string?"""
    if isinstance(node, cst.FormattedString):
        return True
    if isinstance(node, cst.Call):
        name = (dotted(node.func) or "").rsplit(".", 1)[-1]
        if not name and isinstance(node.func, cst.Attribute):
            name = node.func.attr.value
        return bool(_LOGGING_CALL.match(name))
    return False


def _reference(node: cst.Name, parent) -> bool:
    """Is this Name a reference to a variable (not `x.lr`'s attribute, not the keyword of `f(lr=...)`)?"""
    if isinstance(parent, cst.Attribute) and parent.attr is node:
        return False
    return not (isinstance(parent, cst.Arg) and parent.keyword is node)


def _read_past_walking(root: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    """The walking version of `read_past` (a node outside the index)."""
    loops: list[cst.CSTNode] = []
    state = {"after": False, "found": False}

    def visit(node: cst.CSTNode, ancestors: list, in_function: bool, in_log: bool) -> None:
        if state["found"]:
            return
        if node is stmt:
            loops.extend(a for a in ancestors if isinstance(a, (cst.For, cst.While)))
            state["after"] = True
            return  # the statement itself: its own reads are before its binding
        parent = ancestors[-1] if ancestors else None
        if isinstance(node, cst.Name) and node.value == name and not in_log and _reference(node, parent):
            target = isinstance(parent, (cst.AssignTarget, cst.AugAssign)) and getattr(parent, "target", None) is node
            if not target and (state["after"] or in_function or any(l in ancestors for l in loops)):
                state["found"] = True
                return
        inner_function = in_function or (isinstance(node, (cst.FunctionDef, cst.Lambda)) and node is not root)
        inner_log = in_log or logging_call(node)
        ancestors.append(node)
        for child in children(node):
            visit(child, ancestors, inner_function, inner_log)
        ancestors.pop()

    visit(root, [], False, False)
    if state["found"] or not loops:
        return state["found"]
    # a read earlier inside a loop around stmt reaches the next pass
    return _read_outside_log_walking(loops[0], stmt, name)


def _read_outside_log_walking(loop: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    def visit(node: cst.CSTNode, parent, in_log: bool) -> bool:
        if node is stmt:
            return False
        if isinstance(node, cst.Name) and node.value == name and not in_log and _reference(node, parent):
            return not (isinstance(parent, (cst.AssignTarget, cst.AugAssign)) and getattr(parent, "target", None) is node)
        inner = in_log or logging_call(node)
        return any(visit(child, node, inner) for child in children(node))

    return visit(loop, None, False)


def _acts_walking(root: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    """The walking version of `acts` (a node outside the index)."""
    top = isinstance(root, cst.Module)
    body = list(getattr(getattr(root, "body", None), "body", ())) if not top else list(root.body)
    state = {"live": False}

    def rebinds(node: cst.CSTNode) -> bool:
        return isinstance(node, cst.SimpleStatementLine) and any(
            isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                  for t in small.targets) for small in node.body)

    def visit(node: cst.CSTNode, parent, nested: bool, in_function: bool) -> bool:
        if node is stmt:
            state["live"] = True
            return False
        counts = state["live"] or in_function
        if counts and not nested and top and isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1 \
                and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            call = node.body[0].value
            func = call.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name \
                    and not call.args:  # `opt.step()` alone (`opt.step(closure)` of L-BFGS may run many iterations)
                return False
        if counts and isinstance(node, cst.Name) and node.value == name and _reference(node, parent):
            return not (isinstance(parent, cst.AssignTarget) and parent.target is node)
        function = in_function or (isinstance(node, (cst.FunctionDef, cst.Lambda)) and node is not root)
        inner = nested or function or (isinstance(node, (cst.For, cst.While, cst.ClassDef, cst.ListComp,
                                                         cst.GeneratorExp, cst.DictComp, cst.SetComp)) and node is not root)
        for child in children(node):
            if visit(child, node, inner, function):
                return True  # (`opt = LARC(opt)` reads the old object before it binds a new one)
            if state["live"] and not function and child is not stmt and any(child is b for b in body) and rebinds(child):
                state["live"] = False  # a new object from here on
        return False

    return visit(root, None, False, False)


def _is_read_walking(root: cst.CSTNode, name: str) -> bool:
    """Is the variable `name` read anywhere in root (not only bound)?"""

    def visit(node: cst.CSTNode, parent) -> bool:
        if isinstance(node, cst.Name) and node.value == name and _reference(node, parent):
            return not (isinstance(parent, cst.AssignTarget) and parent.target is node)
        return any(visit(child, node) for child in children(node))

    return visit(root, None)


# --- the same questions read from the module's index -----------------------------------------------------------
# Each answer above is decided by the `Name` nodes spelt `name` alone (every other node only sets the flags of the
# nodes below it), so these read those names' positions in the one walk's document order and each name's ancestors,
# instead of walking the tree. A root or statement outside the index (a node built during the analysis) is walked.

_FUNCTIONS = (cst.FunctionDef, cst.Lambda)
_NESTING = (cst.For, cst.While, cst.ClassDef, cst.ListComp, cst.GeneratorExp, cst.DictComp, cst.SetComp, cst.FunctionDef,
            cst.Lambda)


def _indexed(*nodes: cst.CSTNode) -> "tuple[Index, list[int]] | None":
    index = active_index()
    if index is None:
        return None
    found = [index.pos.get(id(node)) for node in nodes]
    return None if None in found else (index, found)


def _spelt(index: Index, at: int, name: str) -> list[int]:
    positions = index.names_at(name)
    return positions[bisect_left(positions, at):bisect_left(positions, index.end[at])]


def _chain(index: Index, at: int, root_at: int) -> list[int]:
    """The positions of the ancestors of the node at `at` up to root's (included), nearest first (`at` is in root's
    subtree): found by descending from root through the subtree that holds it (no table of parents)."""
    end, chain, current = index.end, [], root_at
    while current != at:
        chain.append(current)
        child = current + 1
        while end[child] <= at:
            child = end[child]
        current = child
    chain.reverse()
    return chain


def _within(index: Index, outer: int, inner: int) -> bool:
    return outer <= inner < index.end[outer]


def _reads_beside(index: Index, root_at: int, stmt_at: int, name: str) -> Iterator[tuple[int, list]]:
    """The reads of `name` under root that can act: not stmt's own, not inside a print or log call, not the
    target of an assignment; each as (its position, its ancestors up to root, nearest first)."""
    inside, stmt_end, order = _within(index, root_at, stmt_at), index.end[stmt_at], index.order
    for at in _spelt(index, root_at, name):
        if inside and stmt_at <= at < stmt_end:
            continue  # the statement itself: its own reads are before its binding
        node = order[at]
        chain = [order[a] for a in _chain(index, at, root_at)]
        parent = chain[0] if chain else None
        if any(logging_call(a) for a in chain) or not _reference(node, parent):
            continue
        if isinstance(parent, (cst.AssignTarget, cst.AugAssign)) and getattr(parent, "target", None) is node:
            continue
        yield at, chain


def read_past(root: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    """Is `name`, bound at `stmt`, read anywhere it can still act: after stmt, in a loop around stmt (the next
    pass), or in a function that stmt's module-level binding reaches; reads inside a print, a log call or an
    f-string do not count (logging is no hyper-parameter position)."""
    found = _indexed(root, stmt)
    if found is None:
        return _read_past_walking(root, stmt, name)
    index, (root_at, stmt_at) = found
    inside, stmt_end, order = _within(index, root_at, stmt_at), index.end[stmt_at], index.order
    for at, chain in _reads_beside(index, root_at, stmt_at, name):
        if (inside and at >= stmt_end) or any(isinstance(a, _FUNCTIONS) and a is not root for a in chain):
            return True
    if not inside:
        return False
    loops = [order[a] for a in reversed(_chain(index, stmt_at, root_at)) if isinstance(order[a], (cst.For, cst.While))]
    return bool(loops) and _read_outside_log(loops[0], stmt, name)


def _read_outside_log(loop: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    found = _indexed(loop, stmt)
    if found is None:
        return _read_outside_log_walking(loop, stmt, name)
    index, (loop_at, stmt_at) = found
    return next(_reads_beside(index, loop_at, stmt_at, name), None) is not None


def is_read(root: cst.CSTNode, name: str) -> bool:
    """Is the variable `name` read anywhere in root (not only bound)?"""
    found = _indexed(root)
    if found is None:
        return _is_read_walking(root, name)
    index, (root_at,) = found
    order = index.order
    for at in _spelt(index, root_at, name):
        node = order[at]
        parent = order[_chain(index, at, root_at)[0]] if at != root_at else None
        if _reference(node, parent) and not (isinstance(parent, cst.AssignTarget) and parent.target is node):
            return True
    return False


def acts(root: cst.CSTNode, stmt: cst.CSTNode, name: str) -> bool:
    """Does the object bound to `name` at `stmt` act anywhere: read after stmt (until a statement of root's
    body binds the name again) or in a function, passed on, stored or returned? At a module's top level (a
    notebook, a `__main__` block), method calls without arguments standing alone (`opt.zero_grad()`, one
    `opt.step()` of a demo) do not act: a single step outside any loop trains nothing."""
    found = _indexed(root, stmt)
    if found is None:
        return _acts_walking(root, stmt, name)
    index, (root_at, stmt_at) = found
    top = isinstance(root, cst.Module)
    body = list(getattr(getattr(root, "body", None), "body", ())) if not top else list(root.body)
    inside, stmt_end, end, pos, order = (_within(index, root_at, stmt_at), index.end[stmt_at], index.end, index.pos,
                                         index.order)
    live_until = -1  # the object bound at stmt is live from the statement's end to here
    if inside:
        live_until = len(order)
        for statement in body:  # until a statement of root's body binds the name again
            at = pos.get(id(statement))
            if at is None:
                return _acts_walking(root, stmt, name)
            if statement is not stmt and end[at] > stmt_at and _rebinds(statement, name):
                live_until = end[at]
                break

    def live(at: int) -> bool:
        return stmt_end <= at < live_until

    for at in _spelt(index, root_at, name):
        if inside and stmt_at <= at < stmt_end:
            continue
        node = order[at]
        path = _chain(index, at, root_at)
        chain = [order[a] for a in path]
        if top and any(type(order[a]) is cst.SimpleStatementLine and live(a) and _step_alone(order[a], name)
                       and not any(isinstance(order[b], _NESTING) and b != root_at for b in path[k + 1:])
                       for k, a in enumerate(path)):
            continue  # `opt.step()` alone at the top level
        if not (live(at) or any(isinstance(a, _FUNCTIONS) and a is not root for a in chain)):
            continue
        parent = chain[0] if chain else None
        if _reference(node, parent):
            if not (isinstance(parent, cst.AssignTarget) and parent.target is node):
                return True
    return False


def _rebinds(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.SimpleStatementLine) and any(
        isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                              for t in small.targets) for small in node.body)


def _step_alone(node: cst.SimpleStatementLine, name: str) -> bool:
    if len(node.body) != 1 or not isinstance(node.body[0], cst.Expr) or not isinstance(node.body[0].value, cst.Call):
        return False
    call = node.body[0].value
    func = call.func
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name \
        and not call.args
