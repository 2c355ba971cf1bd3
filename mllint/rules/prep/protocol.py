"""PREP002: the protocol of a PSNR/SSIM function (Y channel, border crop, data range), read from its body,
and the calls of such functions (a flag passed both ways reports both numbers)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ...core.walk import children, walk
from .extract import Scan, short_name
from ...core.syntax import const, string

_Y_CALL = re.compile(r"^(?:to_y(?:_channel)?|(?:rgb|bgr)_?(?:2|to_)_?(?:ycbcr|ycrcb|y)(?:_pt)?|rgb2ycbcr_pt|bgr2ycbcr_pt)$", re.I)
_BT601 = ("65.481", "65.738", "24.966", "128.553", "129.057")


@dataclass
class MetricDef:
    name: str
    loc: object
    metric: str  # PSNR / SSIM
    parts: list  # protocol, in words
    flag: str | None  # the parameter that turns the Y channel on, if conditional
    flag_default: object = None


@dataclass
class MetricFacts:
    defs: list = field(default_factory=list)
    calls: list = field(default_factory=list)  # (last name, {keyword: literal}) of calls of PSNR/SSIM functions


def metric_protocol(found: Scan, node: cst.FunctionDef) -> tuple[list[str], str | None, object]:
    """The protocol a PSNR/SSIM function computes in: (parts in words, the Y flag parameter, its default)."""
    params = {p.name.value: p for p in [*node.params.params, *node.params.kwonly_params, *node.params.posonly_params]}
    y_kind, y_flag = None, None
    for inner, guard in _guarded(node.body, params):
        if isinstance(inner, cst.Call):
            short = short_name(inner.func)
            if _Y_CALL.match(short) or (short == "convert" and inner.args and string(inner.args[0].value) in ("YCbCr", "Y")) \
                    or (short == "cvtColor" and "YCrCb" in found.code(inner)):
                y_kind = y_kind or ("Y of YCrCb (OpenCV)" if short == "cvtColor" else
                                    "Y of YCbCr (PIL)" if short == "convert" else "Y of YCbCr (BT.601)")
                y_flag = y_flag if y_kind and y_flag else guard
        elif isinstance(inner, cst.Float) and inner.value in _BT601:
            y_kind = y_kind or "Y of YCbCr (BT.601)"
            y_flag = y_flag or guard
    parts = []
    if y_kind:
        parts.append(f"on {y_kind}" + (f" when `{y_flag}` is true" if y_flag else ""))
    crop = _crop(node, params)
    if crop:
        parts.append("with a " + crop)
    if not parts:
        return [], None, None
    data_range = _data_range(node, params)
    if data_range:
        parts.append("in " + data_range)
    default = const(params[y_flag].default) if y_flag and params[y_flag].default is not None else None
    return parts, y_flag, default


def _guarded(body: cst.CSTNode, params: dict):
    """Every node of body, with the parameter whose truth guards it (`if test_y_channel:`), if any."""
    stack = [(body, None)]
    while stack:
        node, guard = stack.pop()
        yield node, guard
        if isinstance(node, (cst.If, cst.IfExp)):
            flag = next((n.value for n in walk(node.test) if isinstance(n, cst.Name) and n.value in params), None)
            stack.append((node.test, guard))
            stack.append((node.body, flag or guard))
            if node.orelse is not None:
                stack.append((node.orelse, guard))
            continue
        stack.extend((child, guard) for child in children(node))


def _crop(node: cst.FunctionDef, params: dict) -> str | None:
    for inner in walk(node.body):
        if isinstance(inner, cst.Slice) and inner.lower is not None and isinstance(inner.upper, cst.UnaryOperation) \
                and isinstance(inner.upper.operator, cst.Minus):
            lower, upper = inner.lower, inner.upper.expression
            if isinstance(lower, cst.Integer) and isinstance(upper, cst.Integer) and lower.value == upper.value \
                    and not _filters(node):  # a filter's valid region (SSIM's [5:-5]) is part of the metric
                return f"{lower.value}-pixel border crop"
            if isinstance(lower, cst.Name) and isinstance(upper, cst.Name) and lower.value == upper.value:
                param = params.get(lower.value)
                default = param.default if param is not None else None
                if isinstance(default, cst.Integer):
                    return f"border crop of `{lower.value}` pixels (default {default.value})"
                where = "set by the caller" if param is not None else "computed in the function"
                return f"border crop of `{lower.value}` pixels ({where})"
    return None


def _filters(node: cst.FunctionDef) -> bool:
    return any(isinstance(n, cst.Call) and re.search(r"filter|conv|gaussian|convolve", short_name(n.func), re.I)
               for n in walk(node.body))


def _data_range(node: cst.FunctionDef, params: dict) -> str | None:
    for inner in walk(node.body):
        if isinstance(inner, cst.Call):
            short = short_name(inner.func)
            if short == "log10":
                values = [float(n.value) for n in walk(inner) if isinstance(n, (cst.Float, cst.Integer))
                          and _is_range(n)]
                if values:
                    return f"data range {max(values):g}"
            for arg in inner.args:
                if arg.keyword is not None and arg.keyword.value in ("data_range", "max_val") and \
                        isinstance(arg.value, (cst.Float, cst.Integer)):
                    return f"data range {float(arg.value.value):g}"
    for name in ("data_range", "max_val", "pixel_max", "max_value"):
        param = params.get(name)
        if param is not None and isinstance(param.default, (cst.Float, cst.Integer)):
            return f"data range {float(param.default.value):g} (`{name}`)"
    return None


def _is_range(node) -> bool:
    try:
        return float(node.value) in (1.0, 255.0, 65535.0)
    except ValueError:
        return False


def metric_facts(found: Scan, loc) -> MetricFacts:
    facts = MetricFacts(calls=found.metric_calls)
    for node in found.metric_defs:
        parts, flag, default = metric_protocol(found, node)
        if parts:
            metric = "PSNR" if "psnr" in node.name.value.lower() else "SSIM"
            facts.defs.append(MetricDef(node.name.value, loc(node.name), metric, parts, flag, default))
    return facts
