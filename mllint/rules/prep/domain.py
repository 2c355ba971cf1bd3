"""PREP001's domain for the data-flow engine: images OpenCV decodes in BGR order (sources) reaching a consumer
that expects RGB (sinks) without a channel swap on the way (sanitisers: the value becomes clean).

Sources: `cv2.imread`, `cv2.imdecode` (not in grayscale), frames of `cv2.VideoCapture(...).read()`, and
project helpers that return them (the engine follows returns and arguments across modules).
Swaps: `cvtColor(x, COLOR_BGR2*)`, `x[..., ::-1]`, `x[:, :, [2, 1, 0]]`, `flip` of the channel axis, a call
with `bgr2rgb=True` (BasicSR's `img2tensor`), a helper that swaps under a flag that defaults to true.
Sinks: RGB normalisation (`normalize(x, mean, std)`, `(x - mean) / std` with a 3-channel mean that is not
in BGR order, a `Normalize`/`Compose` object called on it), `PIL.Image.fromarray`, a pretrained
torchvision/timm model called on it. Transform objects and pretrained models are recognised by *marks*
on their values, within a function.
"""
from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from ...core.walk import walk
from ...dataflow.terms import CLEAN, ReturnTerm, SourceTerm, Val, derive, mark, tag, union
from ...dataflow.interpreter import Call, Domain, Found, Frame, Interpreter
from ...core.names import dotted
from .extract import swaps_channels
from .statistics import is_symmetric, match, numbers, shown
from ...core.syntax import callee_name, const

PREP_BGR = "PREP001"
RGB, PRETRAINED = "rgb-consumer", "pretrained"  # marks (within a function) and tags of consumer sources
CONSUMER = "consumer"  # the tag of the called object's flows in a sink that needs a consumer (see call_sinks)
TO_BGR = "made-bgr"  # the mark of an image the project converted from RGB to BGR (`cvtColor(x, COLOR_RGB2BGR)`)
CONSUMER_TAGS = frozenset({RGB, PRETRAINED, CONSUMER})
_CONSUMER_NAME = re.compile(r"transform|augment|aug\b|tfm|preprocess|normali[sz]|model|net\b|backbone|encoder|"
                            r"classifier|feature_extractor", re.I)
# Modules worth interpreting: they read images, swap channels, or hold an RGB consumer (a Normalize, a
# pretrained model, statistics that are not the same in every channel order). Others are read as library code:
# their calls carry their arguments.
_WORTH_TEXT = ("cv2", "imread", "imdecode", "VideoCapture", "fromarray", "create_model(", "2, 1, 0", "2,1,0")
_BGR = re.compile(r"\b[Bb][Gg][Rr]|[Bb][Gg][Rr]2|2[Bb][Gg][Rr]")
_PRETRAINED = re.compile(r"pretrained\s*=\s*True|weights\s*=\s*(?!None|False)[A-Z\"']")
_FUNCTIONAL_NORMALIZE = re.compile(r"normalize\([^)]*(?:mean|MEAN|\d\.\d+\s*,)")
# a subclass handing its transform to a project base class that applies it (`super().__init__(root, transform)`)
_SUPER_TRANSFORM = re.compile(r"super\([^)]*\)\.__init__\([^)]*\btransforms?\b")
_REVERSED = re.compile(r"(?:\.\.\.|:)\s*,\s*::\s*-1|\)\s*\[\s*::\s*-1")
_STATS = re.compile(r"(?:mean|std|MEAN|STD)\w*\s*=[^\n=]{0,30}?(\d*\.\d+)\s*,\s*(\d*\.?\d*)\s*,\s*(\d*\.?\d*)")
# `Normalize((0.1307,), (0.3081,))`, `Normalize([0.5], [0.5])`, `Normalize((0.5, 0.5, 0.5), ...)`: not RGB consumers
_PLAIN_NORMALIZE = re.compile(r"Normalize\(\s*(?:mean\s*=\s*)?[\[(]\s*(?:[\d.]+\s*,?\s*[\])]|([\d.]+)\s*,\s*\1\s*,\s*\1\b)")


def worth_interpreting(text: str) -> bool:
    """Substring checks first (a file's text is scanned several times; alternations of regexes are slow)."""
    if any(word in text for word in _WORTH_TEXT):
        return True
    if ("bgr" in text or "BGR" in text) and _BGR.search(text):
        return True
    if ("pretrained" in text or "weights" in text) and _PRETRAINED.search(text):
        return True
    if "normalize(" in text and _FUNCTIONAL_NORMALIZE.search(text):
        return True
    if "::" in text and _REVERSED.search(text):
        return True
    if "Normalize(" in text and text.count("Normalize(") > len(_PLAIN_NORMALIZE.findall(text)):
        return True
    if "super(" in text and "transform" in text and _SUPER_TRANSFORM.search(text):
        return True
    if "mean" in text or "std" in text or "MEAN" in text or "STD" in text:
        return any(m.group(1) != m.group(3) for m in _STATS.finditer(text))
    return False


_FORWARD = re.compile(r"_?forward(?:_\w+)?$")
_SWAP_KEYWORDS = frozenset({"bgr2rgb", "bgr_to_rgb", "to_rgb", "rgb", "swap_rb", "swapRB", "swap_channels",
                            "convert_rgb", "rgb_order"})
_CAPTURE = re.compile(r"cap|video|stream|camera|cam\b|webcam|vid", re.I)
_CV2_CALL = re.compile(r"(?:^|\.)cv2\.\w+$")
_NUMBER = r"\s*(-?[\d.]+(?:e-?\d+)?(?:\s*/\s*[\d.]+)?)\s*"
_TRIPLE = re.compile(r"\b(\w+)[ \t]*=[ \t]*(?:[\w.]+\(\s*)?[\[(]?" + ",".join([_NUMBER] * 3) + r"(?:,?\s*[\])]|[ \t]*(?:#.*)?$)", re.M)
_SWAP_TEXT = re.compile(r"::\s*-1|2,\s*1,\s*0|COLOR_BGRA?2RGB")
_MODEL_METHODS = frozenset({"eval", "train", "to", "cuda", "cpu", "half", "float", "requires_grad_"})
_RGB_TRANSFORMS = frozenset({"Grayscale", "RandomGrayscale"})
_STAT_NAME = re.compile(r"mean|std|imagenet|rgb", re.I)


class PrepDomain(Domain):
    def __init__(self) -> None:
        self.constants: dict[str, tuple] = {}  # names bound to numeric triples in this module
        self.flag_swaps: dict[str, set[str]] = {}  # function -> parameters under which it swaps channels
        self.consumed: set[int] = set()  # calls recorded as sinks (their results are not reported again)
        self.swapping_classes: set[str] = set()  # classes of this module that swap channels (transform steps)
        self.reads = False  # the module reads BGR images somewhere
        self.swaps = False  # the module swaps channels somewhere (its facts are kept: its helpers clean images)
        self.to_bgr = False  # the module converts RGB images to BGR for a model input: its project feeds BGR on purpose

    def start(self, flow: Interpreter) -> None:
        text = flow.ctx.text
        self.cv2 = "cv2" in text
        self.capture = "VideoCapture" in text
        for match_ in _TRIPLE.finditer(text):  # `MEAN = np.array([0.485, 0.456, 0.406])`, `self.std = (...)`
            values = tuple(_float(v) for v in match_.group(2, 3, 4))
            if None not in values and any("." in v for v in match_.group(2, 3, 4)):
                self.constants[match_.group(1)] = values
        # `img -= MEAN` / `img /= STD` in place: the normalisation is the statement, seen when its target is bound
        self.in_place = {id(node.target): node for node in flow.ctx.index.of_type(cst.AugAssign)
                         if type(node.target) is cst.Name and type(node.operator) in (cst.SubtractAssign, cst.DivideAssign)} \
            if ("-=" in text or "/=" in text) else {}
        if _SWAP_TEXT.search(text):  # yolov5's ToTensor: `im.transpose((2, 0, 1))[::-1]` in `__call__`
            for node in flow.ctx.module.body:
                if isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock) and any(
                        isinstance(m, cst.FunctionDef) and m.name.value in ("__call__", "forward") and swaps_channels(m)
                        for m in node.body.body):
                    self.swapping_classes.add(node.name.value)

    def wants_hops(self, flow: Interpreter) -> bool:
        return self.cv2

    def skips(self, node: cst.FunctionDef) -> bool:
        return bool(_FORWARD.match(node.name.value))  # a network's own mean shift is not a consumer of file data

    # --- sources ------------------------------------------------------------------------------------
    def call_sources(self, flow: Interpreter, call: Call) -> Found:
        short, qualified = call.short, call.qualified
        # `cv2.imread`, also through a project module that re-exports cv2 (`from utils.general import cv2`)
        if short in ("imread", "imdecode") and (_CV2_CALL.search(qualified) or
                                                self.cv2 and qualified in ("", short) and not call.is_method):
            arg = next((a for p, _, a in call.args if p in (1, "flags")), None)
            if arg is not None and _grayscale(flow, arg.value):
                return Found()
            self.reads = True
            return Found(frozenset({flow.source(call.node, f"cv2.{short}(), in BGR order")}))
        if short == "read" and call.is_method and (call.receiver.ctor == "VideoCapture" or self.capture and
                                                   _CAPTURE.search(dotted(call.node.func.value) or "")):
            self.reads = True
            return Found(frozenset({flow.source(call.node, "a cv2.VideoCapture frame, in BGR order")}))
        return Found()

    # --- swaps --------------------------------------------------------------------------------------
    def call_result(self, flow: Interpreter, call: Call) -> Val | None:
        """`img2tensor(img, bgr2rgb=True)` swaps; with `bgr2rgb=False` the images pass through unswapped."""
        for position, value, _ in call.args:
            if position in _SWAP_KEYWORDS and value.const is True:
                return self._swapped(flow)
            if position in _SWAP_KEYWORDS and value.const is False:
                return union(*(v for p, v, _ in call.args if isinstance(p, int)))
        return None

    def library_result(self, flow: Interpreter, call: Call) -> Val | None:
        short, node = call.short, call.node
        if short == "cvtColor":
            code = flow.ctx.module.code_for_node(node.args[1].value) if len(node.args) > 1 else ""
            if "BGR2" in code.upper() or "BGRA2" in code.upper():
                return self._swapped(flow)
            if "RGB2BGR" in code.upper():
                return mark(CLEAN, TO_BGR)  # BGR made on purpose: watched for where it goes (call_sinks)
            return None
        if short == "flip" and not _CV2_CALL.search(call.qualified):
            return self._swapped(flow)
        if id(node) in self.consumed or short == "fromarray":
            return CLEAN  # reported where it was consumed: once per flow, not again downstream
        if short == "Normalize" and (self._rgb_stats(call) or _albumentations_default(call)):
            return self._consumer(flow, call, RGB, "`Normalize` with RGB statistics")
        if short in _RGB_TRANSFORMS:
            return self._consumer(flow, call, RGB, f"`{short}`, which weighs channels as RGB")
        if short == "Compose":
            steps = call.values.get(0, call.values.get("transforms"))
            if steps is None or steps.parts is None:
                return None
            for part, node in zip(steps.parts, _elements(call)):
                if self._swapping_step(part, node):  # swaps before what follows: not an RGB consumer
                    return Val(ctor="Compose")
                if RGB in part.marks:
                    return Val(derive(steps).terms, ctor="Compose", marks=frozenset({RGB}))
            return None
        if short == "transforms" and call.is_method and "Weights" in _text(flow, call.node.func.value):
            return self._consumer(flow, call, RGB, f"the preprocessing of `{_text(flow, call.node.func.value)}`")
        if _pretrained(call):
            return self._consumer(flow, call, PRETRAINED, f"the pretrained model `{_text(flow, call.node.func)}()`")
        if call.is_method and short in _MODEL_METHODS and PRETRAINED in call.receiver.marks:
            return call.receiver
        return None

    def _swapping_step(self, part: Val, node: cst.BaseExpression | None) -> bool:
        if part.cls and part.cls.rsplit(".", 1)[-1] in self.swapping_classes:
            return True
        return isinstance(node, cst.Call) and callee_name(node.func) == "Lambda" and swaps_channels(node)

    def _consumer(self, flow: Interpreter, call: Call, kind: str, what: str) -> Val:
        """An RGB consumer: marked (a call of it in this function is a sink) and a source tagged `kind`
        (a call of it elsewhere, `self.transform(img)`, is a sink when the project phase finds it there)."""
        term = replace(flow.source(call.node, what), tags=frozenset({kind}))
        return Val(frozenset({term}), ctor=call.short, marks=frozenset({kind}))

    def subscript(self, flow: Interpreter, node: cst.Subscript, owner: Val, key: object) -> Val | None:
        if not owner.tainted():
            return None
        for element in node.slice:
            inner = element.slice
            if isinstance(inner, cst.Slice) and isinstance(inner.step, cst.UnaryOperation) and \
                    isinstance(inner.step.operator, cst.Minus):
                return self._swapped(flow)
            if isinstance(inner, cst.Index) and isinstance(inner.value, (cst.List, cst.Tuple)) and \
                    [getattr(e.value, "value", None) for e in inner.value.elements] == ["2", "1", "0"]:
                return self._swapped(flow)
        return None

    def _swapped(self, flow: Interpreter) -> Val:
        """A clean value; under `if bgr2rgb:` in a helper, the flag is noted (see function_done)."""
        for guard in flow.guards:
            if isinstance(guard, tuple) and guard[0] == "flag":
                self.flag_swaps.setdefault(flow.frame.qual, set()).update(guard[1])
        self.swaps = True
        return CLEAN

    def branch(self, flow: Interpreter, node: cst.If, test: Val) -> object | None:
        if flow.frame.is_module:
            return None
        names = {n.value for n in walk(node.test) if isinstance(n, cst.Name)}
        return ("flag", frozenset(names)) if names else None

    def function_done(self, flow: Interpreter, node: cst.FunctionDef, frame: Frame) -> None:
        """A helper that swaps channels under a flag (`img2tensor(imgs, bgr2rgb=True)`) is read as swapping,
        unless the flag defaults to false; a caller that turns it off by keyword is read by call_result."""
        flags = self.flag_swaps.get(frame.qual)
        if not flags:
            return
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        if any(p.name.value in flags and not (p.default is not None and const(p.default) is False) for p in params):
            function = flow.facts.functions.get(frame.qual)
            if function is not None:
                function.returns = CLEAN

    # --- sinks --------------------------------------------------------------------------------------
    def call_sinks(self, flow: Interpreter, call: Call) -> None:
        short = call.short
        if short == "normalize" and self._rgb_stats(call):
            data = call.values.get(0, call.values.get("tensor", call.values.get("img", CLEAN)))
            if data.tainted():
                self.consumed.add(id(call.node))
                flow.sink(PREP_BGR, call.node, data, f"the RGB normalisation `{_text(flow, call.node.func)}()`")
            return
        if short == "fromarray":
            data = call.values.get(0, call.values.get("obj", CLEAN))
            if TO_BGR in data.marks:
                self.to_bgr = True  # the project turns RGB images into BGR before its model's input pipeline
            if data.tainted() and ("Image" in (call.qualified or "") or "PIL" in flow.ctx.text):
                self.consumed.add(id(call.node))
                flow.sink(PREP_BGR, call.node, data, "`Image.fromarray()`, which reads the array as RGB")
            return
        data = union(*(v for p, v, _ in call.args if p in (0, "x", "img", "image", "input", "pic")))
        if not data.tainted():
            return
        func = call.node.func
        if isinstance(func, cst.Call) and callee_name(func.func) == "Normalize" and self._rgb_stats_of(func, "Normalize"):
            self.consumed.add(id(call.node))  # `Normalize(mean, std)(tensor)`
            flow.sink(PREP_BGR, call.node, data, f"the RGB normalisation `{_text(flow, func)}`")
            return
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        written = _text(flow, call.node.func)
        if call.qualified and call.qualified != written and "." in call.qualified and not _CONSUMER_NAME.search(written):
            return  # a library function (`np.asarray(img)`), not an object of the project
        callee = call.callee_value(flow)
        if callee.marks & {RGB, PRETRAINED}:
            self.consumed.add(id(call.node))
        if RGB in callee.marks:
            flow.sink(PREP_BGR, call.node, data, f"the RGB transform `{written}`")
        elif PRETRAINED in callee.marks:
            flow.sink(PREP_BGR, call.node, data, f"the pretrained model `{written}`")
        elif callee.tainted() and _CONSUMER_NAME.search(written.rsplit(".", 1)[-1]) and _made_here(data):
            # `self.transform(img)`: a sink only if the project phase finds an RGB consumer in `self.transform`
            found = flow.sink(PREP_BGR, call.node, union(data, tag(callee, CONSUMER)), f"`{written}`")
            if found is not None:
                found.requires = CONSUMER

    def operated(self, flow: Interpreter, node: cst.BinaryOperation, left: Val, right: Val) -> Val | None:
        if isinstance(node.operator, (cst.Subtract, cst.Divide)) and left.tainted():
            return self._normalised(flow, node, node.right, left, isinstance(node.operator, cst.Subtract))
        return None

    def named(self, flow: Interpreter, node: cst.CSTNode, name: str, value: Val,
              source: cst.BaseExpression | None) -> Val:
        statement = self.in_place.get(id(node)) if source is None else None
        if statement is not None and value.tainted():  # `img -= [0.485, 0.456, 0.406]`: the image normalised in place
            found = self._normalised(flow, statement, statement.value, value, type(statement.operator) is cst.SubtractAssign)
            if found is not None:
                return found
        return value

    def _normalised(self, flow: Interpreter, node: cst.CSTNode, statistic: cst.BaseExpression, image: Val,
                    mean: bool) -> Val | None:
        """A sink where the image is shifted or scaled by a 3-channel statistic in RGB order: `img - MEAN`, `img /= STD`."""
        values = self._triple(statistic)
        if values is None or not _rgb_order(values):
            return None
        bare = node.with_changes(lpar=[], rpar=[]) if isinstance(node, cst.BinaryOperation) else node
        flow.sink(PREP_BGR, node, image, f"the RGB normalisation `{_text(flow, bare)}` ({'mean' if mean else 'std'} "
                                         f"{shown(values)})")
        return CLEAN  # reported here, not again downstream

    # --- statistics ---------------------------------------------------------------------------------
    def _triple(self, expr: cst.BaseExpression) -> tuple | None:
        values = numbers(expr)
        if values is None:
            name = expr.attr.value if isinstance(expr, cst.Attribute) else expr.value if isinstance(expr, cst.Name) else None
            values = self.constants.get(name) if name else None
            if values is None and name and re.search(r"imagenet", name, re.I) and _STAT_NAME.search(name):
                values = (0.485, 0.456, 0.406) if "mean" in name.lower() else (0.229, 0.224, 0.225)
        return values if values is not None and len(values) == 3 else None

    def _rgb_stats(self, call: Call) -> bool:
        return self._rgb_stats_of(call.node, call.short)

    def _rgb_stats_of(self, node: cst.Call, short: str) -> bool:
        mean = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "mean"), None)
        if mean is None:
            positional = [a.value for a in node.args if a.keyword is None]
            index = 1 if short == "normalize" else 0
            mean = positional[index] if len(positional) > index else None
        values = self._triple(mean) if mean is not None else None
        return values is not None and _rgb_order(values)


def _rgb_order(values: tuple) -> bool:
    """A 3-channel mean or std that is not the same in every order and not a known BGR one."""
    if is_symmetric(values):
        return False
    matched = match(values)
    return matched is None or not matched.bgr


def _made_here(data: Val) -> bool:
    """Data read or returned in this function (a source, a call's result), not only a parameter passed down: a
    model's own layers call each other on parameters everywhere, and a sink that needs two flows is costly."""
    return any(isinstance(t, (SourceTerm, ReturnTerm)) for t in data.flat())


def _float(text: str) -> float | None:
    try:
        if "/" in text:
            top, bottom = text.split("/")
            return float(top) / float(bottom)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def _elements(call: Call) -> list:
    """The element expressions of the list given to Compose, aligned with its parts."""
    arg = next((a for p, _, a in call.args if p in (0, "transforms")), None)
    if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
        return []
    return [e.value for e in arg.value.elements]


def _albumentations_default(call: Call) -> bool:
    """albumentations' `A.Normalize()` defaults to the ImageNet mean and std."""
    return call.qualified.startswith("albumentations") and not any(p in (0, "mean") for p, _, _ in call.args)


def _grayscale(flow: Interpreter, expr: cst.BaseExpression) -> bool:
    text = flow.ctx.module.code_for_node(expr)
    return text.strip() in ("0", "False") or "GRAYSCALE" in text.upper() or "IMREAD_REDUCED_GRAYSCALE" in text


def _pretrained(call: Call) -> bool:
    qualified = call.qualified
    library = qualified.startswith(("torchvision.models", "timm.")) or call.short == "create_model"
    if not library:
        return False
    for position, value, arg in call.args:
        if position == "pretrained" and value.const is True:
            return True
        if position == "weights" and not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
            return True
    return False


def _text(flow: Interpreter, node: cst.CSTNode) -> str:
    text = flow.ctx.module.code_for_node(node).strip()
    return text if len(text) <= 40 else text[:37] + "..."


def prep_facts(ctx):
    """PREP001's facts of a module, its domain interpreted alone."""
    domain = PrepDomain()
    return noted(Interpreter(ctx, domain).run(), domain)


def noted(facts, domain: PrepDomain):
    """The facts of PREP001's lane, with what its domain saw across the module."""
    if domain.swaps:
        facts.notes["swaps"] = True
    if domain.reads:
        facts.notes["reads"] = True  # BGR images are read here: without such a module, nothing to resolve
    if domain.to_bgr:
        facts.notes["to_bgr"] = True  # its unit's model takes BGR: PIL/transforms there receive BGR on purpose
    return facts
