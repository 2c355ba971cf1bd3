"""PREP002: the protocol of a PSNR/SSIM function (Y channel, border crop, data range), read from its body,
and the calls of such functions (a flag passed both ways reports both numbers)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ...core.walk import children, walk
from .extract import METRIC_NAME, Scan, short_name
from ...core.syntax import const, string

_Y_CALL = re.compile(r"^(?:\w+_)?(?:to_y(?:_channel)?|(?:rgb|bgr)_?(?:2|to_)_?(?:ycbcr|ycrcb|y)(?:_pt)?|rgb2ycbcr_pt|bgr2ycbcr_pt)$",
                     re.I)  # also `convert_rgb_to_y`, `tensor_rgb2ycbcr`
_BT601 = ("65.481", "65.738", "24.966", "128.553", "129.057")


@dataclass
class MetricDef:
    name: str
    loc: object
    metric: str  # PSNR / SSIM
    parts: list  # protocol, in words
    flag: str | None  # the parameter that turns the Y channel on, if conditional
    flag_default: object = None
    crop_param: str | None = None  # the parameter that sets the border crop, if any
    crop_default: object = None


@dataclass
class MetricFacts:
    defs: list = field(default_factory=list)
    calls: list = field(default_factory=list)  # (last name, {keyword: literal}) of calls of PSNR/SSIM functions
    uses: list = field(default_factory=list)  # (loc, metric, protocol parts, related [(loc, what)]) of calls whose
    # arguments the caller converted to Y or cropped
    places: dict = field(default_factory=dict)  # name -> loc of every PSNR/SSIM function the module defines
    # name -> (index, name) of the parameter that sets the border of a module-level function cropping a border of
    # its argument (`def shave(img, border): return img[border:-border, border:-border]`)
    crop_helpers: dict = field(default_factory=dict)
    # uses whose arguments pass through project calls that may crop a border, decided in the project phase:
    # (loc, metric, protocol parts known, related, ((callee as written, {position or keyword: text}, loc), ...))
    pending: list = field(default_factory=list)


_SAYS_PROTOCOL = re.compile(r"(?i)(?:^|[^a-z])y(?:$|[^a-z])|y_?channel|ycbcr|ycrcb|luma|lumin|crop|shave|border")


def metric_protocol(found: Scan, node: cst.FunctionDef) -> tuple[list[str], str | None, object]:
    """The protocol a PSNR/SSIM function computes in: (parts in words, the Y flag parameter, its default)."""
    params = _params(found, node)
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
        parts.append("with a " + crop[0])
    if not parts:
        return [], None, None
    data_range = _data_range(node, params)
    if data_range:
        parts.append("in " + data_range)
    default = const(params[y_flag].default) if y_flag and params[y_flag].default is not None else None
    return parts, y_flag, default


def _params(found: Scan, node: cst.FunctionDef) -> dict:
    """The parameters of a metric function, and those of the function it is nested in (a closure's flags)."""
    params = {}
    parent = found.parents.get(id(node))
    for fn in ((parent, node) if parent is not None else (node,)):
        params.update({p.name.value: p for p in [*fn.params.params, *fn.params.kwonly_params, *fn.params.posonly_params]})
    return params


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


def _crop(node: cst.FunctionDef, params: dict) -> tuple[str, str | None] | None:
    """(the crop in words, the parameter that sets it) of a border crop in the function."""
    for inner in walk(node.body):
        if isinstance(inner, cst.Slice) and inner.lower is not None and isinstance(inner.upper, cst.UnaryOperation) \
                and isinstance(inner.upper.operator, cst.Minus):
            lower, upper = inner.lower, inner.upper.expression
            if isinstance(lower, cst.Integer) and isinstance(upper, cst.Integer) and lower.value == upper.value \
                    and not _filters(node):  # a filter's valid region (SSIM's [5:-5]) is part of the metric
                return f"{lower.value}-pixel border crop", None
            if isinstance(lower, cst.Name) and isinstance(upper, cst.Name) and lower.value == upper.value:
                if lower.value not in params and _window_crop(node, lower.value, params):
                    continue  # `pad = (win - 1) // 2; x[pad:-pad]`: the filter's valid region, not a protocol
                return _crop_param(lower.value, params)
        if isinstance(inner, cst.Slice) and isinstance(inner.lower, cst.Name) and \
                isinstance(inner.upper, cst.BinaryOperation) and isinstance(inner.upper.operator, cst.Subtract) and \
                isinstance(inner.upper.right, cst.Name) and inner.upper.right.value == inner.lower.value:
            return _crop_param(inner.lower.value, params)  # `img[b:h - b, b:w - b]`
    return None


def _crop_param(name: str, params: dict) -> tuple[str, str | None]:
    param = params.get(name)
    default = param.default if param is not None else None
    if isinstance(default, cst.Integer):
        return f"border crop of `{name}` pixels (default {default.value})", name
    where = "set by the caller" if param is not None else "computed in the function"
    return f"border crop of `{name}` pixels ({where})", name if param is not None else None


def const_number(expr) -> object:
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    return const(expr)


def _window_crop(node: cst.FunctionDef, name: str, params: dict) -> bool:
    """Is a crop size computed in the function the valid region of the function's filter? Yes when it depends on
    no parameter but those the filter itself takes (`radius = int(3.5 * sigma + .5)`, `pad = (win - 1) // 2`);
    a size read from another parameter (`border = scale`) is the protocol's border crop."""
    if not _filters(node):
        return False
    assigned: dict[str, set[str]] = {}
    for inner in walk(node.body):
        if isinstance(inner, cst.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0].target, cst.Name):
            assigned.setdefault(inner.targets[0].target.value, set()).update(_names_read(inner.value))

    def depends(start: set[str]) -> set[str]:
        seen, stack = set(start), list(start)
        while stack:
            for nxt in assigned.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    filtered = {n.value for call in walk(node.body) if isinstance(call, cst.Call) and _FILTER.search(short_name(call.func))
                for arg in call.args for n in walk(arg.value) if isinstance(n, cst.Name)}
    return depends({name}) & set(params) <= depends(filtered)


# a filter, or a library SSIM that filters inside (`structural_similarity(..., full=True)` returns the map whose
# border its window leaves invalid)
_FILTER = re.compile(r"filter|conv|gaussian|convolve|structural_similarity|compare_ssim", re.I)


def _names_read(expr: cst.CSTNode) -> set[str]:
    """The names a value is computed from, not those that only index it (`img[b:-b]` is computed from `img`)."""
    found, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SubscriptElement):
            continue
        if isinstance(node, cst.Name):
            found.add(node.value)
        stack.extend(children(node))
    return found


def _filters(node: cst.FunctionDef) -> bool:
    return any(isinstance(n, cst.Call) and _FILTER.search(short_name(n.func)) for n in walk(node.body))


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


def _caller_protocol(found: Scan, expr, scope, depth: int = 0, seen=None,
                     guards: tuple = ()) -> list[tuple[str | None, cst.CSTNode, tuple]]:
    """What the caller did to a metric's argument: converted it to Y, cropped its border (through the names it
    is bound to in the same function, three steps deep): [(protocol in words, the node that does it, the tests of
    the ifs around the assignment that holds it)]; a call of a named function with a second argument is listed
    with None: a project helper that may crop (`shave(img, border)`, decided in the project phase)."""
    seen = set() if seen is None else seen
    out: list[tuple[str | None, cst.CSTNode, tuple]] = []
    for inner in walk(expr):
        if isinstance(inner, cst.Call):
            short = short_name(inner.func)
            if _Y_CALL.match(short) or (short == "convert" and inner.args and string(inner.args[0].value) in ("YCbCr", "Y")) \
                    or (short == "cvtColor" and "YCrCb" in found.code(inner)):
                out.append(("on the Y channel", inner, guards))
            elif len(inner.args) >= 2 and isinstance(inner.func, (cst.Name, cst.Attribute)) and not METRIC_NAME.search(short):
                out.append((None, inner, guards))
        elif isinstance(inner, cst.Subscript) and (border := _border_crop(found, inner)) is not None:
            out.append((f"with a border crop of `{found.code(border.lower)}` pixels", border, guards))
        elif isinstance(inner, cst.Name) and depth < 3 and inner.value not in seen:
            seen.add(inner.value)
            for value in found.assigned.get((id(scope), inner.value), []):
                out.extend(_caller_protocol(found, value, scope, depth + 1, seen, found.value_guards.get(id(value), ())))
    return out


def _border_crop(found: Scan, node: cst.Subscript) -> cst.Slice | None:
    """`img[b:-b, b:-b]`, `x[..., b:-b, b:-b]`: an image's border cut on its two spatial axes (the first such
    slice). One sliced axis is no border crop: `frames[1:-1]` drops a sequence's first and last items."""
    borders = [e.slice for e in node.slice if isinstance(e.slice, cst.Slice) and _border_slice(found, e.slice)]
    return borders[0] if len(borders) >= 2 else None


def _border_slice(found: Scan, node: cst.Slice) -> bool:
    """`[b:-b]` (a name or a number other than 0 on both sides)."""
    if node.lower is None or not isinstance(node.upper, cst.UnaryOperation) or \
            not isinstance(node.upper.operator, cst.Minus):
        return False
    lower, upper = found.code(node.lower), found.code(node.upper.expression)
    return lower == upper and lower != "0" and isinstance(node.lower, (cst.Name, cst.Attribute, cst.Integer))


def _says_protocol(found: Scan, scope, target: str) -> bool:
    """The metric's name or the strings of its function (its log) name the protocol. An option's help text
    (`add_argument("--is_y", help="evaluate on the y channel")`) documents the switch, not the reported number."""
    if target and _SAYS_PROTOCOL.search(target):
        return True
    helps = {id(n) for call in walk(scope if isinstance(scope, cst.FunctionDef) else found.module)
             if isinstance(call, cst.Call) and _OPTION_CALL.match(short_name(call.func)) for n in walk(call)}
    for node in walk(scope if isinstance(scope, cst.FunctionDef) else found.module):
        if id(node) in helps:
            continue
        if isinstance(node, cst.SimpleString) or isinstance(node, cst.FormattedStringText):
            text = node.value
            if _SAYS_PROTOCOL.search(text.replace("%", " ").replace("{", " ").replace("}", " ")):
                return True
    return False


_OPTION_CALL = re.compile(r"^(?:add_argument|DEFINE_\w+|Option|option|Argument)$")
# a switch named for the Y channel (`if opt.is_y:`), besides the protocol keys
_Y_SWITCH = re.compile(r"^(?:is|use|on|eval|calc|compute|test|only)_?y$|^y_?(?:only|mode)$", re.I)


def _switched(labels, options: dict) -> bool:
    """Does one of these if tests read a switch named for the protocol that can be turned off? A `store_true`
    option with `default=True` is always on: no switch."""
    from ...core.origins import option_always_on

    for label in labels:
        for token in re.findall(r"[A-Za-z_]\w*", label):
            if protocol_key(token) or _Y_SWITCH.match(token):
                option = options.get(token)
                if option is None or not option_always_on(option):
                    return True
    return False


def metric_facts(found: Scan, loc, names=None) -> MetricFacts:
    facts = MetricFacts(calls=found.metric_calls)
    facts.places = {node.name.value: loc(node.name) for node in found.metric_defs}
    options = None
    reported: set[int] = set()  # the scopes whose uses are reported at the call
    for call, metric, scope, branches, target in found.metric_uses:
        args = [a.value for a in call.args if a.keyword is None][:2]
        done = [p for arg in args for p in _caller_protocol(found, arg, scope)]
        if not done:
            continue
        if options is None:
            from ...core.origins import switch_options

            options = switch_options(found.module, names) if names is not None else {}
        if _switched([b.label for b in branches], options):
            continue  # under a switch named for the protocol (`if args.test_y_channel:`)
        done = [(what, node) for what, node, guards in done if not _switched(guards, options)]
        if not done or _says_protocol(found, scope, target):
            continue
        first = {}
        for what, node in done:
            if what is not None:
                first.setdefault(what, node)
        parts = list(first)
        related = [(loc(node), what) for what, node in first.items()]
        helpers = {}
        for what, node in done:
            if what is None and len(helpers) < 4:
                written = (names.qualify(node.func) if names is not None else None) or found.code(node.func)
                passed = {(i if a.keyword is None else a.keyword.value): found.code(a.value)
                          for i, a in enumerate(node.args) if not a.star}
                helpers.setdefault((written, tuple(sorted(passed.items(), key=repr))), (written, passed, loc(node)))
        if helpers:
            facts.pending.append((loc(call), metric, parts, related, tuple(helpers.values())))
            reported.add(id(scope))
        elif parts:
            facts.uses.append((loc(call), metric, parts, related))
            reported.add(id(scope))
    # a function the uses did not report, whose parameters decide the protocol: judged as a metric function
    wrappers = {k: v for k, v in _metric_wrappers(found).items() if k not in reported}
    facts.crop_helpers = crop_helpers(found)
    for node in [*found.metric_defs, *(node for node, _ in wrappers.values())]:
        parts, flag, default = metric_protocol(found, node)
        if parts:
            metric = "PSNR" if "psnr" in node.name.value.lower() else "SSIM" if "ssim" in node.name.value.lower() \
                else wrappers[id(node)][1]
            params = _params(found, node)
            crop = _crop(node, params)
            crop_param = crop[1] if crop else None
            crop_default = const_number(params[crop_param].default) if crop_param and params[crop_param].default is not None else None
            facts.defs.append(MetricDef(node.name.value, loc(node.name), metric, parts, flag, default, crop_param, crop_default))
    return facts


def _metric_wrappers(found: Scan) -> dict[int, tuple[cst.FunctionDef, str]]:
    """Functions named otherwise (`calc_metrics(img1, img2, crop_border, test_Y=True)`) that call PSNR/SSIM on
    their arguments after converting them to Y under a parameter or cropping a border by a parameter: metric
    functions whatever their names, judged like one (their defaults and their callers' keywords decide):
    id -> (the function, "PSNR" / "SSIM" / "PSNR and SSIM")."""
    out: dict[int, tuple[cst.FunctionDef, str]] = {}
    for call, metric, scope, branches, target in found.metric_uses:
        if not isinstance(scope, cst.FunctionDef) or id(scope) in out or any(scope is d for d in found.metric_defs):
            continue
        params = _params(found, scope)
        if not params:
            continue
        if _says_protocol(found, scope, target):
            continue  # its own name or log states the protocol
        parts, flag, default = metric_protocol(found, scope)
        crop = _crop(scope, params)
        switch = flag in params and isinstance(default, bool)  # `test_Y=True`, not an `args` object
        if parts and (switch or crop is not None and crop[1] in params):
            names = {"PSNR" if "psnr" in m.lower() else "SSIM" for c, m, sc, b, t in found.metric_uses if sc is scope}
            out[id(scope)] = (scope, " and ".join(sorted(names)))
    return out


def crop_helpers(found: Scan) -> dict[str, tuple[int, str]]:
    """Module-level functions (not PSNR/SSIM themselves, no filter) that crop a border of their argument by a
    parameter: `img[border:-border, border:-border]`, also through a name computed from it
    (`border = [border, border]; img[border[0]:-border[0], ...]`): name -> (index, name) of that parameter."""
    out = {}
    for stmt in found.module.body:
        if not isinstance(stmt, cst.FunctionDef) or METRIC_NAME.search(stmt.name.value) or _filters(stmt):
            continue
        params = [p.name.value for p in stmt.params.params]
        derived: dict[str, str] = {}
        for inner in walk(stmt.body):
            if isinstance(inner, cst.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0].target, cst.Name):
                read = [n for n in _names_read(inner.value) if n in params]
                if len(read) == 1:
                    derived[inner.targets[0].target.value] = read[0]
        for inner in walk(stmt.body):
            if not (isinstance(inner, cst.Slice) and inner.lower is not None and isinstance(inner.upper, cst.UnaryOperation)
                    and isinstance(inner.upper.operator, cst.Minus)):
                continue
            if found.code(inner.lower) != found.code(inner.upper.expression) or isinstance(inner.lower, cst.Integer):
                continue
            read = [n.value for n in walk(inner.lower) if isinstance(n, cst.Name)]
            param = next((n if n in params else derived[n] for n in read if n in params or n in derived), None)
            if param is not None:
                out[stmt.name.value] = (params.index(param), param)
                break
    return out


_PROTOCOL_KEY = re.compile(r"y_channel|crop_border|border_crop|shave|^crop$|test_y|only_y|y_only", re.I)


def protocol_key(name: str) -> bool:
    """A key or option named for a metric protocol (`test_y_channel`, `crop_border`, `shave`)."""
    return bool(_PROTOCOL_KEY.search(name))


def config_protocol(path: str) -> list | None:
    """(key, value) of the metric protocol keys a YAML/JSON/TOML config sets (`test_y_channel: false`)."""
    from ...core.configs import ConfigFileError, data_config_text, load

    if data_config_text(path, "y_channel", "crop", "shave", "only_y", "y_only") is None:
        return None
    try:
        data = load(path)
    except (ConfigFileError, Exception):  # noqa: BLE001 - a broken config is no evidence
        return None
    found = {(key.rsplit(".", 1)[-1], value) for key, value in data.items()
             if isinstance(value, (bool, int)) and _PROTOCOL_KEY.search(key.rsplit(".", 1)[-1])}
    return sorted(found, key=repr) or None
