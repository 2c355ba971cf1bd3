"""Seed facts of one module: seeding calls and what their seed is, helpers that forward a
parameter to a seeding call, calls of project functions with literal arguments, seed options
and their defaults, and evidence of a sweep over seeds.

The cross-module questions (is `set_seed` from utils.py a helper? does the project sweep?) are
answered by the SEED rules over these facts of every module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ...context import ModuleContext
from ...findings import Loc
from ...core import values
from ...core.gradients import follows_input_gradients
from ...core.calls import argument_keys
from ...core.walk import walk
from ...core.names import dotted
from .sweeps import launches
from .facts import HelperParam, SeedCall, SeedFacts, SeedOption, SeedSite, Signature
from ...core.origins import (ARITH, LEAF, REDUCE, OriginKind, Origins, Trace, class_assignments, option_of_call,
                             parse_options, spelling, trace)
from ...core.config_model import ConfigCollector, ConfigFacts
from ...core.scopes import Handlers, Scope
from ...core.walkers import walked

# Seeding APIs: qualified name -> keyword names that carry the seed (the first positional does too).
SEED_APIS: dict[str, tuple[str, ...]] = {
    "torch.manual_seed": ("seed",),
    "torch.random.manual_seed": ("seed",),
    "torch.cuda.manual_seed": ("seed",),
    "torch.cuda.manual_seed_all": ("seed",),
    "torch.cuda.random.manual_seed": ("seed",),
    "torch.cuda.random.manual_seed_all": ("seed",),
    "torch.mps.manual_seed": ("seed",),
    "torch.xpu.manual_seed": ("seed",),
    "torch.xpu.manual_seed_all": ("seed",),
    "numpy.random.seed": ("seed",),
    "numpy.random.default_rng": ("seed",),
    "numpy.random.RandomState": ("seed",),
    "numpy.random.SeedSequence": ("entropy",),
    "numpy.random.PCG64": ("seed",),
    "random.seed": ("a",),
    "random.Random": ("x",),
    "transformers.set_seed": ("seed",),
    "transformers.trainer_utils.set_seed": ("seed",),
    "transformers.enable_full_determinism": ("seed",),
    "accelerate.utils.set_seed": ("seed",),
    "lightning.seed_everything": ("seed",),
    "lightning.pytorch.seed_everything": ("seed",),
    "lightning.fabric.seed_everything": ("seed",),
    "pytorch_lightning.seed_everything": ("seed",),
    "pytorch_lightning.utilities.seed.seed_everything": ("seed",),
    "lightning_fabric.utilities.seed.seed_everything": ("seed",),
    "lightning.fabric.utilities.seed.seed_everything": ("seed",),
    "lightning.fabric.Fabric.seed_everything": ("seed",),
}
# Seeds given only by keyword.
SEED_KEYWORD_APIS: dict[str, tuple[str, ...]] = {
    "transformers.TrainingArguments": ("seed", "data_seed"),
    "transformers.Seq2SeqTrainingArguments": ("seed", "data_seed"),
}
GENERATOR = ("torch.Generator",)
# APIs that make a generator object of its own (not the global state): inside a component, its private RNG.
GENERATOR_OBJECTS = {"random.Random", "numpy.random.RandomState", "numpy.random.default_rng", "numpy.random.SeedSequence",
                     "numpy.random.PCG64", "torch.Generator.manual_seed"}
SPLIT_FUNCTIONS = {"random_split", "randperm", "permutation", "train_test_split", "split_dataset"}

SEED_NAME = re.compile(r"^[a-z0-9_]*seed$")  # seed, random_seed, manualseed (`--manualSeed`); not seeds, seed_offset
SWEEP_NAME = re.compile(r"seeds$|^(?:num|n|nb)_?seeds?$|^seed_?(?:list|range|values)$")
RANK_NAME = re.compile(
    r"rank|world|worker|gpu|device|proc|process|local|node|offset|epoch|step|iter|idx|index|batch|time|pid|id$"
)
ENV_OPTION = re.compile(r"seed", re.IGNORECASE)

LITERAL, OPTION, DERIVED = "literal", "option", "derived"

# What training looks like at a call (any receiver; project functions are followed through `refs` instead).
_TRAIN_CALL = re.compile(
    r"^(?:do_|run_)?train(?:ing)?(?:_(?:one_)?(?:epoch|epochs|step|model|net|loop|detector|segmentor|"
    r"classifier|iter|batch|nn|network|models|gan|agent))?$|^fit(?:_\w+)?$|^optimi[sz]e_param(?:eter)?s$|^apply_(?:gradients|updates)$|^learn$"
)
_OPTIMISER = re.compile(r"optim|^opt(?:_|$)|_opt$|scaler", re.IGNORECASE)
_TRAINER = re.compile(r"trainer|runner|learner|engine|solver", re.IGNORECASE)
_NOT_A_MODEL = re.compile(r"scaler|pca|tokeni[sz]er|encoder|vectori[sz]er|normali[sz]er|transform|imputer", re.IGNORECASE)
# A seed-like attribute or key read (`args.seed`, `opt["manualSeed"]`), not a seeding method (`random.seed(`).
_SEED_READ = re.compile(r"\.(\w*seed\w*)\b(?!\s*\()|\[\s*['\"](\w*seed\w*)['\"]\s*\]", re.IGNORECASE)
# Calls that write data to files.
_WRITES = {"write_text", "write_bytes", "writelines", "savetxt", "to_csv", "to_json", "to_parquet", "imwrite", "imsave"}
_WRITE_FUNCTIONS = {"json.dump", "pickle.dump", "numpy.save", "numpy.savez", "numpy.savetxt", "shutil.copy",
                    "shutil.copyfile", "shutil.move", "os.symlink"}
# A `__main__` block's inputs: built or drawn in place, or loaded.
_SYNTHETIC = {"randn", "rand", "randint", "randperm", "ones", "zeros", "empty", "full", "arange", "normal", "tensor",
              "randn_like", "rand_like"}
_LOADS = re.compile(r"load|open|read|dataset|loader|imread|folder|fetch|download|from_pretrained|glob|listdir",
                    re.IGNORECASE)
_DATA_BASE = re.compile(r"(?:Dataset|ImageList|ImageFolder|DatasetFolder|DataModule)$")


def _tail(expr: cst.BaseExpression) -> str:
    """The last name of a receiver: `self.optimizer` -> optimizer, `opts["g"]` -> opts, `f().x` -> x."""
    while True:
        if isinstance(expr, cst.Attribute):
            return expr.attr.value
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        else:
            return ""


_PLAIN = {"int", "str", "float", "bool", "len", "print", "range", "dict", "list", "tuple", "set", "getattr",
          "isinstance", "os.environ.get", "os.getenv", "super", "enumerate", "zip", "min", "max", "abs", "round"}


def _does_something(node: cst.Call, callee: str | None) -> bool:
    """A call that shows what the code is for (anything but seeding and plain built-ins): a scope that
    seeds and does nothing else tells nothing about whether its run trains."""
    if callee in SEED_APIS or callee in _PLAIN:
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return "seed" not in name.lower()


def is_training_call(node: cst.Call) -> bool:
    """`loss.backward()`, `optimizer.step()`, `model.fit(x, y)`, `trainer.fit(model)`, `trainer.train()`,
    `Trainer(...).train()`, `train_one_epoch(...)`; not `model.train()` (a mode switch), `scaler.fit(x)` or
    `tsne.fit_transform(x)` (preprocessing, plotting), nor a `Trainer(...)` only used to test."""
    func = node.func
    if isinstance(func, cst.Attribute):
        name, receiver = func.attr.value, _tail(func.value)
    elif isinstance(func, cst.Name):
        name, receiver = func.value, ""
    else:
        return False
    if name in ("backward", "manual_backward"):
        return True
    if name == "step":
        return bool(_OPTIMISER.search(receiver))
    if _TRAIN_CALL.match(name) and name not in ("fit_transform", "fit_resample"):  # t-SNE, PCA, resampling
        if _TRAINER.search(receiver):
            return True
        return bool(node.args) and not _NOT_A_MODEL.search(receiver)
    return False


@dataclass
class Value:
    kind: str  # literal | option | param | loop | derived
    value: int | None = None  # literal
    name: str = ""  # option name, param name, or loop variable
    sweep: bool = False  # a loop over seeds


class _Classifier:
    """SEED's reading of a value's origins (`core.origins.trace`): a literal seed, an option (a command-line
    option, a config field or key, an environment variable named for seeds), a parameter, a loop over seeds, or
    derived (ranks, worker ids, run-time values)."""

    def __init__(self, ctx: ModuleContext, globals_are_options: bool) -> None:
        self.ctx = ctx
        self.origins = Origins(ctx)
        self.origins.globals_are_options = globals_are_options

    def classify(self, expr: cst.BaseExpression, scope: Scope) -> Value:
        return _fold(trace(self.origins, expr, scope, lambda name: not _rankish(name)))


def _fold(t: Trace) -> Value:
    if t.how == LEAF:
        return _leaf_value(t)
    if t.how == REDUCE:
        return _fold(t.parts[0])  # range reduction: `x % 2**32` keeps x's nature
    return _combine([_fold(p) for p in t.parts], arithmetic=t.how == ARITH)


def _leaf_value(t: Trace) -> Value:
    origin = t.origin
    kind, name = origin.kind, origin.name
    if kind == OriginKind.LITERAL:
        return Value(LITERAL, origin.value) if type(origin.value) is int else Value(DERIVED)
    if kind == OriginKind.PARAM:
        return Value("param", name=name)
    if kind == OriginKind.LOOP:
        sweep = bool(SEED_NAME.match(name.lower()) or SWEEP_NAME.search(name.lower())) or (
            t.node is not None and _mentions_seeds(t.node))
        return Value("loop", name=name, sweep=True) if sweep else Value(DERIVED)
    if origin.root == "os.environ":  # an environment variable: a seed option only when named for seeds
        return Value(OPTION, name=name) if name != "env" and ENV_OPTION.search(name) else Value(DERIVED)
    if kind == OriginKind.CONFIG_KEY and origin.root == "call":  # `cfg.get("seed")`, `getattr(args, "seed", 0)`
        return Value(OPTION, name=name) if SEED_NAME.match(name.lower()) else Value(DERIVED)
    if kind == OriginKind.DERIVED and "." in name:  # a library attribute: `FLAGS.seed` is an option, `math.pi` not
        last = name.rsplit(".", 1)[-1]
        return Value(OPTION, name=last) if SEED_NAME.match(last.lower()) else Value(DERIVED)
    if kind in (OriginKind.OPTION, OriginKind.FIELD, OriginKind.CONFIG_KEY, OriginKind.CONSTANT) and name:
        last = name.rsplit(".", 1)[-1]
        return Value(DERIVED) if _rankish(last) else Value(OPTION, name=last)
    return Value(DERIVED)


def _rankish(name: str) -> bool:
    """Names of per-process or per-step values (rank, worker id, epoch, seed_offset), not of a seed."""
    lowered = name.lower()
    return bool(RANK_NAME.search(lowered)) and not SEED_NAME.match(lowered)


def _mentions_seeds(expr: cst.CSTNode) -> bool:
    for node in walk(expr):
        if isinstance(node, cst.Name) and (SWEEP_NAME.search(node.value.lower()) or SEED_NAME.match(node.value.lower())):
            return True
        if isinstance(node, cst.Attribute) and SWEEP_NAME.search(node.attr.value.lower()):
            return True
    return False


def _combine(results: list[Value], arithmetic: bool = False) -> Value:
    kinds = [r.kind for r in results]
    for kind in (OPTION, "param"):
        if kind in kinds:
            return results[kinds.index(kind)]
    loops = [r for r in results if r.kind == "loop"]
    if loops:
        sweep = [r for r in loops if r.sweep]
        return sweep[0] if sweep else Value(DERIVED)
    if arithmetic and LITERAL in kinds:
        literal = results[kinds.index(LITERAL)]
        return literal  # `1337 + rank`: a fixed seed offset by the rank is still one seed
    if results and all(k == LITERAL for k in kinds):
        return results[0]
    return Value(DERIVED)


def _opens_for_writing(node: cst.Call) -> bool:
    """`open(path, "w")`, `open(path, mode="a")`, `path.open("w")`."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    if name != "open":
        return False
    mode = values.keyword(node, "mode") or values.positional(node, 0 if isinstance(func, cst.Attribute) else 1)
    text = values.str_value(mode) or ""
    return any(c in text for c in "wax")


def _trains_by_name(node: cst.Call) -> bool:
    """A training call recognised by its name only (`train(args)`, `fit(x, y)`), not `backward()` or an
    optimiser's `step()`."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name not in ("backward", "manual_backward", "step")


class _SeedVisitor(Handlers):
    """SEED's handlers in the module's one walk (core/walkers.py)."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.names = ctx.names
        self.facts = SeedFacts()
        globals_are_options = any(
            isinstance(stmt, cst.SimpleStatementLine)
            and any(isinstance(s, cst.Expr) and isinstance(s.value, cst.Call) and dotted(s.value.func) == "exec" for s in stmt.body)
            for stmt in ctx.module.body
        )
        self.classifier = _Classifier(ctx, globals_are_options)
        self.split_generators: set[int] = set()  # generator calls passed to a data-splitting function
        self.in_main = False  # inside `if __name__ == "__main__":` at module level
        self.data_classes: set[str] = set()
        self.guards: dict[str, set[str]] = {}  # seed names -> how a guarded seeding is turned off
        self.hf_seed = False  # the Trainer's `--seed` from HfArgumentParser is recorded
        self._options: list | None = None  # the module's options (core.origins.parse_options), when asked
        self.main_inputs = ""  # what the `<main>` block runs on: "synthetic", "data" (anything loaded), or ""
        self._input_grads: dict[int, bool] = {}  # function -> its backward() is an input gradient
        self._component_sites: list[tuple[str, SeedSite]] = []  # (class, a literal seed of a generator it makes)
        names = ctx.names
        self.facts.imports = {q for q in names.imported.values() if ctx.is_project_name(q)}
        # the config model's hooks, fed by this walk: seed keys only
        self.configs = ConfigCollector(ctx, want=lambda key: bool(SEED_NAME.match(key.lower())))

    # --- scopes -------------------------------------------------------------------------
    def scope_id(self) -> str:
        name = self.scope_name()
        return "<main>" if name == "<module>" and self.in_main else name

    def visit_If(self, node: cst.If) -> None:
        self.configs.on_if(node, self.scope_id())
        guard = _guard(node.test)
        if guard is not None:
            self.guards.setdefault(guard[0], set()).add(guard[1])
        if not self.stack and _is_main_guard(node.test):  # its body is `<main>` (its test holds nothing SEED reads)
            self.in_main = True
            self.walker.after(node.body, self._main_done)

    def _main_done(self, body: cst.CSTNode) -> None:
        self.in_main = False

    def on_class(self, node: cst.ClassDef) -> None:
        qualified = ".".join([self.module_name, *self.stack, node.name.value])
        self.facts.defs.append(qualified)
        if any(_DATA_BASE.search(dotted(base.value) or "") for base in node.bases):
            self.data_classes.add(qualified)
        self._dataclass_options(node)
        self.configs.on_class(node, self.scope_id())

    def _in_data_class(self) -> bool:
        """Inside a dataset class: a seed there fixes which samples it holds (`random.seed(0)` then
        `random.shuffle(self.samples)` and a cut), a split that every compared method shares."""
        name = self.scope_name()
        return any(name.startswith(c + ".") for c in self.data_classes)

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        self.facts.defs.append(qualified)
        self._train_def(node, qualified)
        self._signature(node, qualified)

    def _train_def(self, node: cst.FunctionDef, qualified: str) -> None:
        """A function named for training (`def train_nn(...)`, `def fit(...)`) trains, even when its loop
        updates weights by hand; not `model.train()`-like methods without parameters besides self, nor one
        without a loop that hands its work to a library (a tokenizer's `train()` calling SentencePiece's trainer):
        what it calls decides."""
        params = [p.name.value for p in node.params.params if p.name.value not in ("self", "cls")]
        if params and _TRAIN_CALL.match(node.name.value) and _has_loop(node):
            self.facts.trains.add(qualified)

    def _ref(self, name: str) -> None:
        self.facts.refs.setdefault(self.scope_id(), set()).add(name)

    def _links(self, node: cst.Call, callee: str | None) -> None:
        """What a call tells about the run: it trains, or it calls (or hands on) project code."""
        scope = self.scope_id()
        if scope == "<main>" and self.main_inputs != "data":
            self._main_input(node, callee)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _WRITES or callee in _WRITE_FUNCTIONS \
                or _opens_for_writing(node):
            self.facts.writes.add(scope)
        if is_training_call(node) and not self._input_gradient(node) and not self._fits_statistics(node):
            if callee and self.ctx.is_project_name(callee) and _trains_by_name(node):
                # `train(args)` naming project code: its body decides (the call graph), not its name
                self.facts.named_trains.setdefault(scope, set()).add(callee)
            else:
                self.facts.trains.add(scope)
        if callee and self.ctx.is_project_name(callee):
            self._ref(callee)
        elif scope not in self.facts.busy and _does_something(node, callee):
            self.facts.busy.add(scope)
        func = node.func
        if isinstance(func, cst.Subscript):  # REGISTRY[name](...): a class picked from a project table
            picked = self.names.qualify(func.value)
            if picked and self.ctx.is_project_name(picked):
                self._ref(picked)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self" \
                and len(self.stack) >= 2:
            self._ref(".".join([self.module_name, *self.stack[:-1], func.attr.value]))  # a method of this class
        for arg in node.args:  # callbacks: mp.spawn(main_worker), fire.Fire(main), Thread(target=train)
            value = arg.value
            if isinstance(value, (cst.Name, cst.Attribute)):
                qualified = self.names.qualify(value)
                if qualified and self.ctx.is_project_name(qualified):
                    self._ref(qualified)
            elif isinstance(value, (cst.FormattedString, cst.List, cst.Tuple)) or (
                isinstance(value, cst.SimpleString) and ".py" in value.value
            ):
                self._launch(value, scope)
        self.configs.on_call(node, callee, scope)  # config values and the config files the call names

    def _main_input(self, node: cst.Call, callee: str | None) -> None:
        """Where the `<main>` block's inputs come from: drawn or built (`torch.randn(4, 3)`), or loaded."""
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if _LOADS.search(name):
            self.main_inputs = "data"
        elif callee and (callee.startswith("numpy.random.") or callee.startswith("torch.")
                         and callee.rsplit(".", 1)[-1] in _SYNTHETIC):
            self.main_inputs = "synthetic"

    def _owner_class(self) -> str | None:
        """The qualified name of the innermost class around the current node, if any."""
        names = []
        owner = None
        for definition in self.definitions:
            names.append(definition.name.value)
            if isinstance(definition, cst.ClassDef):
                owner = ".".join([self.module_name, *names])
        return owner

    def component_sites(self) -> list[SeedSite]:
        """The literal seeds of generator objects made inside a class that does not train (an optimiser, a
        sampler, an augmentation keeps its own `random.Random(1337)`): internal to a library component, not
        the run's seed. Those of a class that trains (a trainer) are the run's."""
        kept = []
        for owner, site in self._component_sites:
            trains = _TRAINER.search(owner.rsplit(".", 1)[-1]) or any(
                scope == owner or scope.startswith(owner + ".") for scope in self.facts.trains)
            if trains:
                kept.append(site)
        return kept

    def _fits_statistics(self, node: cst.Call) -> bool:
        """`estimator.fit(X)` where the function made `estimator` from a class that computes statistics of
        its data in closed form (`sklearn.covariance.EmpiricalCovariance()`, a scaler, an imputer): no weights
        are drawn or learned by a seeded procedure."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and _trains_by_name(node)):
            return False
        function = next((d for d in reversed(self.definitions) if isinstance(d, cst.FunctionDef)), None)
        body = function.body if function is not None else self.ctx.module
        made = [a.value for a in walk(body) if isinstance(a, cst.Assign) and len(a.targets) == 1
                and isinstance(a.targets[0].target, cst.Name) and a.targets[0].target.value == func.value.value]
        return bool(made) and all(
            isinstance(v, cst.Call) and (self.names.callee(v) or dotted(v.func) or "").startswith(_STATISTICS)
            for v in made)

    def _input_gradient(self, node: cst.Call) -> bool:
        """A `backward()` that computes the gradient of an input perturbation, not of the weights, or the
        `step()` of an optimiser over such a perturbation: an adversarial attack (FGSM/PGD/C&W) or a saliency
        map, whose function steps no optimiser over a model's parameters."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("backward", "step")):
            return False
        function = next((d for d in reversed(self.definitions) if isinstance(d, cst.FunctionDef)), None)
        if function is None:
            return False
        key = id(function)
        if key not in self._input_grads:
            self._input_grads[key] = follows_input_gradients(function)
        return self._input_grads[key]

    def _launch(self, value: cst.BaseExpression, scope: str) -> None:
        """Scripts a command runs: `os.system(f"python train.py --seed {s}")`, `run(["python", "train.py"])`."""
        parts: list[str] = []
        if isinstance(value, cst.FormattedString):
            parts = [p.value for p in value.parts if isinstance(p, cst.FormattedStringText)]
        elif isinstance(value, (cst.List, cst.Tuple)):
            parts = [values.str_value(e.value) or "" for e in value.elements]
        else:
            parts = [values.str_value(value) or ""]
        text = " ".join(parts)
        if ".py" in text or "-m " in text:
            for script in launches(text):
                if script not in self.facts.launches.setdefault(scope, []):
                    self.facts.launches[scope].append(script)

    def _option_use(self, name: str, call: cst.Call) -> None:
        scope = self.scope_id()
        if not any(n == name and s == scope for n, _, s in self.facts.option_uses):
            self.facts.option_uses.append((name, self.ctx.loc(call), scope))

    def _sweep(self, node: cst.CSTNode, text: str) -> None:
        self.facts.sweeps.append((self.ctx.loc(node), text, self.scope_id()))

    def _signature(self, node: cst.FunctionDef, qualified: str) -> None:
        if not any(h.function == qualified for h in self.facts.helpers):
            return
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        defaults = {}
        for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            if p.default is not None:
                value = values.int_value(p.default)
                if value is not None:
                    defaults[p.name.value] = value
        self.facts.signatures[qualified] = Signature(params, defaults)

    # --- calls --------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        callee = self.names.callee(node)
        self._links(node, callee)
        if callee not in SEED_APIS and _seeding_method(node.func, callee, self.ctx):
            callee = "lightning.fabric.Fabric.seed_everything"  # `fabric.seed_everything(1337 + rank)`
        if callee in SEED_APIS:
            arg = values.positional(node, 0) or values.keyword(node, *SEED_APIS[callee])
            if arg is not None:
                self._seed_arg(node, arg, callee)
            return
        if callee in SEED_KEYWORD_APIS:
            for kw in SEED_KEYWORD_APIS[callee]:
                arg = values.keyword(node, kw)
                if arg is not None:
                    self._seed_arg(node, arg, f"{callee}({kw}=...)")
            if values.keyword(node, "seed") is None and not any(a.star for a in node.args) and not self._in_data_class():
                # built in code without a seed: the Trainer seeds the run with the library's default, 42
                self.facts.sites.append(SeedSite(self.ctx.loc(node), f"{callee.rsplit('.', 1)[-1]}'s default seed",
                                                 42, self.scope_id()))
            return
        if (callee or "").startswith(("transformers.", "trl.")) and (callee or "").endswith("Trainer") \
                and "parse_args_into_dataclasses" in self.ctx.text:
            args = values.keyword(node, "args")
            if isinstance(args, cst.Name):  # HfArgumentParser's `--seed`, inherited from TrainingArguments (default 42)
                self.facts.cli_dests.setdefault("seed", self.scope_id())
                if not self.hf_seed:
                    self.hf_seed = True
                    self.facts.options.append(SeedOption(self.ctx.loc(node), "--seed (inherited from TrainingArguments)",
                                                         "seed", 42, scope=self.scope_id()))
                    self._option_use("seed", node)
        if self._is_generator_seed(node):
            arg = values.positional(node, 0) or values.keyword(node, "seed")
            if arg is not None and not self._seeds_a_data_split(node):
                self._seed_arg(node, arg, "torch.Generator.manual_seed")
            return
        if (callee or "").rsplit(".", 1)[-1] in SPLIT_FUNCTIONS:
            for arg in node.args:  # random_split(ds, sizes, generator=torch.Generator().manual_seed(42))
                self.split_generators.add(id(arg.value))
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        first = values.str_value(values.positional(node, 0)) or ""
        if method in ("add_argument", "DEFINE_integer", "DEFINE_int") or (callee or "").endswith(
            ("click.option", "typer.Option")
        ) or method == "add" and first.startswith("-"):  # configargparse's `p.add("--seed", ...)`
            self._cli_option(node)
        if callee and self.ctx.is_project_name(callee):
            self._project_call(node, callee)

    def visit_Dict(self, node: cst.Dict) -> None:
        self.configs.on_dict(node, self.scope_id())  # `{"seed": 0, ...}`: a config written as a dict

    def _seeds_a_data_split(self, node: cst.Call) -> bool:
        """A generator that only permutes or splits a dataset fixes the split, which every compared method
        shares; one that shuffles batches or initialises weights is the training seed."""
        if id(node) in self.split_generators:
            return True
        receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
        if not isinstance(receiver, cst.Name):
            return False
        body = self.scope.node
        uses = [
            call for call in walk(body) if isinstance(call, cst.Call) and call is not node
            and any(isinstance(a.value, cst.Name) and a.value.value == receiver.value for a in call.args)
        ]
        names = [(dotted(u.func) or "").rsplit(".", 1)[-1] for u in uses]
        return bool(names) and all(name in SPLIT_FUNCTIONS for name in names)

    def _is_generator_seed(self, node: cst.Call) -> bool:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "manual_seed"):
            return False
        receiver = func.value
        if isinstance(receiver, cst.Name):
            bound = values.resolve_name(receiver.value, self.scope)
            receiver = bound[-1] if bound else receiver
        return isinstance(receiver, cst.Call) and self.names.callee(receiver) in GENERATOR

    def _seed_arg(self, call: cst.Call, arg: cst.BaseExpression, api: str) -> None:
        value = self.classifier.classify(arg, self.scope)
        if value.kind == LITERAL and self._in_data_class():
            return
        if value.kind == LITERAL:
            site = SeedSite(self.ctx.loc(call), api, value.value, self.scope_id())
            owner = self._owner_class()
            if api in GENERATOR_OBJECTS and owner is not None:  # a component's own generator: decided at the end
                self._component_sites.append((owner, site))
            else:
                self.facts.sites.append(site)
        elif value.kind == OPTION:
            self._option_use(value.name, call)
        elif value.kind == "param" and self._is_cli_command():
            self._option_use(value.name, call)  # a click/typer command's parameter
        elif value.kind == "param" and self.function_name():
            self.facts.helpers.append(HelperParam(self.function_name(), value.name, self.ctx.loc(call), api=api))
        elif value.kind == "loop" and value.sweep:
            self._sweep(call, f"{api} is called with the loop variable `{value.name}`")

    def _is_cli_command(self) -> bool:
        function = self.scope.function()
        if function is None:
            return False
        for deco in function.decorators:
            target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            if (self.names.qualify(target) or "").startswith(("click.", "typer.")):
                return True
        return False

    def _project_call(self, node: cst.Call, callee: str) -> None:
        literals: dict[str, int] = {}
        options: dict[str, str] = {}
        sweeps: list[str] = []
        interesting = "seed" in callee.rsplit(".", 1)[-1].lower()
        for key, arg in argument_keys(node):
            value = self.classifier.classify(arg.value, self.scope)
            if value.kind == LITERAL and not self._in_data_class():
                literals[key] = value.value
                interesting = True
            elif value.kind == OPTION:
                options[key] = value.name
                interesting = interesting or bool(SEED_NAME.match(value.name.lower()))
            elif value.kind == "param" and self.function_name():
                self.facts.helpers.append(
                    HelperParam(self.function_name(), value.name, Loc(), callee=callee,
                                callee_index=int(key) if key.isdigit() else -1,
                                callee_keyword="" if key.isdigit() else key)
                )
            elif value.kind == "loop" and value.sweep:
                sweeps.append(key)
                interesting = True
        if interesting and not any(arg.star for arg in node.args):  # *args/**kwargs: cannot map arguments to parameters
            self.facts.calls.append(self.ctx.calls.of(node, self.scope_id(), SeedCall, literals=literals, options=options,
                                                      sweeps=sweeps))

    # --- options and sweeps -----------------------------------------------------------------
    def _cli_option(self, node: cst.Call) -> None:
        """A seed option (argparse, configargparse, click/typer, absl), read by the project's one option parser."""
        option = option_of_call(node, self.ctx.names)
        if option is None:
            return
        explicit = values.keyword(node, "dest") is not None
        dest = option.dest if explicit else option.dest.lower()
        names = set(option.aliases) | {dest}
        if any(SWEEP_NAME.search(n) for n in names) or (option.multiple and any(SEED_NAME.match(n) for n in names)):
            self._sweep(node, f"option {option.name} takes several seeds")
            return
        if not any(SEED_NAME.match(n) for n in names):
            return
        self.facts.cli_dests.setdefault(dest, self.scope_id())
        value = option.default if isinstance(option.default, int) and not isinstance(option.default, bool) else None
        if value is not None:
            self.facts.options.append(SeedOption(self.ctx.loc(node), option.name, dest, value, scope=self.scope_id()))
        elif _no_default(values.keyword(node, "default")):  # the code may give it one
            self.facts.open_options.append(SeedOption(self.ctx.loc(node), option.name, dest, 0, scope=self.scope_id()))

    def _dataclass_options(self, node: cst.ClassDef) -> None:
        """`seed: int = 42` in a config class (dataclass, pydantic, attrs, a plain namespace)."""
        for small, target, value in class_assignments(node):
            if value is None:
                continue
            lowered = target.lower()
            if SWEEP_NAME.search(lowered) and values.int_list(value) and len(values.int_list(value)) >= 2:
                self._sweep(small, f"`{target}` lists several seeds")
            elif SEED_NAME.match(lowered):
                literal = values.int_value(value)
                if literal is not None:
                    self.facts.options.append(
                        SeedOption(self.ctx.loc(small), f"{node.name.value}.{target}", target, literal, field=True,
                                   scope=".".join([self.module_name, *self.stack, node.name.value]))
                    )

    def visit_Assign(self, node: cst.Assign) -> None:
        self.configs.on_assign(node, self.scope_id())  # yacs `_C.SEED = 0`, `cfg.TRAIN.seed = 0`, `config.seed = 42`
        self.configs.on_bool_default(node, self.scope_id())  # `seed = seed or 0`
        if isinstance(node.value, (cst.List, cst.Tuple, cst.FormattedString, cst.SimpleString)):
            self._launch(node.value, self.scope_id())  # command = ["python", "-m", "pkg.train"]
        for target in node.targets:
            if isinstance(target.target, cst.Name) and SWEEP_NAME.search(target.target.value.lower()):
                listed = values.int_list(node.value)
                if listed and len(set(listed)) >= 2:
                    self._sweep(node, f"`{target.target.value}` lists several seeds")

    def visit_For(self, node: cst.For) -> None:
        self._repetition(node)
        self._loop(node.target, node.iter, node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._loop(node.target, node.iter, node)

    def _repetition(self, node: cst.For) -> None:
        """`for ii in range(args.itr):` whose body builds a model and trains it: each pass is another draw."""
        it = node.iter
        if not (isinstance(it, cst.Call) and dotted(it.func) == "range" and 1 <= len(it.args) <= 2) \
                or len(it.args) == 2 and values.number(it.args[0].value) != 0 or not _trains_fresh(node.body):
            return
        count = it.args[-1].value
        literal = values.number(count)
        if type(literal) is int:
            self.facts.repeats.append((self.ctx.loc(node.iter), self.scope_id(), literal, ""))
        elif isinstance(count, cst.Attribute):
            if self._options is None:
                self._options = parse_options(self.ctx)
            option = next((o for o in self._options if o.dest == count.attr.value), None)
            if option is not None and type(option.default) is int:
                self.facts.repeats.append((self.ctx.loc(node.iter), self.scope_id(), option.default, option.dest))

    def _loop(self, target: cst.BaseExpression, iterable: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            name = target.value.lower()
            if SEED_NAME.match(name) or SWEEP_NAME.search(name) or _mentions_seeds(iterable):
                self._sweep(target, f"a loop over seeds (`{target.value}`)")


def _trains_fresh(body: cst.CSTNode) -> bool:
    """The body builds an object (`model = Net(args)`, `exp = Exp(args)`) and trains it there: it calls a
    training method of it (`exp.train(setting)`) or trains over its parameters (`Adam(model.parameters())`, then
    `backward()`/`step()`)."""
    built = {a.targets[0].target.value for a in walk(body) if isinstance(a, cst.Assign) and len(a.targets) == 1
             and isinstance(a.targets[0].target, cst.Name) and isinstance(a.value, cst.Call)
             and _tail(a.value.func)[:1].isupper()}
    if not built:
        return False
    trains = False
    over_parameters = False
    for n in walk(body):
        if isinstance(n, cst.Call) and is_training_call(n):
            trains = True
            func = n.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in built \
                    and _trains_by_name(n):
                return True
        elif isinstance(n, cst.Attribute) and n.attr.value in ("parameters", "named_parameters") \
                and isinstance(n.value, cst.Name) and n.value.value in built:
            over_parameters = True
    return trains and over_parameters


def _has_loop(function: cst.FunctionDef) -> bool:
    return any(isinstance(n, (cst.For, cst.While)) for n in walk(function.body))


# Estimators that compute statistics of their data in closed form: fitting one trains nothing.
_STATISTICS = ("sklearn.covariance.", "sklearn.preprocessing.", "sklearn.impute.", "sklearn.feature_extraction.")


def _seeding_method(func: cst.BaseExpression, callee: str | None, ctx: ModuleContext) -> bool:
    """A framework object's seeding method (`fabric.seed_everything(...)`, `self.fabric.seed_everything`):
    the receiver is an instance, so the call has no qualified name of a library function."""
    if not (isinstance(func, cst.Attribute) and func.attr.value == "seed_everything"):
        return False
    return not (callee and ctx.is_project_name(callee))


def _is_main_guard(test: cst.BaseExpression) -> bool:
    return (
        isinstance(test, cst.Comparison) and dotted(test.left) == "__name__" and len(test.comparisons) == 1
        and values.str_value(test.comparisons[0].comparator) == "__main__"
    )


class _LinkVisitor(_SeedVisitor):
    """For a module that cannot seed, forward or sweep seeds: only what the call graph needs (what it
    calls, whether it trains), without scopes and value classification."""

    needs_scopes = False

    def visit_Call(self, node: cst.Call) -> None:
        callee = self.names.callee(node)
        self._links(node, callee)

    def on_class(self, node: cst.ClassDef) -> None:
        self.facts.defs.append(".".join([self.module_name, *self.stack, node.name.value]))

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        self.facts.defs.append(qualified)
        self._train_def(node, qualified)

    visit_Assign = visit_For = visit_CompFor = None  # type: ignore[assignment]


def seed_handlers(ctx: ModuleContext) -> _SeedVisitor | None:
    """SEED's handlers for the module's one walk (registered in the package's `__init__`)."""
    if ctx.is_test:
        return None
    # Every module is read, not only those that seed: the project phase follows calls from a seeded
    # entry point to the code that trains, and from a sweep to what it runs. Modules that cannot seed
    # (a cheap text test) get the light pass.
    lowered = ctx.text.lower()
    if "seed" not in lowered and "random" not in lowered and "Generator" not in ctx.text \
            and "TrainingArguments" not in ctx.text:
        return _LinkVisitor(ctx)
    return _SeedVisitor(ctx)


def extract_seed_facts(ctx: ModuleContext) -> SeedFacts | None:
    visitor = walked(ctx, "seed")
    if visitor is None:
        return None
    visitor.facts.synthetic_main = visitor.main_inputs == "synthetic"
    if visitor.facts.options:
        visitor.facts.seed_reads = {spelling(a or b) for a, b in _SEED_READ.findall(ctx.text)}
    visitor.facts.library = any(isinstance(stmt, cst.ClassDef) for stmt in ctx.module.body)
    if isinstance(visitor, _LinkVisitor):
        visitor.facts.config.loads = visitor.configs.facts.loads
        return None if visitor.facts.empty() else visitor.facts
    visitor.facts.options = [o for o in visitor.facts.options if not _sentinel(o, visitor.guards)]
    visitor.facts.sites += visitor.component_sites()
    visitor.facts.config = _seed_configs(visitor)
    return None if visitor.facts.empty() else visitor.facts


def _seed_configs(visitor: _SeedVisitor) -> "ConfigFacts":
    """The config model's seed values that can fix a run's seed: non-negative integers (a negative one turns
    seeding off), not those of a dataset class (they fix which samples it holds)."""
    facts = visitor.configs.facts
    facts.values = [
        v for v in facts.values
        if isinstance(v.value, int) and not isinstance(v.value, bool) and v.value >= 0
        and not any(v.scope.startswith(c + ".") or v.scope == c for c in visitor.data_classes)
    ]
    return facts


def _no_default(default: cst.BaseExpression | None) -> bool:
    return default is None or isinstance(default, cst.Name) and default.value == "None"


def _sentinel(option: SeedOption, guards: dict[str, set[str]]) -> bool:
    """A default that turns seeding off: negative (`default=-1` with `if args.seed != -1:` or `>= 0`), or 0
    when the seeding is guarded by the option's truth (`if args.seed:`, `if args.seed != 0:`, `> 0`)."""
    if option.default < 0:
        return True
    d = option.default
    for guard in guards.get(spelling(option.dest), set()):
        op, _, limit = guard.partition(":")
        value = int(limit) if limit.lstrip("-").isdigit() else None
        if op == "truth" and d == 0 or value is not None and (
                op == "ne" and d == value or op == "gt" and d <= value or op == "ge" and d < value):
            return True
    return False


def _guard(test: cst.BaseExpression) -> tuple[str, str] | None:
    """(seed name, what turns it off) for a test that guards seeding: `args.seed` -> truth,
    `args.seed != -1` / `>= 0` / `is not None` -> the compared value."""
    if isinstance(test, (cst.Name, cst.Attribute)):
        name = test.value if isinstance(test, cst.Name) else test.attr.value
        return (spelling(name), "truth") if SEED_NAME.match(name.lower()) else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left = test.left
        name = left.value if isinstance(left, cst.Name) else left.attr.value if isinstance(left, cst.Attribute) else ""
        if not SEED_NAME.match(name.lower()):
            return None
        value = values.int_value(test.comparisons[0].comparator)
        op = test.comparisons[0].operator
        kinds = {cst.NotEqual: "ne", cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge"}
        if value is not None and type(op) in kinds:
            return spelling(name), f"{kinds[type(op)]}:{value}"
        if isinstance(op, cst.IsNot):
            return spelling(name), "none"
    return None
