"""LEAK facts of one module: an abstract interpretation of every function (and the module body)
that records where held-out data comes from, how it flows (in terms of `flow.Term`s, so that
flows through other modules can be resolved later) and which sinks it may reach.

Statements run in order (a later assignment replaces an earlier one); both branches of an `if`
are merged unless a bound literal decides the test (`if phase == "train":`); a loop body runs a
second time only when the first pass changed what flows around it, and a loop over a few string
literals (`for phase in ("train", "test"):`) runs once per literal. Calls are read in leak_calls.py.
"""
from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from ..context import ModuleContext
from . import leak_patterns as P
from .flow import (ATTR, CLEAN, GLOBAL, PARAM, SRC, FlowFacts, Function, Sink, Source, Term, Val, derive, index,
                   is_held_out_split, iterate, terms_val, union, unlabel)
from .leak_calls import CallReader
from .leak_patterns import LEAK_FIT, LEAK_SELECT, LEAK_TRAIN
from .leak_syntax import (config_like, const, decided, literal, literal_strings, module_level_names, ordering,
                          selection_action, slice_key, string)
from .names import dotted
from .values import str_value

__all__ = ["LeakInterpreter", "LEAK_TRAIN", "LEAK_SELECT", "LEAK_FIT"]
_FORWARD = re.compile(r"_?forward(?:_\w+)?$")
_HANDLES_DATA = re.compile(r"DataLoader|[Dd]ataset|[Ll]oader\b|_loader|train_test_split|read_csv|\.fit\(|Trainer\(")
Env = dict


class _Frame:
    def __init__(self, qual: str, cls: str | None, self_name: str | None, is_module: bool, outer: Env | None) -> None:
        self.qual = qual
        self.cls = cls  # class path within the module, for methods
        self.self_name = self_name
        self.is_module = is_module
        self.outer = outer  # the enclosing function's variables (closures)
        self.returns = CLEAN
        self.globals: set[str] = set()
        self.local_functions: dict[str, str] = {}


class LeakInterpreter(CallReader):
    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.splits = tuple(s.lower() for s in ctx.held_out_splits)
        self.module = ctx.names.module_name
        self.facts = FlowFacts(ctx.rel, self.module, self.splits)
        self.module_names = module_level_names(ctx.module)
        self.load_best = bool(re.search(r"load_best_model_at_end\s*[=:]\s*True|EarlyStoppingCallback", ctx.text))
        self.objectives = self._objective_names()
        self.facts.monitors = bool(re.search(r"(?:ModelCheckpoint|EarlyStopping)\([^)]*monitor\s*=", ctx.text))
        self._sink_keys: set[tuple[str, int]] = set()
        self._source_ids: dict[tuple[int, str], int] = {}
        self._sites: dict[int, str] = {}
        self.frame = _Frame(f"{self.module}.<module>", None, None, True, None)
        self.selection_if = 0
        self._call_nodes: list[tuple[str, cst.Call]] = []
        self._actions: dict[int, str | None] = {}
        self._train_marked = False  # the call being read names the training split
        self.options: dict[str, object] = {}  # argparse dest -> literal default, for split options
        self.assigning = False
        self._library_site = ""  # the call whose library sinks are being read, if it may run project code

    # --- entry points -------------------------------------------------------------------------------
    def run(self) -> FlowFacts:
        env: Env = {}
        self.block(self.ctx.module.body, env)
        self.facts.functions[self.frame.qual] = Function(self.frame.qual, (), {}, CLEAN)
        # Call sites are related locations of chains (hops). Locating them costs a code-generation
        # pass over the file, so only files that handle data pay for it (model code does not).
        if self.facts.sources or self.facts.sinks or _HANDLES_DATA.search(self.ctx.text):
            for key, node in self._call_nodes:
                self.facts.calls[key].loc = self.ctx.loc(node)
        return self.facts

    def _objective_names(self) -> set[str]:
        names = {"objective"}
        for match in re.finditer(r"\.optimize\(\s*(\w+)", self.ctx.text):
            names.add(match.group(1))
        return names

    # --- definitions --------------------------------------------------------------------------------
    def function(self, node: cst.FunctionDef, qual: str, cls: str | None, outer: Env | None) -> None:
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        names = [p.name.value for p in ordered]
        is_method = cls is not None and not any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
        self_name = names[0] if is_method and names else None
        frame = _Frame(qual, cls, self_name, False, outer)
        env: Env = {}
        defaults = {}
        for i, param in enumerate([*ordered, *params.kwonly_params]):
            name = param.name.value
            idx = i if i < len(ordered) else -1
            if name == self_name:
                env[name] = Val(cls=cls)
            else:
                env[name] = terms_val({Term(PARAM, (qual, idx, name))})
            if param.default is not None:
                value = const(param.default)
                if value is not None:
                    defaults[name] = value
        for extra in (params.star_arg, params.star_kwarg):
            if isinstance(extra, cst.Param):
                env[extra.name.value] = terms_val({Term(PARAM, (qual, -2, extra.name.value))})
        outer_frame, self.frame = self.frame, frame
        self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], env)
        self.frame = outer_frame
        self.facts.functions[qual] = Function(qual, tuple(names), defaults, frame.returns)
        if node.name.value == "train_dataloader" and cls is not None and frame.returns.tainted():
            self._sink(LEAK_TRAIN, node.name, frame.returns, "the loader `train_dataloader()` gives Lightning to train on")
        if node.name.value == "val_dataloader" and frame.returns.tainted():
            self._sink(LEAK_SELECT, node.name, frame.returns,
                       "is the validation loader of a Lightning run whose checkpoint or early stopping monitors it")
            self.facts.sinks[-1].needs_monitor = True
        if node.name.value in self.objectives:  # a hyper-parameter search objective returns its score
            if frame.returns.tainted():
                self._sink(LEAK_SELECT, node.name, frame.returns, "is the objective of a hyper-parameter search")

    def class_def(self, node: cst.ClassDef, prefix: str) -> None:
        path = f"{prefix}{node.name.value}"
        for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            if isinstance(stmt, cst.FunctionDef) and _FORWARD.match(stmt.name.value):
                # A model's forward pass computes on whatever it is given; calls of it are read as
                # computations on their arguments, so its body need not be interpreted.
                continue
            if isinstance(stmt, cst.FunctionDef):
                self.function(stmt, f"{self.module}.{path}.{stmt.name.value}", path, None)
            elif isinstance(stmt, cst.ClassDef):
                self.class_def(stmt, path + ".")

    # --- statements -----------------------------------------------------------------------------------
    def block(self, stmts, env: Env) -> None:
        for stmt in stmts:
            self.statement(stmt, env)

    def statement(self, stmt: cst.CSTNode, env: Env) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.small(small, env)
        elif isinstance(stmt, cst.If):
            self.if_(stmt, env)
        elif isinstance(stmt, cst.For):
            self.for_(stmt, env)
        elif isinstance(stmt, cst.While):
            self.expr(stmt.test, env)
            self.loop_body(stmt.body.body, env)
            self.suite(stmt.orelse, env)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.expr(item.item, env)
                if item.asname is not None:
                    self.bind(item.asname.name, value, env, item.item)
            self.block(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [stmt.body], env)
        elif isinstance(stmt, cst.Try) or type(stmt).__name__ == "TryStar":
            self.block(stmt.body.body, env)
            for handler in stmt.handlers:
                branch = dict(env)
                self.block(handler.body.body if isinstance(handler.body, cst.IndentedBlock) else [], branch)
                _merge_into(env, branch)
            self.suite(stmt.orelse, env)
            self.suite(stmt.finalbody, env)
        elif isinstance(stmt, cst.FunctionDef):
            name = stmt.name.value
            if self.frame.is_module:
                self.function(stmt, f"{self.module}.{name}", None, None)
            else:
                qual = f"{self.frame.qual}.{name}"
                self.frame.local_functions[name] = qual
                self.function(stmt, qual, None, self._visible(env))
        elif isinstance(stmt, cst.ClassDef):
            if self.frame.is_module:
                self.class_def(stmt, "")

    def suite(self, suite, env: Env) -> None:
        if suite is None:
            return
        body = suite.body
        if isinstance(body, cst.IndentedBlock):
            self.block(body.body, env)
        elif isinstance(body, (list, tuple)):
            self.block(body, env)
        elif isinstance(body, cst.CSTNode):
            self.statement(body, env)

    def _visible(self, env: Env) -> Env:
        merged = dict(self.frame.outer or {})
        merged.update(env)
        return merged

    def loop_body(self, body, env: Env) -> None:
        for _ in range(2):  # a second pass only when the first changed what flows around the loop
            before = dict(env)
            self.block(body, env)
            _merge_into(env, before)
            if _taint(env) == _taint(before):
                break

    def small(self, node: cst.CSTNode, env: Env) -> None:
        if isinstance(node, cst.Assign):
            self.assigning = True
            value = self.expr(node.value, env)
            self.assigning = False
            for target in node.targets:
                self._assign_sinks(target.target, node.value, value)
                self.bind(target.target, value, env, node.value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            value = self.expr(node.value, env)
            self.bind(node.target, value, env, node.value)
        elif isinstance(node, cst.AugAssign):
            self.assigning = True
            value = self.expr(node.value, env)
            self.assigning = False
            current = self.expr(node.target, env)
            self.bind(node.target, union(current, derive(value)), env, None)
        elif isinstance(node, cst.Expr):
            self.expr(node.value, env)
        elif isinstance(node, cst.Return) and node.value is not None:
            self.frame.returns = union(self.frame.returns, self.expr(node.value, env))
        elif isinstance(node, cst.Global):
            self.frame.globals.update(n.name.value for n in node.names)

    def if_(self, node: cst.If, env: Env) -> None:
        decided = self._decide(node.test, env)
        if decided is not None:  # `if phase == "train":` with a known phase: only one branch runs
            if decided:
                self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], env)
            elif isinstance(node.orelse, cst.If):
                self.if_(node.orelse, env)
            elif node.orelse is not None:
                self.suite(node.orelse, env)
            return
        test = self.expr(node.test, env)
        flagged = False
        if test.tainted() and not self.ctx.is_test:
            action = self._actions[id(node)] if id(node) in self._actions else \
                self._actions.setdefault(id(node), selection_action(node))
            if action is not None and action.startswith("stops") and not ordering(node.test):
                action = None  # a bare `break` counts only after comparing a score (`if acc >= target: break`)
            if action is not None:
                self._sink(LEAK_SELECT, node.test, test, f"decides whether the guarded code {action}")
                flagged = True
        self.selection_if += flagged
        body = dict(env)
        self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], body)
        other = dict(env)
        if isinstance(node.orelse, cst.If):
            self.if_(node.orelse, other)
        elif node.orelse is not None:
            self.suite(node.orelse, other)
        self.selection_if -= flagged
        env.clear()
        env.update(body)
        _merge_into(env, other)

    def _decide(self, test: cst.BaseExpression, env: Env) -> bool | None:
        """The value of `name == "literal"` / `name != "literal"` / `name in (...)` for a name bound to a literal."""
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name)):
            return None
        bound = env.get(test.left.value)
        if bound is None or not isinstance(bound.const, str):
            return None
        comparison = test.comparisons[0]
        if isinstance(comparison.operator, (cst.Equal, cst.NotEqual)):
            literal = string(comparison.comparator)
            if literal is None:
                return None
            return (bound.const == literal) == isinstance(comparison.operator, cst.Equal)
        if isinstance(comparison.operator, (cst.In, cst.NotIn)):
            options = literal_strings(comparison.comparator)
            if options is None:
                return None
            return (bound.const in options) == isinstance(comparison.operator, cst.In)
        return None

    def for_(self, node: cst.For, env: Env) -> None:
        phases = literal_strings(node.iter)
        if phases and isinstance(node.target, cst.Name):
            # `for phase in ("train", "test"):` runs the body once per phase, so that
            # `loaders[phase]` and `if phase == "train":` are decided in each pass
            merged: Env = {}
            for phase in phases:
                branch = dict(env)
                branch[node.target.value] = Val(const=phase)
                self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], branch)
                _merge_into(merged, branch)
            _merge_into(env, merged)
            self.suite(node.orelse, env)
            return
        items = iterate(self.expr(node.iter, env))
        for _ in range(2):
            before = dict(env)
            self.bind(node.target, items, env, None)
            self.block(node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body], env)
            _merge_into(env, before)
            if _taint(env) == _taint(before):
                break
        self.suite(node.orelse, env)

    # --- binding -------------------------------------------------------------------------------------
    def bind(self, target: cst.BaseExpression, value: Val, env: Env, source: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            value = self._named_source(target, target.value, value, source)
            env[target.value] = value
            if self.frame.is_module or target.value in self.frame.globals:
                old = self.facts.globals.get(target.value)
                self.facts.globals[target.value] = union(old, value) if old is not None else value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            unlabelled = value.tainted() and any(isinstance(e, cst.Name) and e.value == "_" for e in elements)
            for i, element in enumerate(elements):
                if isinstance(element, cst.StarredElement):
                    self.bind(element.value, index(value, None), env, None)
                    continue
                part = index(value, i)
                part = unlabel(part) if unlabelled else part  # inputs without labels: unlabelled target data
                paired = source.elements[i].value if isinstance(source, (cst.Tuple, cst.List)) \
                    and len(source.elements) == len(elements) else None  # `X_train, X_test = X[:800], X[800:]`
                self.bind(element, part, env, paired)
        elif isinstance(target, cst.Attribute):
            value = self._named_source(target.attr, target.attr.value, value, source)
            receiver = target.value
            if isinstance(receiver, cst.Name) and receiver.value == self.frame.self_name and self.frame.cls:
                env[f"{receiver.value}.{target.attr.value}"] = value
                self._store_attr(self.frame.cls, target.attr.value, value)
            else:
                owner = self.expr(receiver, env)
                if owner.cls and self.ctx.names.classes.get(owner.cls.rsplit(".", 1)[-1]) is not None:
                    self._store_attr(owner.cls.rsplit(".", 1)[-1], target.attr.value, value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and value.tainted():
            name = target.value.value
            key = self._key(target, env)
            current = env.get(name, CLEAN)
            if key is not None and current.parts is None:  # `data[k] = ...`: that key only
                fields = dict(current.fields or ())
                fields[key] = union(fields.get(key, CLEAN), value)
                env[name] = Val(current.terms, fields=tuple(fields.items()))
            else:
                env[name] = union(current, value)

    def _store_attr(self, cls: str, attr: str, value: Val) -> None:
        """Attributes are per class, not per object: only constructor arguments are kept as parameters.
        A method's parameters (`AverageMeter.update(val)`) would mix every object's values; the caller's
        own object carries those instead (see `_mutate`)."""
        if not self.frame.qual.endswith(".__init__"):
            value = terms_val(t for t in value.flat() if not (t.kind == PARAM and t.ref[0] == self.frame.qual))
        if not value.tainted():
            return
        old = self.facts.attrs.get((cls, attr))
        self.facts.attrs[(cls, attr)] = union(old, value) if old is not None else value

    def _named_source(self, node: cst.CSTNode, name: str, value: Val, source: cst.BaseExpression | None) -> Val:
        """Names decide only when the construction does not: no taint, no visible split, no project call."""
        if source is None or value.tainted() or value.const is not None or not P.held_out_name(name, self.splits):
            return value
        if not isinstance(source, (cst.Call, cst.Subscript, cst.Attribute, cst.Name)) or decided(source):
            return value
        src = self._source(node, f"`{name}` (named as held-out data)")
        return union(value, terms_val({src}))

    def _assign_sinks(self, target: cst.BaseExpression, source: cst.BaseExpression, value: Val) -> None:
        """`best = max(best, acc)` and `is_best = acc > best` on held-out metrics."""
        if self.selection_if or not value.tainted() or self.ctx.is_test:
            return
        name = target.value if isinstance(target, cst.Name) else target.attr.value if isinstance(target, cst.Attribute) else ""
        if not name or not P.BEST_NAME.search(name):
            return
        if isinstance(source, cst.IfExp) and isinstance(source.test, cst.Comparison):
            source = source.test
        if isinstance(source, cst.Comparison) or (
            isinstance(source, cst.Call) and re.search(r"(?:^|\.)(?:nan)?(?:arg)?(?:max|min)(?:imum)?$", dotted(source.func) or "")
        ):
            self._sink(LEAK_SELECT, source, value, f"sets `{name}`: the best score is chosen on it")

    # --- sources and sinks ---------------------------------------------------------------------------
    def _source(self, node: cst.CSTNode, what: str) -> Term:
        key = (id(node), what)
        i = self._source_ids.get(key)
        if i is None:
            i = len(self.facts.sources)
            self._source_ids[key] = i
            self.facts.sources.append(Source(self.ctx.loc(node), what))
        return Term(SRC, (self.ctx.rel, i))

    def _sink(self, code: str, node: cst.CSTNode, value: Val, what: str, raw_only: bool = False) -> None:
        """Record a sink; training sinks ignore unlabelled inputs, statistics need the data itself."""
        if self.ctx.is_test:
            return
        key = (code, id(node))
        if key in self._sink_keys:
            return
        self._sink_keys.add(key)
        self.facts.sinks.append(Sink(code, self.ctx.loc(node), value, what, raw_only, code == LEAK_TRAIN, self.frame.qual,
                                     site=self._library_site))

    # --- expressions ---------------------------------------------------------------------------------
    def expr(self, node: cst.BaseExpression, env: Env) -> Val:
        kind = type(node)
        if kind is cst.Name:
            return self.name(node, env)
        if kind is cst.Call:
            return self.call(node, env)
        if kind is cst.Attribute:
            return self.attribute(node, env)
        if kind.__name__ in _CLEAN_EXPRS:
            return CLEAN
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return Val(const=string(node))
        if isinstance(node, cst.Subscript):
            return self.subscript(node, env)
        if isinstance(node, cst.Call):
            return self.call(node, env)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.expr(node.left, env), self.expr(node.right, env)
            path = self._path_source(node, [node.left, node.right]) if isinstance(node.operator, cst.Divide) else None
            if isinstance(node.operator, cst.Add) and left.parts is not None and right.parts is not None:
                return Val(parts=left.parts + right.parts)  # list concatenation keeps the pieces
            result = union(left, right) if not (left.tainted() and right.tainted()) else derive(union(left, right))
            if not (literal(node.left) or literal(node.right) or isinstance(node.operator, cst.Add)):
                result = derive(result)
            return union(result, terms_val({path})) if path else result
        if isinstance(node, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
            if isinstance(node, cst.UnaryOperation):
                inner = self.expr(node.expression, env)
                if isinstance(node.operator, cst.Not) and inner.const is not None:
                    return Val(const=not inner.const)
                return derive(inner) if not isinstance(node.operator, cst.Minus) else inner
            if isinstance(node, cst.BooleanOperation):
                return derive(union(self.expr(node.left, env), self.expr(node.right, env)))
            vals = [self.expr(node.left, env)] + [self.expr(c.comparator, env) for c in node.comparisons]
            return derive(union(*vals))
        if isinstance(node, cst.IfExp):
            self.expr(node.test, env)
            return union(self.expr(node.body, env), self.expr(node.orelse, env))
        if isinstance(node, (cst.Tuple, cst.List)):
            parts = []
            for element in node.elements:
                value = self.expr(element.value, env)
                parts.append(index(value, None) if isinstance(element, cst.StarredElement) else value)
            return Val(parts=tuple(parts))
        if isinstance(node, cst.Set):
            return union(*(self.expr(e.value, env) for e in node.elements))
        if isinstance(node, cst.Dict):
            fields, extra = [], []
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    value = self.expr(element.value, env)
                    self.expr(element.key, env)
                    key = str_value(element.key)
                    if key is not None:
                        fields.append((key, value))
                    else:
                        extra.append(value)
                else:
                    extra.append(self.expr(element.value, env))
            base = union(*extra)
            return Val(base.flat(), fields=tuple(fields))
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self.comprehension(node, env)
        if isinstance(node, cst.NamedExpr):
            value = self.expr(node.value, env)
            self.bind(node.target, value, env, node.value)
            return value
        if isinstance(node, cst.Await):
            return self.expr(node.expression, env)
        if isinstance(node, cst.StarredElement):
            return self.expr(node.value, env)
        if isinstance(node, cst.FormattedString):
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    self.expr(part.expression, env)
            return CLEAN
        return CLEAN

    def comprehension(self, node, env: Env) -> Val:
        inner = dict(env)
        clause = node.for_in
        while clause is not None:
            self.bind(clause.target, iterate(self.expr(clause.iter, inner)), inner, None)
            for cond in clause.ifs:
                self.expr(cond.test, inner)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            keyed = self._keyed_comprehension(node, env)
            if keyed is not None:
                return keyed
            return union(self.expr(node.key, inner), self.expr(node.value, inner))
        return Val(elem=self.expr(node.elt, inner))

    def _keyed_comprehension(self, node: cst.DictComp, env: Env) -> Val | None:
        """`{x: DataLoader(sets[x]) for x in sets}` over known keys: one field per key."""
        clause = node.for_in
        if clause.inner_for_in is not None or clause.ifs or not isinstance(clause.target, cst.Name) \
                or not isinstance(node.key, cst.Name) or node.key.value != clause.target.value:
            return None
        keys = literal_strings(clause.iter)
        if keys is None:
            source = self.expr(clause.iter, env)
            keys = [k for k, _ in source.fields] if source.fields is not None else None
        if not keys:
            return None
        fields = []
        for key in keys:
            inner = dict(env)
            inner[clause.target.value] = Val(const=key)
            fields.append((key, self.expr(node.value, inner)))
        return Val(fields=tuple(fields))

    def name(self, node: cst.Name, env: Env) -> Val:
        name = node.value
        if name in env:
            return env[name]
        if name in ("True", "False"):
            return Val(const=name == "True")
        if self.frame.outer is not None and name in self.frame.outer:
            return self.frame.outer[name]
        if not self.frame.is_module and name in self.module_names:
            return terms_val({Term(GLOBAL, (self.ctx.rel, f"{self.module}.{name}"))})
        qualified = self.ctx.names.qualify(node)
        if qualified and self.ctx.is_project_name(qualified) and not qualified.startswith(self.module + "."):
            return terms_val({Term(GLOBAL, (self.ctx.rel, qualified))})
        return CLEAN

    def attribute(self, node: cst.Attribute, env: Env) -> Val:
        attr = node.attr.value
        receiver = node.value
        if isinstance(receiver, cst.Name) and receiver.value == self.frame.self_name and self.frame.cls:
            local = env.get(f"{receiver.value}.{attr}")
            if local is not None:
                return local
            return terms_val({Term(ATTR, (self.ctx.rel, f"{self.module}.{self.frame.cls}", attr))})
        owner = self.expr(receiver, env)
        if attr in self.options and not owner.tainted() and isinstance(receiver, cst.Name):
            return Val(const=self.options[attr])  # `args.split` of `--split` with a literal default
        if owner.cls:
            return union(terms_val({Term(ATTR, (self.ctx.rel, owner.cls, attr))}), index(terms_val(owner.terms), "." + attr))
        if not owner.tainted():
            if isinstance(receiver, cst.Name) and owner == CLEAN and receiver.value not in env:
                qualified = self.ctx.names.qualify(node)  # `data.test_loader` of an imported project module
                if qualified and self.ctx.is_project_name(qualified):
                    return terms_val({Term(GLOBAL, (self.ctx.rel, qualified))})
            return CLEAN
        if attr in ("shape", "dtype", "device", "ndim", "classes", "class_to_idx", "num_classes", "columns"):
            return CLEAN
        return index(owner, "." + attr)

    def _key(self, node: cst.Subscript, env: Env) -> object:
        """The literal key of a subscript, or the literal a name in it is bound to (`data[k]`, k = "test")."""
        key = slice_key(node)
        if key is None and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) \
                and isinstance(node.slice[0].slice.value, cst.Name):
            bound = env.get(node.slice[0].slice.value.value)
            if bound is not None and isinstance(bound.const, (str, int)) and not isinstance(bound.const, bool):
                key = bound.const
        return key

    def subscript(self, node: cst.Subscript, env: Env) -> Val:
        owner = self.expr(node.value, env)
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self.expr(element.slice.value, env)
        key = self._key(node, env)
        known = owner.fields is not None and any(name == key for name, _ in owner.fields)
        if isinstance(key, str) and is_held_out_split(key, self.splits) and not config_like(node.value) \
                and not known and not owner.train_split:
            src = self._source(node, f'the ["{key}"] split')
            return union(index(owner, key), terms_val({src}))
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            return owner  # a slice of the data is the data
        if key in ("train", "training"):
            return replace(index(owner, key), train_split=True)
        return index(owner, key)

# Class names, not classes: touching libcst at import time would load it (0.2 s) in warm, cached runs.
_CLEAN_EXPRS = frozenset({"Integer", "Float", "Imaginary", "Ellipsis", "Lambda"})

def _taint(env: Env) -> dict:
    return {name: value.flat() for name, value in env.items() if value.tainted()}


def _merge_into(env: Env, other: Env) -> None:
    for name, value in other.items():
        env[name] = union(env[name], value) if name in env else value
