"""The shape of a learning-rate schedule that a script computes itself (nanoGPT's `get_lr(it)`, a `lr_lambda`
given to `LambdaLR`, an `adjust_learning_rate(optimizer, epoch)`): read from the arithmetic of the function,
not run. Names the parts a reader would name: linear warm-up, cosine, step, exponential, polynomial or linear
decay, inverse square root."""
from __future__ import annotations

import re

import libcst as cst

from ..core.names import dotted
from ..walk import walk

# Functions whose result or effect is the learning rate.
SCHEDULE_FUNCTION = re.compile(r"(^|_)(get_lr|lr_lambda|lr_schedule|lr_scheduler|adjust_learning_rate|adjust_lr|"
                               r"learning_rate|lr_at|get_learning_rate|lr_for_step|lr_fn|schedule_lr|cosine_lr|"
                               r"warmup_lr|lr_rate)(_|$)|^(lr|lr_func|lr_foo|lambda_lr|lr_policy)$", re.I)
WARM_NAME = re.compile(r"warm", re.I)


def _names(node: cst.CSTNode) -> list[str]:
    return [n.value for n in walk(node) if type(n) is cst.Name]


def _calls(node: cst.CSTNode) -> list[str]:
    return [(dotted(n.func) or "").rsplit(".", 1)[-1] for n in walk(node) if type(n) is cst.Call]


def _warmup_linear(body: cst.CSTNode) -> str:
    """`if it < warmup_iters: return lr * (it + 1) / (warmup_iters + 1)`: a warm-up branch, linear when it
    divides by (or multiplies by a ratio of) the warm-up length."""
    for node in walk(body):
        if type(node) is not cst.If:
            continue
        if not any(WARM_NAME.search(name) for name in _names(node.test)):
            continue
        branch = node.body
        operators = [type(n.operator) for n in walk(branch) if type(n) is cst.BinaryOperation]
        if cst.Power in operators or any(call in ("exp", "cos") for call in _calls(branch)):
            return "warm-up"
        if cst.Divide in operators or cst.Multiply in operators:
            return "linear warm-up"
        return "warm-up"
    return ""


def _decay(body: cst.CSTNode) -> str:
    calls = _calls(body)
    if "cos" in calls:
        return "cosine decay"
    powers = [n for n in walk(body) if type(n) is cst.BinaryOperation and type(n.operator) is cst.Power]
    for power in powers:
        exponent = power.right
        operators = {type(n.operator) for n in walk(exponent) if type(n) is cst.BinaryOperation}
        if type(exponent) is cst.UnaryOperation and type(exponent.operator) is cst.Minus:  # `step ** -0.5`
            return "inverse square root"
        if cst.FloorDivide in operators or "floor" in _calls(exponent) or "bisect_right" in _calls(exponent) \
                or any("milestone" in name or "step" in name.lower() for name in _names(exponent)):
            return "step decay"
        if type(power.left) in (cst.BinaryOperation, cst.Tuple) or type(power.left) is cst.Call:
            return "polynomial decay"
        return "exponential decay"
    if "sqrt" in calls or "rsqrt" in calls:
        return "inverse square root"
    if "bisect_right" in calls or "bisect" in calls:
        return "step decay"
    compared = [n for n in walk(body) if type(n) is cst.If and type(n.test) is cst.Comparison
                and not any(WARM_NAME.search(name) for name in _names(n.test))]
    if len(compared) >= 2 and any(type(n) is cst.AugAssign for c in compared for n in walk(c.body)):
        return "step decay"  # `if epoch >= 150: lr *= 0.1` ... (thresholds in the code)
    subtractions = [n for n in walk(body) if type(n) is cst.BinaryOperation and type(n.operator) is cst.Subtract
                    and type(n.left) in (cst.Integer, cst.Float)]
    if subtractions:
        return "linear decay"
    return ""


def shape(function: cst.FunctionDef | cst.Lambda) -> str:
    """`linear warm-up, then cosine decay`, or "" when the function computes no shape this module names."""
    body = function.body
    parts = [part for part in (_warmup_linear(body), _decay(body)) if part]
    return ", then ".join(parts)


def is_schedule_function(name: str) -> bool:
    return bool(SCHEDULE_FUNCTION.search(name))
