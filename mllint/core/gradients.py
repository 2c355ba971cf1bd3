"""Whose gradients a function follows: a model's parameters (training), or its input's (an adversarial attack, a
saliency map, an inversion). One syntactic reading of a function body, shared by SEED (a `backward()` or `step()`
that trains nothing is no training run to seed) and LEAK (a `backward()` that trains no model takes no data into
training; the best iterate of an attack selects no model)."""
from __future__ import annotations

import re

import libcst as cst

from .names import dotted
from .syntax import TORCH_OPTIMIZERS
from .values import number
from .walk import walk

# A `.grad` read of one of these is a weight's gradient (`p.grad`, `self.weight.grad`, `model.parameters`).
PARAMETER_NAME = re.compile(r"(?:^|_)(?:p|params?|parameters?|weights?|w|b|bias|layer|module|m)$|named_parameters|"
                            r"\.parameters$", re.IGNORECASE)
_SCHEDULER = re.compile(r"sched|plateau", re.IGNORECASE)
_STEPS = ("step", "optimizer_step", "apply_gradients")
_SIGNS = ("sign", "ge", "gt", "le", "lt", "greater", "less")
# Methods that give a tensor made from their receiver (`x.clone().detach().requires_grad_()`).
_DERIVING = {"clone", "detach", "requires_grad_", "to", "cuda", "cpu", "float", "double", "half", "view", "reshape",
             "contiguous", "repeat", "expand", "expand_as", "unsqueeze", "squeeze"}


def optimised_tensors(call: cst.Call) -> tuple[str, ...]:
    """The plain names a torch optimiser is built over as a list or tuple (`torch.optim.Adam([w], lr=0.01)`):
    tensors, not a model's `parameters()`; () for any other call."""
    func = call.func
    name = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
    if name not in TORCH_OPTIMIZERS or not call.args:
        return ()
    first = call.args[0].value
    if type(first) not in (cst.List, cst.Tuple) or not first.elements \
            or not all(type(e.value) is cst.Name for e in first.elements):
        return ()
    return tuple(e.value.value for e in first.elements)


def optimised_names(function: cst.FunctionDef) -> tuple[str, ...]:
    """Every name the function's optimisers are built over as tensors (`Adam([w])`), in order."""
    return tuple(name for inner in walk(function.body) if type(inner) is cst.Call
                 for name in optimised_tensors(inner))


def follows_input_gradients(function: cst.FunctionDef) -> bool:
    """Does the function differentiate with respect to something other than a model's weights, and step no
    optimiser over a model? It reads the gradient of a tensor that is no parameter (`delta.grad`, `images.grad`,
    `w.grad` with `w = torch.zeros_like(x, requires_grad=True)`) or takes the sign of a gradient (`x.grad.sign()`,
    `torch.sign(grad)`, `(torch.ge(x.grad, 0).float() - 0.5) * 2`, `x.grad > 0`), and every optimiser it steps is
    built over tensors made from its input (`Adam([w])`, `w = x.clone().requires_grad_()`). Training steps an
    optimiser over a model's parameters (or updates weights by hand, over `parameters()`), and never takes the sign
    of their gradients."""
    bound: dict[str, list[cst.BaseExpression]] = {}
    for inner in walk(function.body):
        if type(inner) is cst.Assign and len(inner.targets) == 1 and type(inner.targets[0].target) is cst.Name:
            bound.setdefault(inner.targets[0].target.value, []).append(inner.value)
    made = {name for name, exprs in bound.items() if any(_made_from_input(e) for e in exprs)}
    attack = {name for name, exprs in bound.items() if all(_over_input(e, bound) for e in exprs)}
    parameters: set[str] = set()  # `for p in model.parameters():` binds weights
    signed = input_grad = False
    for inner in walk(function.body):
        kind = type(inner)
        if kind is cst.Call:
            func = inner.func
            last = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
            if last in _STEPS and not _SCHEDULER.search(dotted(func) or last):
                if type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value in attack:
                    signed = True  # the step of an attack's optimiser moves the input, not the weights
                    continue
                return False
            if last in _SIGNS and any(_reads_grad(n) for n in walk(inner)):
                signed = True
        elif kind is cst.Comparison:
            if any(type(c.operator) in (cst.GreaterThan, cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual)
                   and number(c.comparator) == 0 for c in inner.comparisons) and any(_reads_grad(n) for n in walk(inner)):
                signed = True  # `x.grad > 0`: the sign of an input gradient, mapped to +-1
        elif kind is cst.For and "parameters" in (dotted(getattr(inner.iter, "func", inner.iter)) or ""):
            parameters.update(n.value for n in walk(inner.target) if type(n) is cst.Name)
        elif kind is cst.Attribute and inner.attr.value == "grad":
            owner = dotted(inner.value) or ""
            root = owner.split(".", 1)[0]
            if root in made or owner and root not in parameters and not PARAMETER_NAME.search(owner):
                input_grad = True
    return signed or input_grad


def _reads_grad(node: cst.CSTNode) -> bool:
    return type(node) is cst.Attribute and node.attr.value == "grad" or type(node) is cst.Name and node.value == "grad"


def _over_input(expr: cst.BaseExpression, bound: dict[str, list[cst.BaseExpression]]) -> bool:
    """An optimiser whose every tensor is made here from an input: an attack's."""
    names = optimised_tensors(expr) if type(expr) is cst.Call else ()
    return bool(names) and all(name in bound and all(input_tensor(v) for v in bound[name]) for name in names)


def _made_from_input(expr: cst.BaseExpression) -> bool:
    """`torch.zeros_like(x)`, `Variable(x.data.repeat(k, 1), requires_grad=True)`: a tensor shaped on an input."""
    return any(type(n) is cst.Attribute and n.attr.value.endswith("_like")
               or type(n) is cst.Name and n.value.endswith("_like") for n in walk(expr)) \
        or requires_grad(expr) and input_tensor(expr)


def requires_grad(expr: cst.BaseExpression) -> bool:
    """The expression makes a tensor that takes gradients: `requires_grad=True`, `.requires_grad_()`."""
    return any(type(n) is cst.Arg and n.keyword is not None and n.keyword.value == "requires_grad"
               and dotted(n.value) == "True" or type(n) is cst.Attribute and n.attr.value == "requires_grad_"
               for n in walk(expr))


def input_tensor(expr: cst.BaseExpression) -> bool:
    """A tensor made from another tensor to take gradients of it: `torch.zeros_like(x, requires_grad=True)`,
    `x.clone().detach().requires_grad_(True)`, `Variable(x.data, requires_grad=True)`, `torch.zeros(x.size())`;
    not fresh weights from a shape (`torch.randn(4, 1, requires_grad=True)`) nor a model's parameters."""
    if any(type(n) is cst.Attribute and n.attr.value in ("parameters", "named_parameters", "weight", "bias")
           for n in walk(expr)):
        return False
    while True:
        if type(expr) is cst.Attribute and expr.attr.value == "data":
            expr = expr.value
        elif type(expr) is cst.Call:
            func = expr.func
            name = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
            if name.endswith("_like"):
                return True
            if type(func) is cst.Attribute and name in _DERIVING:
                expr = func.value
            elif name in ("Variable", "Parameter", "tensor", "zeros", "ones", "empty", "full", "rand", "randn") and expr.args:
                first = expr.args[0].value
                if name in ("Variable", "Parameter", "tensor"):
                    expr = first
                elif type(first) is cst.Attribute and first.attr.value == "shape" or type(first) is cst.Call \
                        and type(first.func) is cst.Attribute and first.func.attr.value == "size":
                    return True  # torch.zeros(x.size(), requires_grad=True)
                else:
                    return False
            else:
                return False
        else:
            return type(expr) in (cst.Name, cst.Subscript)
