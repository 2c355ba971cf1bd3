"""LEAK's domain for the data-flow engine: held-out data (sources) reaching training, model selection
or fitted statistics (sinks). The interpreter (interpreter.py) runs the statements; this module only
says what it sees in them.

Flows are tagged `unlabelled` when inputs are unpacked without their labels (`for x, _ in target_loader`,
domain adaptation: not a training leak), and values are marked `train` when known to be (part of) the
training split, so that what is carved from them is a validation split, not held-out data.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import libcst as cst

from ...config import DEFAULT_HELD_OUT_SPLITS
from . import patterns as P
from ...dataflow import library as L
from .configs import config_names
from ...dataflow.terms import CLEAN, CondTerm, GlobalTerm, ParamTerm, SourceTerm, Term, Val, derive, index, mark, tag, terms_val, union
from ...dataflow.interpreter import Call, Domain, Found, Frame, Lane
from .patterns import LEAK_FIT, LEAK_SELECT, LEAK_TRAIN, is_held_out_split
from .syntax import config_chain, config_like, decided, ordering, receiver_name, selection_action
from ...core.names import dotted
from ...core.gradients import follows_input_gradients, optimised_names
from ...core.syntax import body_of, const, string, text_of
from ...core.values import str_value

UNLABELLED, TRAIN = "unlabelled", "train"
_FORWARD = re.compile(r"_?forward(?:_\w+)?$")
_MODEL_BASE = re.compile(r"(?:^|\.)Module$")  # nn.Module, torch.nn.Module; not LightningModule
_DATA_PARAM = re.compile(r"data|loader|set$|split|feat|label|sample|image|img|target|^[xy]$|^[xy]_", re.IGNORECASE)
_HANDLES_DATA = re.compile(r"DataLoader|[Dd]ataset|[Ll]oader\b|_loader|train_test_split|read_csv|\.fit\(|Trainer\(")
_HANDLES_DATA_WORDS = ("DataLoader", "Dataset", "dataset", "_loader", "train_test_split", "read_csv", ".fit(", "Trainer(")
_VALIDATION_NAME = re.compile(r"(?:^|_)(?:val|vali|valid|validation|dev|develop|development)(?:_|$|set|loader|data)",
                              re.IGNORECASE)
_BEST_CALL = re.compile(r"(?:^|\.)(?:nan)?(?:arg)?(?:max|min)(?:imum)?$")


class LeakDomain(Domain):
    conditional_branches = True  # `if flag == "test": data = ...` in a factory: held-out only for flag="test"
    def __init__(self, held_out: tuple[str, ...]) -> None:
        self.splits = tuple(s.lower() for s in held_out)
        self._actions: dict[int, str | None] = {}
        self.pending: set[int] = set()  # sources that are config values, held-out only if a config says so
        self._functions: dict | None = None  # qualified name -> FunctionDef, for what a backward() does
        self._fitted: dict[tuple, tuple] = {}  # (function, array name) -> (the fit call, what it is)
        self._steps: dict[str, bool] = {}
        self._optimised: dict[str, tuple] = {}  # qualified name -> the names its optimisers are built over

    def start(self, flow: Lane) -> None:
        # each pattern searched only where a substring it needs is in the text (most modules have none)
        text = flow.ctx.text
        self.load_best = "EarlyStoppingCallback" in text or "load_best_model_at_end" in text and \
            bool(re.search(r"load_best_model_at_end\s*[=:]\s*True|EarlyStoppingCallback", text))
        self.objectives = {"objective", *(m.group(1) for m in re.finditer(r"\.optimize\(\s*(\w+)", text))} \
            if ".optimize(" in text else {"objective"}
        flow.facts.notes["monitors"] = "monitor" in text and ("ModelCheckpoint(" in text or "EarlyStopping(" in text) \
            and bool(re.search(r"(?:ModelCheckpoint|EarlyStopping)\([^)]*monitor\s*=", text))
        names = config_names(text)
        if names:
            flow.facts.notes["config_names"] = names

    def wants_hops(self, flow: Lane) -> bool:
        text = flow.ctx.text  # _HANDLES_DATA.search(text), its literal alternatives as substring tests first
        return any(word in text for word in _HANDLES_DATA_WORDS) or "oader" in text and bool(_HANDLES_DATA.search(text))

    def sink(self, flow: Lane, code: str, node: cst.CSTNode, value: Val, what: str, raw_only: bool = False,
             site: str = ""):
        """Training sinks ignore unlabelled inputs; statistics need the data itself (raw_only)."""
        excludes = frozenset({UNLABELLED}) if code == LEAK_TRAIN else frozenset()
        return flow.sink(code, node, value, what, raw_only, excludes, site)

    # --- definitions ------------------------------------------------------------------------------
    def skips(self, node: cst.FunctionDef) -> bool:
        # A model's forward pass computes on whatever it is given; calls of it are read as
        # computations on their arguments, so its body need not be interpreted.
        return bool(_FORWARD.match(node.name.value))

    def skips_class(self, node: cst.ClassDef) -> bool:
        """A model definition (an `nn.Module` with a `forward`, whose constructor is given no data): its layers
        are built from settings, calls of the model read as computations on their arguments, and its other
        methods (weight initialisation, classifier resets) never see a split. About a third of LEAK's time on
        a model zoo went to these constructors."""
        if not any(_MODEL_BASE.search(dotted(base.value) or "") for base in node.bases):
            return False
        methods = {m.name.value: m for m in body_of(node) if type(m) is cst.FunctionDef}
        if "forward" not in methods:
            return False
        init = methods.get("__init__")
        params = (*init.params.posonly_params, *init.params.params, *init.params.kwonly_params) if init else ()
        return not any(_DATA_PARAM.search(p.name.value) for p in params)

    def function_done(self, flow: Lane, node: cst.FunctionDef, frame: Frame) -> None:
        name, returns = node.name.value, frame.returns
        if name == "train_dataloader" and frame.cls is not None and returns.tainted():
            self.sink(flow, LEAK_TRAIN, node.name, returns, "the loader `train_dataloader()` gives Lightning to train on")
        if name == "val_dataloader" and returns.tainted():
            found = self.sink(flow, LEAK_SELECT, node.name, returns,
                              "is the validation loader of a Lightning run whose checkpoint or early stopping monitors it")
            if found is not None:
                found.requires = "monitored"
        if name in self.objectives and returns.tainted():  # a hyper-parameter search objective returns its score
            self.sink(flow, LEAK_SELECT, node.name, returns, "is the objective of a hyper-parameter search")

    # --- statements -------------------------------------------------------------------------------
    def branch(self, flow: Lane, node: cst.If, test: Val) -> object | None:
        """A held-out metric deciding whether the guarded code saves, keeps the best, or stops."""
        if not test.tainted() or flow.ctx.is_test or self._optimises_data(flow):
            return None
        action = self._actions[id(node)] if id(node) in self._actions else \
            self._actions.setdefault(id(node), selection_action(node))
        if action is not None and action.startswith(("stops", "keeps a checkpoint", "keeps a copy")) \
                and not self._orders_metric(flow, node.test):
            # a bare `break` counts only after comparing a score (`if acc >= target: break`); so does a copy of
            # the latest checkpoint (`if is_best: shutil.copyfile(...)` is reported where is_best is computed), and
            # a deep copy (`if "bbox" in anns[0]: deepcopy(categories)` copies annotations, not a chosen model)
            action = None
        if action is None:
            return None
        self.sink(flow, LEAK_SELECT, node.test, test, f"decides whether the guarded code {action}")
        return action

    def _orders_metric(self, flow: Lane, test: cst.BaseExpression) -> bool:
        """Does the condition compare the magnitude of a held-out value (`acc >= target`), not a counter
        (`cursor < batch.size()[0]`)?"""
        for comparison in ordering(test):
            if flow.expr(comparison.left, flow.env).tainted() or \
                    any(flow.expr(c.comparator, flow.env).tainted() for c in comparison.comparisons):
                return True
        return False

    def assigned(self, flow: Lane, target: cst.BaseExpression, source: cst.BaseExpression, value: Val) -> None:
        """`best = max(best, acc)` and `is_best = acc > best` on held-out metrics. Inside an `if` that selects on
        the same metric, the report keeps the first of the two (one finding per function and source); an `if` on
        something else (`if args.local_rank in [-1, 0]:`) hides nothing."""
        if not value.tainted() or flow.ctx.is_test:
            return
        name = target.value if type(target) is cst.Name else target.attr.value if type(target) is cst.Attribute else ""
        if not name or not _best_name(name):
            return
        if type(source) is cst.IfExp and type(source.test) is cst.Comparison:
            source = source.test
        if type(source) is cst.Comparison or (
                type(source) is cst.Call and _BEST_CALL.search(dotted(source.func) or "")):
            self.sink(flow, LEAK_SELECT, source, value, f"sets `{name}`: the best score is chosen on it")

    def named(self, flow: Lane, node: cst.CSTNode, name: str, value: Val,
              source: cst.BaseExpression | None) -> Val:
        """Names decide only when the construction does not: no taint, no visible split, no project call, and
        not in a function whose caller decides the split (`def load_data(root, phase="train")`)."""
        if source is not None and value.const is None and not self._held_out(value):
            value = self._config_value(flow, source, value, "data", flow.env)
        if _VALIDATION_NAME.search(name) and value.terms:
            # `val_loader = DataLoader(CIFAR10(train=False))`: held-out data under a validation name
            for term in value.terms:
                if type(term) is SourceTerm and term.rel == flow.ctx.rel and term.i not in self.pending:
                    flow.facts.notes.setdefault("misnamed", {}).setdefault(term.i, name)
        if source is None or self._held_out(value) or value.const is not None or not P.held_out_name(name, self.splits):
            return value
        if any(p in P.SPLIT_KEYWORDS or p in P.TRAIN_KEYWORDS for p in flow.frame.params):
            return value
        if type(source) not in (cst.Call, cst.Subscript, cst.Attribute, cst.Name) or decided(source):
            return value
        return union(value, terms_val({flow.source(node, f"`{name}` (named as held-out data)")}))

    def _held_out(self, value: Val) -> bool:
        """Tainted by something else than config values not yet decided (see _config_value)."""
        terms = value.flat()
        if not self.pending or not terms:
            return bool(terms)
        return any(not (type(t) is SourceTerm and t.i in self.pending) for t in terms)

    def _config_value(self, flow: Lane, expr: cst.BaseExpression, value: Val, mode: str, env: dict) -> Val:
        """A config value read where data or a split is chosen (`ImageFolder(cfg.data.test.root)`,
        `root = cfg["test_dir"]`, `load_dataset(name, split=cfg.eval_split)`): a source that holds only if a config
        the project loads gives that key a held-out value (decided in the project phase, config_values.py).
        mode: what the value is there: "data" (a path, a dataset's spec), "split" (a split name), "false" (train=)."""
        keys = config_chain(expr, lambda node: flow.key(node, env))
        if keys is None:
            return value
        written = flow.ctx.module.code_for_node(expr)
        written = written if len(written) <= 50 else written[:47] + "..."
        src = flow.source(expr, f"the config value `{written}`")
        if src.i not in self.pending:
            self.pending.add(src.i)
            flow.facts.notes.setdefault("config_uses", []).append((src.i, keys, mode))
        return union(value, terms_val({src}))

    def unpacked(self, flow: Lane, value: Val, elements: list) -> Val:
        if any(type(e) is cst.Name and e.value == "_" for e in elements):
            return tag(value, UNLABELLED)  # inputs without labels: unlabelled target data
        return value

    # --- expressions ------------------------------------------------------------------------------
    def operation(self, flow: Lane, node: cst.BinaryOperation) -> Term | None:
        """`root / "test"` with pathlib."""
        if type(node.operator) is not cst.Divide:
            return None
        for operand in (node.left, node.right):
            text = text_of(operand)
            if text and P.held_out_path(text, self.splits, bare=True):
                return flow.source(operand, f"the path {text!r}")
        return None

    def subscript(self, flow: Lane, node: cst.Subscript, owner: Val, key: object) -> Val | None:
        if key is None and owner.fields:
            chosen = self._chosen_entry(flow, node, owner)
            if chosen is not None:
                return chosen
        known = owner.fields is not None and any(name == key for name, _ in owner.fields)
        metric = isinstance(key, str) and P.metric_key(key)
        if isinstance(key, str) and is_held_out_split(key, self.splits) and not config_like(node.value) \
                and not known and TRAIN not in owner.marks:
            if metric:  # `best["test_err"]`: a score named for held-out data, a number computed on it
                src = flow.source(node, f'the score `["{key}"]`, named for held-out data')
                return derive(union(index(owner, key), terms_val({src})))
            src = flow.source(node, f'the ["{key}"] split')
            return union(index(owner, key), terms_val({src}))
        if metric and owner.tainted():  # `results["test"]["average_precision"]`: a score, not the data
            return derive(index(owner, key))
        if key in ("train", "training"):
            return mark(index(owner, key), TRAIN)
        return None

    def _chosen_entry(self, flow: Lane, node: cst.Subscript, owner: Val) -> Val | None:
        """`rs[metric]` on `{"valid": ..., "test": ...}` with `metric` a parameter: the held-out entry is chosen
        when a caller passes a held-out name (`train_and_eval(..., metric="test")`), a conditional source decided
        at the call sites like a split argument; the other entries are read as they are."""
        held = [name for name, _ in owner.fields if isinstance(name, str) and is_held_out_split(name, self.splits)]
        if not held or len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
            return None
        expr = node.slice[0].slice.value
        chooser = flow.expr(expr, flow.env)
        bare = [t for t in chooser.terms if type(t) in (ParamTerm, GlobalTerm) and not t.path]
        if len(bare) != 1 or chooser.parts or chooser.fields:
            return None
        written = flow.ctx.module.code_for_node(node)
        written = written if len(written) <= 40 else written[:37] + "..."
        src = flow.source(node, f'the ["{held[0]}"] entry of `{written}`')
        others = [value for name, value in owner.fields if name not in held]
        return union(*others, terms_val({CondTerm(bare[0], ("heldout", None), (src.rel, src.i))}))

    # --- calls ------------------------------------------------------------------------------------
    def library_result(self, flow: Lane, call: Call) -> Val | None:
        return self._train_test_split(flow, call) if call.short == "train_test_split" else None

    def _train_test_split(self, flow: Lane, call: Call) -> Val:
        """sklearn's function returns (train, test) per array; a HF Dataset's method a {"train", "test"} dict.
        What is carved from a known training split is a validation split, not held-out data."""
        method = type(call.node.func) is cst.Attribute and flow.ctx.names.qualify(call.node.func) is None
        self._split_after_fit(flow, call, method)
        arrays = [call.receiver] if method else [v for p, v, _ in call.args if isinstance(p, int)] or [CLEAN]
        carved = all(TRAIN in a.marks for a in arrays)
        held_out = CLEAN if carved else terms_val({flow.source(call.node, "a test output of train_test_split()")})
        pieces = [(mark(a, TRAIN), union(a if not carved else _unmarked(a), held_out)) for a in arrays]
        if method:
            return Val(fields=(("train", pieces[0][0]), ("test", pieces[0][1])))
        return Val(parts=tuple(p for pair in pieces for p in pair))

    def _split_after_fit(self, flow: Lane, call: Call, method: bool) -> None:
        """`X = scaler.fit_transform(X)` (or `scaler.fit(X)`, `mean = X.mean(0)`) and then
        `train_test_split(X, ...)` in the same function: the statistics saw the rows that become held-out."""
        expr = call.node.func.value if method else next((arg.value for p, _, arg in call.args if p == 0), None)
        if type(expr) is not cst.Name:
            return
        fitted = self._fitted.get((flow.frame.qual, expr.value))
        if fitted is None:
            return
        node, what = fitted
        flow.facts.notes.setdefault("fit_before_split", []).append(
            (flow.ctx.loc(node), flow.ctx.loc(call.node), f"{what} sees every row of `{expr.value}`"))

    def _note_fitted(self, flow: Lane, call: Call, data: cst.BaseExpression | None, what: str) -> None:
        """Remember that a statistic or a preprocessing step was fitted on the array named data (and on the name
        its result is assigned to), for _split_after_fit."""
        if type(data) is not cst.Name:
            return
        names = [data.value]
        statement = call.frame.assigning
        for target in getattr(statement, "targets", ()):
            if type(target.target) is cst.Name:
                names.append(target.target.value)
        for name in names:
            self._fitted.setdefault((flow.frame.qual, name), (call.node, what))

    def call_sources(self, flow: Lane, call: Call) -> Found:
        found: set[Term] = set()
        marks: set[str] = set()
        short, node = call.short, call.node
        data_like = P.dataset_like(short) or not short and _dynamic_data(node.func)
        given_data = call.project and _given_data(call)
        args = call.args
        if not data_like and short not in P.CONFIG_CONSUMERS and short not in ("join", "Path", "open"):
            # every branch below needs a data-like callee, a config consumer or a path call, except `split=`
            args = [a for a in args if a[0] == "split"]
        for position, value, arg in args:
            if position in P.TRAIN_KEYWORDS and data_like and not given_data:
                term = self._split_term(flow, call, arg.value, value, f"{_label(flow, call)}({position}=False)", "false",
                                        position, marks)
                if term is not None:
                    found.add(term)
            elif position in P.SPLIT_KEYWORDS and (data_like or position == "split") and (
                    position not in P.GENERIC_SPLIT_KEYWORDS or P.DATASET_LIKE.search(short)):
                term = self._split_term(flow, call, arg.value, value, None, "heldout", position, marks)
                if term is not None:
                    found.add(term)
            elif isinstance(position, int) and data_like and isinstance(value.const, str) and \
                    value.const.lower() in self.splits:
                found.add(flow.source(node, f"{_label(flow, call)}({value.const!r})"))
            if value.const is None and (data_like or short in P.CONFIG_CONSUMERS) and \
                    not (isinstance(position, str) and L.CONFIG_KEYWORD.search(position)) and \
                    type(arg.value) is not cst.Name:
                mode = "false" if position in P.TRAIN_KEYWORDS else "split" if position in P.SPLIT_KEYWORDS else "data"
                found |= self._config_value(flow, arg.value, CLEAN, mode, call.env).terms
            text = text_of(arg.value) if isinstance(position, int) or position in (
                "root", "path", "data_files", "data_dir", "file", "filename", "path_or_buf") else None
            option = False
            if text is None and isinstance(value.const, str) and type(arg.value) in (cst.Name, cst.Attribute):
                text = value.const  # a variable or an option's default (`args.val_dir`, default "data/test")
                option = type(arg.value) is cst.Attribute
            if text and (data_like or short in ("join", "Path", "open")) and \
                    P.held_out_path(text, self.splits, bare=short in ("join", "joinpath", "Path")):
                shown = f" (`{flow.ctx.module.code_for_node(arg.value)}`)" if option else ""
                found.add(flow.source(arg.value, f"the path {text!r}{shown}"))
        return Found(frozenset(found), frozenset(marks))

    def _split_term(self, flow: Lane, call: Call, expr: cst.BaseExpression, value: Val, label: str | None,
                    mode: str, keyword: str, marks: set) -> Term | None:
        """A source when the split argument says held-out; a conditional term when a parameter decides.
        An argument that names the training split marks the result instead."""
        node, short = call.node, _label(flow, call)
        if isinstance(value.const, bool) and mode == "false":
            if value.const is True:
                marks.add(TRAIN)
            return flow.source(node, label) if value.const is False else None
        if isinstance(value.const, str) and mode == "heldout":
            if is_held_out_split(value.const, self.splits):
                shown = repr(value.const) if string(expr) is not None else \
                    f"{flow.ctx.module.code_for_node(expr)} = {value.const!r}"
                return flow.source(node, f"{short}({keyword}={shown})")
            if value.const.split("[", 1)[0].lower() in ("train", "training"):
                marks.add(TRAIN)
            return None
        written = flow.ctx.module.code_for_node(expr)
        written = written if len(written) <= 40 else written[:37] + "..."
        predicate: tuple = (mode, None)
        operand = expr
        if type(expr) is cst.Comparison and len(expr.comparisons) == 1 and mode == "false":
            literal = str_value(expr.comparisons[0].comparator)
            op = expr.comparisons[0].operator
            if literal is not None and type(op) in (cst.Equal, cst.NotEqual):
                operand = expr.left
                # train=(split == "train") is held-out when split != "train"
                predicate = ("ne" if type(op) is cst.Equal else "eq", literal)
        elif type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Not and mode == "false":
            operand, predicate = expr.expression, ("true", None)
        inner = flow.expr(operand, call.env) if operand is not expr else value
        if isinstance(inner.const, (str, bool)) or inner.const is None and operand is not expr and const(operand) is not None:
            holds = self.decide(predicate, inner.const)
            return flow.source(node, f"{short}({keyword}={written})") if holds else None
        bare = [t for t in inner.terms if type(t) in (ParamTerm, GlobalTerm) and not t.path]
        if len(bare) == 1 and not inner.parts and not inner.fields:
            src = flow.source(node, f"{short}({keyword}={written})")
            return CondTerm(bare[0], predicate, (src.rel, src.i))
        return None

    def decide(self, predicate: tuple, value: Any) -> bool | None:
        """Does a literal value make the split held-out? None when the value is not a literal."""
        if value is None:
            return None
        op, literal = predicate
        if op == "heldout":
            return isinstance(value, str) and is_held_out_split(value, self.splits)
        if op == "false":
            return value is False
        if op == "true":
            return value is True
        if op == "truthy":
            return bool(value)
        if op == "falsy":
            return not value
        if op == "eq":
            return value == literal
        if op == "ne":
            return value != literal
        if op == "in":
            return value in literal
        if op == "notin":
            return value not in literal
        if op == "all":  # nested branches on one parameter: `if flag == "train": ... elif flag == "val": ... else:`
            verdicts = [self.decide(inner, value) for inner in literal]
            return None if None in verdicts else all(verdicts)
        return None

    def call_sinks(self, flow: Lane, call: Call) -> None:
        for recognise in _CALL_SINKS:  # the first recogniser that claims the call decides it
            if recognise(self, flow, call):
                return

    def _backward(self, flow: Lane, call: Call) -> bool:
        if call.short not in ("backward", "manual_backward"):
            return False
        if not self._trains(flow, call.frame) or self._optimises_data(flow):
            return True  # gradients for an attack, a saliency map or a check: no optimiser steps on the model
        if call.short == "backward" and call.is_method and call.receiver.tainted():
            self.sink(flow, LEAK_TRAIN, call.node, call.receiver, "the loss of `backward()`", site=call.library_site)
            return True
        values = call.values
        if any(v.tainted() for v in values.values()):
            self.sink(flow, LEAK_TRAIN, call.node, union(*values.values()), f"the loss of `{call.short}()`",
                      site=call.library_site)
            return True
        return False

    def _optimises_data(self, flow: Lane) -> bool:
        """Does the function build an optimiser over the data itself (`Adam([w])` with `w` made from the input):
        an attack (C&W), an inversion or a reconstruction? Its `backward()` trains no model and the best iterate it
        keeps (`if loss < best_loss: best_w = w.clone()`) selects no model."""
        qual = flow.frame.qual
        names = self._optimised.get(qual)
        if names is None:
            if self._functions is None:
                self._functions = _function_nodes(flow.ctx.module, flow.module)
            node = self._functions.get(qual)
            names = self._optimised[qual] = optimised_names(node) if node is not None else ()
        return any(flow.expr(cst.Name(name), flow.env).tainted() for name in names)

    def _trains(self, flow: Lane, frame: Frame) -> bool:
        """Does a `backward()` in this function train, i.e. lead to an optimiser step on the model's parameters?
        Not when the function steps nothing and reads the gradient of something that is not a parameter
        (`delta.grad`, `images.grad`): adversarial attacks (PGD, FGSM) and saliency maps differentiate with
        respect to the input."""
        if ".grad" not in flow.ctx.text:
            return True
        if self._functions is None:
            self._functions = _function_nodes(flow.ctx.module, flow.module)
        node = self._functions.get(frame.qual)
        if node is None:
            return True
        known = self._steps.get(frame.qual)
        if known is None:
            known = self._steps[frame.qual] = follows_input_gradients(node)
        return not known

    def _fit(self, flow: Lane, call: Call) -> bool:
        if not (call.short in P.FIT_METHODS and call.is_method):
            return False
        values, short = call.values, call.short
        if P.PREPROCESSORS.search(call.receiver.ctor or "") or P.PREPROCESSORS.search(receiver_name(call.node.func)):
            first = next((arg.value for p, _, arg in call.args if p in (0, "X")), None)
            self._note_fitted(flow, call, first, f"`{flow.ctx.module.code_for_node(call.node.func)}()`")
            data = union(*(v for p, v in values.items() if p in (0, 1, "X", "x", "raw_documents", "y")))
            if data.tainted():
                self.sink(flow, LEAK_FIT, call.node, data, f"`{short}()` of a preprocessing step", site=call.library_site)
            return True
        data = union(*(v for p, v in values.items() if p in (0, 1, "x", "X", "y", "train_dataloaders",
                                                             "train_dataloader", "datamodule", "dataset")))
        if data.tainted():
            self.sink(flow, LEAK_TRAIN, call.node, data, f"`{short}()`", site=call.library_site)
        validation = values.get("validation_data")
        if validation is not None and validation.tainted() and "callbacks" in values:
            self.sink(flow, LEAK_SELECT, call.node, validation, "is the validation data of `fit()` with callbacks",
                      site=call.library_site)
        lightning = "Trainer" in (call.receiver.ctor or "") or "trainer" in receiver_name(call.node.func).lower()
        validation = values.get("val_dataloaders", values.get(2)) if lightning else None
        if validation is not None and validation.tainted():
            found = self.sink(flow, LEAK_SELECT, call.node, validation,
                              "is the validation loader of a Lightning `fit()` whose checkpoint or early stopping "
                              "monitors it", site=call.library_site)
            if found is not None:
                found.requires = "monitored"
        return True

    def _vocabulary(self, flow: Lane, call: Call) -> bool:
        if call.short == "Counter" and call.args and _union_expr(call.args[0][2].value):
            data = call.args[0][1]
            if data.tainted():  # `Counter(train + dev + test)`: a vocabulary counted over every split
                self.sink(flow, LEAK_FIT, call.node, data, "a vocabulary counted over a concatenation (`Counter()`)",
                          site=call.library_site)
            return True
        if call.is_method and _COUNT_METHOD.match(call.short) and \
                _VOCAB_RECEIVER.search(receiver_name(call.node.func) or call.receiver.ctor or ""):
            data = union(*call.values.values())
            if data.tainted():  # `vocab.count_file("test.txt")`, `dictionary.add_sentence(test_sentence)`
                self.sink(flow, LEAK_FIT, call.node, data,
                          f"`{receiver_name(call.node.func)}.{call.short}()` counts it into a vocabulary",
                          site=call.library_site)
            return True
        if call.short not in P.VOCAB_CALLS:
            return False
        data = union(*call.values.values())
        if data.tainted():
            self.sink(flow, LEAK_FIT, call.node, data, f"`{call.short}()`", site=call.library_site)
        return True

    def _statistics(self, flow: Lane, call: Call) -> bool:
        """Statistics count only when kept (`mean = x.mean()`, not printed), outside a model's forward pass
        (there they are layers: normalisation), outside display code (`show_points()` centres a cloud to draw
        it), and not when a value is normalised by its own statistic (`x = x - x.mean(0)`: per sample)."""
        method = call.short in P.STAT_METHODS and call.is_method
        if not method and call.qualified not in P.STAT_FUNCS:
            return False
        kept = call.frame.assigning is not None and not _in_forward(call.frame) and not _displays(call.frame) \
            and not _self_normalised(call)
        if kept and method and call.qualified not in P.STAT_FUNCS:
            self._note_fitted(flow, call, call.node.func.value, f"the statistic `{flow.ctx.module.code_for_node(call.node)}`")
        if method and call.receiver.tainted() and kept:
            self.sink(flow, LEAK_FIT, call.node, call.receiver, f"statistics (`.{call.short}()`)", raw_only=True,
                      site=call.library_site)
            return True
        first = call.values.get(0)
        if call.qualified in P.STAT_FUNCS and first is not None and first.tainted() and kept:
            self.sink(flow, LEAK_FIT, call.node, first, f"statistics (`{call.short}()`)", raw_only=True,
                      site=call.library_site)
            return True
        return False

    def _trainer(self, flow: Lane, call: Call) -> bool:
        if not call.short.endswith("Trainer"):
            return False
        values = call.values
        train = values.get("train_dataset")
        if train is not None and train.tainted():
            self.sink(flow, LEAK_TRAIN, call.node, train, "`train_dataset` of a Trainer", site=call.library_site)
        evaluation = values.get("eval_dataset")
        if evaluation is not None and evaluation.tainted() and (self.load_best or "callbacks" in values):
            self.sink(flow, LEAK_SELECT, call.node, evaluation, "is the `eval_dataset` of a Trainer that keeps the best model",
                      site=call.library_site)
        return True

    def _plateau(self, flow: Lane, call: Call) -> bool:
        if call.short != "step":
            return False
        first = call.values.get(0)
        if call.is_method and first is not None and first.tainted() and (
                P.SCHEDULER_NAME.search(receiver_name(call.node.func)) or "Plateau" in (call.receiver.ctor or "")):
            self.sink(flow, LEAK_SELECT, call.node, first, "drives a learning-rate schedule (`ReduceLROnPlateau`)",
                      site=call.library_site)
            return True
        return False

    def _early_stopping(self, flow: Lane, call: Call) -> bool:
        if not call.args:  # no argument: nothing tainted drives it
            return False
        values = call.values
        if (_early_stop_name(call.short) or _early_stop_name(receiver_name(call.node.func)) or
                "EarlyStopping" in (call.receiver.ctor or "")) and any(v.tainted() for v in values.values()):
            self.sink(flow, LEAK_SELECT, call.node, union(*values.values()), "drives early stopping",
                      site=call.library_site)
            return True
        return False


@lru_cache(maxsize=4096)
def _best_name(name: str) -> bool:
    return bool(P.BEST_NAME.search(name))


@lru_cache(maxsize=4096)
def _early_stop_name(name: str) -> bool:
    return bool(P.EARLY_STOP_CALL.search(name))


_CALL_SINKS = (LeakDomain._backward, LeakDomain._fit, LeakDomain._vocabulary, LeakDomain._statistics,
               LeakDomain._trainer, LeakDomain._plateau, LeakDomain._early_stopping)


_DATA_ARG = re.compile(r"(?:^|_)(?:feats?|features|embeddings|data|x|y|labels|targets|images|imgs|samples|tensors?|"
                       r"arrays?|inputs)$", re.IGNORECASE)
_PATH_ARG = re.compile(r"dir|root|path|folder|file|name", re.IGNORECASE)


_VOCAB_RECEIVER = re.compile(r"vocab|dictionary|tokeni[sz]er|lexicon|alphabet|word2idx|word_to_ix|w2i|stoi",
                             re.IGNORECASE)
_COUNT_METHOD = re.compile(r"(?:count|add|feed|learn|index)_(?:file|files|sents|sentences?|words?|tokens?|texts?|"
                           r"documents?|corpus|symbols?|lines?)$|count_\w+$|add_words?$")


def _union_expr(expr: cst.BaseExpression) -> bool:
    """`a + b + c`, `chain(a, b)`, `np.concatenate([a, b])`: an expression that joins several collections."""
    if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Add:
        return True
    if type(expr) is cst.Call:
        last = (dotted(expr.func) or "").rsplit(".", 1)[-1]
        return last in ("chain", "concatenate", "concat", "cat", "from_iterable", "union")
    return False


def _function_nodes(module: cst.Module, prefix: str) -> dict[str, cst.FunctionDef]:
    """Functions by the interpreter's qualified names (module functions, methods, nested functions)."""
    found: dict[str, cst.FunctionDef] = {}
    stack: list = [(stmt, prefix) for stmt in module.body]
    while stack:
        stmt, path = stack.pop()
        if type(stmt) is cst.FunctionDef:
            qual = f"{path}.{stmt.name.value}"
            found[qual] = stmt
            stack.extend((inner, qual) for inner in body_of(stmt) if type(inner) in (cst.FunctionDef,))
        elif type(stmt) is cst.ClassDef:
            stack.extend((inner, f"{path}.{stmt.name.value}") for inner in body_of(stmt)
                         if type(inner) in (cst.FunctionDef, cst.ClassDef))
    return found


def _given_data(call: Call) -> bool:
    """A project class handed its data (`SetDataset(val_feats, val_labels, train=False)`): its `train` flag is a
    mode (sample anew, shuffle), not a choice of split; the data passed in decides the split."""
    for position, _, arg in call.args:
        if isinstance(position, int) or position in ("data", "features", "feats", "x", "images", "tensors"):
            node = arg.value
            name = node.attr.value if type(node) is cst.Attribute else node.value if type(node) is cst.Name else ""
            if name and _DATA_ARG.search(name) and not _PATH_ARG.search(name):
                return True
    return False


def _dynamic_data(func: cst.BaseExpression) -> bool:
    """A dataset class looked up at run time: `datasets.__dict__[name]`, `getattr(torchvision.datasets, name)`,
    `DATASETS[args.dataset]` (the namespace is named like data)."""
    from ...dataflow.dispatch import dynamic_callee

    namespace = dynamic_callee(func)
    return bool(namespace) and bool(P.DATASET_LIKE.search(namespace.rsplit(".", 1)[-1]))


def _label(flow: Lane, call: Call) -> str:
    """The callee as shown in a source's description: its name, or as written (`datasets[name](split="test")`)."""
    if call.short:
        return call.short
    text = flow.ctx.module.code_for_node(call.node.func)
    return text if len(text) <= 30 else text[:27] + "..."


def _in_forward(frame: Frame) -> bool:
    last = frame.qual.rsplit(".", 1)[-1]
    return last.startswith(("forward", "_forward")) or last == "__call__"


_DISPLAY = re.compile(r"(?:^|_)(?:show|plot|draw|render|visuali[sz]e|display)", re.IGNORECASE)


def _displays(frame: Frame) -> bool:
    return bool(_DISPLAY.search(frame.qual.rsplit(".", 1)[-1]))


def _self_normalised(call: Call) -> bool:
    """`x = x - x.mean(0)` / `x = (x - np.mean(x)) / x.std()`: the statistic of the value being replaced."""
    statement = call.frame.assigning
    targets = {t.target.value for t in getattr(statement, "targets", ()) if type(t.target) is cst.Name}
    if type(statement) is cst.AugAssign and type(statement.target) is cst.Name:
        targets.add(statement.target.value)
    first = call.args[0][2].value if call.args and not call.is_method else None
    operand = call.node.func.value if call.is_method else first
    return type(operand) is cst.Name and operand.value in targets


def _unmarked(val: Val) -> Val:
    from dataclasses import replace

    return replace(val, marks=val.marks - {TRAIN})


def held_out_splits(options: dict) -> tuple[str, ...]:
    return tuple(options.get("held-out-splits", DEFAULT_HELD_OUT_SPLITS))
