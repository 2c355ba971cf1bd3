"""The `recipe` extractor: the training choices a module makes, with where each value comes from.

It reuses HPARAM's recognition of hyper-parameter positions (`hparam_apis.canonical`: optimisers,
schedulers, losses, clipping, EMA, mixup, TrainingArguments, each slot with its library default) and the
value origins of `core/origins.py` (literal, named constant, option, config field or key, parameter);
`vocabulary.py` adds the keywords, option dests and globals that name a training choice. Runs in the
engine's workers like the rules' extractors: one parse per file, facts cached by content.
"""
from __future__ import annotations

import libcst as cst

from ..rules.hparam.apis import REQUIRED, Api, canonical
from ..rules.leak.patterns import BEST_NAME
from ..core.names import dotted
from ..core.origins import OriginKind, Origins, number, option_of_call
from ..core.config_model import ConfigCollector, collect
from ..core.scopes import ASSIGN, ScopedVisitor
from ..core.syntax import const
from ..core.values import keyword, positional
from ..context import ModuleContext
from ..rules.base import extractor
from . import schedule_shape
from . import vocabulary as vocab
from .facts import (CONFIG, DEFAULT, DERIVED, FIXED, OPTION, PARAM, PRESENT, Argument, Item, OptionInfo, RecipeCall,
                    RecipeFacts)

TRIGGERS = ("optim", "backward", "Trainer", "TrainingArguments", "fit(", "__main__", "add_argument", "DataLoader",
            "exec(", "lr", "seed")
# Keywords too common to mean a training choice in any call: only in trainer/config/factory calls.
AMBIGUOUS = {"dtype", "scale", "half", "compile", "clip", "model", "drop", "opt", "optim", "aa", "ema", "seed", "bs",
             "arch", "precision", "monitor", "warmup", "clip_value", "max_length", "optimizer", "scheduler", "step_size",
             "milestones", "sched", "hflip", "vflip", "dropout", "lr", "momentum", "betas", "amp", "swa", "mixup",
             "cutmix", "pretrained", "iterations", "max_iter", "tta", "block_size", "seq_len", "architecture", "epochs",
             "model_name", "model_type"}
CHOICE_CALLS = ("Trainer", "TrainingArguments", "Config", "Args", "Arguments", "dict", "create_", "Mixup", "MixUp",
                "CutMix", "autocast", "Loader", "loader", "transform", "Transform")
SHORT = 72
FUNCTIONAL_LOSSES = ("cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def api_section(api: Api) -> str:
    q = api.qualified
    if "lr_scheduler" in q or "Scheduler" in q or "schedule" in q:
        return "schedule"
    if "swa_utils" in q or "Ema" in q or "ExponentialMovingAverage" in q:
        return "ema"
    if q.startswith("torch.optim.") or q in ("timm.create_optimizer_v2", "transformers.AdamW"):
        return "optimizer"
    if "clip_grad" in q:
        return "clipping"
    if q.startswith("torch.nn.") or "LabelSmoothing" in q:
        return "loss"
    if "TrainingArguments" in q:
        return "trainer"
    return "augmentation"


def slot_section(name: str, concept: str, section: str) -> str:
    if concept in ("weight_decay", "smoothing") or name == "label_smoothing" or name == "label_smoothing_factor":
        return "regularisation"
    if concept == "warmup":
        return "warmup"
    if section == "trainer":
        found = vocab.name_field(name)
        return found[0] if found else "optimizer"
    return section


class _RecipeVisitor(ScopedVisitor):
    def __init__(self, ctx: ModuleContext) -> None:
        super().__init__(ctx.names.module_name, ctx.module_scope, ctx.scopes)
        self.ctx = ctx
        self.origins = Origins(ctx)
        self.facts = RecipeFacts(globals_are_options=self.origins.globals_are_options)
        self.configs = ConfigCollector(ctx)  # config objects' values, for the card's config rows
        self._seen: set[tuple] = set()
        self._data: dict[str, tuple[Item, str, str]] = {}  # name -> (its item, its label, its split)  # assigned name -> its data item
        self._passed: dict[str, list[tuple[str, str]]] = {}  # name -> (callee, assigned target) it was passed to
        self._target: str = ""  # the name the statement being visited assigns
        self._results: dict[str, str] = {}  # name -> the function whose result it holds
        self._selection: set[str] = set()  # functions whose results pick the best checkpoint

    # --- values ------------------------------------------------------------------------------------
    def code(self, node: cst.CSTNode) -> str:
        try:
            return _short(self.ctx.module.code_for_node(node))
        except Exception:  # noqa: BLE001 - a node libcst cannot print: show nothing rather than fail
            return ""

    def resolve(self, expr: cst.BaseExpression) -> tuple[str, object, str]:
        """(kind, value, ref) of an expression."""
        literal = const(expr)
        if isinstance(literal, (str, bool)) or (literal is None and isinstance(expr, cst.Name) and expr.value == "None"):
            return FIXED, literal, ""
        if isinstance(expr, (cst.Tuple, cst.List)) and number(expr) is None:
            return self._resolve_elements(expr)
        origin = self.origins.of(expr, self.scope)
        kind = origin.kind
        if kind == OriginKind.LITERAL:
            return FIXED, origin.value, ""
        if kind == OriginKind.CONSTANT:
            if origin.value is None:
                return DERIVED, None, origin.name
            return FIXED, origin.value, origin.name
        if kind == OriginKind.OPTION:
            return OPTION, None, origin.name
        if kind == OriginKind.FIELD:
            path = self._field_path(expr) or origin.name
            default = self._hparams_default(expr, path)
            if default is not None:
                return default
            return CONFIG, None, path
        if kind == OriginKind.CONFIG_KEY:
            return CONFIG, None, origin.name
        if kind == OriginKind.PARAM:
            if self._cli_function():  # a click/typer command's parameter is its option
                return OPTION, None, origin.name
            return PARAM, None, origin.name
        if isinstance(expr, cst.Name):  # a name bound once to a string or bool literal
            bindings = self.scope.lookup(expr.value)
            if len(bindings) == 1 and bindings[0].kind == ASSIGN and bindings[0].index < 0:
                bound = const(bindings[0].node)  # type: ignore[arg-type]
                if isinstance(bound, (str, bool)):
                    return FIXED, bound, expr.value
        if isinstance(expr, cst.Attribute) and origin.name and "." in origin.name \
                and not self.ctx.is_project_name(origin.name):
            return FIXED, None, origin.name  # a library constant: `torch.bfloat16`
        return DERIVED, None, origin.name

    def _resolve_elements(self, expr: cst.Tuple | cst.List) -> tuple[str, object, str]:
        """`betas=(beta1, beta2)`: each element resolved. All fixed: the tuple's value. Fixed values and
        options: OPTION, with the options' names in `ref` (each followed by a comma, empty for a fixed element) and the
        fixed elements' values in `value`, for the card to complete with the options' defaults."""
        elements = [e.value for e in expr.elements if isinstance(e, cst.Element)]
        if not elements or len(elements) != len(expr.elements) or len(elements) > 8:
            return DERIVED, None, ""
        resolved = [self.resolve(element) for element in elements]
        if any(kind not in (FIXED, OPTION) or (kind == FIXED and not isinstance(value, (int, float)))
               for kind, value, _ in resolved):
            return DERIVED, None, ""
        values = tuple(value for _, value, _ in resolved)
        if all(kind == FIXED for kind, _, _ in resolved):
            return FIXED, values, ""
        return OPTION, values, ",".join(ref if kind == OPTION else "" for kind, _, ref in resolved) + ","

    def _cli_function(self) -> bool:
        function = self.scope.function()
        if function is None:
            return False
        for deco in function.decorators:
            target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            name = self.ctx.names.qualify(target) or dotted(target) or ""
            if name.startswith(("click.", "typer.")) or name.endswith((".command", ".option")):
                return True
        return False

    def _hparams_default(self, expr: cst.BaseExpression, path: str) -> tuple[str, object, str] | None:
        """Lightning's `self.hparams.lr` after `save_hyperparameters()`: the default of `__init__`'s `lr`."""
        if not (path.startswith("hparams.") and path.count(".") == 1 and self.stack):
            return None
        owner = self.ctx.names.classes.get(self.stack[0])
        body = owner.body.body if owner is not None and isinstance(owner.body, cst.IndentedBlock) else ()
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
                for param in (*stmt.params.params, *stmt.params.kwonly_params):
                    if param.name.value == path.split(".")[1] and param.default is not None:
                        kind, value, _ = self.resolve(param.default)
                        if kind == FIXED:
                            return FIXED, value, f"default of {self.stack[0]}({param.name.value}=…)"
        return None

    @staticmethod
    def _field_path(expr: cst.BaseExpression) -> str:
        parts: list[str] = []
        while isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        return ".".join(reversed(parts))

    def add(self, section: str, name: str, label: str, node: cst.CSTNode, expr: cst.BaseExpression | None = None,
            kind: str = PRESENT, value: object = None, ref: str = "", code: str | None = None) -> Item | None:
        key = (section, name, label, id(node), id(expr))
        if key in self._seen:
            return None
        self._seen.add(key)
        if expr is not None:
            kind, value, ref = self.resolve(expr)
            code = self.code(expr) if code is None else code
        item = Item(section, name, label, code if code is not None else self.code(node), kind, value, ref,
                    self.ctx.loc(node), self.scope_name())
        self.facts.items.append(item)
        return item

    # --- statements --------------------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> bool:
        self.configs.on_if(node, self.scope_name())
        test = node.test
        if (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == "__name__"
                and self.scope.parent is None):
            self.facts.entry = True
        return True

    def visit_Assign(self, node: cst.Assign) -> bool:
        self.configs.on_assign(node, self.scope_name())
        self.configs.on_bool_default(node, self.scope_name())
        target = node.targets[0].target if len(node.targets) == 1 else None
        name = target.value if isinstance(target, cst.Name) else ""
        self._target = name
        value = node.value
        if isinstance(target, cst.Attribute) and self.scope.parent is not None:
            self._changed(target, node)
        if isinstance(value, cst.Call):  # `acc1 = validate(val_loader, ...)`: what a result came from
            func = value.func
            callee = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            for element in _targets(node):
                if callee:
                    self._results[element] = callee
        else:  # `latest_metric = eval_metrics[eval_metric]`: the result passes on
            source = next((self._results[n] for n in _names_in(value) if n in self._results), None)
            for element in _targets(node) if source else ():
                self._results.setdefault(element, source)
        if any(BEST_NAME.search(t) for t in _targets(node)):  # `best_acc = max(acc1, best_acc)`
            self._selects(value)
        if name and vocab.MODEL_NAMES.match(name) and isinstance(value, cst.Call):
            self._model(node, value)
        if name and isinstance(value, cst.Lambda) and schedule_shape.is_schedule_function(name):
            self._shape(value, node, name, self.scope_name())
        if name and self.scope.parent is None:
            found = vocab.name_field(name)
            if found is not None and not isinstance(value, (cst.Call, cst.Lambda)):
                section, label = found
                item = self.add(section, name, label, node, value)
                if item is not None and self.facts.globals_are_options and item.kind == FIXED:
                    item.kind, item.ref = OPTION, name
                    self.facts.options.append(OptionInfo(name, name, item.value, item.loc, (name.lower(),)))
        self.visit(value)
        self._target = ""
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if node.value is not None:
            self.configs.on_assign(node, self.scope_name())
        return True

    def on_class(self, node: cst.ClassDef) -> None:
        self.configs.on_class(node, self.scope_name())

    def visit_Dict(self, node: cst.Dict) -> bool:
        """A parameter group, `{"params": decay, "weight_decay": weight_decay}`: its own weight decay, learning
        rate or momentum."""
        self.configs.on_dict(node, self.scope_name())
        keys = {const(e.key): e.value for e in node.elements if isinstance(e, cst.DictElement)}
        if "params" not in keys:
            return True
        for key, value in keys.items():
            found = vocab.name_field(key) if isinstance(key, str) and key != "params" else None
            if found is not None and found[0] in ("optimizer", "regularisation"):
                self.add(found[0], f"group:{key}", f"{found[1]} (parameter group)", value, value)
        return True

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        names = _names_in(node)
        if any(BEST_NAME.search(name) for name in names):  # `is_best = acc1 > best_acc1`
            self._selects(node)
        return True

    def _selects(self, expr: cst.CSTNode) -> None:
        """The functions whose results are compared with a best-so-far value select the checkpoint."""
        for name in _names_in(expr):
            if name in self._results:
                self._selection.add(self._results[name])

    def visit_AugAssign(self, node: cst.AugAssign) -> bool:
        self._changed(node.target, node)
        return True

    def _changed(self, target: cst.BaseExpression, stmt: cst.CSTNode) -> None:
        """`gradient_accumulation_steps //= ddp_world_size`, `args.batch_size = int(args.batch_size / ngpus)`: a
        value the card shows is changed at run time."""
        name = target.attr.value if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
            else target.value if isinstance(target, cst.Name) else ""
        found = vocab.name_field(name) if name else None
        if found is None or found[0] not in ("batch", "optimizer", "length", "schedule", "warmup"):
            return
        if isinstance(target, cst.Name) and not isinstance(stmt, cst.AugAssign):
            return
        self.add(found[0], f"changed:{name}", f"{found[1]} ({name}), changed at run time", stmt,
                 kind=DERIVED, code=self.code(stmt))

    def _model(self, node: cst.Assign, call: cst.Call) -> None:
        call = _unchained(call)  # `model = Net().to(device)`: the constructor is `Net()`
        func = call.func
        last = func.attr.value if isinstance(func, cst.Attribute) else (func.value if isinstance(func, cst.Name) else "")
        if last and vocab.MODEL_WRAPPERS.search(last):
            return
        callee = self.ctx.names.callee(call) or dotted(func) or ""
        if callee.rsplit(".", 1)[-1] in ("DistributedDataParallel", "DataParallel", "compile"):
            return
        item = self.add("model", "constructor", "constructor", call, code=self.code(call))
        if item is None:
            return
        arch = func.slice[0].slice.value if isinstance(func, cst.Subscript) and isinstance(func.slice[0].slice, cst.Index) \
            else positional(call, 0) if callee.endswith(("create_model", "from_pretrained", "get_model")) else None
        named = arch.value if isinstance(arch, cst.Name) else arch.attr.value if isinstance(arch, cst.Attribute) else ""
        if arch is not None and (vocab.name_field(named) or ("model", "architecture"))[1] == "architecture":
            self.add("model", "arch", "architecture", call, arch)  # not nanoGPT's `from_pretrained(init_from)`

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        short = node.name.value
        if schedule_shape.is_schedule_function(short):
            self._shape(node, node.name, short, qualified)
        if any(item.kind == PARAM and item.scope == qualified for item in self.facts.items):
            self.facts.signatures[short] = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        if vocab.EVAL_FUNCTIONS.match(node.name.value):
            self.add("evaluation", "function", "evaluation function", node.name, code=f"{node.name.value}()")

    def _shape(self, function: cst.FunctionDef | cst.Lambda, at: cst.CSTNode, name: str, scope: str) -> None:
        """`get_lr(it)` computes a linear warm-up then a cosine decay: the card names the shape."""
        found = schedule_shape.shape(function)
        if found:
            item = self.add("schedule", f"shape:{name}", f"shape ({name}())" if name != "lambda" else "shape (lambda)",
                            at, code=found)
            if item is not None:
                item.scope = scope

    def visit_For(self, node: cst.For) -> bool:
        target = node.target
        it = node.iter
        if isinstance(target, cst.Name) and "epoch" in target.value.lower() and isinstance(it, cst.Call) \
                and dotted(it.func) == "range" and it.args:
            stop = positional(it, 1) if positional(it, 1) is not None else positional(it, 0)
            if stop is not None:
                self.add("length", "epochs-loop", "epochs (loop bound)", it, stop)
        if isinstance(it, cst.Name):  # `for batch in train_loader:`
            self._passed.setdefault(it.value, []).append((f"iterated in {self.scope_name().rsplit('.', 1)[-1]}", ""))
        return True

    # --- calls -------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        callee = self.ctx.names.callee(node) or dotted(func) or ""
        self.configs.on_call(node, self.ctx.names.callee(node), self.scope_name())
        last = func.attr.value if isinstance(func, cst.Attribute) else callee.rsplit(".", 1)[-1]
        if last:
            self.facts.calls.add(last)
            if not callee.split(".", 1)[0] in ("torch", "numpy", "os", "math", "print", "len", "range") and node.args \
                    and len(node.args) <= 12 and not canonical(callee):
                self._call_site(node)
        if last in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "dropout", "DropPath", "drop_path") \
                and callee.split(".", 1)[0] in ("torch", "timm"):
            arg = keyword(node, "p", "drop_prob") or positional(node, 0)
            label = "drop-path (stochastic depth)" if "ath" in last else "dropout"
            if arg is not None:
                self.add("regularisation", last, f"{label} ({last})", node, arg)
            elif last[0].isupper():
                self.add("regularisation", last, f"{label} ({last})", node, kind=DEFAULT, value=0.5 if "ath" not in last
                         else 0.0, code="(not given)")
        if last == "main" and callee.split(".", 1)[0] == "hydra":
            path, name = keyword(node, "config_path"), keyword(node, "config_name")
            self.facts.hydra = (const(path) if path is not None and isinstance(const(path), str) else "",
                                const(name) if name is not None and isinstance(const(name), str) else "config")
        option = option_of_call(node, self.ctx.names)
        if option is not None:
            default = option.constant if option.default is None else option.default
            if default is None and option.action in ("store_true", "store_false"):
                default = option.action == "store_false"  # argparse's implicit default
            self.facts.options.append(OptionInfo(option.dest, option.name, default, self.ctx.loc(node), option.aliases,
                                                 option.help))
            if option.dest.lower() in ("config", "config_file", "cfg", "config_path"):
                self.facts.config_option = option.dest
            return True
        if last in ("LambdaLR", "MultiplicativeLR"):
            given = keyword(node, "lr_lambda") or positional(node, 1)
            if isinstance(given, cst.Lambda):
                self._shape(given, node, "lambda", self.scope_name())
        handled: set[str] = set()
        api = canonical(callee)
        if api is not None:
            handled = self._api(node, api)
        elif last.endswith(("Loss", "CrossEntropy")) and callee.split(".", 1)[0] in ("torch", "timm", "transformers"):
            self.add("loss", last, last, node, code=last)  # a loss the HPARAM table has no slots for
        elif callee.startswith("torch.nn.functional.") and (last.endswith("_loss") or last in FUNCTIONAL_LOSSES):
            function = self.scope_name().rsplit(".", 1)[-1] if self.scope.function() is not None else ""
            self.add("loss", last, f"{last} (in {function}())" if function else last, node, code=last)  # `F.nll_loss`
        elif last in vocab.AUGMENTATIONS and callee.split(".", 1)[0] in vocab.AUG_LIBRARIES:
            self.add("augmentation", last, vocab.AUGMENTATIONS[last], node, code=self.code(node))
        if callee in vocab.SEED_CALLS or vocab.SEED_FUNCTION.search(last):
            arg = positional(node, 0) or keyword(node, "seed")
            if arg is not None:
                self.add("seed", callee or last, callee or last, node, arg)
                handled.add("seed")
        if last in vocab.AMP_CALLS and ("amp" in callee or "autocast" in callee or "timm" in callee):
            self.add("precision", last, vocab.AMP_CALLS[last], node, code=self.code(node))
        if last in vocab.EMA_CALLS and api is None and ("swa" in callee or "ema" in callee.lower() or "timm" in callee):
            self.add("ema", last, vocab.EMA_CALLS[last], node, code=self.code(node))
        if last == "backward" or (last in ("fit", "train") and isinstance(func, cst.Attribute)
                                  and "trainer" in (dotted(func.value) or "").lower()):
            self.facts.trains = True
            if last == "backward" and self.scope.parent is None:
                self.facts.entry = True  # a training loop at module level (nanoGPT)
        if last in vocab.TRAINERS and callee.split(".", 1)[0] in ("lightning", "pytorch_lightning", "transformers", "trl"):
            self.facts.trains = True
        if vocab.METRICS.match(last):
            self.add("evaluation", f"metric:{last}", "metric", node, code=self.code(node))
        if vocab.DATA_CALLS.search(last):
            self._data_call(node, last)
        self._keywords(node, callee, last, handled)
        self._note_passed(node, last)
        return True

    def _call_site(self, call: cst.Call) -> None:
        site = self.ctx.calls.of(call, self.scope_name(), RecipeCall, located=False)
        for arg in call.args:
            if arg.star:
                continue
            kind, value, ref = self.resolve(arg.value)
            resolved = Argument(kind, value, ref, self.code(arg.value))
            if arg.keyword is None:
                site.args.append(resolved)
            else:
                site.named[arg.keyword.value] = resolved
        self.facts.call_sites.append(site)

    def _api(self, call: cst.Call, api: Api) -> set[str]:
        section = api_section(api)
        if section != "trainer":
            self.add(section, api.short, api.short, call, code=api.short)
        if section == "optimizer":
            self.facts.trains = True
        starred = any(arg.star == "**" for arg in call.args)
        if section == "optimizer" and api.slots and api.slots[0].name == "params":
            params = positional(call, 0) or keyword(call, "params")
            from_parameters = isinstance(params, cst.Call) and (dotted(params.func) or "").endswith("parameters")
            starred = starred or not from_parameters  # param groups may set any of the defaults
        handled: set[str] = set()
        for index, slot in enumerate(api.slots):
            if not slot.label:
                continue
            handled.add(slot.name)
            expr = keyword(call, slot.name) or (None if slot.keyword_only else positional(call, index))
            target = slot_section(slot.name, slot.concept, section)
            label = f"{api.short} {slot.label}" if section != "trainer" else slot.label
            if api.qualified == "numpy.random.beta":  # hand-written mixup: `lam = np.random.beta(alpha, alpha)`
                first = keyword(call, "a") or positional(call, 0)
                if index == 1 and expr is not None and first is not None and self.code(expr) == self.code(first):
                    continue  # Beta(alpha, alpha): one value
                function = self.scope_name().rsplit(".", 1)[-1]
                where = f" in {function}()" if self.scope.function() is not None else ""
                label = f"mixup alpha (np.random.beta{where})" if index == 0 else f"mixup beta (np.random.beta{where})"
            if expr is not None:
                self.add(target, slot.concept or slot.name, label, expr, expr)
            elif slot.default not in (REQUIRED, None) and not starred:
                self.add(target, slot.concept or slot.name, label, call, kind=DEFAULT, value=slot.default,
                         code="(not given)")
        if starred:
            for arg in call.args:
                if arg.star == "**":
                    self.add(section if section != "trainer" else "optimizer", f"{api.short}-kwargs",
                             f"{api.short} arguments", arg.value, kind=DERIVED, code=f"**{self.code(arg.value)}")
        return handled

    def _keywords(self, call: cst.Call, callee: str, last: str, handled: set[str]) -> None:
        choice_call = any(word in last for word in CHOICE_CALLS) or any(word in callee for word in CHOICE_CALLS)
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value in handled:
                continue
            name = arg.keyword.value
            found = vocab.name_field(name)
            if found is None or (name in AMBIGUOUS and not choice_call) or name == "model":
                continue
            section, label = found
            if isinstance(arg.value, cst.Name) and self.resolve(arg.value)[0] in (DERIVED, PARAM):
                continue  # plumbing: `train_one_epoch(..., lr_scheduler=lr_scheduler)`, `loader(dataset=dataset_train)`
            if name == "batch_size" and self._held_out_loader(call):
                label = "validation batch size"
            if section == "evaluation" and name == "monitor" and "Checkpoint" not in last and "Stopping" not in last:
                continue
            self.add(section, name, f"{label} ({last})" if last and last != "dict" else label, arg.value, arg.value)

    def _held_out_loader(self, call: cst.Call) -> bool:
        first = positional(call, 0) or keyword(call, "dataset")
        names = [self._target, first.value if isinstance(first, cst.Name) else ""]
        return any(name and name.lower().startswith(("val", "test", "eval", "dev")) for name in names)

    # --- data splits -------------------------------------------------------------------------------
    def _data_call(self, call: cst.Call, last: str) -> None:
        split = ""
        train = keyword(call, "train")
        if train is not None and isinstance(const(train), bool):
            split = "train" if const(train) else "test"
        for arg in call.args:
            if split:
                break
            if arg.keyword is not None and arg.keyword.value not in ("split", "subset", "image_set", "mode", "root",
                                                                     "split_name", "data_dir", "path"):
                continue
            split = _split_word(arg.value)
        source = positional(call, 0) or keyword(call, "dataset")
        if not split and isinstance(source, cst.Name) and source.value in self._data:  # a loader of a known split
            split = self._data[source.value][2]
        if not split and self._target:
            split = next((v for k, v in vocab.SPLIT_WORDS.items() if self._target.lower().startswith(k)), "")
        target = self._target or ""
        chosen = keyword(call, "split", "subset", "image_set", "split_name")
        if chosen is not None and const(chosen) is None:  # `split=args.train_split`: the option says which
            base = f"{target or last} split"
            item = self.add("data", f"split:{target or last}", base, chosen, chosen)
        elif split:
            base = f"{split} split" + (f" ({target})" if target else "")
            item = self.add("data", f"{split}:{target or last}", base, call, code=self.code(call))
        else:
            return
        if item is not None and target:
            self._data[target] = (item, base, split)

    def _note_passed(self, call: cst.Call, last: str) -> None:
        if last in ("enumerate", "iter", "tqdm", "zip"):  # `for x in enumerate(loader)`: iterated here
            last = f"iterated in {self.scope_name().rsplit('.', 1)[-1]}"
        for arg in call.args:
            if isinstance(arg.value, cst.Name):
                self._passed.setdefault(arg.value.value, []).append((last, "" if last.startswith("iterated in") else self._target))

    def finish(self) -> RecipeFacts:
        for name, (item, base, _) in self._data.items():
            uses: list[str] = []
            frontier, seen = [name], set()
            while frontier:
                current = frontier.pop()
                if current in seen:
                    continue
                seen.add(current)
                for callee, target in self._passed.get(current, ()):
                    if vocab.DATA_CALLS.search(callee) or callee in ("Subset", "DistributedSampler"):
                        if target:
                            frontier.append(target)
                    elif callee and callee not in uses and callee not in ("len", "print", "iter", "enumerate", "next"):
                        uses.append(callee)
            shown = [f"{use}()" if use.startswith("iterated in") else f"passed to {use}()" for use in uses[:4]]
            if any(use in self._selection for use in uses):
                shown.append("selects the checkpoint (its result is compared with the best so far)")
            item.label = base + (f": {', '.join(shown)}" if shown else "")
        return self.facts


def _unchained(call: cst.Call) -> cst.Call:
    """The call a chain of wrapper methods starts from: `Net().to(device).half()` -> `Net()`."""
    while isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Call) \
            and vocab.MODEL_WRAPPERS.search(call.func.attr.value):
        call = call.func.value
    return call


def _targets(node: cst.Assign) -> list[str]:
    found: list[str] = []
    for target in node.targets:
        elements = target.target.elements if isinstance(target.target, (cst.Tuple, cst.List)) else [target.target]
        for element in elements:
            inner = element.value if isinstance(element, cst.Element) else element
            if isinstance(inner, cst.Name):
                found.append(inner.value)
    return found


def _names_in(expr: cst.CSTNode) -> list[str]:
    from ..core.walk import walk

    return [node.value for node in walk(expr) if isinstance(node, cst.Name)]


def _split_word(expr: cst.BaseExpression, depth: int = 0) -> str:
    text = const(expr)
    if isinstance(text, str):
        stem = text.lower().rsplit("/", 1)[-1].split(".", 1)[0]
        return vocab.SPLIT_WORDS.get(stem, "")
    if depth < 2 and isinstance(expr, cst.Call):
        for arg in expr.args:
            found = _split_word(arg.value, depth + 1)
            if found:
                return found
    return ""


@extractor("recipe")
def extract_recipe(ctx: ModuleContext) -> RecipeFacts | None:
    if not any(word in ctx.text for word in TRIGGERS):
        # no training choice here, but a config module (yacs defaults, a config dict) may set the values that
        # the entry point reads: its config values alone, in the one walk of this module
        values = collect(ctx)
        return RecipeFacts(config=values) if values.values else None
    visitor = _RecipeVisitor(ctx)
    visitor.visit(ctx.module)
    facts = visitor.finish()
    facts.config = visitor.configs.facts
    return facts if (facts.items or facts.options or facts.config.values) else None
