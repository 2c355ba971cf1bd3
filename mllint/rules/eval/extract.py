"""Evaluation code of one module, read where data flow is not the question (EVAL002-005 and the swapped
weights of EVAL001): which functions evaluate a model, whether they set evaluation mode and turn gradients
off, and the shapes of test-time augmentation, ensembles and averaged weights swapped in.

One walk per function; the facts are small and picklable. Whether a caller elsewhere sets `eval()` or
turns gradients off, and whether a helper's switch is ever turned off, is decided in the project phase
(rules/eval.py) by the names modules call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import libcst as cst

from ...core.calls import Call
from ...core.walk import children, walk
from ...core.names import dotted
from ...core.config_model import key_path
from ...core.syntax import body_of, callee_name, const, string
from ...core.values import number
from ...dataflow.library import DATA_METHODS

# --- switches: does an `if` test turn averaged weights, test-time augmentation or an ensemble on and off, and can
# it be turned off? Where its value comes from (an option and its default, an attribute every instance has, a
# literal) is core/origins.py's answer; which family a name is for is EVAL's.
EMA_WORDS = re.compile(r"(?:^|_|\b)(?i:ema|swa|averag\w*|polyak|shadow)(?:_|$|\b)|EMA|Ema(?![a-z])|SWA|Swa(?![a-z])")
TTA_WORDS = re.compile(r"(?i)tta|augment|flip|x8|self_?ensemble|test_?aug|multi_?scale|chop")
ENSEMBLE_WORDS = re.compile(r"(?i)ensemble")
FAMILIES = {"ema": EMA_WORDS, "tta": TTA_WORDS, "ensemble": ENSEMBLE_WORDS}


@lru_cache(maxsize=8192)
def _says(family: str, name: str) -> bool:
    return bool(FAMILIES[family].search(name))


@dataclass(frozen=True)
class Switch:
    """A test that switches a family's machinery: `name` as written, `working` when it can be turned off,
    `why` when it cannot; `param` for a function parameter (decided by its callers in the project phase)."""
    name: str
    working: bool
    why: str = ""
    param: str = ""
    default: object = None
    family: str = ""  # "ema", "tta" or "ensemble"
    position: int = -1  # a parameter switch's position among the arguments a call passes (self not counted)


class Switches:
    def __init__(self, module: cst.Module, names) -> None:
        self.module, self.names = module, names
        self._options: dict | None = None
        self._tests: dict[int, tuple[cst.CSTNode, list]] = {}

    @property
    def options(self) -> dict:
        """dest -> the option that sets it (origins.switch_options), read when a switch is first judged."""
        if self._options is None:
            self._read()
        return self._options  # type: ignore[return-value]

    @property
    def always(self) -> dict[str, set[str]]:
        """class name -> attributes set unconditionally in `__init__` (origins.attributes_always_set)."""
        if self._options is None:
            self._read()
        return self._always

    def _read(self) -> None:
        from ...core.origins import attributes_always_set, switch_options  # not at import: warm runs unpickle facts

        self._options = switch_options(self.module, self.names)
        self._always = {node.name.value: attributes_always_set(node) for node in walk(self.module)
                        if type(node) is cst.ClassDef}

    def judge(self, test: cst.BaseExpression, family: str, cls: str | None = None,
              params: dict | None = None) -> Switch | None:
        """The switch `test` is for the family, or None when it is none (a null test, another subject)."""
        found = self._judge(test, family, cls, params)
        return replace(found, family=family) if found is not None else None

    def opt_in(self, test: cst.BaseExpression, cls: str | None = None, params: dict | None = None) -> Switch | None:
        """`if opt.post_process:`, `if flip:`: an option, a config or instance attribute, or a parameter read as a
        truth value, whatever its name: what it gates runs only when it is set. Working unless the module shows
        it cannot be turned off (`store_true` with `default=True`); a parameter is decided by its default and
        callers (`Index.switch_works`). EVAL reads it around a flip that it gates apart from the forward (a TTA
        switch whose name does not say so), family "opt-in"."""
        mode = _mode_test(test)
        if mode is not None:  # `elif ood_score == "baseline_marginalized":` one of several named modes, chosen
            subject, literal = mode
            if type(subject) is cst.Name and params is not None and subject.value in params \
                    and params[subject.value] == literal:
                return None  # the parameter's default selects it
            if type(subject) is cst.Name and (params is None or subject.value not in params):
                return None
            if type(subject) is cst.Attribute:  # an option: a switch only when its default is another mode
                option = self.options.get(subject.attr.value)
                if option is None or not isinstance(option.constant, str) or option.constant == literal:
                    return None
            return Switch(f"{dotted(subject)} == {literal!r}", True, family="opt-in")
        if type(test) is cst.Name and params is not None and test.value in params:
            names = list(params)
            if cls is not None and names and names[0] in ("self", "cls"):
                names = names[1:]
            name = test.value
            return Switch(name, True, param=name, default=params[name],
                          position=names.index(name) if name in names else -1, family="opt-in")
        if not _option_attribute(test):
            return None
        return Switch(test.attr.value, True, family="opt-in")  # whether it can be turned off: `settled`

    def settled(self, switch: Switch) -> Switch:
        """An opt-in attribute switch judged against the module's options (read only for a switch in use)."""
        from ...core.origins import option_always_on

        option = self.options.get(switch.name) if not switch.param else None
        if option is not None and option_always_on(option):
            flag = "--" + switch.name.replace("_", "-")
            return replace(switch, working=False, why=f"`{flag}` is `store_true` with `default=True`: it cannot be "
                           "turned off")
        return switch

    def _named(self, test: cst.BaseExpression) -> list[tuple[cst.CSTNode, str]]:
        """The names, attributes and strings of a test, in order (read once for the three families)."""
        known = self._tests.get(id(test))
        if known is not None and known[0] is test:
            return known[1]
        named = []
        for node in walk(test):
            kind = type(node)
            name = node.attr.value if kind is cst.Attribute else node.value if kind is cst.Name else \
                string(node) if kind is cst.SimpleString else None
            if name:
                named.append((node, name))
        self._tests[id(test)] = (test, named)
        return named

    def _given(self, test: cst.Comparison, family: str) -> Switch | None:
        """`if args.swa_resume is not None:` around building the averaged model (the raw one in the other branch):
        an option whose default is None turns the machinery on only when it is given, so it is a working switch;
        one with a default is always set (no switch). `ema is not None` on anything else, the object itself above
        all, says whether it exists, which is decided where it is built (None)."""
        left, comparisons = test.left, test.comparisons
        if len(comparisons) != 1 or not (type(comparisons[0].comparator) is cst.Name
                                         and comparisons[0].comparator.value == "None"):
            return None
        if not _option_attribute(left) or not _says(family, left.attr.value):
            return None
        name = left.attr.value
        option = self.options.get(name)
        if option is None or option.node is None:
            return None
        from ...core.values import keyword

        default = keyword(option.node, "default")
        unset = default is None or type(default) is cst.Name and default.value == "None"
        if option.action in (None, "store") and unset:
            return Switch(name, True)
        return Switch(name, False, f"`{option.name}` always has a value, so `{name} is not None` is always true")

    def _judge(self, test: cst.BaseExpression, family: str, cls: str | None, params: dict | None) -> Switch | None:
        words = FAMILIES[family]
        from ...core.origins import constant_test, option_always_on

        if constant_test(test):
            return Switch("True", False, "a constant `if True` is always on")
        if isinstance(test, cst.Comparison) and any(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in test.comparisons):
            return self._given(test, family)
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "hasattr" \
                and len(test.args) == 2:
            attr = string(test.args[1].value)
            if attr is None or not words.search(attr):
                return None
            if cls is not None and attr in self.always.get(cls.rsplit(".", 1)[-1], ()):
                return Switch(f"hasattr(self, {attr!r})", False,
                              f"`hasattr(self, {attr!r})` is always true: `self.{attr}` is created unconditionally in `__init__`")
            return Switch(f"hasattr(self, {attr!r})", True)
        for node, name in self._named(test):
            if not _says(family, name):
                continue
            if isinstance(node, cst.Name) and params is not None and name in params:
                names = list(params)
                if cls is not None and names and names[0] in ("self", "cls"):
                    names = names[1:]
                return Switch(name, True, param=name, default=params[name], position=names.index(name) if name in names else -1)
            option = self.options.get(name)
            if option is not None and option_always_on(option):
                flag = "--" + name.replace("_", "-")
                return Switch(name, False, f"`{flag}` is `store_true` with `default=True`: it cannot be turned off")
            return Switch(name, True)
        return None




EVAL_NAME = re.compile(
    r"^_*(?:evaluate|validate)_(?:loss|acc|accuracy|score|metrics?)$|"
    r"^_*(?:eval|evaluate|evaluation|validate|validation|val|vali|valid|test|testing|benchmark|infer|inference)"
    r"(?:_(?!(?:data|dataloader|loader|dataset|transform|split|set|file|list|path|dir|size|freq|interval|every|"
    r"epoch|batch_size|loss|acc|score|fn|func|config|cfg|args|kwargs|iter|ids?|idx|indices|img|image|sample|"
    r"freeze|mode)s?$)\w+)?$|^\w+_(?:eval|evaluate|evaluation|validate|validation|val|test|testing|inference)$", re.I)
# Names a framework's own evaluation loop calls, common enough as a project's own method (`Trainer.evaluate()`) to
# count as a hook only in a class built on a framework's trainer or module.
FRAMEWORK_METHODS = frozenset({"evaluate", "prediction_step", "evaluation_loop"})
_FRAMEWORK_BASE = re.compile(r"Trainer$|Lightning|^(?:pl|L)\.")
# The hooks Lightning's evaluation loops call after `model.eval()`, under `torch.no_grad()`/`inference_mode()`.
LIGHTNING_LOOPS = frozenset({"validation_step", "test_step", "predict_step"})
LIGHTNING_EVAL = LIGHTNING_LOOPS | frozenset({"validation_epoch_end", "test_epoch_end", "on_validation_epoch_end",
                                             "on_test_epoch_end", "evaluate", "prediction_step", "evaluation_loop",
                                             "on_validation_epoch_start"})
MODEL_WORDS = frozenset({"model", "net", "network", "ema", "encoder", "decoder", "backbone", "classifier", "generator",
                         "student", "teacher", "detector", "predictor", "netg", "netd", "module", "g", "swa", "forward"})
VERBS = frozenset({"get", "build", "create", "make", "load", "init", "setup", "set", "save", "update", "copy", "freeze",
                   "print", "count", "to", "apply", "define", "prepare", "wrap", "export", "convert", "register",
                   "resume", "restore", "check", "compute", "calc", "eval", "train", "test", "run", "select", "parse",
                   "summary", "show", "plot", "log", "is", "has", "num", "list", "reparameterize", "infer", "fuse"})
# a last word that names something about a model, not the model: `net_name()`, `model_ty(...)` (its class),
# `model_builder(cfg)`, `model_path`
DESCRIBES = frozenset({"name", "type", "ty", "cls", "class", "builder", "factory", "path", "dir", "file", "cfg",
                       "config", "id", "arch", "kwargs", "args", "params"})
FORWARD_METHODS = frozenset({"forward", "_forward_once", "forward_features", "_forward", "inference"})
FLIP_CALLS = frozenset({"flip", "fliplr", "flipud", "rot90", "hflip", "vflip"})
COMBINE_CALLS = frozenset({"mean", "sum", "stack", "cat", "concatenate", "average", "max", "median", "logsumexp"})
STACK_CALLS = COMBINE_CALLS | frozenset({"row_stack", "vstack", "hstack", "column_stack"})
PAD_CALLS = frozenset({"cat", "concatenate", "pad", "hstack", "vstack"})
GRAD_OFF = re.compile(r"no_grad|inference_mode")
ENSEMBLE_ITER = re.compile(r"(?i)models|nets|networks|ensemble|checkpoints|ckpts|members|learners|experts")
# whole words of the iterable's name (`test_scales`, `tta_transforms`, `flips`): `attacks` holds no `tta`
SCALE_ITER = re.compile(r"(?i)(?:^|(?<=[_\W]))(?:scales|sizes|flips|augment\w*|tta|transforms)(?=$|[_\W])|"
                        r"(?-i:(?<=[a-z])(?:Scales|Sizes|Flips|Augment\w*|Tta|TTA|Transforms))")
AVERAGED_SCOPES = frozenset({"average_parameters", "ema_scope", "swap_ema_weights", "apply_ema", "ema_weights",
                             "swap_parameters_with_ema"})
AVERAGED_SWAPS = frozenset({"apply_shadow", "copy_to", "swap_ema", "apply_ema_weights", "store_and_apply"})
TRAINING_NAME = re.compile(r"(?i)train|update|pseudo|queue|memory|distill|teacher|step")
AUXILIARY = re.compile(r"(?i)train|pseudo|label|teacher|update|distill|forward|loss|step|augment|mix")
# --- what code does with the model's outputs (Index.prediction_only): evaluation scores them (a metric, a comparison
# with targets, a loop over a loader or a held-out folder, training); a demo presents them (draws, shows, saves an
# image, prints a class name). Metric words are whole words of a name (`heatmaps` holds no `map`, `pred_scores` of a
# detector are confidences, not a score of the model).
SCORES, PRESENTS, DATA = 1, 2, 4  # a metric computed; outputs shown or saved; a loop over data, or training
KEEPS = 8  # the function hands a value on: it returns or yields one, or stores one in an attribute or an item
METRIC_TOKENS = frozenset({
    "acc", "accs", "accu", "accuracy", "accuracies", "correct", "corrects", "metric", "metrics", "psnr", "ssim",
    "lpips", "top1", "top5", "prec", "prec1", "prec5", "map", "miou", "iou", "ious", "f1", "err", "error", "errors",
    "mse", "mae", "rmse", "mape", "smape", "bleu", "rouge", "meteor", "cider", "perplexity", "ppl", "loss", "losses",
    "recall", "precision", "auc", "auroc", "aupr", "fid", "kid", "confusion", "dice", "eer", "tpr", "fpr", "roc",
    "nme", "pck", "oks", "ap", "cer", "wer", "kappa", "intersection", "union", "criterion", "evaluator", "hits",
    "ndcg", "mrr", "nll", "crps", "wape", "niqe", "fscore", "jaccard", "hamming"})
TARGET_WORDS = re.compile(r"(?i)label|target|(?:^|_)gts?(?:_|$)|truth|^y(?:_|$)|_y$|answer|^gt[A-Z]")
PRESENT_CALL = re.compile(r"(?i)^(?:imshow|imwrite|imsave|save_image|save_images|puttext|rectangle|circle|polylines|"
                          r"drawcontours|addweighted|savefig|show|print|display|write_video|add_image|add_images|"
                          r"add_figure)$|^(?:draw|vis|visuali[sz]e|plot|show|render|colori[sz]e)")
DATA_LOOP = re.compile(r"(?i:loader|dataset|listdir|glob|iterdir|scandir|^walk$|(?:^|_)(?:val|validation|test|testing|"
                       r"dev)(?:_|$|\d|set|data)|(?:^|_)valid(?:_?(?:set|data|loader|images|imgs|files|list|x|y)|$))|"
                       r"^(?:val|valid|test)[A-Z]")
DATA_READ = re.compile(r"(?i:loader|dataset|(?:^|_)(?:val|valid|validation|test|testing|dev)_?(?:set|data|db)(?:_|$|\d))|"
                       r"^(?:val|valid|test)[A-Z]")  # a loop body reading a held-out dataset: `testset.pull_item(i)`
NOT_METRIC = frozenset({"map", "map_location"})  # the builtin, `torch.load`'s keyword
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@lru_cache(maxsize=16384)
def metric_token(name: str) -> bool:
    """`val_acc1`, `mIoU`, `intersectionAndUnion`, `criterion`: a word of the name is a metric's (not an exception
    class's `ValueError`)."""
    if name in NOT_METRIC or name.endswith(("Error", "Exception", "Warning")):
        return False
    for word in name.strip("_").split("_"):
        low = word.lower()
        if low in METRIC_TOKENS or low.rstrip("0123456789") in METRIC_TOKENS:
            return True
        if word != low and any(p.lower() in METRIC_TOKENS for p in _CAMEL.findall(word)):
            return True
    return False


BN_EVIDENCE = re.compile(r"BatchNorm|Dropout|dropout|torchvision\.models|\btimm\b|resnet|ResNet|densenet|vgg|VGG|"
                         r"mobilenet|efficientnet|from_pretrained|drop_rate|drop_path")


@dataclass
class Site:
    """A place worth reporting: where (`loc`), what (`what`), a related place (`related`: (Loc, message)),
    the function it is in, and the switch it sits under (None: none)."""
    loc: Any
    what: str
    related: list = field(default_factory=list)
    qual: str = ""
    function: str = ""  # the enclosing function's name (callers are found by it)
    switch: Switch | None = None
    both: bool = False  # the plain result is computed beside it
    evaluates: bool = True  # the function is evaluation code by its name (else its callers decide, when it has any)
    list_param: tuple = ()  # (parameter, position): a loop of scales over this list parameter (its callers decide)
    config_list: str = ""  # a loop of scales over a config key read here (`scales = cfg.TEST.SCALES`): its key path


@dataclass
class EvalFunction:
    qual: str
    name: str
    loc: Any  # the function's name
    model_call: Any  # the first call of a model in it
    model_text: str
    sets_eval: bool
    grad_off: bool
    needs_grad: bool
    volatile: Any = None
    decorators: tuple = ()
    calls: tuple = ()  # names of the functions it calls
    # found by its shape alone (sets `.eval()` and loops the model), neither named for evaluation nor computing a
    # metric: an evaluation only where evaluation code calls it (not a training-time pass over the training data)
    by_shape: bool = False
    # the method names of its forwards when every one is a method call (`self.run_manager.net_latency(...)`); the
    # project phase drops a "forward" that is a project function defined outside model classes and runs no model
    via: tuple = ()


METHOD = "<method>"  # an EvalCall's target when the call is a method of an object (`model.test()`)


@dataclass
class EvalCall(Call):
    """A call (the shared record, core/calls.py: `name` is the name it calls, `scope` the qual of the enclosing
    function or `module.<module>`) with EVAL's annotations."""

    sets_eval: bool = False  # the enclosing function sets evaluation mode
    grad_off: bool = False  # the call runs with gradients off
    switches: tuple = ()  # Switches of the tests it sits under
    passed: tuple = ()  # ((keyword, literal or "?"), ...)
    evaluates: bool = False  # the caller is evaluation code: named so, or it computes a metric and does not train
    trains: bool = False  # the caller trains (a backward pass or an optimiser step of its own)
    literals: tuple = ()  # literals (or "?") of the positional arguments
    lists: tuple = ()  # ((position or -1, keyword or "", Switch or None), ...): arguments that are a one-element
    # list (`scales = [1]`), made longer only under that switch (`if multiscale: scales = [0.5, 1, 2]`), None: never
    configs: tuple = ()  # ((position or -1, keyword or "", key path), ...): arguments read from a config object
    # (`scales=config.TEST.SCALE_LIST`), whose defining values the project phase reads in the config model
    own_class: str = ""  # `self.test()`/`cls.test()` in a method: the qualified name of the method's class

    @property
    def target(self) -> str:
        """The callee's qualified name, when imports or definitions say (`models.resnet.test`); METHOD for a
        method of an object."""
        return self.callee or (METHOD if self.attribute else "")


@dataclass
class EvalFacts:
    functions: list = field(default_factory=list)  # EvalFunction
    # names of the functions and methods the module defines outside model classes -> does one of them run a model
    # on data; and the names of model classes' methods: `self.run_manager.net_latency()` calls project code
    plain_defs: dict = field(default_factory=dict)  # -> does one run a model on data with gradients on
    model_methods: set = field(default_factory=set)
    toplevel: set = field(default_factory=set)  # quals of the module's top-level functions (no `obj.f()` calls them)
    calls: list = field(default_factory=list)  # EvalCall
    eval_setters: set = field(default_factory=set)  # names of functions that call .eval() / .train(False)
    grad_helpers: set = field(default_factory=set)  # names of functions that turn gradients off (decorators too)
    module_eval: bool = False  # module-level code sets evaluation mode
    module_grad_off: bool = False
    bn: bool = False  # batch-norm or dropout in reach (layers, torchvision/timm models)
    trains: bool = False  # sets training mode or steps an optimiser
    tta: list = field(default_factory=list)  # Site
    ensembles: list = field(default_factory=list)  # Site
    averaged: list = field(default_factory=list)  # Site: averaged weights swapped in around an evaluation
    restorers: set = field(default_factory=set)  # functions that leave the model in training mode (`.train()` last)
    after_helpers: list = field(default_factory=list)  # (Loc, as written, function, helpers called after `.eval()`
    # and before this evaluation forward)
    inline: list = field(default_factory=list)  # (Loc of the forward, as written, where, scope qual) evaluation forwards with
    # gradients on outside an evaluation function: after `.eval()` in a training function, in an evaluation script
    loop_modes: list = field(default_factory=list)  # (Loc of the forward, as written, where): an evaluation loop over
    # held-out data inside a training function that never calls `.eval()`
    roles: dict = field(default_factory=dict)  # qual -> SCORES | PRESENTS | DATA (functions and `<module>` code with
    # either): what the code does with predictions, for `Index.prediction_only`


@lru_cache(maxsize=8192)
def model_name(name: str) -> bool:
    """`model`, `net_g_ema`, `self.backbone`, `netG`: a word of a model, no verb first (`get_model`), no class."""
    if not name or name[:1].isupper():
        return False
    words = name.lower().strip("_").split("_")
    return words[0] not in VERBS and any(w.rstrip("0123456789") in MODEL_WORDS for w in words) \
        and not words[-1].endswith("s") and (len(words) == 1 or words[-1] not in DESCRIBES)  # `nets`: collections


def is_model_call(node: cst.Call, defined: frozenset = frozenset()) -> bool:
    func = node.func
    if isinstance(func, cst.Name):
        return func.value not in defined and model_name(func.value)
    if isinstance(func, cst.Attribute):  # a forward runs on inputs: `model.net_name()` reads the model, runs nothing
        return func.attr.value in FORWARD_METHODS or model_name(func.attr.value) and bool(node.args)
    return False


def _sets_eval(node: cst.Call) -> bool:
    short = callee_name(node.func)
    if short == "eval" and isinstance(node.func, cst.Attribute) and not node.args:
        return True
    if short == "train" and isinstance(node.func, cst.Attribute) and len(node.args) == 1:
        # `model.train(False)`, `model.train(mode)`: a mode; `trainer.train(loader)` trains on data, switches nothing
        value = node.args[0].value
        return const(value) is not True and not DATA_READ.search(dotted(value) or "")
    return _eval_mode_name(short)


@lru_cache(maxsize=4096)
def _eval_mode_name(short: str) -> bool:
    return bool(_EVAL_MODE.match(short))


_EVAL_MODE = re.compile(r"(?i)(?:set_)?eval(?:uation)?_mode$|set_eval$|to_eval$|model_eval$")


def _grad_off_item(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call):
        short = callee_name(expr.func)
        if GRAD_OFF.search(short):
            return True
        if short == "set_grad_enabled":
            return not (expr.args and const(expr.args[0].value) is True)
    return False


class _Function:
    """What one function does, read in one walk of its body (nested definitions included)."""

    def __init__(self, analysis: "ModuleAnalysis", node: cst.FunctionDef, qual: str, cls: str | None) -> None:
        self.a, self.node, self.qual, self.cls = analysis, node, qual, cls
        self.name = node.name.value
        self.params = {p.name.value: (const(p.default) if p.default is not None else "<required>")
                       for p in [*node.params.params, *node.params.kwonly_params]}
        self.decorators = tuple(callee_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                                for d in node.decorators)
        self.model_calls: list[cst.Call] = []
        self.flips: list[cst.CSTNode] = []
        self.combines = False
        self.sets_eval = self.trains = self.needs_grad = self.sets_train = False
        self.grad_off = any(GRAD_OFF.search(d) for d in self.decorators)
        self.volatile = None
        self.metric = False  # a word of a name read or written is a metric's (accuracy, psnr, correct, loss...)
        self.calls: list[tuple[cst.Call, bool, tuple]] = []  # (call, grad off there, switches)
        self.loop_models: list[tuple[cst.CSTNode, cst.CSTNode]] = []  # (iterable, model call) ensembles
        self.scale_loops: list[tuple[cst.CSTNode, cst.Call]] = []
        self.averaged: list[tuple[cst.CSTNode, list]] = []  # (swap node, calls evaluated with averaged weights)
        self.in_eval_mode = False  # a `.eval()` seen before, no `.train()` since (statement order)
        self.eval_mode_calls: list[tuple[cst.Call, bool, Any]] = []  # model calls in evaluation mode, grad off
        # there, the innermost loop around them
        self.loops: list[cst.For] = []
        self.since_eval: list[str] = []  # functions called since the last `.eval()`, before a model call
        self.ema_loads: list[tuple[str, cst.Call]] = []  # `g.load_state_dict(ckpt["g_ema"])`: (receiver, call)
        self.raw_loads = False  # `g.load_state_dict(ckpt["g"])`: the raw weights loaded too
        self.after_helpers: list[tuple[cst.Call, tuple]] = []
        self.scores = self.presents = self.data = False  # a metric or a comparison with targets / a display / a
        # loop over a loader, a dataset, a held-out split or a folder
        self.lists: dict[str, list] = {}  # name -> [(len of a list literal assigned, switches there)]
        self.grown: dict[str, list] = {}  # name -> [switches] where the list is made longer in place (`.extend`)
        self.assigned: dict[str, cst.CSTNode] = {}  # name -> the value of its (last) plain assignment
        self.data_sources: set[int] = set()  # id(call): a model-named call whose result is used as data
        self._data_uses: frozenset | None = None
        self._defs: list[cst.CSTNode] = []  # the nested definitions being read (their scopes)
        self._mutated: dict[int, frozenset] = {}
        self._gates: list[tuple[cst.CSTNode, Switch]] = []  # opt-in `if` tests around the statement being read
        self.flip_gates: dict[int, tuple] = {}  # id(flip or model call) -> the opt-in gates around it
        self._model_uses: frozenset | None = None
        self.block(body_of(node), False, ())

    # statements: track gradient state and switches
    def block(self, stmts, grad_off: bool, switches: tuple) -> None:
        for stmt in stmts:
            self.statement(stmt, grad_off, switches)
            if type(stmt) is cst.SimpleStatementLine and any(type(s) in (cst.Return, cst.Raise) for s in stmt.body):
                break  # what follows a `return` or `raise` in the same block never runs (`def test(self): return`)

    def statement(self, stmt, grad_off: bool, switches: tuple) -> None:
        if isinstance(stmt, cst.With):
            items = [item.item for item in stmt.items]
            off = grad_off or any(_grad_off_item(i) for i in items)
            for item in items:
                self.expression(item, grad_off, switches)
            scope = next((i for i in items if isinstance(i, cst.Call) and callee_name(i.func) in AVERAGED_SCOPES), None)
            start = len(self.calls)
            self.block(body_of(stmt), off, switches)
            if scope is not None:
                self.averaged.append((scope, [c for c, _, _ in self.calls[start:]]))
            return
        if isinstance(stmt, cst.If):
            self.expression(stmt.test, grad_off, switches)
            inner = switches + tuple(s for s in (self.a.switch(stmt.test, f, self.cls, self.params)
                                                 for f in ("ema", "tta", "ensemble")) if s is not None)
            guard = self._guard(stmt.test)
            if guard is not None:
                inner += (guard,)
            before = self.in_eval_mode
            gate = self.a.switches.opt_in(stmt.test, self.cls, self.params)
            if gate is not None:
                self._gates.append((stmt.test, gate))
            self.block(body_of(stmt), grad_off, inner)
            if gate is not None:
                self._gates.pop()
            after_body, self.in_eval_mode = self.in_eval_mode, before
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                self.statement(orelse, grad_off, switches)
            elif orelse is not None:
                self.block(body_of(orelse), grad_off, switches)
            # evaluation mode after the `if` only when every branch leaves it on (a frozen backbone's
            # `model.eval()` in one branch of a linear probe is not the evaluation)
            self.in_eval_mode = after_body and self.in_eval_mode
            return
        if isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For) and _freezes(stmt):
                self.grad_off = True  # `for p in model.parameters(): p.requires_grad = False`: no graph is built
            if not self.data and (isinstance(stmt, cst.For) and self._loops_over_data(stmt.iter) or _reads_data(stmt.body)):
                self.data = True  # over a loader, a dataset, a held-out split or a folder of inputs
            if isinstance(stmt, cst.For):
                self.expression(stmt.iter, grad_off, switches)
                start = len(self.model_calls)
                self.loops.append(stmt)
                self.block(body_of(stmt), grad_off, switches)
                self.loops.pop()
                self._loop(stmt.iter, stmt.target, self.model_calls[start:])
            else:
                self.expression(stmt.test, grad_off, switches)
                self.block(body_of(stmt), grad_off, switches)
            if stmt.orelse is not None:
                self.block(body_of(stmt.orelse), grad_off, switches)
            return
        if isinstance(stmt, cst.Try):
            self.block(body_of(stmt), grad_off, switches)
            for handler in stmt.handlers:
                self.block(body_of(handler), grad_off, switches)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    self.block(body_of(extra), grad_off, switches)
            return
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            # a nested helper (`_transform` of a self-ensemble) or class (a wrapper handed to an attack library):
            # calling it (`sample_generator(n)`, `normalize_model(model)`) runs no model here
            self.a.defined = self.a.defined | {stmt.name.value}
            if isinstance(stmt, cst.FunctionDef):
                # judged where it runs: called only under the enclosing function's `with torch.no_grad():`
                self._defs.append(stmt)
                self.block(body_of(stmt), grad_off or _called_without_grad(self.node, stmt), switches)
                self._defs.pop()
            return
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):  # `with no_grad(): f()` too
            start = len(self.calls)
            for small in stmt.body:
                if isinstance(small, cst.AugAssign) and isinstance(small.operator, (cst.AddAssign, cst.MultiplyAssign)):
                    self.combines = True
                    if type(small.target) is cst.Name:
                        self.grown.setdefault(small.target.value, []).append(switches)
                if type(small) is cst.Assign and type(small.value) is cst.Call and _unpacks_splits(small.targets):
                    self.data_sources.add(id(small.value))  # `train_data, val_data, test_data = data_generator(args)`
                if type(small) is cst.Assign and len(small.targets) == 1 and type(small.targets[0].target) is cst.Name:
                    target = small.targets[0].target.value
                    self.assigned[target] = small.value
                    if type(small.value) is cst.List:
                        self.lists.setdefault(target, []).append((len(small.value.elements), switches))
                if isinstance(small, cst.Assign) and const(small.value) is True and any(
                        isinstance(t.target, cst.Attribute) and t.target.attr.value == "requires_grad" for t in small.targets):
                    self.needs_grad = True  # `adv_input.requires_grad = True`: gradients wanted (an attack, a saliency map)
                if type(small) in (cst.Import, cst.ImportFrom):
                    scores = self.scores
                    self.expression(small, grad_off, switches)
                    self.scores = scores  # `from metrics import accuracy` computes nothing
                    continue
                self.expression(small, grad_off, switches)
            swapped = [c for c, _, _ in self.calls[start:] if callee_name(c.func) in AVERAGED_SWAPS and
                       isinstance(c.func, cst.Attribute) and EMA_WORDS.search(dotted(c.func.value) or "")]
            if swapped:
                self.averaged.append((swapped[0], None))  # the calls after it, filled in by `done`

    def _guard(self, test) -> Switch | None:
        """`if kind == "val":` on a parameter: the calls under it run only when a caller passes that literal
        (`self.loop("train")` does not reach them). Family "guard", read by the project phase's paths."""
        found = _equality(test)
        if found is None:
            return None
        left, right = found
        literal = const(right)
        if type(left) is not cst.Name or literal is None or left.value not in self.params:
            return None
        names = list(self.params)
        if self.cls is not None and names and names[0] in ("self", "cls"):
            names = names[1:]
        index = names.index(left.value) if left.value in names else -1
        return Switch(f"{left.value} == {literal!r}", True, param=left.value, default=(index, literal), family="guard")

    def expression(self, node, grad_off: bool, switches: tuple) -> None:
        # type identity, not isinstance: libcst's node classes are ABCs, and this loop sees every node
        keywords: set[int] = set()  # `model(x, return_loss=False)`: a parameter's name, no value read
        for sub in walk(node):
            kind = type(sub)
            if kind is cst.Call:
                self.call(sub, grad_off, switches)
                keywords.update(id(a.keyword) for a in sub.args if a.keyword is not None)
            elif kind is cst.Name:
                if id(sub) not in keywords and metric_token(sub.value):
                    self.metric = self.scores = True
            elif kind is cst.Comparison:
                if not self.scores and _against_targets(sub):
                    self.scores = True
            elif kind is cst.Subscript:
                if _reverses(sub):
                    self.flips.append(sub)
                    if self._gates:
                        self.flip_gates[id(sub)] = tuple(self._gates)
            elif kind is cst.BinaryOperation:
                if type(sub.operator) in (cst.Add, cst.Divide):
                    self.combines = True
            elif kind is cst.ListComp or kind is cst.GeneratorExp:
                self._comprehension(sub)
            elif kind is cst.Arg:
                if sub.keyword is not None and sub.keyword.value == "volatile" and const(sub.value) is True:
                    self.volatile = sub

    def _data_source(self, node: cst.Call) -> bool:
        """A model-named call whose result is data, by its use, not its name: unpacked into splits (marked at the
        assignment), or bound to a name that a loader receives (`DataLoader(dataset)`, `batchify(corpus.train)`) or
        that is read by split (`data.train`, `data["test"]`). A forward's outputs are none of these."""
        if id(node) in self.data_sources:
            return True
        target = next((name for name, value in self.assigned.items() if value is node), None)
        if target is None:
            return False
        if self._data_uses is None:
            self._data_uses = _data_uses(self.node)
        return target in self._data_uses

    def _loops_over_data(self, iterable: cst.BaseExpression) -> bool:
        """A loop over data (`_data_loop`), also through the name it iterates: `files = glob.glob("test/*.npy")`,
        then `for path in files:`."""
        if _data_loop(iterable):
            return True
        value = self.assigned.get(iterable.value) if type(iterable) is cst.Name else None
        return value is not None and _data_loop(value)

    def _synthetic(self, node: cst.Call) -> bool:
        """`input = torch.rand(input_size); model(input)`: a forward whose every input is made only of random or
        constant tensors (`torch.rand`/`randn`/`zeros`/`ones`, where the value comes from through its
        assignments: core/origins `built_by`) and whose output is thrown away profiles, traces or warms up the
        model; it evaluates nothing. A buffer filled with data (`x[i] = image`, `x.copy_(batch)`) is data; a
        generator's samples from random latents, read afterwards, are its evaluation."""
        args = [a.value for a in node.args if not (type(a.value) is cst.Name and a.value.value in ("True", "False", "None")
                                                   or type(a.value) is cst.SimpleString)]
        if not args or not all(type(a) in (cst.Name, cst.Call) for a in args):
            return False
        from ...core.origins import built_by  # not at import: warm runs unpickle facts

        owner = self._defs[-1] if self._defs else self.node
        scope = self.a.ctx.scope_of(owner)
        if scope is None:
            return False
        made: frozenset = frozenset()
        for arg in args:
            part = built_by(arg, scope, _KEEPS_VALUE, lambda name: name in self._mutated_in(owner))
            if not part or not part <= _WARM_UP:
                return False
            made |= part
        return bool(made) and self._discarded(node, owner)

    def _discarded(self, node: cst.Call, owner: cst.CSTNode) -> bool:
        """The forward's output is thrown away (`model(x)` alone, `_ = model(x)`, a name never read): it serves
        hooks, timing or a trace. A generator's samples from random latents that a metric then reads are kept."""
        parent = self.a.ctx.index.parent(node)
        if type(parent) is cst.Expr:
            return True
        if type(parent) is not cst.Assign or len(parent.targets) != 1 or type(parent.targets[0].target) is not cst.Name:
            return False
        name = parent.targets[0].target.value
        return name == "_" or sum(1 for n in walk(owner) if type(n) is cst.Name and n.value == name) <= 1

    def _mutated_in(self, owner: cst.CSTNode) -> frozenset:
        known = self._mutated.get(id(owner))
        if known is None:
            known = self._mutated[id(owner)] = _mutated_names(owner)
        return known

    def _library_function(self, node: cst.Call) -> bool:
        """`importlib.import_module(name)`: a call the imports resolve to an installed library's function, not a model
        object held in a name (`model(x)`, `self.net(x)`, which no import qualifies)."""
        if type(node.func) is not cst.Attribute:
            return False
        ctx = self.a.ctx
        callee = ctx.names.callee(node)
        return bool(callee) and not ctx.is_project_name(callee)

    def _handles_model(self, node: cst.Call) -> bool:
        """A model-named call that builds or handles a model rather than running one on data, by its use: its result
        is used as a model (`net = net_factory(num_classes=10); net.load_state_dict(...)`), or it is handed the model
        itself (`ema_helper.ema(model)` copies averaged weights into it). A forward takes data and returns outputs."""
        if self._model_uses is None:
            self._model_uses = _model_uses(self.node)
        if not self._model_uses:
            return False
        if any(type(a.value) is cst.Name and a.value.value in self._model_uses for a in node.args):
            return True
        target = next((name for name, value in self.assigned.items() if _unchained(value) is node), None)
        return target is not None and target in self._model_uses

    def call(self, node: cst.Call, grad_off: bool, switches: tuple) -> None:
        short = callee_name(node.func)
        self.calls.append((node, grad_off, switches))
        if is_model_call(node, self.a.defined) and not self._own_method(node) and not self._data_source(node) and \
                not self._library_function(node) and not self._synthetic(node) and not self._handles_model(node):
            self.model_calls.append(node)
            if self._gates:
                self.flip_gates[id(node)] = tuple(self._gates)
            if self.in_eval_mode:
                self.eval_mode_calls.append((node, grad_off or self.grad_off, self.loops[-1] if self.loops else None))
                if self.since_eval and not self.after_helpers:
                    self.after_helpers.append((node, tuple(self.since_eval)))
        elif self.in_eval_mode and short and isinstance(node.func, cst.Name) and len(self.since_eval) < 8:
            self.since_eval.append(short)
        if short in FLIP_CALLS:  # a transpose of the last axes alone is attention's `k.transpose(-2, -1)`
            self.flips.append(node)
            if self._gates:
                self.flip_gates[id(node)] = tuple(self._gates)
        if short in COMBINE_CALLS:
            self.combines = True
        if short in ("extend", "append", "insert") and type(node.func) is cst.Attribute and \
                type(node.func.value) is cst.Name:
            self.grown.setdefault(node.func.value.value, []).append(switches)
        if not self.presents and PRESENT_CALL.search(short):
            self.presents = True
        if not self.scores and short and _METRIC_CALL.search(short):
            self.scores = True  # `evaluate_detections(all_boxes, ...)`: the metric computed by a callee
        if not self.scores and short == "eq" and any(TARGET_WORDS.search(n.value) for a in node.args
                                                      for n in walk(a.value) if type(n) is cst.Name):
            self.scores = True  # `pred.eq(target)`
        if _sets_eval(node):
            self.sets_eval = self.in_eval_mode = True
            self.since_eval = []
        if short == "load_state_dict" and type(node.func) is cst.Attribute and node.args:
            key = _checkpoint_key(node.args[0].value)
            if key is not None:
                if EMA_WORDS.search(key):
                    self.ema_loads.append((dotted(node.func.value) or "", node))
                else:
                    self.raw_loads = True
        if short in ("backward", "manual_backward") or short == "step" and re.search(
                r"(?i)optim|opt\b|scaler", dotted(node.func) or ""):
            self.trains = True
        if short == "train" and not node.args or short == "train" and const(node.args[0].value) is True:
            self.sets_train = True
            self.in_eval_mode = False
        if short in ("grad", "enable_grad", "requires_grad_") or short == "set_grad_enabled" and \
                node.args and const(node.args[0].value) is True:
            self.needs_grad = True
        if short == "set_grad_enabled" and node.args and const(node.args[0].value) is False:
            self.grad_off = True

    def _own_method(self, node: cst.Call) -> bool:
        """`self.inference(...)` where `inference` is a method of this class that is not a model's: a helper whose
        own body runs the model (judged there, and in this function's context by `_helper_forwards`)."""
        func = node.func
        if self.cls is None or type(func) is not cst.Attribute or type(func.value) is not cst.Name \
                or func.value.value != "self" or func.attr.value == "forward":
            return False
        return func.attr.value in self.a.methods.get(self.cls, ()) and self.cls not in self.a.model_like

    def _comprehension(self, node) -> None:
        clause = node.for_in
        element = node.elt
        for sub in walk(element):
            if isinstance(sub, cst.Call) and isinstance(sub.func, cst.Name) and isinstance(clause.target, cst.Name) \
                    and sub.func.value == clause.target.value:
                self._loop(clause.iter, clause.target, [sub])
            elif isinstance(sub, cst.Call) and is_model_call(sub, self.a.defined):
                self._loop(clause.iter, clause.target, [sub])

    def _loop(self, iterable, target, calls: list) -> None:
        """A loop whose body calls the loop variable (a model of an ensemble), or a model over scales/flips."""
        text = dotted(iterable) or (dotted(iterable.func) if isinstance(iterable, cst.Call) else "") or ""
        if isinstance(iterable, cst.Call) and callee_name(iterable.func) in ("zip", "enumerate") and iterable.args:
            text = " ".join(dotted(a.value) or "" for a in iterable.args)
        names = {n.value for n in walk(target) if isinstance(n, cst.Name)}
        for call in calls:
            if isinstance(call.func, cst.Name) and call.func.value in names and ENSEMBLE_ITER.search(text):
                self.loop_models.append((iterable, call))
            elif SCALE_ITER.search(text) and is_model_call(call, self.a.defined):
                self.scale_loops.append((iterable, call))


def _called_without_grad(owner: cst.FunctionDef, nested: cst.FunctionDef) -> bool:
    """Is a function defined inside `owner` called there by its name, and only inside `with torch.no_grad():`
    (or `inference_mode`) blocks? Its forward then runs without gradients, wherever it is written."""
    name = nested.name.value
    calls = 0
    stack: list = [(s, False) for s in body_of(owner)]
    while stack:
        node, off = stack.pop()
        if type(node) is cst.With:
            off = off or any(_grad_off_item(item.item) for item in node.items)
        elif node is nested:
            continue
        if type(node) is cst.Call and type(node.func) is cst.Name and node.func.value == name:
            if not off:
                return False
            calls += 1
        elif type(node) is cst.Name and node.value == name and not off:
            return False  # passed on or stored (`pool.map(eval_batch, ...)`): it may run anywhere
        stack.extend((child, off) for child in children(node))
    return calls > 0


def _placed_args(call: cst.Call):
    """Each argument before the first `*`/`**` with its place: (position, "") or (-1, keyword)."""
    position = 0
    for arg in call.args:
        if arg.star:
            return
        if arg.keyword is not None:
            yield (-1, arg.keyword.value), arg
        else:
            yield (position, ""), arg
            position += 1


def _config_args(call: cst.Call) -> tuple:
    """The arguments read from a config object (`scales=config.TEST.SCALE_LIST`, `cfg["flip"]`): (position,
    keyword, key path below the object); `self.x` and bare names are not config reads."""
    out = []
    for key, arg in _placed_args(call):
        if type(arg.value) in (cst.Attribute, cst.Subscript):
            read = key_path(arg.value)
            if read is not None and read[0] != "self":
                out.append((*key, read[1]))
    return tuple(out)


def _single_lists(f: "_Function", call: cst.Call) -> tuple:
    """The arguments of the call that are one-element lists (`[1]`, or a name assigned `[1]`), made longer only
    under a test-time augmentation switch (`if multiscale: scales = [0.5, 1.0, 1.5]`): (position, keyword, the
    switch or None when never longer)."""
    out = []
    for key, arg in _placed_args(call):
        value = arg.value
        if type(value) is cst.List:
            if len(value.elements) == 1:
                out.append((*key, None))
            continue
        if type(value) is not cst.Name or value.value not in f.lists:
            continue
        assigned = f.lists[value.value]
        switch = None
        for length, switches in assigned:
            tta = [s for s in switches if s.family == "tta"]
            if length > 1 and not tta:
                break
            if length > 1:
                switch = tta[-1]
        else:
            if any(length == 1 and not any(s.family == "tta" for s in switches) for length, switches in assigned):
                out.append((*key, switch))
    return tuple(out)


def _list_param(f: "_Function", iterable: cst.CSTNode) -> tuple:
    """(parameter, position) when the loop runs over a list parameter (`for s in scales`), directly or through one
    assignment (`ratios = [s * h for s in scales]`): its callers choose how many scales there are."""
    if type(iterable) is not cst.Name:
        return ()
    names = [iterable.value]
    if iterable.value not in f.params and iterable.value in f.assigned:
        value = f.assigned[iterable.value]
        looped = [n.iter for n in walk(value) if type(n) is cst.CompFor] or [value]
        names = [n.value for it in looped for n in walk(it) if type(n) is cst.Name and n.value in f.params]
    for name in names:
        if name in f.params:
            params = list(f.params)
            if f.cls is not None and params and params[0] in ("self", "cls"):
                params = params[1:]
            return (name, params.index(name) if name in params else -1)
    return ()


def _local_list_switch(f: "_Function", iterable: cst.CSTNode) -> Switch | None:
    """`scales = [args.default_scale]; if args.multi_scale_inference: scales.extend(...)`, `flips = [1, 0] if
    --do_flip else [0]`: a loop over a list the function builds with one element, made longer (assigned a longer
    list, `.extend`/`.append`/`+=`) only under a test-time augmentation switch: that switch (judged as any other)
    decides whether the loop augments; a list never made longer runs once."""
    if type(iterable) is not cst.Name or iterable.value in f.params or iterable.value not in f.lists:
        return None
    name = iterable.value
    assigned = f.lists[name]
    for node in walk(f.node):  # bound to anything but a list literal (`scales = cfg.SCALES`): not decided here
        if type(node) is cst.Assign and type(node.value) is not cst.List and any(
                type(t.target) is not cst.Name or t.target.value == name for t in node.targets
                if name in {n.value for n in walk(t.target) if type(n) is cst.Name}):
            return None
    if not any(length == 1 and not any(s.family == "tta" for s in switches) for length, switches in assigned):
        return None
    found = None
    for length, switches in [*assigned, *((2, switches) for switches in f.grown.get(name, ()))]:
        if length <= 1:
            continue
        tta = [s for s in switches if s.family == "tta"]
        if not tta:
            return None  # made longer where nothing switches it
        found = found or tta[-1]
    return found or Switch(f"{name} = [one]", True, family="tta")


def _config_list(f: "_Function", iterable: cst.CSTNode) -> str:
    """The key path when the loop runs over a list read from a config object in the function itself (`for s in
    cfg.TEST.SCALES`, or `scales = cfg.TEST.SCALES; for s in scales`): where the project defines that key decides
    whether the loop is switched (`Index.config_off`), as for a caller that passes it (`_config_args`)."""
    if type(iterable) is cst.Name and iterable.value not in f.params:
        iterable = f.assigned.get(iterable.value)
    if type(iterable) not in (cst.Attribute, cst.Subscript):
        return ""
    read = key_path(iterable)
    return read[1] if read is not None and read[0] != "self" and read[1] else ""


def _data_loop(iterable: cst.BaseExpression) -> bool:
    """`enumerate(test_loader)`, `tqdm(dataset)`, `os.listdir(input_dir)`, `X_test`: a loop over data to score or
    to write out for scoring, not over the frames of a video or the images a demo was given."""
    for n in walk(iterable):
        if type(n) is cst.Name and DATA_LOOP.search(n.value):
            return True
    return False


def _reads_data(body: cst.CSTNode) -> bool:
    """A loop whose body reads a dataset or a held-out split by name (`img = testset.pull_image(i)`), not an
    attribute that merely names one (`cfg.DATASET.COLOR_RGB`)."""
    attrs = set()
    for n in walk(body):
        kind = type(n)
        if kind is cst.Attribute:
            attrs.add(id(n.attr))
        elif kind is cst.Name and id(n) not in attrs and DATA_READ.search(n.value):
            return True
    return False


def _against_targets(node: cst.Comparison) -> bool:
    """`pred == labels`, `out.argmax(1) != target`: predictions compared with targets."""
    if not any(type(c.operator) in (cst.Equal, cst.NotEqual) for c in node.comparisons):
        return False
    return any(type(n) is cst.Name and TARGET_WORDS.search(n.value) for n in walk(node))


def _wants_grad(node: cst.CSTNode) -> bool:
    """Code that asks for gradients on purpose: `x.requires_grad = True`, `x.requires_grad_()`, `torch.autograd.grad`."""
    for n in walk(node):
        kind = type(n)
        if kind is cst.Call and callee_name(n.func) in ("requires_grad_", "grad", "enable_grad"):
            return True
        if kind is cst.Assign and const(n.value) is True and any(
                isinstance(t.target, cst.Attribute) and t.target.attr.value == "requires_grad" for t in n.targets):
            return True
    return False


def _reverses(node: cst.Subscript) -> bool:
    """`x[..., ::-1]` on a tensor (not `[::-1]` of a list: more than one index). `img[:, :, ::-1]` reverses
    the last axis of an HWC image: a channel swap (BGR to RGB), not a flip."""
    if len(node.slice) < 2:
        return False
    if len(node.slice) == 3 and all(_full(e.slice) for e in node.slice[:2]) and _reversed(node.slice[2].slice):
        return False
    for element in node.slice:
        s = element.slice
        if isinstance(s, cst.Slice) and isinstance(s.step, cst.UnaryOperation) and s.lower is None and s.upper is None:
            return True
    return False


def _loops_over_model(f: _Function) -> bool:
    """A `for`/`while` loop that runs the model: over a dataset, not one input shown to the user."""
    calls = {id(c) for c in f.model_calls}
    return any(type(n) in (cst.For, cst.While) and any(id(m) in calls for m in walk(n.body)) for n in walk(f.node))


def _per_model(f: "_Function", iterable: cst.CSTNode) -> bool:
    """`for k, model in enumerate(models): ... corrects[k] += ...`: each model's score runs under its own index, so the
    loop scores the models one by one; an ensemble combines their outputs into one prediction."""
    loop = next((n for n in walk(f.node) if type(n) is cst.For and n.iter is iterable), None)
    if loop is None or type(loop.target) is not cst.Tuple or not loop.target.elements:
        return False
    index = loop.target.elements[0].value
    if type(index) is not cst.Name:
        return False
    for node in walk(loop.body):  # a running score per model (`corrects[k] += ...`), not an output stored by index
        # (`outputs[k] = model(x)`, averaged after the loop: an ensemble)
        targets = [node.target] if type(node) is cst.AugAssign else []
        for target in targets:
            if type(target) is cst.Subscript and any(
                    type(e.slice) is cst.Index and type(e.slice.value) is cst.Name and e.slice.value.value == index.value
                    for e in target.slice):
                return True
    return False


def _full(s) -> bool:
    return type(s) is cst.Slice and s.lower is None and s.upper is None and s.step is None


def _reversed(s) -> bool:
    return type(s) is cst.Slice and isinstance(s.step, cst.UnaryOperation) and s.lower is None and s.upper is None


def _freezes(loop: cst.For) -> bool:
    """`for k, v in model.named_parameters(): v.requires_grad = False` (every parameter frozen)."""
    if not (isinstance(loop.iter, cst.Call) and callee_name(loop.iter.func) in ("parameters", "named_parameters")):
        return False
    body = body_of(loop)
    return len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) and any(
        isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Attribute)
        and small.targets[0].target.attr.value == "requires_grad" and const(small.value) is False
        for small in body[0].body)


def _unit_test(node: cst.FunctionDef) -> bool:
    found_loop = False
    for sub in walk(node):
        kind = type(sub)
        if kind is cst.Assert or kind is cst.Name and "mock" in sub.value.lower():
            return True
        found_loop = found_loop or kind is cst.For
    return not found_loop


class ModuleAnalysis:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.switches = Switches(ctx.module, ctx.names)
        self.facts = EvalFacts(bn=bool(BN_EVIDENCE.search(ctx.text)))
        self.eval_calls: dict[int, str] = {}  # id(model call in evaluation code) -> as written (EVAL001's sinks)
        names = ctx.names  # functions and classes, not models: `reparameterize_model(...)`, `list_models()`
        self.defined = frozenset(names.imported) | frozenset(names.functions) | frozenset(names.classes)
        self.model_classes: set[str] = set()  # classes of models (their `inference()` is not an evaluation)
        self.grad_text = bool(GRAD_OFF.search(ctx.text))
        self.torch = "torch" in ctx.text  # eval mode and no_grad are PyTorch's (a Keras `model(x)` is not)
        self.lite: list = []  # (call, as written, Function facts' qual, params): sinks on parameters
        self.forward_helpers: dict[str, _Function] = {}  # functions that run a model and are not evaluations
        self.pending: list[_Function] = []  # evaluations whose forward passes are in a helper
        self.recorded: list[_Function] = []  # every function read, and the module's own code
        self.methods: dict[str, set[str]] = {}  # class path -> its methods' names
        self.framework_classes: set[str] = set()  # classes built on a framework's trainer or module
        self.model_like: set[str] = set()  # classes of models (as in definition(), known before any function is read)
        self._classes(ctx.module.body, "")

    def _classes(self, body, prefix: str) -> None:
        for stmt in body:
            if isinstance(stmt, cst.ClassDef):
                path = f"{prefix}{stmt.name.value}"
                inner = body_of(stmt)
                self.methods[path] = {m.name.value for m in inner if isinstance(m, cst.FunctionDef)}
                if any(_FRAMEWORK_BASE.search(dotted(b.value) or "") for b in stmt.bases):
                    self.framework_classes.add(path)
                if "forward" in self.methods[path] or any(
                        re.search(r"Module|Net|Model|Arch|RCNN|Detector", dotted(b.value) or "") for b in stmt.bases):
                    self.model_like.add(path)
                self._classes(inner, path + ".")

    def switch(self, test, family: str, cls: str | None, params: dict) -> Switch | None:
        return self.switches.judge(test, family, cls, params)

    def run(self) -> EvalFacts:
        module = self.ctx.module
        top = _Function.__new__(_Function)  # module-level statements, as one function
        top.a, top.node, top.qual, top.cls, top.name, top.params, top.decorators = \
            self, module, f"{self.ctx.names.module_name}.<module>", None, "<module>", {}, ()
        top.model_calls, top.flips, top.calls, top.loop_models, top.scale_loops, top.averaged = [], [], [], [], [], []
        top.combines = top.sets_eval = top.trains = top.needs_grad = top.sets_train = top.grad_off = False
        top.volatile, top.metric = None, False
        top.in_eval_mode, top.eval_mode_calls, top.since_eval, top.after_helpers, top.loops = False, [], [], [], []
        top.ema_loads, top.raw_loads = [], False
        top.scores = top.presents = top.data = False
        top.lists, top.assigned, top.grown = {}, {}, {}
        top.data_sources, top._data_uses = set(), None
        top._defs, top._mutated, top._gates, top.flip_gates = [], {}, [], {}
        body = [s for s in module.body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))]
        top._model_uses = frozenset().union(*(_model_uses(s) for s in body))
        top.block(body, False, ())
        self.facts.module_eval, self.facts.module_grad_off = top.sets_eval, top.grad_off
        self.record(top)
        self._script(top)
        for stmt in module.body:
            self.definition(stmt, "", None)
        self._helper_forwards()
        self._helper_tta()
        return self.facts

    def _helper_forwards(self) -> None:
        """Evaluation functions whose forward passes are in a helper of the module (`self._process_one_batch(...)`,
        `self.model_step(batch)`): the helper's model calls are the evaluation's, judged in the evaluation's
        context (its `.eval()`, its `no_grad` around the call)."""
        loc = self.ctx.loc
        for f in self.pending:
            calls = [(c, off) for c, off, _ in f.calls if callee_name(c.func) in self.forward_helpers and
                     (type(c.func) is cst.Name or dotted(c.func.value) in ("self", "cls"))]
            if not calls:
                continue
            helpers = [self.forward_helpers[callee_name(c.func)] for c, _ in calls]
            helper = helpers[0]
            loops = any(isinstance(n, (cst.For, cst.While, cst.ListComp, cst.GeneratorExp)) for n in walk(f.node))
            if not (f.metric or loops):
                continue
            grad_off = f.grad_off or all(off for _, off in calls) or all(h.grad_off for h in helpers)
            self.facts.functions.append(EvalFunction(
                f.qual, f.name, loc(f.node.name), loc(calls[0][0]),
                f"{_callee_text(helper.model_calls[0])}` in `{helper.name}()", f.sets_eval or helper.sets_eval,
                grad_off, f.needs_grad or helper.needs_grad, loc(f.volatile) if f.volatile is not None else None,
                f.decorators, tuple(sorted({callee_name(c.func) for c, _, _ in f.calls} - {""}))))

    def _own_class(self, f: _Function, call: cst.Call) -> str:
        func = call.func
        if f.cls is None or type(func) is not cst.Attribute or type(func.value) is not cst.Name or \
                func.value.value not in ("self", "cls"):
            return ""
        return f"{self.ctx.names.module_name}.{f.cls}"

    def _helper_tta(self) -> None:
        """Test-time augmentation spread over the module's functions: a function flips its input and runs a forward
        helper on it (`flip_test(net, image)`: `detect_face(net, cv2.flip(image, 1))`), and code that does not
        train runs the helper on the plain input too and combines both results (`np.row_stack((det0, det1))`)."""
        helpers = self.forward_helpers
        if not helpers:
            return
        flippers = {}
        for g in self.recorded:
            if g.name == "<module>" or g.trains or g.cls is not None or g.name in helpers:
                continue
            flips = [n for n in g.flips if not self._padding(g, n)]
            if flips and any(type(c.func) is cst.Name and c.func.value in helpers for c, _, _ in g.calls):
                flippers.setdefault(g.name, (g, flips[0]))
        if not flippers:
            return
        for f in self.recorded:
            if f.trains or f.name in flippers or f.name in helpers:
                continue
            named = [c for c, _, _ in f.calls if type(c.func) is cst.Name]
            flipped = [c for c in named if c.func.value in flippers]
            plain = [c for c in named if c.func.value in helpers]
            pair = next(((a, b) for b in flipped for a in plain if self._combined(f, a, b)), None)
            if pair is None:
                continue
            plain_call, call = pair
            g, flip = flippers[call.func.value]
            where = "the module's code" if f.name == "<module>" else f"`{f.name}()`"
            what = (f"`{plain_call.func.value}()` outputs combined with those of `{g.name}()`, which runs it on a "
                    f"flipped input, in {where}")
            site = self._site(f, call, what, [(flip, f"the flip of the input in `{g.name}()`")], "tta")
            self.facts.tta.append(site)

    def _combined(self, f: _Function, a: cst.Call, b: cst.Call) -> bool:
        """Do the results of both calls meet in one combination: a stacking, concatenating or averaging call, or a
        sum, given the calls or the names their results were assigned to?"""
        held = {name: value for name, value in f.assigned.items() if value is a or value is b}
        for node in walk(f.node):
            kind = type(node)
            if kind is cst.Call and callee_name(node.func) in STACK_CALLS or \
                    kind is cst.BinaryOperation and type(node.operator) is cst.Add:
                met = {id(x) for x in walk(node) if x is a or x is b} | \
                    {id(held[x.value]) for x in walk(node) if type(x) is cst.Name and x.value in held}
                if met == {id(a), id(b)}:
                    return True
        return False

    def definition(self, stmt, prefix: str, cls: str | None) -> None:
        if isinstance(stmt, cst.ClassDef):
            path = f"{prefix}{stmt.name.value}"
            if any(re.search(r"Module|Net|Model|Arch|RCNN|Detector", dotted(b.value) or "") for b in stmt.bases) or \
                    any(isinstance(m, cst.FunctionDef) and m.name.value == "forward" for m in body_of(stmt)):
                self.model_classes.add(path)
            for inner in body_of(stmt):
                self.definition(inner, path + ".", path)
        elif isinstance(stmt, cst.FunctionDef):
            qual = f"{self.ctx.names.module_name}.{prefix}{stmt.name.value}"
            if cls is None:
                self.facts.toplevel.add(qual)
            self.record(_Function(self, stmt, qual, cls))

    def record(self, f: _Function) -> None:
        facts, loc = self.facts, self.ctx.loc
        self.recorded.append(f)
        if f.name != "<module>":
            if f.cls is not None and f.cls in self.model_classes:
                facts.model_methods.add(f.name)
            else:
                forwards = {id(c) for c in f.model_calls}
                runs = f.model_calls and not f.trains and not f.grad_off and \
                    any(not off for c, off, _ in f.calls if id(c) in forwards)
                facts.plain_defs[f.name] = facts.plain_defs.get(f.name, False) or bool(runs)
        facts.trains |= f.trains or f.sets_train
        if f.sets_eval:
            facts.eval_setters.add(f.name)
            if f.name == "__init__" and f.cls:
                facts.eval_setters.add(f.cls.rsplit(".", 1)[-1])
        if f.grad_off and f.name != "<module>":
            facts.grad_helpers.add(f.name)
        if f.name != "<module>" and self.grad_text and any(type(st) is cst.FunctionDef for st in body_of(f.node)) \
                and GRAD_OFF.search(self._text_of_returns(f)):
            facts.grad_helpers.add(f.name)  # a project decorator such as smart_inference_mode()
        evaluates = self._evaluation_code(f)
        keeps = _keeps(f.node) if f.presents or f.sets_eval else False  # read by the roles and by `reported` below
        role = (SCORES if f.scores else 0) | (PRESENTS if f.presents else 0) | (DATA if f.data or f.trains else 0) | \
            (KEEPS if f.presents and keeps else 0)
        if role:
            facts.roles[f.qual] = role
        for call, off, switches in f.calls:
            short = callee_name(call.func)
            if not short or short in ("print", "len", "range"):
                continue
            if short in ("train", "eval") and type(call.func) is cst.Attribute and len(call.args) <= 1 and \
                    (not call.args or const(call.args[0].value) in (True, False)):
                continue  # `model.train()`, `self.model.eval()`: a mode switch, not a call of a project `train()`
            keywords = tuple((a.keyword.value, _literal(a.value)) for a in call.args if a.keyword is not None)
            positional = []
            for a in call.args:
                if a.keyword is not None or a.star:
                    break
                positional.append(_literal(a.value))
            facts.calls.append(self.ctx.calls.of(call, f.qual, EvalCall, located=False, sets_eval=f.sets_eval,
                                                 grad_off=off or f.grad_off, switches=switches, passed=keywords,
                                                 evaluates=evaluates, trains=f.trains, literals=tuple(positional),
                                                 lists=_single_lists(f, call), configs=_config_args(call),
                                                 own_class=self._own_class(f, call)))
        if f.ema_loads and not f.raw_loads and not f.trains and self.torch:
            self._loaded_averaged(f)
        evaluates = not f.trains and f.model_calls
        lightning = f.cls is not None and f.name in LIGHTNING_EVAL and (
            f.name not in FRAMEWORK_METHODS or f.cls in self.framework_classes)
        if evaluates:
            named = lightning or self.evaluation_name(f)
            helper = AUXILIARY.search(f.name)
            for call, off, _ in f.calls:
                if is_model_call(call, self.defined) and (named or (off or f.grad_off) and not helper and f.metric):
                    self.eval_calls[id(call)] = _callee_text(call)
                    if f.name != "<module>":
                        self.lite.append((call, _callee_text(call), f.qual, f.node.params, f.cls))
        if f.trains and not f.sets_eval and self.torch:
            self._held_out_loops(f)
        if f.name == "<module>":
            return
        iterates = f.metric or any(isinstance(n, (cst.For, cst.While, cst.ListComp, cst.GeneratorExp))
                                   for n in walk(f.node)) if evaluates else False
        if f.trains and f.eval_mode_calls and self.torch:
            self._in_training(f)
        if f.sets_train and not f.in_eval_mode and f.model_calls and f.name != "<module>":
            facts.restorers.add(f.name)  # an attack or helper that runs the model and ends with `.train()`
        if f.after_helpers and not f.trains and self.torch:
            call, helpers = f.after_helpers[0]
            facts.after_helpers.append((self.ctx.loc(call), _callee_text(call), f.name, helpers))
        reported = evaluates and iterates and not lightning and f.cls not in self.model_classes and self.torch and \
            (self.evaluation_name(f) or f.sets_eval and not f.sets_train and not AUXILIARY.search(f.name)
             and (f.metric or _loops_over_model(f) and keeps))  # a pass over data whose outputs are
        # scored here or handed on: a t-SNE of embeddings written to TensorBoard computes and returns nothing
        if f.model_calls and not f.trains and not reported and not self.evaluation_name(f) and \
                f.cls not in self.model_classes and f.name not in LIGHTNING_EVAL and f.name not in FORWARD_METHODS:
            self.forward_helpers.setdefault(f.name, f)
        elif not f.model_calls and not f.trains and not lightning and self.evaluation_name(f) and self.torch and \
                f.cls not in self.model_classes:
            self.pending.append(f)
        if reported:
            forwards = {id(c) for c in f.model_calls}
            # the forward named in the message: the first one with gradients on, when others run under `no_grad`
            first = next((c for c, off, _ in f.calls if id(c) in forwards and not off), f.model_calls[0])
            facts.functions.append(EvalFunction(
                f.qual, f.name, loc(f.node.name), loc(first), _callee_text(first), f.sets_eval,
                f.grad_off or all(off for c, off, _ in f.calls if id(c) in forwards),
                f.needs_grad, loc(f.volatile) if f.volatile is not None else None, f.decorators,
                tuple(sorted({callee_name(c.func) for c, _, _ in f.calls} - {""})),
                not self.evaluation_name(f) and not f.metric,
                tuple(c.func.attr.value for c in f.model_calls)
                if all(type(c.func) is cst.Attribute for c in f.model_calls) else ()))
        self._averaged(f)  # swapped in around an evaluation, even inside a training function
        if f.trains:
            return
        self._tta(f)
        self._ensembles(f)

    def _loaded_averaged(self, f: _Function) -> None:
        """`g.load_state_dict(ckpt["g_ema"])` and then a metric computed on `g` (FID, accuracy), with no raw
        weights loaded beside them: the metric is the averaged model's only. Samples rendered from the EMA
        weights, with no metric, stay silent."""
        if not any(_METRIC_CALL.search(callee_name(c.func)) for c, _, _ in f.calls):
            return
        for receiver, load in f.ema_loads:
            if not receiver:
                continue
            root = receiver.split(".")[0]
            after = False
            for call, _, _ in f.calls:
                if call is load:
                    after = True
                    continue
                if not after or callee_name(call.func) in _WRAPPERS or callee_name(call.func) == "load_state_dict":
                    continue
                if any(dotted(a.value) in (receiver, root) for a in call.args):
                    key = _checkpoint_key(load.args[0].value)
                    site = Site(self.ctx.loc(call), f"`{_callee_text(call)}()` receives `{receiver}`, which holds the "
                                f"averaged weights `{key}` of the checkpoint", [(self.ctx.loc(load), "averaged weights loaded here")],
                                f.qual, f.name, None)
                    self.facts.averaged.append(site)
                    return

    def _in_training(self, f: _Function) -> None:
        """Validation inside a training function: model calls after `model.eval()` (before `model.train()`),
        where the function reads held-out data (`valid_loader`, `loss_val`), with gradients on."""
        if not any(type(n) is cst.Name and _HELD_OUT.search(n.value) for n in walk(f.node)):
            return
        for call, off, loop in f.eval_mode_calls:
            if loop is not None and any(type(n) is cst.Call and callee_name(n.func) in ("backward", "step")
                                        for n in walk(loop)):
                continue  # a training forward with a frozen (eval-mode) part
            if loop is not None and _wants_grad(loop):
                continue  # robust evaluation: `adv_input.requires_grad = True`, gradients wanted on purpose
            if not off and not _warm_up(call):
                self.facts.inline.append((self.ctx.loc(call), _callee_text(call),
                                          f"after `.eval()` in the training function `{f.name}()`", f.qual))
                return

    def _held_out_loops(self, f: _Function) -> None:
        """Evaluation written inside a training function (or script) that never sets `.eval()`: a loop over
        held-out data (`test_loader`) that runs the model and adds up a metric, and trains nothing."""
        grad = {id(call): off for call, off, _ in f.calls}
        forwards = {id(c) for c in f.model_calls}
        for loop in walk(f.node):
            if type(loop) is not cst.For or not any(type(n) is cst.Name and _HELD_OUT.search(n.value)
                                                    for n in walk(loop.iter)):
                continue
            calls = [n for n in walk(loop.body) if type(n) is cst.Call]
            if any(callee_name(n.func) in ("backward", "step", "zero_grad", "eval", "train") for n in calls) or \
                    not any(type(n) is cst.AugAssign for n in walk(loop.body)):
                continue
            model = next((n for n in calls if id(n) in forwards and not _warm_up(n)), None)
            if model is None:
                continue
            iterable = next(n.value for n in walk(loop.iter) if type(n) is cst.Name and _HELD_OUT.search(n.value))
            where = f"the training function `{f.name}()`" if f.name != "<module>" else "the training script"
            self.facts.loop_modes.append((self.ctx.loc(model), _callee_text(model), f"on `{iterable}` inside {where}",
                                          bool(grad.get(id(model)) or f.grad_off)))
            return

    def _script(self, top: _Function) -> None:
        """An evaluation script (eval.py, test.py) whose module-level code runs the model with gradients on."""
        module = self.ctx.names.module_name.rsplit(".", 1)[-1]
        if not self.torch or top.trains or top.grad_off or not EVAL_NAME.match(module) or self.ctx.is_test:
            return
        forwards = {id(c) for c in top.model_calls}
        for call, off, _ in top.calls:
            if not off and id(call) in forwards and not _warm_up(call) and isinstance(call.func, cst.Name):
                self.facts.inline.append((self.ctx.loc(call), _callee_text(call),
                                          f"in the evaluation script `{module}.py`", top.qual))
                return

    def _evaluation_code(self, f: _Function) -> bool:
        """Code that computes or reports a metric: an evaluation function or script, or code that calls a metric
        (or, in a function, reads a metric-named value) and does not train. A module's top-level names (a
        `__main__` demo's `decode_segmap`) are too loose to count alone."""
        if self.evaluation_name(f) or f.name in LIGHTNING_EVAL:
            return True
        if f.name == "<module>" and evaluation_script(self.ctx.names.module_name, self.ctx.text):
            return True
        if f.trains:
            return False
        return f.metric and f.name != "<module>" or bool(_METRIC_CALL.search(f.name)) or \
            any(_METRIC_CALL.search(callee_name(c.func)) for c, _, _ in f.calls)

    def evaluation_name(self, f: _Function) -> bool:
        """evaluate/validate/test..., or `run`/`main` of a module named so (yolov5's val.py: `run`)."""
        if f.name.startswith("test_"):  # a unit test's name too: only code that scores (a metric, a comparison
            # with targets, a metric function such as `evaluate_detections(all_boxes)`), no asserts
            return not self.ctx.is_test and (f.metric or f.scores) and not _unit_test(f.node)
        if EVAL_NAME.match(f.name):
            return True
        module = self.ctx.names.module_name.rsplit(".", 1)[-1]
        return f.name in ("run", "main") and f.cls is None and bool(EVAL_NAME.match(module))

    def _text_of_returns(self, f: _Function) -> str:
        """What a decorator factory returns (`return (torch.inference_mode if ... else torch.no_grad)()(fn)`)."""
        out = []
        for node in walk(f.node):
            if isinstance(node, cst.Return) and node.value is not None:
                out.extend(n.value for n in walk(node.value) if isinstance(n, (cst.Name, cst.Attribute)) and
                           isinstance(n, cst.Name))
                out.extend(n.attr.value for n in walk(node.value) if isinstance(n, cst.Attribute))
        return " ".join(out)

    def _switch_of(self, f: _Function, node: cst.CSTNode, family: str) -> Switch | None:
        for call, _, switches in f.calls:
            if call is node:
                found = [s for s in switches if s.family == family]
                return found[-1] if found else None
        return None

    def _site(self, f: _Function, node, what: str, related: list, family: str) -> Site:
        loc = self.ctx.loc
        return Site(loc(node), what, [(loc(n), m) for n, m in related], f.qual, f.name,
                    self._switch_of(f, node, family), evaluates=self.evaluation_name(f) or f.name in LIGHTNING_EVAL)

    def _tta(self, f: _Function) -> None:
        if not (f.flips or f.scale_loops) or not f.combines:
            return
        flips = [n for n in f.flips if not self._padding(f, n)]
        if flips and f.model_calls and f.combines and (len(f.model_calls) >= 2 or self._in_loop(f)):
            flip = flips[0]
            target = next((c for c in f.model_calls if any(x is flip for x in walk(c))), None) or \
                self._after(f, flip)
            shown = "a flip" if callee_name(getattr(flip, "func", cst.Name("x"))) != "rot90" else "a rotation"
            what = f"`{_callee_text(target)}` outputs combined over flipped or rotated inputs in `{f.name}()`"
            site = self._site(f, target, what, [(flip, f"{shown} of the input")], "tta")
            if site.switch is None:
                site.switch = _flip_gate(f, flips)
            self.facts.tta.append(site)
        elif f.scale_loops and f.combines:
            iterable, call = f.scale_loops[0]
            what = f"`{_callee_text(call)}` outputs combined over a loop of scales or flips in `{f.name}()`"
            site = self._site(f, call, what, [(iterable, "the scales or flips looped over")], "tta")
            site.list_param = _list_param(f, iterable)
            site.config_list = _config_list(f, iterable)
            if site.switch is None:  # every loop of scales or flips must be so switched
                local = [_local_list_switch(f, loop) for loop, _ in f.scale_loops]
                site.switch = local[0] if all(local) else None
            self.facts.tta.append(site)

    def _after(self, f: _Function, flip) -> cst.Call:
        """The model call that runs on the flipped input: the first one after the flip in source order (a branch
        that does not flip, `else: outputs = model(images)`, comes before or elsewhere), else the last one."""
        calls = {id(c): c for c in f.model_calls}
        seen = False
        for node in walk(f.node):  # pre-order: source order
            if node is flip:
                seen = True
            elif seen and id(node) in calls:
                return calls[id(node)]
        return f.model_calls[-1]

    def _padding(self, f: _Function, flip) -> bool:
        """`torch.cat([x, torch.flip(x, [2])], 2)[..., :h]`: reflection padding, not an augmentation."""
        for call, _, _ in f.calls:
            if callee_name(call.func) in PAD_CALLS and any(x is flip for a in call.args for x in walk(a.value)):
                return True
        return False

    def _in_loop(self, f: _Function) -> bool:
        if any(True for _ in f.loop_models) or f.scale_loops:
            return True
        return any(isinstance(n, (cst.For, cst.ListComp, cst.GeneratorExp, cst.While)) for n in walk(f.node))

    def _ensembles(self, f: _Function) -> None:
        combined = [(i, c) for i, c in f.loop_models if not _per_model(f, i)] if f.combines else []
        if combined:
            iterable, call = combined[0]
            what = f"outputs of several models (`{dotted(iterable) or 'a collection'}`) combined in `{f.name}()`"
            self.facts.ensembles.append(self._site(f, call, what, [(iterable, "the models iterated over")], "ensemble"))
            return
        if len(f.model_calls) < 2 or not f.combines:
            return
        for node in walk(f.node):
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
                left = [c for c in walk(node.left) if isinstance(c, cst.Call) and is_model_call(c, self.defined)]
                right = [c for c in walk(node.right) if isinstance(c, cst.Call) and is_model_call(c, self.defined)]
                if left and right and _callee_text(left[0]) != _callee_text(right[0]) and \
                        _base(left[0]) != _base(right[0]):
                    what = (f"outputs of `{_callee_text(left[0])}` and `{_callee_text(right[0])}` added together in "
                            f"`{f.name}()`")
                    self.facts.ensembles.append(self._site(f, right[0], what, [(left[0], "the first model")], "ensemble"))
                    return

    def _averaged(self, f: _Function) -> None:
        """`with ema.average_parameters(): evaluate(model)`, or `ema.apply_shadow()` before an evaluation."""
        for swap, calls in f.averaged:
            if calls is None:
                index = next(i for i, (c, _, _) in enumerate(f.calls) if c is swap)
                own = {id(n) for n in walk(swap)}  # `ema.copy_to(model.parameters())`: its own arguments
                calls = [c for c, _, _ in f.calls[index + 1:] if id(c) not in own]
                restore = next((i for i, c in enumerate(calls) if callee_name(c.func) in ("restore", "swap_ema")), None)
                calls = calls[:restore] if restore is not None else calls
            # in a training step the swapped weights may serve training (a memory queue, pseudo-labels): only an
            # evaluation called there counts; in an evaluation function whatever it runs is the evaluation
            named = self.evaluation_name(f) or f.name in LIGHTNING_EVAL
            training = f.trains or TRAINING_NAME.search(f.name)
            evaluated = [c for c in calls if EVAL_NAME.match(callee_name(c.func)) or not training and (
                named and callee_name(c.func) not in ("restore", "print", "len", "no_grad") or is_model_call(c, self.defined))]
            if not evaluated:
                continue
            # what runs the swapped-in weights: a model, an evaluation or a metric, or a call handed the model whose
            # parameters were swapped (`likelihood_fn(score_model, batch)`); `iter()`, `enumerate()` or a log call
            # also made outside says nothing of a raw result beside it
            roots = {n.value for a in getattr(swap, "args", ()) for n in walk(a.value) if type(n) is cst.Name}
            relevant = [c for c in evaluated if not _sets_eval(c) and callee_name(c.func) != "train" and (
                        is_model_call(c, self.defined) or EVAL_NAME.match(callee_name(c.func))
                        or _METRIC_CALL.search(callee_name(c.func)) or
                        any(_root_name(a.value) in roots for a in c.args))]
            evaluated = relevant or evaluated
            forwards = {id(c) for c in f.model_calls}  # the primary location: the forward, not `x.cuda()` before it
            evaluated.sort(key=lambda c: id(c) not in forwards)
            names = {callee_name(c.func) for c in evaluated}
            inside = {id(c) for c in calls}
            both = any(callee_name(c.func) in names and id(c) not in inside and c is not swap for c, _, _ in f.calls)
            switch = self._switch_of(f, swap, "ema")
            site = self._site(f, evaluated[0], f"`{_callee_text(evaluated[0])}()` runs with the averaged weights "
                              f"that `{_callee_text(swap)}()` swaps in", [(swap, "averaged weights swapped in here")], "ema")
            site.switch, site.both = switch, both
            self.facts.averaged.append(site)


# held-out data by its name: `valid_loader`, `loss_val`, camel-case `valLoader` (the capital is the word's end: not
# `ValueError`)
_HELD_OUT = re.compile(r"(?i:(?:^|_)(?:val|valid|validation|test|testing|dev)(?:_|$|\d))|"
                       r"^(?:[Vv]al|[Vv]alid|[Tt]est)[A-Z]")
_WARM_UP = frozenset({"zeros", "ones", "randn", "rand", "empty", "zeros_like", "ones_like", "randn_like"})


def evaluation_script(module_name: str, text: str) -> bool:
    """eval.py, test.py, validate.py...: a script whose module-level code may be the evaluation."""
    return "torch" in text and bool(EVAL_NAME.match(module_name.rsplit(".", 1)[-1]))


_METRIC_CALL = re.compile(r"(?i)fid|frechet|inception_score|kid\b|lpips|psnr|ssim|accuracy|evaluate|metric|bleu|perplex|"
                          r"^ppl|top_?k_acc|miou|compute_map")
_WRAPPERS = frozenset({"DataParallel", "DistributedDataParallel", "to", "cuda", "cpu", "eval", "train", "print",
                       "requires_grad_", "half", "float", "deepcopy", "copy"})


def _checkpoint_key(expr) -> str | None:
    """`ckpt["g_ema"]`, `torch.load(path)["model_ema"]`: the literal key a state dict is read from."""
    if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
        value = expr.slice[0].slice.value
        return value.value[1:-1] if type(value) is cst.SimpleString and value.value[:1] in "'\"" else None
    return None


_SPLIT_NAME = re.compile(r"^_*(train|training|val|valid|validation|dev|test|testing)(?:_|\d|$|data|set|file|files|"
                         r"loader|ds|x|y|img|imgs|images|labels|list|ids|seq|text|corpus)", re.I)
_SPLIT_KIND = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val",
               "test": "test", "testing": "test"}
_LOADER_CALL = re.compile(r"(?i)loader|batchify|^subset$|sampler$|^random_split$|^train_test_split$")


def _split_kind(name: str) -> str | None:
    match = _SPLIT_NAME.match(name)
    return _SPLIT_KIND[match.group(1).lower()] if match else None


def _unpacks_splits(targets) -> bool:
    """`train_data, val_data, test_data, corpus = f(args)`, `file, valfile, testfile = f()`: a result unpacked
    into two or more different splits is a data set, whatever the callee's name."""
    kinds = set()
    for target in targets:
        if type(target.target) in (cst.Tuple, cst.List):
            kinds |= {_split_kind(e.value.value) for e in target.target.elements if type(e.value) is cst.Name}
    kinds.discard(None)
    return len(kinds) >= 2


def _data_uses(scope: cst.CSTNode) -> frozenset:
    """Names used as data in a scope: the first argument of a loader (`DataLoader(ds)`, `batchify(corpus.train)`),
    or read by split (`data.train`, `data["test"]`)."""
    names, called = set(), set()
    for node in walk(scope):
        kind = type(node)
        if kind is cst.Call:
            called.add(id(node.func))  # `model.train()` is a mode, not a split
        if kind is cst.Call and node.args and _LOADER_CALL.search(callee_name(node.func) or ""):
            value = node.args[0].value
            while type(value) is cst.Attribute:
                value = value.value
            if type(value) is cst.Name:
                names.add(value.value)
        elif kind is cst.Attribute and type(node.value) is cst.Name and _SPLIT_KIND.get(node.attr.value.lower()) \
                and id(node) not in called:
            names.add(node.value.value)
        elif kind is cst.Subscript and type(node.value) is cst.Name and len(node.slice) == 1 and \
                type(node.slice[0].slice) is cst.Index and type(node.slice[0].slice.value) is cst.SimpleString and \
                _SPLIT_KIND.get(node.slice[0].slice.value.value[1:-1].lower()):
            names.add(node.value.value)
    return frozenset(names)


_KEEPS_VALUE = DATA_METHODS | {"requires_grad_", "expand", "type", "normal_", "uniform_"}
_FILLS_NOTHING = frozenset({"requires_grad_", "zero_", "normal_", "uniform_", "fill_", "bernoulli_", "random_"})


def _root_name(node) -> str | None:
    while type(node) in (cst.Subscript, cst.Attribute):
        node = node.value
    return node.value if type(node) is cst.Name else None


def _mutated_names(scope: cst.CSTNode) -> frozenset:
    """Names changed in place in a scope: `x[i] = image`, `x.data = batch`, `x += batch`, `x.copy_(batch)`,
    `out=x`: a tensor first built by `torch.zeros` and then filled with data holds data."""
    names = set()
    for node in walk(scope):
        kind = type(node)
        if kind is cst.Assign:
            names.update(_root_name(t.target) for t in node.targets if type(t.target) in (cst.Subscript, cst.Attribute))
        elif kind is cst.AugAssign and number(node.value) is None:
            names.add(_root_name(node.target))
        elif kind is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value.endswith("_") and \
                node.func.attr.value not in _FILLS_NOTHING and any(number(a.value) is None for a in node.args):
            names.add(_root_name(node.func.value))
        elif kind is cst.Arg and node.keyword is not None and node.keyword.value == "out":
            names.add(_root_name(node.value))
    names.discard(None)
    return frozenset(names)


def _equality(test: cst.BaseExpression) -> tuple | None:
    """(subject, literal) of `subject == literal` (a string or an integer, on either side), else None."""
    if type(test) is not cst.Comparison or len(test.comparisons) != 1 or \
            type(test.comparisons[0].operator) is not cst.Equal:
        return None
    left, right = test.left, test.comparisons[0].comparator
    if type(left) in (cst.SimpleString, cst.Integer):
        left, right = right, left
    return (left, right) if type(right) in (cst.SimpleString, cst.Integer) else None


def _mode_test(test: cst.BaseExpression) -> tuple | None:
    """(subject, literal) of `subject == "literal"`: a test that picks one named mode of a parameter or option."""
    found = _equality(test)
    if found is None:
        return None
    left, right = found
    literal = string(right) if type(right) is cst.SimpleString else None
    if literal is None or type(left) is not cst.Name and not _option_attribute(left):
        return None
    return left, literal


def _option_attribute(expr: cst.BaseExpression) -> bool:
    """`opt.post_process`, `args.model`, `self.flip`: an attribute of an options object or of the instance (a
    config object's key is decided by its defining values instead, `Index.config_off`)."""
    if type(expr) is not cst.Attribute:
        return False
    from ...core.origins import OPTION_ROOTS

    root = expr.value
    while type(root) is cst.Attribute:
        root = root.value
    return type(root) is cst.Name and bool(OPTION_ROOTS.match(root.value) or root.value == "self")


def _flip_gate(f: "_Function", flips: list) -> Switch | None:
    """The flipped input built only under an opt-in test (`if opt.post_process: x = torch.cat((x, torch.flip(x,
    [3])))`) while the forward that consumes it runs either way: that test switches the augmentation, whatever
    its name, wherever the forward sits. Every flip must be so gated; a test around every forward gates the
    whole evaluation (`if args.evaluate:`), not the augmentation."""
    around = None
    for call in f.model_calls:
        tests = {id(test) for test, _ in f.flip_gates.get(id(call), ())}
        around = tests if around is None else around & tests
    around = around or set()
    found = None
    for flip in flips:
        gates = [gate for test, gate in f.flip_gates.get(id(flip), ()) if id(test) not in around]
        if not gates:
            return None
        found = found or gates[-1]
    return replace(f.a.switches.settled(found), family="tta") if found is not None else None


# Methods only a module has: a name they are called on holds a model, not a forward's outputs.
_MODULE_METHODS = frozenset({"load_state_dict", "eval", "train", "parameters", "named_parameters", "state_dict",
                             "modules", "named_modules", "children", "apply", "zero_grad", "register_forward_hook"})
_MODULE_WRAPPERS = frozenset({"DataParallel", "DistributedDataParallel"})


def _model_uses(scope: cst.CSTNode) -> frozenset:
    """Names a scope uses as a model: a module's own method is called on them (`net.eval()`,
    `net.load_state_dict(sd)`, `net.parameters()`), or a data-parallel wrapper receives them."""
    names = set()
    for node in walk(scope):
        if type(node) is not cst.Call:
            continue
        func = node.func
        if type(func) is cst.Attribute and type(func.value) is cst.Name and func.attr.value in _MODULE_METHODS:
            names.add(func.value.value)
        elif node.args and callee_name(func) in _MODULE_WRAPPERS and type(node.args[0].value) is cst.Name:
            names.add(node.args[0].value.value)
    return frozenset(names)


def _unchained(value: cst.CSTNode) -> cst.CSTNode:
    """The call at the head of a method chain: `build(...).cuda().eval()` -> `build(...)`."""
    while type(value) is cst.Call and type(value.func) is cst.Attribute and type(value.func.value) is cst.Call:
        value = value.func.value
    return value


_WRITES = frozenset({"dump", "save", "savez", "savez_compressed", "savetxt", "write", "writelines", "to_csv",
                     "to_json", "writerow", "writerows"})


def _keeps(node: cst.CSTNode) -> bool:
    """Does the code hand a value on: `return value`, `yield`, `self.outputs = ...`, `results[k] = ...`, or a file
    written for later scoring (`pickle.dump(found, f)`, `np.save(...)`)? (Nested definitions are read too: a value
    they keep counts.)"""
    for inner in walk(node):
        kind = type(inner)
        if kind is cst.Return and inner.value is not None or kind is cst.Yield:
            return True
        if kind is cst.Call and callee_name(inner.func) in _WRITES:
            return True
        if kind in (cst.Assign, cst.AugAssign, cst.AnnAssign):
            targets = [t.target for t in inner.targets] if kind is cst.Assign else [inner.target]
            if any(type(t) in (cst.Attribute, cst.Subscript) for t in targets):
                return True
    return False


def _warm_up(call: cst.Call) -> bool:
    """`model(torch.zeros(1, 3, 224, 224))`: a warm-up or tracing forward, not the evaluation."""
    return any(type(a.value) is cst.Call and callee_name(a.value.func) in _WARM_UP for a in call.args)


def _callee_text(call: cst.Call) -> str:
    return dotted(call.func) or callee_name(call.func) or "the model"


def _base(call: cst.Call) -> str:
    text = dotted(call.func) or ""
    return text.split(".", 1)[0] if text.startswith("self.") is False else text


def _literal(expr) -> object:
    value = const(expr)
    if value is None and not (isinstance(expr, cst.Name) and expr.value == "None"):
        return "?"
    return value


def evaluation_facts(ctx) -> tuple[EvalFacts, "ModuleAnalysis"]:
    """The module's evaluation facts, and the analysis (its model calls in evaluation code and its switches
    are what EVAL's data-flow domain starts from)."""
    analysis = ModuleAnalysis(ctx)
    return analysis.run(), analysis


class EvalModule:
    """What a worker returns for EVAL: the module's evaluation facts and, where averaged weights or
    evaluation code may be, its data-flow facts (sealed as LEAK's are)."""

    def __init__(self, facts: EvalFacts, flow: Any) -> None:
        self.facts, self.flow = facts, flow

    def sealed(self, path: str) -> "EvalModule":
        return EvalModule(self.facts, self.flow.sealed(path) if self.flow is not None else None)
