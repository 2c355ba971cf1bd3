"""HPARAM facts of one module: the literals that set hyper-parameters, and whether each is documented.

Where hyper-parameters sit (recognised by qualified name, see hparam_apis.py): optimiser, scheduler, loss,
clipping, EMA and mixup arguments (positional or keyword, param-group dicts and edits); in the loop: loss
coefficients, learning-rate changes, epoch thresholds of a change, schedule lambdas. A project function
whose parameter reaches one of these is a wrapper (`Wrapper`); literals passed to project functions are kept
(`HparamCall`, core/calls.py's record) so that the project phase, which sees every module, can tell wrappers' call sites.

A value is documented when a comment that says why sits on its statement or the line above, when the
enclosing function's docstring names it, when a string statement stands just above, or when it is a named
constant whose definition says why (see origins.py). Values from options, configs or parameters are not
literals and never reach here; values equal to the library default are dropped.
"""
from __future__ import annotations

import re

import libcst as cst

from ...context import ModuleContext
from ...core.calls import argument_keys
from ...core.walk import walk
from ...core import values
from .apis import CONCEPT_LABELS, OPTION_WORDS, REQUIRED, Api, Slot, canonical, concept_of, hparam_key
from ...core.config_model import CONFIG_CALL, ConfigCollector, ConfigHandlers, key_path
from .facts import (ConfigRead, FunctionDefault, HparamCall, HparamFacts, HparamStatement, HparamValue, OptionDef, RecipeClass,
                    RecipeDefault, Wrapper, WrapperArg)
from ...core.origins import (Origin, OriginKind, Origins, comments_of, docstring_of, fields_of, number,
                      option_of_call, says_why, same_value, OPTION_ROOTS, unpacked_constant, show, statements, string_above, _is_config_class)
from .syntax import (FORWARDING_OPTIMIZERS, NOT_RECIPE, acts, is_read, logging_call, read_past, shape_exponents, LOGGED, PENALTY_NAME, PIXEL, TRIGGERS, averages, changes_lr,
                            combined_terms, is_counter, loss_like, literal_factors, lr_target, reference_batch, moving_average_weight, name_of, numbers_of,
                            one_minus, opens_body, over_weights, sum_terms, trivial, unwrap_tensor)
from ...core.scopes import ASSIGN, LOOP, PARAM, Handlers
from ...core.walkers import walked
from ...core.values import str_value
from ...core.names import dotted

# Parameter and keyword names that may carry a hyper-parameter through a project function (`make_opt(lr=...)`);
# others (`drop_rate`, `norm_layer`, `num_classes`) are the model's, and keeping them would only grow the facts.
HP_KEYWORD = re.compile(r"lr|learning|momentum|decay|gamma|milestone|alpha|beta|eps|smooth|margin|clip|"
                        r"warm|epoch|step|temp|tau|lambda|lam|coef|factor|max_norm|^wd$|weight_decay|loss_weight", re.I)


class _Origins(Origins):
    """The shared resolver, plus constants bound by unpacking a literal tuple (`b1, b2 = 0.5, 0.9`)."""

    def _name(self, name, scope, depth):
        found = super()._name(name, scope, depth)
        if found.kind == OriginKind.DERIVED:
            return unpacked_constant(self, name, scope) or found
        return found


class _HparamVisitor(Handlers):
    """HPARAM's handlers in the module's one walk (core/walkers.py): a statement, a block, a branch or a loop
    sets its state in `visit_` and restores it in `leave_`."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.origins = _Origins(ctx)
        self.facts = HparamFacts()
        self.stmt: cst.CSTNode = ctx.module
        self.body: list = list(ctx.module.body)
        self.module_body = self.body
        self.ordinal = 0
        self.key = 0
        self.epoch_branch = 0  # depth of enclosing `if epoch ...:` bodies that change the learning rate
        self.group_vars: set[str] = set()  # loop variables over `optimizer.param_groups`
        self.weight_loop = 0  # depth of enclosing loops over a model's parameters or state dict
        self._statements: dict[int, HparamStatement] = {}
        self._seen: set[int] = set()  # literal nodes already reported (a constant used twice, nested patterns)
        self._function_bodies: list[tuple[cst.FunctionDef, str]] = []
        self._pending: list[tuple[HparamValue, str, cst.CSTNode]] = []
        self._helps: dict[str, str] = {}  # option dest -> its help text
        self._comments: dict[int, list[str]] = {}  # statement -> its comments
        self.in_main = False  # inside the module's `if __name__ == "__main__":` block
        self.loops: list[cst.CSTNode] = []  # enclosing for/while loops
        self._definitions: dict[int, tuple[HparamValue, cst.CSTNode | None]] = {}  # a constant's literal -> its value
        self._definition_keys: dict[int, int] = {}  # a constant's statement -> its statement key
        self._stored: set[int] = set()  # attribute nodes written, not read
        self._callees: set[int] = set()  # attribute nodes called (`F.dropout`)
        self.configs = ConfigCollector(ctx, want=hparam_key)  # the config values of hyper-parameter keys
        self._loaded: dict[str, dict[str, int]] = {}  # scope -> config objects read from a file there -> statement
        self.conditional = 0  # depth of enclosing `if`s (not the main guard) and loops
        self._outer: list[tuple[cst.CSTNode, int]] = []  # the enclosing statements' (stmt, key)
        self._undo: list[int | None] = []  # per enclosing `if` or `for`: its epoch thresholds or weight loops
        self._bodies: list[list] = []  # the enclosing blocks' outer `body`
        self._loading: bool | None = None  # in `name = call(...)`: has a call in it read a config file (else None)

    def _definition_key(self, definition: cst.CSTNode) -> int:
        """The statement key of a constant's definition (keys above any ordinal: one finding per definition)."""
        key = self._definition_keys.get(id(definition))
        if key is None:
            key = self._definition_keys[id(definition)] = 10_000_000 + len(self._definition_keys)
        return key

    # --- statements ---------------------------------------------------------------------------------
    def _enter(self, node: cst.CSTNode) -> None:
        """Enter a statement: what is found in it belongs to it (one finding per statement)."""
        self._outer.append((self.stmt, self.key))
        self.ordinal += 1
        self.stmt, self.key = node, self.ordinal

    def _leave(self, node: cst.CSTNode) -> None:
        self.stmt, self.key = self._outer.pop()

    visit_SimpleStatementLine = visit_With = _enter
    leave_SimpleStatementLine = leave_With = _leave

    def scope_name(self) -> str:
        name = super().scope_name()
        return "<main>" if name == "<module>" and self.in_main else name

    def visit_If(self, node: cst.If) -> None:
        self.configs.on_if(node, self.scope_name())
        if not self.stack and _is_main_guard(node.test):
            self.in_main = self.facts.demo = True
            self._enter(node)
            self._undo.append(None)
            return
        self._early_stop(node)
        thresholds = self._epoch_threshold(node)
        self.epoch_branch += thresholds
        self.conditional += 1
        self._enter(node)
        self._undo.append(thresholds)

    def leave_If(self, node: cst.If) -> None:
        self._leave(node)
        thresholds = self._undo.pop()
        if thresholds is None:
            self.in_main = False
        else:
            self.conditional -= 1
            self.epoch_branch -= thresholds

    def visit_For(self, node: cst.For) -> None:
        it = node.iter.value if isinstance(node.iter, cst.Subscript) else node.iter
        if isinstance(it, cst.Attribute) and it.attr.value == "param_groups" and isinstance(node.target, cst.Name):
            self.group_vars.add(node.target.value)
        weights = over_weights(node.iter)
        self.weight_loop += weights
        self._undo.append(weights)
        self.visit_While(node)

    def leave_For(self, node: cst.For) -> None:
        self.leave_While(node)
        self.weight_loop -= self._undo.pop()

    def visit_While(self, node: cst.CSTNode) -> None:
        self.loops.append(node)
        self.conditional += 1
        self._enter(node)

    def leave_While(self, node: cst.CSTNode) -> None:
        self._leave(node)
        self.conditional -= 1
        self.loops.pop()

    def _loop_variable(self, expr: cst.BaseExpression) -> bool:
        """A name bound by a `for` (a batch index `ii`, whatever it is called): counting, not measuring."""
        return isinstance(expr, cst.Name) and any(b.kind == LOOP for b in self.scope.lookup(expr.value))

    def _early_stop(self, node: cst.If) -> None:
        """`if robust_acc - prev_acc < -0.2: break` in a loop that trains: the literal a metric is compared
        with to stop the training is an early-stopping threshold (a step counter's limit is not: `if i > 10`)."""
        if not self.loops or not isinstance(node.body, cst.IndentedBlock) or not node.body.body:
            return
        first = node.body.body[0]
        if not (isinstance(first, cst.SimpleStatementLine) and any(isinstance(s, cst.Break) for s in first.body)):
            return
        compare = node.test
        if not isinstance(compare, cst.Comparison) or len(compare.comparisons) != 1:
            return
        if not isinstance(compare.comparisons[0].operator, (cst.LessThan, cst.GreaterThan, cst.LessThanEqual,
                                                            cst.GreaterThanEqual)):
            return  # a threshold is crossed, not met (`if ii == 3: break` ends a demo after three batches)
        sides = [compare.left, compare.comparisons[0].comparator]
        if any(is_counter(side) or self._loop_variable(side) for side in sides) or any(
                isinstance(n, cst.Call) for side in sides for n in walk(side)):
            return
        literals = [(side, self.origins.of(side, self.scope)) for side in sides]
        found = [(side, o) for side, o in literals if o.is_number and not trivial(o.value)]
        if len(found) != 1 or not _trains(self.loops[-1]):
            return
        side, origin = found[0]
        self._add(origin, f"stop when {self._text(compare)}", "early-stopping threshold", "",
                  ["early", "stop", "stopping", "threshold"], node, self.ordinal + 1, use=side)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._bodies.append(self.body)
        self.body = list(node.body)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.body = self._bodies.pop()

    def _function_defaults(self, node: cst.FunctionDef, qualified: str) -> None:
        """Numeric defaults of the function's parameters that may set a hyper-parameter (floats, or names
        that say so): the project phase keeps those of wrapper parameters that a call leaves in place."""
        if node.name.value.lower().startswith(("test", "bench")) or self._in_test() or self.scope.is_class:
            return  # (a method's calls go through instances: their arguments are not counted here)
        doc = docstring_of(node).lower()
        positional = [*node.params.posonly_params, *node.params.params]
        for index, param in enumerate([*positional, *node.params.kwonly_params]):
            if param.default is None or NOT_RECIPE.search(param.name.value):
                continue
            value = number(param.default)
            if value is None or trivial(value) or isinstance(value, tuple):
                continue
            if not (isinstance(value, float) or HP_KEYWORD.search(param.name.value)):
                continue
            text = self.ctx.module.code_for_node(param.default)
            self.facts.function_defaults.append(FunctionDefault(
                qualified, param.name.value, index if index < len(positional) else -1, value, text,
                self.ctx.loc(param.default), bool(doc) and (_states(doc, text, value) or bool(DOC_REASON.search(doc)))))

    def on_function(self, node: cst.FunctionDef, qualified: str) -> None:
        self._function_defaults(node, qualified)
        if not self.stack and not node.decorators:  # (a decorator may register it: it is used)
            self.facts.functions.append(qualified)
        wrapped = [w for w in self.facts.wrappers if w.function == qualified]
        if not wrapped:
            return
        params = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        self.facts.signatures[qualified] = params
        if node.name.value == "__init__" and self.scope.is_class and params:
            owner = qualified.rsplit(".", 1)[0]  # `Trainer(lr=0.1)` calls `Trainer.__init__(self, lr)`
            self.facts.signatures[owner] = params[1:]
            for w in wrapped:
                self.facts.wrappers.append(Wrapper(owner, w.param, w.label, w.concept, w.default, w.callee,
                                                   w.callee_index, w.callee_keyword))

    def _recipe_class(self, node: cst.ClassDef) -> None:
        """A project optimiser, scheduler or loss class: its constructor's numeric defaults are the values
        every call that does not pass them trains with (a LARS class's `momentum=0.9`)."""
        bases = [(self.ctx.names.qualify(b.value) or dotted(b.value) or "").rsplit(".", 1)[-1] for b in node.bases]
        kind = next((k for k, pattern in _RECIPE_BASES if any(pattern.search(b) for b in bases)), None)
        if kind is None and node.name.value.endswith("Loss") and bases:
            kind = "loss"
        if kind is None or not isinstance(node.body, cst.IndentedBlock):
            return
        init = next((s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
        if init is None:
            return
        qualified = ".".join([self.module_name, *self.stack, node.name.value])
        params = [p.name.value for p in (*init.params.posonly_params, *init.params.params)][1:]
        found = RecipeClass(qualified, kind, params)
        doc = " ".join([docstring_of(node), docstring_of(init)]).lower()
        origin = docstring_of(self.ctx.module).lower()
        if PROVENANCE.search(origin):  # a vendored module (`From: https://github.com/...`): the upstream's defaults
            doc = f"{doc} {origin}"
        for param in (*init.params.posonly_params, *init.params.params, *init.params.kwonly_params):
            name = param.name.value
            if param.default is None or NOT_RECIPE.search(name) or (kind == "loss" and name == "eps"):
                continue
            value = number(param.default)
            if value is None or trivial(value) or isinstance(value, tuple):
                continue
            if kind == "loss" and not (isinstance(value, float) or HP_KEYWORD.search(name)):
                continue  # an integer default of a loss module is a size (`chn_mid=32`), not a weight
            text = self.ctx.module.code_for_node(param.default)
            documented = bool(doc) and (_states(doc, text, value) or bool(DOC_REASON.search(doc)))
            found.defaults.append(RecipeDefault(name, text, self.ctx.loc(param.default), documented))
        self.facts.recipe_classes.append(found)

    def on_class(self, node: cst.ClassDef) -> None:
        self.configs.on_class(node, self.scope_name())
        if not self.stack:
            self.facts.library = True
        self._recipe_class(node)
        if _is_config_class(node, self.ctx):
            for option in fields_of(node):
                if option.dest.lower() in OPTION_WORDS:
                    self.facts.options.append(OptionDef(self.ctx.loc(option.node), option.name, option.aliases))

    # --- recording ----------------------------------------------------------------------------------
    def _statement(self, key: int | None = None) -> HparamStatement:
        key = self.key if key is None else key
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = HparamStatement(key, self.scope_name())
            if not self._in_test():
                self.facts.statements.append(found)  # a test or benchmark function's values are not a recipe
        return found

    def _in_test(self) -> bool:
        """Inside a function or class named as a test or a benchmark (`test_speed`, `benchmark_layers`)?"""
        return any(part.lower().startswith(("test", "bench")) for part in self.stack)

    def _text(self, node: cst.CSTNode) -> str:
        text = self.ctx.module.code_for_node(node).strip()
        if "\n" in text:  # a message is one line: a call spanning lines by its callee, the rest on one line
            callee = dotted(node.func) if isinstance(node, cst.Call) else None
            text = f"{callee}(...)" if callee else " ".join(text.split())
        return text if len(text) <= 40 else text[:37] + "..."

    def _documented(self, origin: Origin, words: list[str], stmt: cst.CSTNode, body: list) -> tuple[bool, bool]:
        """(documented, undocumented only as a bare module-level constant)."""
        bare = False
        if origin.kind == OriginKind.CONSTANT:
            # a heading that only names the block (`# Hyperparameters`) restates; one that says why documents
            if says_why(origin.comment, [*words, origin.name]) or says_why(origin.block, [*words, origin.name]):
                return True, False
            bare = origin.module_level
        comments = self._comments.get(id(stmt))
        if comments is None:
            comments = self._comments[id(stmt)] = comments_of(stmt, self.ctx.module)
        if any(says_why(c, words) for c in comments):
            return True, False
        function = self.scope.function()
        if body and string_above(body, stmt, docstring=opens_body(function, body) or body is self.module_body):
            return True, False
        doc = docstring_of(function).lower() if function is not None else ""
        if doc and origin.node is not None and _states(doc, self.ctx.module.code_for_node(origin.node), origin.value):
            return True, False  # the docstring states the value (naming what it sets only restates the code)
        if doc and DOC_REASON.search(doc) and not (origin.kind == OriginKind.CONSTANT and origin.module_level):
            return True, False  # the docstring cites where the function's values come from, or says why (its
            # own values: not a module constant it reads, whose definition says where it comes from or not)
        if origin.node is not None and body and self._logged_reason(stmt, body, origin, words):
            return True, False
        return False, bare

    def _logged_reason(self, stmt: cst.CSTNode, body: list, origin: Origin, words: list[str]) -> bool:
        """A print or log call just before or after the statement that states the value and says why
        (`logger.info("lr 0.37 as tuned on the validation split")`) documents it."""
        index = next((i for i, item in enumerate(body) if item is stmt), None)
        if index is None:
            return False
        text = self.ctx.module.code_for_node(origin.node)
        for near in body[max(0, index - 1):index + 2]:
            if near is stmt or not isinstance(near, cst.SimpleStatementLine):
                continue
            for small in near.body:
                if isinstance(small, cst.Expr) and logging_call(small.value):
                    message = " ".join(part for part in (str_value(n) if isinstance(n, cst.SimpleString) else
                                                         n.value if isinstance(n, cst.FormattedStringText) else None
                                                         for n in walk(small.value)) if part)
                    if _states(message.lower(), text, origin.value) and says_why(message, words):
                        return True
        return False

    def _add(self, origin: Origin, setting: str, label: str, concept: str, words: list[str],
             stmt: cst.CSTNode | None = None, key: int | None = None, body: list | None = None,
             use: cst.CSTNode | None = None) -> HparamValue | None:
        """Record a literal (or a named constant, reported where `use` reads it) that sets a hyper-parameter."""
        node = origin.node
        at_definition = origin.kind == OriginKind.CONSTANT and origin.definition is not None and node is not None
        if origin.kind == OriginKind.CONSTANT and use is not None and not at_definition:
            node = use
        if at_definition:
            # a named constant: one finding at its definition, every use related (not one finding per use)
            known = self._definitions.get(id(node))
            if known is not None:
                if use is not None and id(use) not in self._seen:
                    self._seen.add(id(use))
                    known[0].uses.append(self.ctx.loc(use))
                    if not known[0].documented and known[1] is not None:
                        documented, _ = self._documented(origin, words, stmt or self.stmt, self.body if body is None else body)
                        if documented:  # a use that says why documents the constant
                            known[0].documented, known[0].bare_constant = True, False
                return None
        if node is None or id(node) in self._seen:
            return None
        self._seen.add(id(node))
        documented, bare = self._documented(origin, words, stmt or self.stmt, self.body if body is None else body)
        if origin.kind == OriginKind.CONSTANT and origin.name:
            label = f"{label}; {origin.name} = {show(origin.value)}"
        value = HparamValue(self.ctx.loc(node), setting, label, concept, documented, bare and not documented)
        if at_definition:
            self._definitions[id(node)] = (value, origin.definition)
            if use is not None:
                self._seen.add(id(use))
                value.uses.append(self.ctx.loc(use))
            key = self._definition_key(origin.definition)
        self._statement(key).values.append(value)
        if not documented and origin.node is not None:  # an option's help may explain it (checked at the end)
            self._pending.append((value, self._text(origin.node), stmt or self.stmt))
        return value

    def _shown(self, origin: Origin) -> str:
        """A constant by its name, a literal as written (`3e-5`, `[30, 60]`)."""
        if origin.kind == OriginKind.CONSTANT and origin.name:
            return origin.name
        return self._text(origin.node) if origin.node is not None else show(origin.value)

    # --- calls --------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        callee = self.ctx.names.callee(node)
        self.configs.on_call(node, callee, self.scope_name())
        if self._loading is False and _reads_config_file(callee or dotted(node.func) or ""):
            self._loading = True
        if isinstance(node.func, cst.Attribute):
            self._callees.add(id(node.func))  # `F.dropout(...)` calls a function, it reads no option
            if node.func.attr.value in ("merge_from_file", "merge_from_yaml") and isinstance(node.func.value, cst.Name):
                self._loaded.setdefault(self.scope_name(), {})[node.func.value.value] = self.key  # yacs
        name = node.func.value if isinstance(node.func, cst.Name) else ""
        if name in ("vars", "asdict", "OmegaConf", "to_container") or (name == "getattr" and len(node.args) < 2):
            self.facts.reads_all_options = True
        elif name in ("getattr", "hasattr") and len(node.args) >= 2:
            key = str_value(node.args[1].value)
            if key is None:
                self.facts.reads_all_options = True  # `getattr(args, name)`: any option
            elif key.lower() in OPTION_WORDS:
                self.facts.options_read.add(key.lower())
        callee = self.ctx.names.callee(node)
        api = canonical(callee)
        if api is None and callee and callee.rsplit(".", 1)[-1] in FORWARDING_OPTIMIZERS:
            api = self._forwarded_optimizer(node, callee)
        if api is not None:
            self._api_call(node, api)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in ("add_", "lerp_"):
            self._weight_average(node)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value == "copy_" and self.weight_loop and node.args:
            decay = moving_average_weight(node.args[0].value)  # `e.copy_(0.999 * e + (1 - 0.999) * p)`
            if decay is not None:
                self._decay(decay)
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in ("clamp_", "clamp", "clip_") \
                and ".grad" in self.ctx.module.code_for_node(node.func.value) and self.function_name():
            for arg in node.args:  # `p.grad.data.clamp_(-clip_value, clip_value)`: a hand-written value clip
                inner = arg.value.expression if isinstance(arg.value, cst.UnaryOperation) else arg.value
                origin = self.origins.of(inner, self.scope)
                if origin.kind == OriginKind.PARAM:
                    self.facts.wrappers.append(Wrapper(self.function_name() or "", origin.name,
                                                       "gradient clip value", "clip"))
                    break
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in ("mul_", "div_") \
                and ".grad" in self.ctx.module.code_for_node(node.func.value) and self.function_name() and node.args:
            # `p.grad.data.mul_(theta / norm)`: a hand-written norm clip scales the gradients by its parameter
            ratio = node.args[0].value
            if isinstance(ratio, cst.BinaryOperation) and isinstance(ratio.operator, cst.Divide):
                for side in (ratio.left, ratio.right):
                    origin = self.origins.of(side, self.scope)
                    if origin.kind == OriginKind.PARAM:
                        self.facts.wrappers.append(Wrapper(self.function_name() or "", origin.name,
                                                           "gradient clip norm", "clip"))
                        break
        elif callee and self.ctx.is_project_name(callee):
            self._project_call(node, callee)
        option = option_of_call(node, self.ctx.names)
        if option is not None and option.help:
            self._helps[option.dest] = option.help
        if option is not None and set(option.aliases) & OPTION_WORDS:
            self.facts.options.append(OptionDef(self.ctx.loc(node), option.name, option.aliases))

    def _forwarded_optimizer(self, node: cst.Call, callee: str) -> Api | None:
        """`DistributedOptimizer(optim.SGD, rrefs, lr=0.05)`: the keywords are the wrapped optimiser's."""
        if not callee.startswith("torch.distributed"):
            return None
        cls = values.keyword(node, "optimizer_class") or values.positional(node, 0 if "Distributed" in callee else 1)
        inner = canonical(self.ctx.names.qualify(cls)) if isinstance(cls, (cst.Name, cst.Attribute)) else None
        if inner is None:
            return None
        return Api(inner.qualified, inner.short, tuple(Slot(s.name, s.label, s.default, s.concept, True) for s in inner.slots))

    def _arguments(self, node: cst.Call, api: Api):
        index = 0
        for arg in node.args:
            if arg.star:
                return
            if arg.keyword is not None:
                slot = api.slot(arg.keyword.value)
            else:
                slot = api.slots[index] if index < len(api.slots) and not api.slots[index].keyword_only else None
                index += 1
            if slot is not None:
                yield slot, arg.value

    def _scope_root(self) -> cst.CSTNode:
        function = self.scope.function()
        return function if function is not None else self.ctx.module

    def _unused_object(self, node: cst.Call) -> bool:
        """`opt = SGD(...)` at statement level, and the object never acts: the name is not read in its scope,
        or read only by method calls standing alone outside any loop or function (one illustrative
        `opt.step()`). An object that nothing steps in a loop or passes on (legacy code, a leftover, a demo)
        sets no hyper-parameter of any run."""
        stmt = self.stmt
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return False
        small = stmt.body[0]
        if not (isinstance(small, cst.Assign) and small.value is node and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)):
            return False
        name = small.targets[0].target.value
        function = self.scope.function()
        if function is None and not (name.startswith("_") or self.in_main or self.ctx.rel.endswith(".ipynb")):
            # a module-level object that the module never reads may be imported by another module (a
            # notebook's may not); one that the module itself only steps once by hand is a demonstration
            return is_read(self.ctx.module, name) and not acts(self.ctx.module, stmt, name)
        return not acts(function if function is not None else self.ctx.module, stmt, name)

    def _api_call(self, node: cst.Call, api: Api) -> None:
        if self._unused_object(node):
            return
        for slot, value in self._arguments(node, api):
            if slot.name == "params":
                self._param_groups(value, api)
            if slot.name == "lr_lambda":
                self._schedule_lambda(value, api)
            if not slot.label:
                continue
            origin = self.origins.of(unwrap_tensor(value), self.scope)
            label = f"{api.short} {slot.label}"
            if origin.kind == OriginKind.PARAM and self.function_name():
                self.facts.wrappers.append(Wrapper(self.function_name() or "", origin.name, label, slot.concept,
                                                   None if slot.default is REQUIRED else slot.default))
                continue
            if origin.kind in (OriginKind.OPTION, OriginKind.FIELD, OriginKind.CONFIG_KEY) and origin.name and slot.concept:
                self.facts.option_positions.add(f"{slot.concept}:{origin.name.lower()}")
                if origin.kind != OriginKind.OPTION:
                    found = key_path(unwrap_tensor(value))
                    if found is not None and found[1]:
                        self.facts.config_reads.append(ConfigRead(slot.concept, found[1], self.ctx.loc(value), self.scope_name()))
            words = [slot.name, *slot.label.split(), api.short.lower()]
            if origin.kind == OriginKind.CONFIG_KEY and origin.fallback is not None:
                fallback = self.origins.of(origin.fallback, self.scope)  # `cfg.get('clip', 5)`: the code's default
                if fallback.is_number and not trivial(fallback.value) and not same_value(fallback.value, slot.default):
                    self._add(fallback, f"{slot.name}={origin.name!r} defaulting to {self._shown(fallback)}",
                              f"{label} when the config does not set `{origin.name}`", slot.concept, words,
                              use=origin.fallback)
                continue
            if origin.kind == OriginKind.DERIVED and self._elements(unwrap_tensor(value), slot, label, words):
                continue
            if origin.kind == OriginKind.DERIVED:
                shape = shape_exponents(value)
                for factor in literal_factors(unwrap_tensor(value)):
                    found = self.origins.of(factor, self.scope)
                    if id(factor) not in shape and found.is_number and not (trivial(found.value) and not same_value(found.value, 2)):
                        # a factor of 2 on the learning rate (`args.lr * 2`) is a choice, as any other factor
                        self._add(found, f"{self._text(factor)} in {slot.name}={self._text(value)}", f"factor of the {label}",
                                  "", words, use=factor)  # it scales the value, whatever sets it: no override
                continue
            if not origin.is_number or trivial(origin.value) or same_value(origin.value, slot.default):
                continue
            self._add(origin, f"{slot.name}={self._shown(origin)}", label, slot.concept, words, use=value)

    def _elements(self, value: cst.BaseExpression, slot: Slot, label: str, words: list[str]) -> bool:
        """`betas=(b1, 0.999)`, `betas=(beta1, beta2)` with named constants: each element that a literal or a
        constant sets and that differs from the library default's element. False when an element is not a
        number (an option, a computation): the tuple is left to the other checks."""
        if not isinstance(value, (cst.Tuple, cst.List)) or not value.elements:
            return False
        parts = [self.origins.of(e.value, self.scope) for e in value.elements]
        if not all(p.is_number for p in parts):
            return False
        defaults = slot.default if isinstance(slot.default, tuple) else ()
        for i, (element, part) in enumerate(zip(value.elements, parts)):
            default = defaults[i] if i < len(defaults) else None
            if trivial(part.value) or (default is not None and same_value(part.value, default)):
                continue
            self._add(part, f"{slot.name}[{i}]={self._shown(part)}", label, slot.concept, words, use=element.value)
        return True

    def _param_groups(self, value: cst.BaseExpression, api: Api) -> None:
        if not isinstance(value, (cst.List, cst.Tuple)):
            return
        for element in value.elements:
            if not isinstance(element.value, cst.Dict):
                continue
            for item in element.value.elements:
                key = str_value(item.key) if isinstance(item, cst.DictElement) else None
                slot = api.slot(key) if key else None
                if slot is None or not slot.label:
                    continue
                origin = self.origins.of(item.value, self.scope)
                if origin.is_number and not trivial(origin.value) and not same_value(origin.value, slot.default):
                    self._add(origin, f"'{key}': {self._shown(origin)}", f"{api.short} {slot.label} of a parameter group",
                              slot.concept, [key, *slot.label.split()], use=item.value)

    def _schedule_lambda(self, value: cst.BaseExpression, api: Api) -> None:
        stmt, key, body = None, None, None
        if isinstance(value, cst.Name):
            bindings = self.scope.lookup(value.value)
            if len(bindings) != 1:
                return
            bound = bindings[0].node
            if isinstance(bound, cst.FunctionDef):
                self._function_bodies.append((bound, f"{api.short} schedule `{value.value}`"))
                return
            if not isinstance(bound, cst.Lambda):
                return
            stmt = self.origins.statement_of(bound)
            if stmt is None:
                return
            self.ordinal += 1
            value, key, body = bound, self.ordinal, []
        if isinstance(value, cst.Lambda):
            self._formula(value.body, f"{api.short} schedule factor", "lr_lambda", stmt, key, body)

    def _formula(self, expr: cst.CSTNode, label: str, name: str, stmt=None, key=None, body=None,
                 extra: tuple = ()) -> None:
        """Every non-trivial literal of a formula (not indices or slices; not the 0.5 of a half-cosine)."""
        if any(isinstance(n, cst.Name) and n.value in ("cos", "pi") for n in walk(expr)):
            extra = (*extra, 0.5)
        scaling = {id(n.right) for n in walk(expr) if isinstance(n, cst.BinaryOperation)  # `batch_size / 256`
                   and isinstance(n.operator, cst.Divide) and all(f is not n.right for f in literal_factors(n))}
        scaling |= shape_exponents(expr)  # `step ** -0.5`: the inverse-square-root schedule's shape
        scaling |= reference_batch(expr)  # `base / (4 * len(gpus)) * batch_size`: the scaling rule's reference batch
        for node in numbers_of(expr):
            value = number(node)
            if value is None or trivial(value, extra) or id(node) in scaling:
                continue
            origin = Origin(OriginKind.LITERAL, value, node=node)
            self._add(origin, f"{name}: {self._text(node)}", label, "", [name, *label.split()], stmt, key, body)

    def _weight_average(self, node: cst.Call) -> None:
        """A hand-written EMA of weights: `ema.mul_(0.999).add_(p, alpha=1 - 0.999)`, `ema.lerp_(p, 1 - 0.999)`."""
        func = node.func
        assert isinstance(func, cst.Attribute)
        if func.attr.value == "lerp_":
            weight = values.keyword(node, "weight") or values.positional(node, 1)
        else:
            receiver = func.value
            if not (isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute)
                    and receiver.func.attr.value == "mul_" and receiver.args):
                return
            weight = values.keyword(node, "alpha")
        decay = one_minus(weight)
        if decay is None:
            return
        self._decay(decay)

    def _decay(self, decay: cst.BaseExpression) -> None:
        origin = self.origins.of(decay, self.scope)
        label = "EMA decay of the weights"
        if origin.kind == OriginKind.PARAM and self.function_name():
            self.facts.wrappers.append(Wrapper(self.function_name() or "", origin.name, label, "ema_decay"))
        elif origin.is_number and not trivial(origin.value):
            self._add(origin, f"decay {self._shown(origin)}", label, "ema_decay", ["decay", "ema", "average"], use=decay)

    def _project_call(self, node: cst.Call, callee: str) -> None:
        args: list[WrapperArg] = []
        function = self.function_name()
        for key, arg in argument_keys(node):
            origin = self.origins.of(unwrap_tensor(arg.value), self.scope)
            if origin.kind == OriginKind.PARAM and function:  # any parameter: what it reaches decides
                self.facts.wrappers.append(Wrapper(function, origin.name, callee=callee,
                                                   callee_index=int(key) if key.isdigit() else -1,
                                                   callee_keyword="" if key.isdigit() else key))
                continue
            if not origin.is_number or trivial(origin.value) or origin.node is None:
                continue
            if not (isinstance(origin.value, (int, float)) or (arg.keyword is not None and HP_KEYWORD.search(key))):
                continue  # (integers too: the project phase keeps only the arguments of wrapper parameters)
            documented, _ = self._documented(origin, [key], self.stmt, self.body)
            shown = show(origin.value) if origin.kind == OriginKind.LITERAL else f"{origin.name} = {show(origin.value)}"
            args.append(WrapperArg(key, origin.value, shown, self.ctx.loc(origin.node), documented))
        if not self._in_test():  # a test's or benchmark's call of a wrapper runs no recipe
            self.facts.calls.append(self.ctx.calls.of(node, self.scope_name(), HparamCall, statement=self.key, args=args,
                                                      in_main=self.in_main))

    # --- in the loop --------------------------------------------------------------------------------
    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.configs.on_assign(node, self.scope_name())

    def visit_Assign(self, node: cst.Assign) -> None:
        self.configs.on_assign(node, self.scope_name())
        self.configs.on_bool_default(node, self.scope_name())
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
            self._loading = False  # its calls are visited next; `_loaded` is read by later statements only
            self.walker.after(node, self._loaded_at_end)
        for target in node.targets:
            self._assignment(target.target, node.value, None)
            if isinstance(target.target, cst.Attribute):
                self._stored.add(id(target.target))
                if isinstance(node.value, cst.Attribute) and node.value.attr.value == target.target.attr.value:
                    self._stored.add(id(node.value))  # `self.lr = args.lr`: stored, read only if `self.lr` is

    # --- option reads (an option that no module reads does nothing: HPARAM002) -----------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = node.attr.value.lower()
        root = node.value
        if not self.facts.takes_options and isinstance(root, cst.Name) and OPTION_ROOTS.match(root.value) \
                and any(b.kind == PARAM for b in self.scope.lookup(root.value)):
            self.facts.takes_options = True
        if name == "__dict__":
            self.facts.reads_all_options = True
        elif name in OPTION_WORDS and id(node) not in self._stored and id(node) not in self._callees:
            self.facts.options_read.add(name)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = str_value(node.slice[0].slice.value)
            if key and key.lower() in OPTION_WORDS:
                self.facts.options_read.add(key.lower())

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.star == "**" and isinstance(node.value, (cst.Name, cst.Attribute)):
            self.facts.reads_all_options = True  # `f(**args)`, `f(**cfg.optim)`

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._assignment(node.target, node.value, node.operator)

    def _option_entry(self, key: str | None, value: cst.BaseExpression) -> None:
        """`kwargs['lr'] = args.lr`, `{'betas': (args.beta1, args.beta2)}`: optimiser kwargs kept in a dict
        that an option fills: the option reaches that position."""
        concept = _DICT_CONCEPTS.get(key or "")
        if concept is None:
            return
        for element in (value.elements if isinstance(value, (cst.Tuple, cst.List)) else [value]):
            inner = element.value if isinstance(element, cst.BaseElement) else element
            origin = self.origins.of(inner, self.scope)
            if origin.kind in (OriginKind.OPTION, OriginKind.FIELD, OriginKind.CONFIG_KEY) and origin.name:
                self.facts.option_positions.add(f"{concept}:{origin.name.lower()}")

    def visit_Dict(self, node: cst.Dict) -> None:
        self.configs.on_dict(node, self.scope_name())
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                self._option_entry(str_value(element.key), element.value)

    def _assignment(self, target: cst.BaseExpression, value: cst.BaseExpression, operator) -> None:
        if self.scope.is_class:
            return  # class bodies define fields and defaults, read by the options
        if operator is None and self._config_field(target):
            return  # `Cfg = EasyDict(); Cfg.learning_rate = 0.00261`: the config's own value, whatever its name
        if operator is None and isinstance(target, cst.Subscript) and len(target.slice) == 1 \
                and isinstance(target.slice[0].slice, cst.Index):
            self._option_entry(str_value(target.slice[0].slice.value), value)
        config_set = self._config_set(target, value) if operator is None else None
        what = lr_target(target, self.group_vars)
        if config_set is not None and not what:
            path, concept, literal = config_set
            found = self._add(literal, f"{self._text(target)} = {show(literal.value)}",
                              f"{CONCEPT_LABELS.get(concept, concept)} of the loaded config", concept,
                              [path.rsplit(".", 1)[-1], *CONCEPT_LABELS.get(concept, concept).split()])
            if found is not None:
                found.config_path, found.config_only, found.config_value = path, True, literal.value
            return
        if what:
            setting, label = what
            if isinstance(target, cst.Name) and not read_past(self._scope_root(), self.stmt, target.value):
                return  # `lr = lr * 0.1` after the optimiser was built from `lr`: it reaches a print at most
            if operator is not None:
                origin = self.origins.of(value, self.scope)
                if origin.is_number and not trivial(origin.value):
                    self._add(origin, f"{setting} {self._text(operator).strip()} {self._shown(origin)}",
                              f"{label} change", "", [setting, *label.split()], use=value)  # it scales the value, whatever sets it: no override
                return
            literal = self.origins.of(value, self.scope)
            if literal.kind == OriginKind.LITERAL:
                if (isinstance(target, cst.Name) and not self.epoch_branch) or trivial(literal.value):
                    return  # `lr = 0.1`, `min_lr = 10.` (a sentinel): judged where it is used, if it is
                found = self._add(literal, f"{self._text(target)} = {show(literal.value)}", label,
                                  "lr" if "learning" in label else "", [setting, *label.split()])
                if found is not None and config_set is not None:
                    found.config_path, found.config_value = config_set[0], literal.value
                return
            if literal.kind in (OriginKind.CONSTANT, OriginKind.PARAM, OriginKind.OPTION, OriginKind.CONFIG_KEY):
                return
            self._formula(value, f"{label} formula", self._text(target))
            self._tables(value, label, self._text(target))
            self._called_schedule(value, label)
            return
        if isinstance(operator, cst.MultiplyAssign) and isinstance(target, cst.Name) and not loss_like(target) \
                and self._summed_into_loss(target.value):
            self._loss_terms(value, operator, target)  # `lbox *= 0.05` where `loss = lbox + lobj + lcls` follows
        elif loss_like(target) and not LOGGED.search(name_of(target)):
            if operator is None and PENALTY_NAME.search(name_of(target)) and isinstance(value, cst.BinaryOperation) \
                    and isinstance(value.operator, cst.Multiply):
                for coef in (value.left, value.right):  # `gradient_penalty = 10 * (norm - 1) ** 2`
                    origin = self.origins.of(coef, self.scope)
                    if origin.is_number and not trivial(origin.value, (0.5,)):
                        self._add(origin, f"{self._shown(origin)} * ...", f"weight of `{name_of(target)}`",
                                  "loss_weight", [name_of(target), "weight", "penalty"], use=coef)
                        break
                return
            self._loss_terms(value, operator, target)
        elif self.weight_loop and operator is None and not LOGGED.search(name_of(target)):
            decay = moving_average_weight(value)  # `ema = 0.999 * ema + (1 - 0.999) * p` over the parameters
            if decay is not None:
                self._decay(decay)

    def _loaded_at_end(self, node: cst.Assign) -> None:
        """`cfg = OmegaConf.load(path)`, `Config.fromfile(path)`, `yaml.safe_load(f)`, `EasyDict(json.load(f))`,
        `HParams(**json.load(f))`: the object holds a config file's values (a call in the value said so)."""
        if self._loading:
            self._loaded.setdefault(self.scope_name(), {})[node.targets[0].target.value] = self.key
        self._loading = None

    def _config_field(self, target: cst.BaseExpression) -> bool:
        """A field set on a config object built in this scope from literals (`Cfg = EasyDict()`, `dict(...)`,
        `SimpleNamespace()`, yacs `CN()`), then `Cfg.learning_rate = 0.00261`: the object is the config that
        training reads its values through (`config.learning_rate`), and this defines one of them, like a
        config class's field. Not an object built from the options (`SimpleNamespace(**vars(args))`) nor
        one read from a file (then a literal set on it replaces the file's value)."""
        if not isinstance(target, (cst.Attribute, cst.Subscript)):
            return False
        found = key_path(target)
        if found is None or found[0] == "self" or self.scope.owner(found[0]) is not self.scope:
            return False
        bindings = self.scope.lookup(found[0])
        return bool(bindings) and all(b.kind == ASSIGN and _builds_config(b.node, self.ctx) for b in bindings)

    def _config_set(self, target: cst.BaseExpression, value: cst.BaseExpression):
        """(path, concept, literal) of a hyper-parameter literal set, unconditionally, on a config object that
        this scope loaded from a file before (`cfg.merge_from_file(f); cfg.SOLVER.BASE_LR = 0.01`,
        `config = OmegaConf.load(f); config["lr"] = 3e-4`, a `@hydra.main` function's config). An evaluation
        or demo script's settings, derived values and values under a condition are not."""
        if self.conditional or self.scope.is_class or not isinstance(target, (cst.Attribute, cst.Subscript)) \
                or EVAL_SCRIPT.search(self.ctx.rel.rsplit("/", 1)[-1]):
            return None
        found = key_path(target)
        if found is None or not found[1]:
            return None
        root, path = found
        concept = concept_of(path.rsplit(".", 1)[-1])
        if concept is None:
            return None
        scopes = [self.scope_name()] + (["<module>"] if self.scope_name() == "<main>" else [])
        loaded = any(self._loaded.get(s, {}).get(root, self.key) < self.key for s in scopes) or self._hydra_config(root)
        if not loaded:
            return None
        literal = self.origins.of(value, self.scope)
        if literal.kind != OriginKind.LITERAL or not literal.is_number or trivial(literal.value):
            return None
        return path, concept, literal

    def _hydra_config(self, name: str) -> bool:
        """Is `name` the config parameter of the enclosing `@hydra.main(...)` function?"""
        function = self.scope.function()
        if function is None or not function.params.params or function.params.params[0].name.value != name:
            return False
        for decorator in function.decorators:
            call = decorator.decorator
            func = call.func if isinstance(call, cst.Call) else call
            if (self.ctx.names.qualify(func) or dotted(func) or "").endswith("hydra.main"):
                return True
        return False

    def _summed_into_loss(self, name: str) -> bool:
        """Is `name` a term of a sum assigned to a loss in the function (`loss = lbox + lobj + lcls`)?"""
        function = self.scope.function()
        if function is None:
            return False
        for node in walk(function):
            if isinstance(node, cst.Assign) and any(loss_like(t.target) for t in node.targets):
                terms = sum_terms(node.value)
                if len(terms) >= 2 and any(isinstance(t, cst.Name) and t.value == name for t in terms):
                    return True
        return False

    def _called_schedule(self, value: cst.BaseExpression, label: str) -> None:
        """`lr = lr_schedule(epoch)` with `lr_schedule = lambda t: np.interp([t], [0, epochs * 2 // 5, epochs],
        [0, lr_max, 0])[0]` (or a local `def`): the literals of each schedule it may be, reported where it is
        defined."""
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
            return
        name = value.func.value
        for binding in self.scope.lookup(name):
            bound = binding.node
            if isinstance(bound, cst.FunctionDef) and all(bound is not f for f, _ in self._function_bodies):
                self._function_bodies.append((bound, f"{label} schedule `{name}`"))
            elif binding.kind == ASSIGN and isinstance(bound, cst.Lambda):
                stmt = self.origins.statement_of(bound)
                if stmt is not None:
                    self._formula(bound.body, f"{label} schedule `{name}`", name, stmt, self._definition_key(stmt), [])

    def _tables(self, value: cst.BaseExpression, label: str, name: str) -> None:
        """A learning rate looked up in a table built earlier in the function (`lr = lr_adjust[epoch]` with
        `lr_adjust = {2: 5e-5, 4: 1e-5}` or `{epoch: args.lr * 0.5 ** epoch}`): the table's literals, reported
        where each table is built."""
        inner = value.value if isinstance(value, cst.Subscript) else None
        if not isinstance(inner, cst.Name):
            return
        for binding in self.scope.lookup(inner.value):
            if binding.kind != ASSIGN or not isinstance(binding.node, (cst.Dict, cst.List, cst.Tuple)):
                continue
            stmt = self.origins.statement_of(binding.node)
            if stmt is None:
                continue
            if self._literal_table(binding.node, inner.value, f"{name} = {self._text(value)}", label, stmt):
                continue
            self._formula(binding.node, f"{label} table", f"{inner.value} (read into {name})", stmt,
                          self._definition_key(stmt), [])

    def _literal_table(self, table: cst.CSTNode, name: str, read: str, label: str, stmt) -> bool:
        """A table of literals only (`lr_adjust = {2: 5e-5, 4: 1e-5, ...}`, `lrs = [0.1, 0.01]`): one value for the
        whole table, shown as written (the keys say when, the values what), at its first non-trivial literal."""
        if isinstance(table, cst.Dict):
            if not table.elements or not all(isinstance(e, cst.DictElement) and number(e.key) is not None
                                             and number(e.value) is not None for e in table.elements):
                return False
            parts = [number(e.key) for e in table.elements] + [number(e.value) for e in table.elements]  # type: ignore[union-attr]
            entries = [f"{self._text(e.key)}: {self._text(e.value)}" for e in table.elements]  # type: ignore[union-attr]
            shown = "{" + ", ".join(entries[:6]) + (", ..." if len(entries) > 6 else "") + "}"
            nodes = [n for e in table.elements for n in (e.key, e.value)]  # type: ignore[union-attr]
        else:
            elements = [e.value for e in table.elements]  # type: ignore[attr-defined]
            if len(elements) < 2 or not all(number(e) is not None for e in elements):
                return False
            parts = [number(e) for e in elements]
            shown = self._text(table)
            nodes = elements
        if all(trivial(v) for v in parts):
            return True
        first = min((n for n in nodes if not trivial(number(n))), key=lambda n: (self.ctx.loc(n).line, self.ctx.loc(n).column))
        for node in nodes:
            self._seen.add(id(node))
        self._seen.discard(id(first))
        origin = Origin(OriginKind.LITERAL, number(first), node=first)
        self._add(origin, f"{name} = {shown}", f"{label} table, read as `{read}`", "",
                  [name, *label.split(), "table"], stmt, self._definition_key(stmt), [])
        return True

    def _loss_terms(self, value: cst.BaseExpression, operator, target: cst.BaseExpression) -> None:
        if isinstance(operator, (cst.MultiplyAssign, cst.DivideAssign)):
            # `lbox *= 0.05`: a weight given to one loss before the losses are summed
            origin = self.origins.of(value, self.scope)
            if isinstance(operator, cst.MultiplyAssign) and origin.is_number and not trivial(origin.value, PIXEL):
                name = name_of(target) or self._text(target)
                self._add(origin, f"{name} *= {self._shown(origin)}", f"weight of `{name}` in the loss", "loss_weight",
                          [name, "weight", "loss", "scale"], use=value)
            return
        if operator is not None and not isinstance(operator, (cst.AddAssign, cst.SubtractAssign)):
            return  # `loss /= accumulation`: a scale of the whole loss, not a combination
        for node in walk(value):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("item", "detach"):
                return  # a logged number, not the training loss
        terms = combined_terms(value, accumulating=operator is not None)
        if _mean_of_terms(terms):
            return  # `0.25 * a + 0.25 * b + 0.25 * c + 0.25 * d`: the mean of n losses, not a weighting
        if operator is None and len(terms) > 1 and _uniform_coefficient(terms) is not None:
            return  # `0.5 * a + 0.5 * b + 0.5 * c`: one scale of the whole loss, not a weight between losses
        if operator is not None and isinstance(target, cst.Name) and self._uniform_accumulator(target.value, terms):
            return  # `loss = 0` then `loss += 0.5 * mse(...)` on every pass and branch: a scale of the whole loss
        for node in terms:
            if not (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply)):
                continue
            for coef, term in ((node.left, node.right), (node.right, node.left)):
                if not (loss_like(term) or isinstance(term, cst.Name) and number(coef) is not None):
                    continue  # a named term of a sum assigned to a loss is a loss term (`gp * 10.0`)
                origin = self.origins.of(coef, self.scope)
                if origin.is_number and not trivial(origin.value, PIXEL) and not averages(origin.value, term):
                    name = name_of(term) or ("a sum of losses" if isinstance(term, cst.BinaryOperation) else self._text(term))
                    self._add(origin, f"{self._shown(origin)} * {name}", f"weight of `{name}` in the loss",
                              "loss_weight", [name, "weight", "loss"], use=coef)

    def _uniform_accumulator(self, name: str, terms: list[cst.BaseExpression]) -> bool:
        """Does every write to `name` in this scope carry the same coefficient on every term it adds (`loss = 0`,
        then `loss += 0.5 * mse(...)` in a loop, on each branch)? Then the coefficient scales the whole loss."""
        coefficient = _uniform_coefficient(terms)
        if coefficient is None:
            return False
        started = False  # the accumulator starts here (not a loss passed in, whose other terms are unknown)
        for node in walk(self._scope_root()):
            if type(node) is cst.AugAssign and type(node.target) is cst.Name and node.target.value == name:
                if not isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign)):
                    return False
                found = _uniform_coefficient(sum_terms(node.value))
                if found is None or not same_value(found, coefficient):
                    return False
            elif type(node) is cst.Assign and any(type(t.target) is cst.Name and t.target.value == name for t in node.targets):
                started = True
                if not _zero(node.value):
                    found = _uniform_coefficient(sum_terms(node.value))
                    if found is None or not same_value(found, coefficient):
                        return False
        return started

    def _epoch_threshold(self, node: cst.If) -> int:
        """Record the epoch/step thresholds of an `if` that changes the learning rate; 1 if it has any."""
        if not changes_lr(node.body, self.group_vars):
            return 0
        found = 0
        for compare in walk(node.test):
            if not isinstance(compare, cst.Comparison):
                continue
            sides = [compare.left, *(t.comparator for t in compare.comparisons)]
            counter = next((s for s in sides if is_counter(s)), None)
            if counter is None:
                continue
            for side in sides:
                if side is counter:
                    continue
                origin = self.origins.of(side, self.scope)
                if origin.is_number and not trivial(origin.value):
                    found = 1
                    self._add(origin, f"{name_of(counter) or 'epoch'} threshold {self._shown(origin)}",
                              "epoch/step at which the learning rate changes", "milestones",
                              ["epoch", "threshold", "milestone"], node, self.ordinal + 1, use=side)
                elif origin.kind == OriginKind.DERIVED and isinstance(side, cst.Name):
                    found |= self._derived_threshold(side)
            if isinstance(compare.left, cst.BinaryOperation) and isinstance(compare.left.operator, cst.Modulo) \
                    and is_counter(compare.left.left):
                origin = self.origins.of(compare.left.right, self.scope)
                if origin.is_number and not trivial(origin.value):
                    found = 1
                    self._add(origin, f"every {self._shown(origin)} {name_of(compare.left.left)}s",
                              "period of the learning-rate change", "step_size", ["epoch", "period"], node,
                              self.ordinal + 1, use=compare.left.right)
        return found

    def _derived_threshold(self, name: cst.Name) -> int:
        """`warmup_steps = 10 * len(loader)` then `if step < warmup_steps:` changing the learning rate: the
        literal factors of the threshold's one binding, reported there."""
        bindings = self.scope.lookup(name.value)
        if len(bindings) != 1 or bindings[0].kind != ASSIGN or bindings[0].index >= 0:
            return 0
        bound = bindings[0].node
        stmt = self.origins.statement_of(bound) if isinstance(bound, cst.BinaryOperation) else None
        if stmt is None:
            return 0
        found = 0
        for factor in literal_factors(bound):
            origin = self.origins.of(factor, self.scope)
            if origin.is_number and not trivial(origin.value):
                found = 1
                self._add(origin, f"{name.value} = {self._text(bound)}: {self._shown(origin)}",
                          "factor of the epoch/step at which the learning rate changes", "",
                          [name.value, "epoch", "threshold", "warmup"], stmt, self._definition_key(stmt), [],
                          use=factor)
        return found

    def finish(self) -> None:
        self._schedules()
        for value, text, stmt in self._pending if self._helps else ():
            # `args.lr = args.blr * bs / 256` where --blr's help says "absolute_lr = base_lr * batch / 256"
            header = stmt if isinstance(stmt, cst.SimpleStatementLine) else getattr(stmt, "test", stmt)
            read = {n.attr.value for n in walk(header) if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name)}
            if any(_states(self._helps.get(name, "").lower(), text, None) for name in read):
                value.documented, value.bare_constant = True, False

    def _schedules(self) -> None:
        for function, label in self._function_bodies:
            outer = self.scope
            self.scope = self.ctx.scopes.get(id(function), outer)
            body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
            for stmt in statements(function.body):
                if isinstance(stmt, (cst.SimpleStatementLine, cst.If)):
                    self.ordinal += 1
                    parts = [s for s in (stmt.body if isinstance(stmt, cst.SimpleStatementLine) else [stmt.test])
                             if not isinstance(s, (cst.Expr, cst.Pass))]
                    for part in parts:
                        target = part.value if isinstance(part, (cst.Return, cst.Assign, cst.AugAssign)) else part
                        if target is not None:
                            self._formula(target, label, "schedule", stmt, self.ordinal,
                                          body if stmt in body else [])
            self.scope = outer


# What makes an enclosing function's docstring document its literals: a source cited (`Ref: AutoAugment`, a
# paper, a URL, `Goyal et al. (2017)`, `adapted from`) or a reason given (`tuned on`, `otherwise diverges`).
# Stricter than a comment's cues: a docstring that only says what the function does ("from the config", "for
# each epoch") documents nothing.
DOC_REASON = re.compile(
    r"\bref\b|\breferences?:|\bpaper\b|arxiv|\bdoi\b|https?://|\bet al\b|citation|\bcited?\b|adapted from|"
    r"ported from|taken from|borrowed from|following\s+(?:the\s+)?(?:paper|authors|[a-z]+ et al)|\bsource:|"
    r"proposed (?:in|by)|\(\s*(?:19|20)\d{2}\s*\)|\btable\s+\d|\bsection\s+\d|\bsec\.\s*\d|\bappendix\b|"
    r"\btuned\b|grid search|\bsweep|\bbecause\b|so that|otherwise|to avoid|prevents?\b|stabili[sz]|diverg")
# A module docstring that says where the module's code comes from (vendored code): it documents the defaults of the
# optimiser, scheduler and loss classes it defines, which are the upstream implementation's, not the project's recipe.
PROVENANCE = re.compile(r"https?://|\bfrom:|\b(?:adapted|ported|taken|borrowed|copied|modified) from\b|\bsource:")
# Upper-case spellings of hyper-parameter keys (yacs defaults) that the lower-case `TRIGGERS` miss.
CONFIG_TRIGGERS = ("LR", "DECAY", "MOMENTUM", "LEARNING", "Lr", "Decay", "Momentum", "Learning")
# Calls that read a config file into an object (by the callee's last name); `load` by its library.
FILE_LOADERS = frozenset({"merge_from_file", "fromfile", "safe_load", "full_load", "load_config", "read_config",
                          "from_yaml", "from_json", "from_json_file", "from_yaml_file", "parse_config", "load_cfg",
                          "load_yaml", "load_json", "compose"})
CONFIG_LIBRARY = re.compile(r"^(?:yaml|json|toml|tomllib|tomli|omegaconf|OmegaConf|ruamel|hjson|json5|commentjson)\b")
# Evaluation, test and demo scripts: what they set on a config is an evaluation setting.
EVAL_SCRIPT = re.compile(r"(?:^|_)(?:test|tests|eval|evaluate|evaluation|val|valid|validate|demo|infer|inference|"
                         r"predict|prediction|visuali[sz]e|benchmark|export)(?:_|\.|$)", re.I)
_DICT_CONCEPTS = {"lr": "lr", "learning_rate": "lr", "momentum": "momentum", "weight_decay": "weight_decay",
                  "betas": "betas", "eps": "eps"}
_RECIPE_BASES = (("optimizer", re.compile(r"Optimizer$")), ("scheduler", re.compile(r"LRScheduler$|^_LRScheduler$")),
                 ("loss", re.compile(r"^_(?:Weighted)?Loss$")))

def _reads_config_file(callee: str) -> bool:
    """A call that reads a config file, by its callee: `OmegaConf.load`, `Config.fromfile`, `yaml.safe_load`."""
    last = callee.rsplit(".", 1)[-1]
    return last in FILE_LOADERS or last == "load" and bool(CONFIG_LIBRARY.match(callee))


def _builds_config(value: cst.CSTNode, ctx: ModuleContext) -> bool:
    """A config-building call of literals only: `EasyDict()`, `dict(lr=0.1, wd=dict(...))`, `CN()`."""
    if not isinstance(value, cst.Call):
        return False
    callee = ctx.names.callee(value) or dotted(value.func) or ""
    if not CONFIG_CALL.search(callee.rsplit(".", 1)[-1]):
        return False
    return all(not arg.star and _literal_config(arg.value, ctx) for arg in value.args)


def _literal_config(value: cst.BaseExpression, ctx: ModuleContext) -> bool:
    if number(value) is not None:
        return True
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        text = str_value(value) if isinstance(value, cst.SimpleString) else None
        return text is not None and "/" not in text and "." not in text  # not a file it reads (`Config("a.yaml")`)
    if isinstance(value, cst.Name):
        return value.value in ("True", "False", "None")
    if isinstance(value, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _literal_config(e.value, ctx) for e in value.elements)
    return _builds_config(value, ctx)


def _trains(loop: cst.CSTNode) -> bool:
    """Does the loop's body take optimiser steps or back-propagate (`.backward()`, `.step()`)?"""
    return any(isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in ("backward", "step")
               for n in walk(loop))


def _mean_of_terms(terms: list[cst.BaseExpression]) -> bool:
    """Every term carries the same literal coefficient c and c * n == 1 (n terms)."""
    if len(terms) < 2:
        return False
    coefficients = []
    for term in terms:
        if not (isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Multiply)):
            return False
        value = number(term.left) if number(term.left) is not None else number(term.right)
        if not isinstance(value, (int, float)):
            return False
        coefficients.append(value)
    return len(set(coefficients)) == 1 and abs(coefficients[0] * len(terms) - 1) < 1e-9


def _uniform_coefficient(terms: list[cst.BaseExpression]):
    """The literal coefficient that every term carries (`0.5 * a + 0.5 * b` -> 0.5), or None."""
    found = None
    for term in terms:
        if not (isinstance(term, cst.BinaryOperation) and isinstance(term.operator, cst.Multiply)):
            return None
        value = number(term.left) if number(term.left) is not None else number(term.right)
        if not isinstance(value, (int, float)) or found is not None and not same_value(found, value):
            return None
        found = value
    return found


def _zero(value: cst.BaseExpression) -> bool:
    """An accumulator's start: `0`, `0.`, `torch.tensor(0.)`, `torch.zeros(1)`."""
    if number(value) == 0:
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)):
        last = dotted(value.func) or ""
        return last.rsplit(".", 1)[-1] in ("tensor", "zeros", "zeros_like", "Tensor", "FloatTensor") and \
            (not value.args or number(value.args[0].value) == 0 or last.endswith(("zeros", "zeros_like")))
    return False


def _is_main_guard(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Comparison) and dotted(test.left) == "__name__" and len(test.comparisons) == 1
            and str_value(test.comparisons[0].comparator) == "__main__")


def _states(doc: str, text: str, value) -> bool:
    """Does a docstring state this value: its text (`0.1`), or the reciprocal of a factor (`decay by 10`)?"""
    text = text.strip().lower()
    if re.search(rf"(?<![\w.]){re.escape(text)}(?![\w.])", doc):
        return True
    if isinstance(value, float) and 0 < value < 1 and abs(1 / value - round(1 / value)) < 1e-9:
        return re.search(rf"(?<![\w.]){round(1 / value)}(?![\w.])", doc) is not None
    return False


def hparam_handlers(ctx: ModuleContext) -> Handlers | None:
    """HPARAM's handlers for the module's one walk (registered in the package's `__init__`)."""
    if ctx.is_test:
        return None
    if not any(word in ctx.text for word in TRIGGERS):
        # cheap pre-filter: no optimiser, schedule, loss or option can be here; a config module may still
        # define a hyper-parameter's value (yacs `_C.SOLVER.BASE_LR = 0.1`)
        if not any(word in ctx.text for word in CONFIG_TRIGGERS):
            return None
        return ConfigHandlers(ConfigCollector(ctx, want=hparam_key))
    return _HparamVisitor(ctx)


def extract_hparam_facts(ctx: ModuleContext) -> HparamFacts | None:
    visitor = walked(ctx, "hparam")
    if visitor is None:
        return None
    if isinstance(visitor, ConfigHandlers):
        config = visitor.collector.facts
        return HparamFacts(config=config) if config else None
    visitor.finish()
    facts = visitor.facts
    facts.config = visitor.configs.facts or None
    facts.statements = [s for s in facts.statements if s.values]
    return None if facts.empty() else facts
