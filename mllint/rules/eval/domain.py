"""EVAL's domain for the data-flow engine: averaged weights (EMA/SWA objects, their `.ema`/`.module`)
as sources, the model called in evaluation code as the sink, so that `validate.run(model=ema.ema)` in
train.py is seen to evaluate the EMA model inside val.py.

A working switch (`if args.model_ema:`, `ema.ema if args.eval_ema else model`, `if self.ema_decay > 0:`)
tags what it guards `switched`, and the sinks exclude those flows; call sites under such a switch are
noted, so that a chain through one is dropped too. A switch that cannot be turned off (store_true with
default=True, `hasattr` on an attribute always created) guards nothing and is noted with why.
"""
from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from .extract import EMA_WORDS, EVAL_NAME, MODEL_WORDS, Switches, model_name
from ...dataflow.terms import CLEAN, FlowFacts, Function, ParamTerm, ReturnTerm, Sink, SourceTerm, Val, stepped_by, tag
from ...core.syntax import const
from ...dataflow.interpreter import Call, Domain, Found, Frame, Lane
from ...core.names import dotted

EVAL_AVERAGED = "EVAL001"
SWITCHED = "switched"
AVERAGED_CLASS = re.compile(r"(?:^|[a-z0-9_])(?:EMA|Ema)(?![a-z])|^(?:SWA|Swa)(?![a-z])|AveragedModel|"
                            r"ExponentialMovingAverage|^Polyak")
NOT_A_MODEL = re.compile(r"(?:LR|Loss|Meter|Scheduler|Schema|SCHEMA|Callback|Config)$|Callback")
AVERAGED_NAME = re.compile(r"(?i)^(?:ema|swa|averaged|polyak)(?:_?(?:model|net|network|module|g|d|teacher|net_g))?$"
                           r"|^(?:model|net|network|net_g|net_d|teacher|module|g)_?(?:ema|swa|averaged)$")
UPDATE_SHAPE = re.compile(r"\.mul_\([^)]*\)\s*\.add_\(|\.lerp_\(|\(\s*1\.?0?\s*-\s*[\w.\[\]()]+\s*\)\s*\*|"
                          r"\*\s*\(\s*1\.?0?\s*-\s*[\w.\[\]()]+\s*\)|\.mul_\([\w.]+\)\s*\n\s*[\w.\[\]]+\.add_\(")
_FORWARD = re.compile(r"_?forward(?:_\w+)?$")


_WEIGHTS = re.compile(r"\b(?:named_)?(?:parameters|buffers)\(|\bstate_dict\(")
# `torch.optim.SGD(self.model.parameters(), ...)`: the attribute a class's own optimiser trains
_OPTIMISED = re.compile(r"(?:optim\.\w+|\b(?:SGD|Adam\w*|RMSprop|LARS|LAMB|Lion))\(\s*(?:params\s*=\s*)?self\.(\w+)\.(?:named_)?parameters\(")
_TRAINS = re.compile(r"\.backward\(|\.zero_grad\(")
# a module written for another framework (mean-teacher's TensorFlow half beside its PyTorch one): its models,
# averages and evaluation functions are not PyTorch's
_OTHER_FRAMEWORK = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras|jax|flax|mxnet|paddle|chainer)\b", re.M)
_COPIES = frozenset({"deepcopy", "copy", "clone"})


def _averages_weights(module: cst.Module, node: cst.ClassDef) -> bool:
    """A class that keeps averaged weights: an EMA-shaped update in its code, and, in a class that also trains (an
    algorithm that keeps running averages of statistics, `mu = m * mu + (1 - m) * batch_mean`, beside its
    training step), one in a method that reads a model's weights (`parameters()`, `state_dict()`)."""
    code = module.code_for_node(node)
    if not UPDATE_SHAPE.search(code):
        return False
    if not _TRAINS.search(code):
        return True
    return any(UPDATE_SHAPE.search(text) and _WEIGHTS.search(text)
               for text in (module.code_for_node(m) for m in node.body.body if isinstance(m, cst.FunctionDef)))


_WEIGHT_READ = frozenset({"parameters", "named_parameters", "buffers", "named_buffers", "state_dict"})
_IN_PLACE = frozenset({"mul_", "add_", "lerp_", "copy_", "sub_", "addcmul_"})


def _averaging_functions(module: cst.Module, functions: list) -> dict[str, int]:
    """Functions that average one model's weights into another (`def ema_update(wa_model, model, decay)`,
    `def accumulate(model1, model2, decay)`): an EMA-shaped update whose target is read from one parameter's
    weights (`zip(wa_model.parameters(), model.parameters())`, `dict(model1.named_parameters())`) and written in
    place (`p_swa.data *= decay`, `par1[k].data.mul_(decay).add_(...)`). name -> the averaged parameter's position."""
    from ...core.walk import walk

    found: dict[str, int] = {}
    for node in functions:
        params = [p.name.value for p in node.params.params]
        if params[:1] in (["self"], ["cls"]):
            params = params[1:]
        source: dict[str, str] = {}  # a name bound to a parameter's weights -> that parameter
        written: list[str] = []
        for inner in walk(node):
            kind = type(inner)
            if kind is cst.For and type(inner.iter) is cst.Call and type(inner.iter.func) is cst.Name \
                    and inner.iter.func.value == "zip" \
                    and type(inner.target) is cst.Tuple:
                for element, arg in zip(inner.target.elements, inner.iter.args):
                    owner = _weights_of(arg.value, params)
                    if owner and type(element.value) is cst.Name:
                        source[element.value.value] = owner
            elif kind is cst.Assign and len(inner.targets) == 1 and type(inner.targets[0].target) is cst.Name:
                owner = _weights_of(inner.value, params)
                if owner:
                    source[inner.targets[0].target.value] = owner
            elif kind is cst.AugAssign:
                written.append(_root(inner.target))
            elif kind is cst.Call and type(inner.func) is cst.Attribute and inner.func.attr.value in _IN_PLACE:
                written.append(_root(inner.func.value))
        targets = {source[w] for w in written if w in source}
        # the code is generated only for the few functions that write one parameter's weights in place
        if len(targets) == 1 and UPDATE_SHAPE.search(module.code_for_node(node)):
            found[node.name.value] = params.index(targets.pop())
    return found


def _weights_of(expr: cst.BaseExpression, params: list) -> str:
    """`wa_model.parameters()`, `dict(model1.named_parameters())`: the parameter whose weights an expression reads."""
    if type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value in ("dict", "list") and expr.args:
        expr = expr.args[0].value
    if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value in _WEIGHT_READ:
        owner = dotted(expr.func.value) or ""
        return owner if owner in params else ""
    return ""


def _root(expr: cst.BaseExpression) -> str:
    while type(expr) in (cst.Attribute, cst.Subscript, cst.Call):
        expr = expr.func if type(expr) is cst.Call else expr.value
    return expr.value if type(expr) is cst.Name else ""


def _averaged_arguments(module: cst.Module) -> dict[str, str]:
    """The names (`wa_model`, `self.g_running` as `g_running`) a module hands to its averaging functions as the
    averaged copy: what is built under that name holds averaged weights, whatever the name says."""
    from ...core.walk import walk

    definitions, calls = [], []
    for node in walk(module):  # one pass: the module's functions and its calls
        kind = type(node)
        if kind is cst.FunctionDef:
            definitions.append(node)
        elif kind is cst.Call:
            calls.append(node)
    functions = _averaging_functions(module, definitions)
    out: dict[str, str] = {}
    for node in calls if functions else ():
        func = node.func
        name = func.value if type(func) is cst.Name else func.attr.value if type(func) is cst.Attribute else ""
        position = functions.get(name)
        if position is None or position >= len(node.args) or node.args[position].keyword is not None:
            continue
        written = dotted(node.args[position].value) or ""
        if written:
            out[written.rsplit(".", 1)[-1]] = name
    return out


class EvalDomain(Domain):
    def __init__(self, eval_calls: dict[int, str], switches: Switches) -> None:
        self.eval_calls = eval_calls  # id(model call in evaluation code) -> the call as written
        self.switches = switches
        self.classes: set[str] = set()
        self.trained: dict[str, set[str]] = {}  # averaging class -> attributes its own optimiser trains
        self.updated: dict[str, str] = {}  # name handed to an averaging function as its averaged copy -> that function
        self.training: set[str] = set()  # averaging classes that also train: their models are not all averaged
        self.foreign = False  # the module is written for another framework

    def start(self, flow: Lane) -> None:
        flow.facts.notes["switched"] = []  # call-site keys under a working switch
        flow.facts.notes["dead"] = []  # (function, why) of switches that cannot be turned off
        flow.facts.notes["labelled"] = []  # call-site keys whose result is named as the averaged model's
        self.foreign = "torch" not in flow.ctx.text and bool(_OTHER_FRAMEWORK.search(flow.ctx.text))
        # hand-written EMA classes, recognised by their update
        if UPDATE_SHAPE.search(flow.ctx.text) and not self.foreign:
            for name, node in flow.ctx.names.classes.items():
                bases = " ".join(dotted(b.value) or "" for b in node.bases)
                if "Optimizer" in bases or re.search(r"Optim|Adam|SGD|Lamb|Lars|Lion|Norm|Scheduler", name):
                    continue  # moments of an optimiser, running statistics: EMA-shaped, not averaged weights
                if _averages_weights(flow.ctx.module, node):
                    self.classes.add(name)
                    code = flow.ctx.module.code_for_node(node)
                    self.trained[name] = set(_OPTIMISED.findall(code))
                    if _TRAINS.search(code):
                        self.training.add(name)
            self.updated = _averaged_arguments(flow.ctx.module)

    def wants_hops(self, flow: Lane) -> bool:
        return bool(EMA_WORDS.search(flow.ctx.text))

    def skips(self, node: cst.FunctionDef) -> bool:
        return bool(_FORWARD.match(node.name.value))

    def _switched(self, flow: Lane) -> bool:
        return any(g == SWITCHED for g in flow.guards)

    def _source(self, flow: Lane, node: cst.CSTNode, what: str) -> SourceTerm:
        term = flow.source(node, what)
        return replace(term, tags=frozenset({SWITCHED})) if self._switched(flow) else term

    # --- switches ---------------------------------------------------------------------------------------
    def branch(self, flow: Lane, node: cst.If, test: Val) -> object | None:
        if _has_source(test):
            return None  # `if ema:`: whether the averaged object exists, decided where it is built
        found = self.switches.judge(node.test, "ema", flow.frame.cls)
        if found is None:
            return None
        if not found.working:
            if found.name != "True" or EMA_WORDS.search(flow.ctx.module.code_for_node(node.body)):
                flow.facts.notes["dead"].append((flow.frame.qual, found.why))
            return None
        return SWITCHED

    def choice(self, flow: Lane, node: cst.IfExp, test: Val, body: Val, orelse: Val) -> Val | None:
        found = self.switches.judge(node.test, "ema", flow.frame.cls) if not _has_source(test) else None
        if found is None:
            return None
        if not found.working:
            flow.facts.notes["dead"].append((flow.frame.qual, found.why))
            return None
        from ...dataflow.terms import union
        return union(_tagged(body), _tagged(orelse))

    def named(self, flow: Lane, node: cst.CSTNode, name: str, value: Val,
              source: cst.BaseExpression | None) -> Val:
        """`ema_model = deepcopy(model)`, `self.net_g_ema = build_network(...)`: the name says what it is."""
        cls = flow.frame.cls.rsplit(".", 1)[-1] if flow.frame.cls else None
        if cls in self.classes and flow.frame.qual.endswith(".__init__") and isinstance(source, cst.Call) \
                and isinstance(node, cst.Name) and not _has_source(value) \
                and name not in self.trained.get(cls, ()) \
                and (cls not in self.training or _copies(source)):  # `self.shadow = deepcopy(model)`, not the model
            # it trains (a GAN trainer that also keeps an averaged generator holds its own `netG` too)
            from ...dataflow.terms import terms_val, union
            value = union(value, terms_val({self._source(flow, node, f"`{name}` of the averaging class `{cls}`")}))
        elif isinstance(source, cst.Call) and name in self.updated and not _has_source(value):
            from ...dataflow.terms import terms_val, union
            value = union(value, terms_val({self._source(
                flow, node, f"`{name}` (its weights averaged by `{self.updated[name]}()`)")}))
        elif source is not None and isinstance(source, (cst.Call, cst.Attribute, cst.Subscript)) \
                and AVERAGED_NAME.match(name) and not _has_source(value):
            from ...dataflow.terms import terms_val, union
            value = union(value, terms_val({self._source(flow, node, f"`{name}` (named as averaged weights)")}))
        if isinstance(source, cst.Call) and _labels_averaged(name):
            flow.facts.notes["labelled"].extend(t.site for t in value.flat() if type(t) is ReturnTerm)
        if self._switched(flow) and _has_source(value):
            return _tagged(value)
        return value

    # --- calls ------------------------------------------------------------------------------------------
    def call_sources(self, flow: Lane, call: Call) -> Found:
        if self.foreign:
            return Found()
        short = call.short
        if short[:1].isupper() and (AVERAGED_CLASS.search(short) or short in self.classes) \
                and not NOT_A_MODEL.search(short):
            shown = dotted(call.node.func) or short
            return Found(frozenset({self._source(flow, call.node, f"`{shown}(...)`")}))
        return Found()

    def call_sinks(self, flow: Lane, call: Call) -> None:
        if call.library_site and self._switched(flow):
            flow.facts.notes["switched"].append(call.library_site)
        if self._switched(flow) or self.foreign:
            return
        if EVAL_NAME.match(call.short) and not flow.ctx.is_test:
            self._passed(flow, call)
        written = self.eval_calls.get(id(call.node))
        if written is None:
            return
        func = call.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("forward", "_forward_once", "inference",
                                                                    "forward_features", "_forward"):
            value = call.receiver
        else:
            value = call.callee_value(flow)
        scope = flow.frame.qual.rsplit(".", 1)[-1]
        flow.sink(EVAL_AVERAGED, call.node, value, f"`{written}` evaluated in `{scope}()`",
                  excludes=frozenset({SWITCHED}))


    def _passed(self, flow: Lane, call: Call) -> None:
        """`validate(test_loader, model_ema)`: a model handed to an evaluation function, for when its body runs
        the model in a helper the analysis does not take for evaluation code. The call-site key is kept in
        `requires` ("arg-of:KEY"), so that a finding inside the function, reached through this call, wins."""
        for position, value, arg in call.args:
            text = dotted(arg.value) or ""
            if not value.tainted() or not (position in ("model", "net", "network") or model_name(text.rsplit(".", 1)[-1])):
                continue
            sink = flow.sink(EVAL_AVERAGED, arg.value, value, f"`{text or position}` passed to `{call.short}()`",
                             excludes=frozenset({SWITCHED}))
            if sink is not None:
                sink.requires = f"arg-of:{call.library_site}"


def _copies(source: cst.Call) -> bool:
    """`deepcopy(model)`, `copy.deepcopy(self.netG)`, `model.clone()`: a copy of a model, which an averaging update
    can then move away from the model it copies."""
    func = source.func
    return (func.attr.value if isinstance(func, cst.Attribute) else dotted(func) or "") in _COPIES


def _labels_averaged(name: str) -> bool:
    """`swa_res = evaluate(loader, swag_model)`, `acc_ema = test(model_ema)`: a result named for the averaged weights
    it was measured on, so the number says which model made it (not a model's own name: `ema_model`)."""
    if not EMA_WORDS.search(name) or AVERAGED_NAME.match(name):
        return False
    return not any(word in MODEL_WORDS and word not in ("ema", "swa") for word in name.lower().split("_"))


def _has_source(value: Val) -> bool:
    return any(type(t) is SourceTerm for t in value.flat())


def _tagged(value: Val) -> Val:
    if not value.tainted():
        return value
    return replace(tag(value, SWITCHED), cls=value.cls)


def analysed(ctx):
    """`evaluation_facts(ctx)`, once per module: read by the extractor and by EVAL's lane of the interpretation.
    Kept on the context, so that it dies with it (the analysis holds the context: a registry keyed weakly by the
    context would keep every analysed module's tree alive)."""
    found = ctx.__dict__.get("_eval_analysis")
    if found is None:
        from .extract import evaluation_facts

        found = ctx.__dict__["_eval_analysis"] = evaluation_facts(ctx)
    return found


def eval_domain(ctx) -> EvalDomain | None:
    """EVAL's lane of the module's one interpretation (dataflow/families.py): modules worth reading for evaluation
    where averaged weights may be built or handed on."""
    from .extract import evaluation_script
    from ...core.text_gates import averaged_text, worth_reading_for_eval

    if ctx.is_test or not averaged_text(ctx.text) or \
            not worth_reading_for_eval(ctx.text) and not evaluation_script(ctx.names.module_name, ctx.text):
        return None
    analysis = analysed(ctx)[1]
    return EvalDomain(analysis.eval_calls, analysis.switches)


def frame_name(frame: Frame) -> str:
    return frame.qual.rsplit(".", 1)[-1]


def lite_flow_facts(ctx, analysis) -> FlowFacts:
    """A module without averaged weights of its own: no interpretation, only what the project phase needs to
    bind its evaluation sinks to callers elsewhere, i.e. its functions' parameters and the sinks on them
    (`model(im)` with `model` a parameter, `model.module(x)`)."""
    facts = FlowFacts(ctx.rel, ctx.names.module_name, notes={"switched": [], "dead": [], "labelled": []})
    for call, written, qual, params, cls in analysis.lite:
        ordered = [p.name.value for p in (*params.posonly_params, *params.params)]
        kwonly = [p.name.value for p in params.kwonly_params]
        if qual not in facts.functions:
            defaults = {p.name.value: const(p.default) for p in (*params.posonly_params, *params.params,
                                                                   *params.kwonly_params)
                        if p.default is not None and const(p.default) is not None}
            facts.functions[qual] = Function(qual, tuple(ordered), defaults, CLEAN)
        root = written.split(".", 1)
        if root[0] in ordered and not (cls and ordered and root[0] == ordered[0]):
            term = ParamTerm(qual, ordered.index(root[0]), root[0])
        elif root[0] in kwonly:
            term = ParamTerm(qual, -1, root[0])
        else:
            continue
        path = tuple("." + part for part in root[1].split(".")) if len(root) > 1 else ()
        value = Val(frozenset({stepped_by(term, path)}))
        scope = qual.rsplit(".", 1)[-1]
        facts.sinks.append(Sink(EVAL_AVERAGED, ctx.loc(call), value, f"`{written}` evaluated in `{scope}()`",
                                excludes=frozenset({SWITCHED}), scope=qual))
    return facts
