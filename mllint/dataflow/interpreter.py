"""The data-flow engine's per-module half: an abstract interpreter of every function (and the module
body) that records, in terms of `flow.Term`s, what flows where, so that flows through other modules can
be resolved later (resolve.py).

Statements run in order (a later assignment replaces an earlier one); both branches of an `if` are
merged unless a bound literal decides the test (`if phase == "train":`); a loop body runs a second time
only when the first pass changed what flows around it, and a loop over a few string literals
(`for phase in ("train", "test"):`) runs once per literal. Calls of project code become call sites
(resolved across modules later); calls of libraries are read with a small model of how values pass
through them (library.py).

The interpreter knows no family: a `Domain` says what a source and a sink are (LEAK's is in
rules/leak/domain.py). Statements and expressions are dispatched per node type; the state a statement runs in
is explicit: the variables (`Env`), the function being interpreted (`Frame`), and the branch conditions
a domain marked as guards (`guards`).

One interpretation serves every family (families.py): it runs with one *lane* per domain, a product of the
domains. A value is a `Val` every lane shares, or a `Lanes` (one `Val` per lane) where their answers differ;
each hook is asked per lane (given that lane, `Lane`, as its `flow`), and every decision on a value is taken
per lane: where lanes decide differently (a test decided by a literal, a loop's second pass, a class or method
one domain skips, the keys of a dict comprehension), the statements run once per group of lanes (`active`),
each writing only its own components. So each lane's facts are exactly those of an interpretation with its
domain alone, and the walk over the statements, the syntax read on the way and the values no lane's answer
changed are shared.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import InitVar, dataclass, field, replace
from typing import Callable

import libcst as cst

from ..context import ModuleContext
from . import dispatch as D
from . import library as L
from .terms import (CLEAN, NO_TAGS, AttrTerm, CondTerm, CallSite, FlowFacts, Function, GlobalTerm, ParamTerm, ReturnTerm, Sink,
                   Source, SourceTerm, Term, Val, derive, derived_union, index, is_empty, iterate, terms_val, union)
from ..core.names import dotted
from ..core.origins import OptionKind, option_of_call
from ..core.syntax import arg_keys, body_of, callee_name, const, literal, literal_strings, module_level_names, slice_key, string

Env = dict  # variable name (or "self.attr") -> Val


@dataclass
class Frame:
    """The function being interpreted."""
    qual: str
    cls: str | None  # class path within the module, for methods
    self_name: str | None
    is_module: bool
    outer: Env | None  # the enclosing function's variables (closures)
    params: tuple = ()  # the parameters' names
    returns: "Val | Lanes" = CLEAN
    # the Assign/AugAssign whose value is being evaluated (a statistic kept, `mean = x.mean()`, vs printed)
    assigning: cst.CSTNode | None = None
    n: InitVar[int] = 1  # lanes of the interpretation
    globals: list = field(init=False)  # per lane: the names declared `global`
    local_functions: list = field(init=False)  # per lane: nested function name -> qualified name

    def __post_init__(self, n: int) -> None:
        self.globals = [set() for _ in range(n)]
        self.local_functions = [{} for _ in range(n)]


@dataclass
class Call:
    """A call as a domain's recognisers see it: arguments evaluated, callee named."""
    node: cst.Call
    short: str  # the callee's last name
    qualified: str  # resolved through imports, or as written
    receiver: Val  # for a method call, the object's value
    args: list  # [(position: int | keyword: str | None, Val, cst.Arg)]
    env: Env
    frame: Frame
    library_site: str = ""  # the call-site key when the call may run project code (see Sink.site)
    project: bool = False  # the callee may be project code

    @property
    def is_method(self) -> bool:
        return type(self.node.func) is cst.Attribute

    @property
    def values(self) -> dict:
        """Argument values by position or keyword (read by several recognisers: built once; not a
        cached_property, whose lock costs more than the dict on Python 3.11)."""
        found = self.__dict__.get("_values")
        if found is None:
            found = self.__dict__["_values"] = {p: v for p, v, _ in self.args}
        return found

    def callee_value(self, flow: "Lane") -> Val:
        """The value of the called expression itself (`model` in `model(x)`, `self.ema.module` in
        `self.ema.module(x)`), evaluated on demand."""
        return flow.expr(self.node.func, self.env)


@dataclass(frozen=True)
class Found:
    """What a domain recognised in a call's arguments: sources, and marks for the result when there are none
    (`CIFAR10(train=True)` is marked as the training split)."""
    sources: frozenset = frozenset()
    marks: frozenset = NO_TAGS


class Domain:
    """A family's half of the data flow. Every hook has a neutral default; override what the family needs."""

    def start(self, flow: "Lane") -> None:
        """Before the module body runs (read module-wide settings from flow.ctx)."""

    def wants_hops(self, flow: "Lane") -> bool:
        """Locate call sites (related locations of chains; costs a code-generation pass) even without sources
        or sinks in this module?"""
        return False

    def skips(self, node: cst.FunctionDef) -> bool:
        """Methods not interpreted (a model's forward pass: its calls read as computations on their arguments)."""
        return False

    def skips_class(self, node: cst.ClassDef) -> bool:
        """Classes not interpreted at all (their methods get no summaries: calls of them read as library calls)."""
        return False

    def function_done(self, flow: "Lane", node: cst.FunctionDef, frame: Frame) -> None:
        """After a function body ran: sinks on what it returns (`train_dataloader()`)."""

    def call_sinks(self, flow: "Lane", call: Call) -> None:
        """Record the sinks a call is."""

    def call_sources(self, flow: "Lane", call: Call) -> Found:
        return Found()

    def library_result(self, flow: "Lane", call: Call) -> Val | None:
        """What a library call returns, where the domain knows better than the library model."""
        return None

    def call_result(self, flow: "Lane", call: Call) -> Val | None:
        """What any call returns, project code included, where the domain knows better than the callee's body
        (a flag argument that converts the data: `img2tensor(img, bgr2rgb=True)`); None: the usual reading."""
        return None

    def subscript(self, flow: "Lane", node: cst.Subscript, owner: Val, key: object) -> Val | None:
        return None

    def operation(self, flow: "Lane", node: cst.BinaryOperation) -> Term | None:
        """A source an operation creates (`root / "test"`)."""
        return None

    def operated(self, flow: "Lane", node: cst.BinaryOperation, left: Val, right: Val) -> Val | None:
        """After both operands of a binary operation were evaluated: a sink on them (`(img - MEAN) / STD`), or
        the value the operation makes; None: the usual reading."""
        return None

    def named(self, flow: "Lane", node: cst.CSTNode, name: str, value: Val,
              source: cst.BaseExpression | None) -> Val:
        """The value bound to a name, which may itself say what it is (`X_test = load()`)."""
        return value

    def unpacked(self, flow: "Lane", value: Val, elements: list) -> Val:
        """The value of one element of `a, b = value` (`x, _ = batch` drops the labels)."""
        return value

    def branch(self, flow: "Lane", node: cst.If, test: Val) -> object | None:
        """A guard for the branches of `if test:` (pushed on flow.guards while they run), or None."""
        return None

    def choice(self, flow: "Lane", node: cst.IfExp, test: Val, body: Val, orelse: Val) -> Val | None:
        """The value of `body if test else orelse`, where the domain knows better than their union (a switch)."""
        return None

    def assigned(self, flow: "Lane", target: cst.BaseExpression, source: cst.BaseExpression,
                 value: Val) -> None:
        """After `target = source` was evaluated, before it is bound."""

    # sources made under `if param == "lit":` (or `!=`, `in`) become conditional on the parameter, decided at
    # the call sites by `decide` with ("eq"|"ne"|"in"|"notin", literal) or ("all", (those, ...)) predicates
    conditional_branches = False

    def decide(self, predicate: tuple, value: object) -> bool | None:
        """In the project phase: does a literal value satisfy a conditional source's predicate (CondTerm)?"""
        return None


class Lanes(tuple):
    """A value that differs between the lanes of a product interpretation: one `Val` per lane (family). A value
    the lanes share is a plain `Val`; an interpretation of one domain never holds a `Lanes`."""
    __slots__ = ()


# a name not bound in one lane, while it is in another (a lane's component of an environment entry)
ABSENT = Val(ctor="<absent>")


def at(value: "Val | Lanes", i: int) -> Val:
    """Lane i's component of a value."""
    return value[i] if type(value) is Lanes else value


def pack(values: list) -> "Val | Lanes":
    """One value per lane, shared where every lane holds the same object."""
    first = values[0]
    for value in values:
        if value is not first:
            return Lanes(values)
    return first


def _get(env: Env, name: str, i: int) -> Val | None:
    """Lane i's value of a name, None where it is not bound there."""
    value = env.get(name)
    if value is None:
        return None
    if type(value) is Lanes:
        value = value[i]
    return None if value is ABSENT else value


class LaneEnv:
    """Lane i's view of an environment, for the domains' hooks (`flow.env`, `call.env`) and dispatch.py."""
    __slots__ = ("env", "i", "flow")

    def __init__(self, env: Env, i: int, flow: "Lane") -> None:
        self.env, self.i, self.flow = env, i, flow

    def get(self, name: str, default=None):
        value = _get(self.env, name, self.i)
        return default if value is None else value

    def __contains__(self, name: str) -> bool:
        return _get(self.env, name, self.i) is not None

    def __getitem__(self, name: str) -> Val:
        value = _get(self.env, name, self.i)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: Val) -> None:
        self.flow.put(self.env, name, value, (self.i,))


class LaneFrame:
    """Lane i's view of the function being interpreted (see Frame)."""
    __slots__ = ("_frame", "_lane", "qual", "cls", "self_name", "is_module", "params")

    def __init__(self, frame: Frame, lane: "Lane") -> None:
        self._frame, self._lane = frame, lane
        self.qual, self.cls, self.self_name, self.is_module, self.params = \
            frame.qual, frame.cls, frame.self_name, frame.is_module, frame.params

    assigning = property(lambda self: self._frame.assigning)
    returns = property(lambda self: at(self._frame.returns, self._lane.i))
    globals = property(lambda self: self._frame.globals[self._lane.i])
    local_functions = property(lambda self: self._frame.local_functions[self._lane.i])

    @property
    def outer(self):
        outer = self._frame.outer
        return None if outer is None else self._lane.view(outer)


class Lane:
    """One family's part of an interpretation: its domain, its facts, and the state its hooks see. This is the
    `flow` every hook of a Domain is given (the interpreter's scalar face: `flow.expr(node, env)` evaluates in
    this lane only)."""

    def __init__(self, flow: "Lane", i: int, domain: Domain) -> None:
        self.flow, self.i, self.domain = flow, i, domain
        self.ctx, self.module, self.module_names = flow.ctx, flow.module, flow.module_names
        self.facts = FlowFacts(flow.ctx.rel, flow.module)
        self.guards: list[object] = []
        self.param_guards: list[tuple | None] = []  # (index, name) of parameters that must be truthy here
        self.branch_conds: list[tuple] = []  # (parameter term, (op, literal)) of the branches being run
        self._branch_sources: dict[int, tuple] = {}  # source index -> (parameter term, predicate)
        self.options: dict[str, object] = {}  # argparse dest -> literal str/bool default
        self._sinks: dict[tuple[str, int], Sink] = {}
        self._source_ids: dict[tuple[int, str], int] = {}
        self._call_nodes: list[tuple[str, cst.Call]] = []
        self._views: tuple = (None, None, None, None)  # (env, its view, frame, its view): the latest of each

    def view(self, env: Env):
        """This lane's view of an environment (the environment itself when the interpretation has one lane)."""
        if self.flow.n == 1:
            return env
        views = self._views
        if views[0] is env:
            return views[1]
        found = LaneEnv(env, self.i, self.flow)
        self._views = (env, found, views[2], views[3])
        return found

    @property
    def frame(self):
        frame = self.flow.frame
        if self.flow.n == 1:
            return frame
        views = self._views
        if views[2] is frame:
            return views[3]
        found = LaneFrame(frame, self)
        self._views = (views[0], views[1], frame, found)
        return found

    @property
    def env(self):
        """The variables of the statement being run, for hooks that evaluate a sub-expression."""
        return self.view(self.flow.env)

    def expr(self, node: cst.BaseExpression, env) -> Val:
        """The value of an expression in this lane only."""
        flow = self.flow
        if flow.n == 1:
            return flow.expr(node, env)
        active, flow.active = flow.active, (self.i,)
        try:
            return at(flow.expr(node, env.env if type(env) is LaneEnv else env), self.i)
        finally:
            flow.active = active

    def key(self, node: cst.Subscript, env) -> object:
        return self.flow.key(node, env.env if type(env) is LaneEnv else env, self.i)

    # --- what domains record -----------------------------------------------------------------------
    def source(self, node: cst.CSTNode, what: str) -> SourceTerm:
        """The source at node (one per node and description)."""
        key = (id(node), what)
        i = self._source_ids.get(key)
        if i is None:
            i = len(self.facts.sources)
            self._source_ids[key] = i
            self.facts.sources.append(Source(self.ctx.loc(node), what))
        if self.branch_conds and i not in self._branch_sources:
            term = self.branch_conds[-1][0]
            ops = tuple(c for t, c in self.branch_conds if t == term)
            self._branch_sources[i] = (term, ops[0] if len(ops) == 1 else ("all", ops))
        return SourceTerm(self.ctx.rel, i)

    def conditioned(self, value: Val) -> Val:
        """value with the sources made under a parameter's branch replaced by conditional terms."""
        if not self._branch_sources or not value.tainted():
            return value
        return _conditioned(value, self.ctx.rel, self._branch_sources)

    def sink(self, code: str, node: cst.CSTNode, value: Val, what: str, raw_only: bool = False,
             excludes: frozenset = NO_TAGS, site: str = "") -> Sink | None:
        """Record a sink (once per code and node: a loop's second pass adds what flows around the loop to
        it; none in test code)."""
        if self.ctx.is_test:
            return None
        key = (code, id(node))
        known = self._sinks.get(key)
        if known is not None:
            known.val = union(known.val, value)
            return None
        sink = Sink(code, self.ctx.loc(node), value, what, raw_only, excludes, self.flow.frame.qual, site=site,
                    guard=tuple(sorted({g for g in self.param_guards if g is not None})))
        self._sinks[key] = sink
        self.facts.sinks.append(sink)
        return sink


class Interpreter:
    """One interpretation of a module for one or several domains (lanes). Every value is a `Val` the lanes share
    or a `Lanes` (one per lane); every decision that reads a value is taken per lane, and where lanes decide
    differently (a test decided by a literal, a loop's second pass, a class or method one domain skips) the
    statements run for each group of lanes in turn (`active`), each writing only its own components. So each
    lane's facts are exactly those of an interpretation with its domain alone."""

    def __init__(self, ctx: ModuleContext, domain: "Domain | list[Domain]") -> None:
        self.ctx = ctx
        domains = list(domain) if isinstance(domain, (list, tuple)) else [domain]
        self.n = len(domains)
        self.module = ctx.names.module_name
        self.module_names = module_level_names(ctx.module)
        self.lanes = [Lane(self, i, d) for i, d in enumerate(domains)]
        self.active: tuple[int, ...] = tuple(range(self.n))  # the lanes the statement being run is run for
        self.frame = Frame(f"{self.module}.<module>", None, None, True, None, n=self.n)
        self.env: Env = {}  # the variables of the statement being run
        memo = _MODULE_MEMO.get(ctx)
        if memo is None:
            memo = _MODULE_MEMO[ctx] = ({}, {})
        # id(Subscript) -> slice_key, id(add_argument call) -> option_of_call: read once per module, whatever the
        # domain and the pass (a loop's second pass)
        self._slice_keys, self._options_of = memo

    def run(self) -> FlowFacts:
        """The facts of an interpretation with one domain."""
        return self.run_all()[0]

    def run_all(self) -> list[FlowFacts]:
        """The facts of every lane, in the order of the domains."""
        for lane in self.lanes:
            lane.domain.start(lane)
        self.block(self.ctx.module.body, {})
        for lane in self.lanes:
            facts = lane.facts
            facts.functions[self.frame.qual] = Function(self.frame.qual, (), {}, CLEAN)
            # Call sites are related locations of chains (hops). Locating them costs a code-generation
            # pass over the file, so only files that have or handle data pay for it (model code does not).
            if facts.sources or facts.sinks or lane.domain.wants_hops(lane):
                for key, node in lane._call_nodes:
                    facts.calls[key].loc = self.ctx.loc(node)
        return [lane.facts for lane in self.lanes]

    # --- lanes --------------------------------------------------------------------------------------
    def each(self, fn: Callable, *vals) -> "Val | Lanes":
        """fn(lane, *its components of vals) for every active lane (a hook, or what depends on its answers)."""
        if self.n == 1:
            return fn(self.lanes[0], *vals)
        out = [CLEAN] * self.n
        lanes = self.lanes
        for v in vals:
            if type(v) is Lanes:
                for i in self.active:
                    out[i] = fn(lanes[i], *[v[i] if type(v) is Lanes else v for v in vals])
                return pack(out)
        for i in self.active:
            out[i] = fn(lanes[i], *vals)
        return pack(out)

    def pure(self, fn: Callable, *vals) -> "Val | Lanes":
        """fn(*vals) for a function of the values alone: computed once where no value differs between lanes."""
        if self.n == 1:
            return fn(*vals)
        for v in vals:
            if type(v) is Lanes:
                out = [CLEAN] * self.n
                for i in self.active:
                    out[i] = fn(*[v[i] if type(v) is Lanes else v for v in vals])
                return pack(out)
        return fn(*vals)

    def put(self, env: Env, name: str, value: "Val | Lanes", lanes: tuple | None = None) -> None:
        """env[name] = value, for the active lanes (or those given) only."""
        lanes = self.active if lanes is None else lanes
        if len(lanes) == self.n:
            env[name] = value
            return
        old = env.get(name)
        out = [ABSENT] * self.n if old is None else [at(old, i) for i in range(self.n)]
        for i in lanes:
            out[i] = at(value, i)
        env[name] = pack(out)

    def _split(self, decisions: dict, run: Callable) -> None:
        """run(decision) for each group of active lanes that decided alike ({decision: [lane, ...]})."""
        if len(decisions) == 1:
            run(next(iter(decisions)))
            return
        active = self.active
        for decision, lanes in decisions.items():
            self.active = tuple(lanes)
            run(decision)
        self.active = active

    def _grouped(self, decide: Callable) -> dict:
        groups: dict = {}
        for i in self.active:
            groups.setdefault(decide(i), []).append(i)
        return groups

    # --- definitions --------------------------------------------------------------------------------
    def function(self, node: cst.FunctionDef, qual: str, cls: str | None, outer: Env | None) -> None:
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        names = [p.name.value for p in ordered]
        is_method = cls is not None and not any(
            type(d.decorator) is cst.Name and d.decorator.value == "staticmethod" for d in node.decorators)
        self_name = names[0] if is_method and names else None
        frame = Frame(qual, cls, self_name, False, outer, tuple(p.name.value for p in (*ordered, *params.kwonly_params)),
                      n=self.n)
        env: Env = {}
        defaults = {}
        for i, param in enumerate([*ordered, *params.kwonly_params]):
            name = param.name.value
            if name == self_name:
                env[name] = Val(cls=cls)
            else:
                env[name] = terms_val({ParamTerm(qual, i if i < len(ordered) else -1, name)})
            if param.default is not None:
                value = const(param.default)
                if value is not None:
                    defaults[name] = value
        for extra in (params.star_arg, params.star_kwarg):
            if type(extra) is cst.Param:
                env[extra.name.value] = terms_val({ParamTerm(qual, -2, extra.name.value)})
        falsy = frozenset(p.name.value for p in [*ordered, *params.kwonly_params]
                          if p.default is not None and _falsy(p.default))
        active = self.active
        outer_frame, self.frame = self.frame, frame
        outer_guards = []
        for i in active:
            lane = self.lanes[i]
            outer_guards.append(lane.param_guards)
            lane.param_guards = []
        self.block(body_of(node), env)
        self.frame = outer_frame
        for i, guards in zip(active, outer_guards):
            self.lanes[i].param_guards = guards
        for i in active:
            lane = self.lanes[i]
            lane.facts.functions[qual] = Function(qual, tuple(names), defaults, at(frame.returns, i), falsy)
            lane.domain.function_done(lane, node, frame if self.n == 1 else LaneFrame(frame, lane))

    def class_def(self, node: cst.ClassDef, prefix: str) -> None:
        active = self.active
        kept = tuple(i for i in active if not self.lanes[i].domain.skips_class(node))
        if not kept:
            return
        self.active = kept
        path = f"{prefix}{node.name.value}"
        for stmt in node.body.body if type(node.body) is cst.IndentedBlock else ():
            if type(stmt) is cst.FunctionDef:
                running = tuple(i for i in kept if not self.lanes[i].domain.skips(stmt))
                if running:
                    self.active = running
                    self.function(stmt, f"{self.module}.{path}.{stmt.name.value}", path, None)
                    self.active = kept
            elif type(stmt) is cst.ClassDef:
                self.class_def(stmt, path + ".")
        self.active = active

    # --- statements ---------------------------------------------------------------------------------
    def block(self, stmts, env: Env) -> None:
        outer = self.env
        for stmt in stmts:
            kind = type(stmt)
            handler = _STATEMENT_TYPES[kind] if kind in _STATEMENT_TYPES else _by_type(_STATEMENT_TYPES, _STATEMENTS, kind)
            if handler is not None:
                self.env = env
                handler(self, stmt, env)
        self.env = outer

    def suite(self, suite, env: Env) -> None:
        if suite is None:
            return
        body = suite.body
        if type(body) is cst.IndentedBlock:
            self.block(body.body, env)
        elif isinstance(body, (list, tuple)):
            self.block(body, env)
        elif isinstance(body, cst.CSTNode):
            self.block([body], env)

    def simple_line(self, stmt: cst.SimpleStatementLine, env: Env) -> None:
        for small in stmt.body:
            kind = type(small)
            handler = _SMALL_TYPES[kind] if kind in _SMALL_TYPES else _by_type(_SMALL_TYPES, _SMALL, kind)
            if handler is not None:
                handler(self, small, env)

    def while_(self, stmt: cst.While, env: Env) -> None:
        self.expr(stmt.test, env)
        self.loop_body(stmt.body.body, env)
        self.suite(stmt.orelse, env)

    def with_(self, stmt: cst.With, env: Env) -> None:
        for item in stmt.items:
            value = self.expr(item.item, env)
            if item.asname is not None:
                self.bind(item.asname.name, value, env, item.item)
        self.block(body_of(stmt), env)

    def try_(self, stmt, env: Env) -> None:
        self.block(stmt.body.body, env)
        for handler in stmt.handlers:
            branch = dict(env)
            self.block(handler.body.body if type(handler.body) is cst.IndentedBlock else [], branch)
            merge_into(env, branch)
        self.suite(stmt.orelse, env)
        self.suite(stmt.finalbody, env)

    def function_stmt(self, stmt: cst.FunctionDef, env: Env) -> None:
        name = stmt.name.value
        if self.frame.is_module:
            self.function(stmt, f"{self.module}.{name}", None, None)
            if stmt.decorators:
                for i in self.active:
                    lane = self.lanes[i]
                    D.decorated(lane, stmt, lane.view(env))
        else:
            qual = f"{self.frame.qual}.{name}"
            for i in self.active:
                self.frame.local_functions[i][name] = qual
            self.function(stmt, qual, None, self._visible(env))

    def class_stmt(self, stmt: cst.ClassDef, env: Env) -> None:
        if self.frame.is_module:
            self.class_def(stmt, "")

    def _visible(self, env: Env) -> Env:
        """The enclosing function's variables with this one's over them (a closure's outer names), per lane."""
        merged = dict(self.frame.outer or {})
        for name, value in env.items():
            old = merged.get(name)
            if old is None or type(value) is not Lanes and value is not ABSENT:
                merged[name] = value
            else:
                merged[name] = pack([at(old, i) if at(value, i) is ABSENT else at(value, i) for i in range(self.n)])
        return merged

    def loop_body(self, body, env: Env) -> None:
        active = self.active
        for _ in range(2):  # a second pass only for the lanes whose first pass changed what flows around the loop
            before = dict(env)
            self.block(body, env)
            merge_into(env, before)
            again = self._changed(env, before)
            if not again:
                break
            self.active = again
        self.active = active

    def _changed(self, env: Env, before: Env) -> tuple:
        """The active lanes whose pass over a loop body changed what is tainted around the loop (they run again)."""
        if self.n == 1:
            return () if _taint1(env) == _taint1(before) else self.active
        return tuple(i for i in self.active if _taint(env, i) != _taint(before, i))

    def assign(self, node: cst.Assign, env: Env) -> None:
        self.frame.assigning = node
        value = self.expr(node.value, env)
        self.frame.assigning = None
        for target in node.targets:
            for i in self.active:
                lane = self.lanes[i]
                lane.domain.assigned(lane, target.target, node.value, at(value, i))
            self.bind(target.target, value, env, node.value)

    def ann_assign(self, node: cst.AnnAssign, env: Env) -> None:
        if node.value is not None:
            self.bind(node.target, self.expr(node.value, env), env, node.value)

    def aug_assign(self, node: cst.AugAssign, env: Env) -> None:
        self.frame.assigning = node
        value = self.expr(node.value, env)
        self.frame.assigning = None
        current = self.expr(node.target, env)
        self.bind(node.target, self.pure(lambda c, v: union(c, derive(v)), current, value), env, None)

    def expression_stmt(self, node: cst.Expr, env: Env) -> None:
        self.expr(node.value, env)

    def return_(self, node: cst.Return, env: Env) -> None:
        if node.value is not None:
            value = self.expr(node.value, env)
            frame = self.frame
            if self.n == 1:
                lane = self.lanes[0]
                frame.returns = union(frame.returns, lane.conditioned(value) if lane.branch_conds else value)
                return
            out = [at(frame.returns, i) for i in range(self.n)]
            for i in self.active:
                lane, v = self.lanes[i], at(value, i)
                out[i] = union(out[i], lane.conditioned(v) if lane.branch_conds else v)
            frame.returns = pack(out)

    def global_(self, node: cst.Global, env: Env) -> None:
        for i in self.active:
            self.frame.globals[i].update(n.name.value for n in node.names)

    def if_(self, node: cst.If, env: Env) -> None:
        if self.n == 1:
            self._if(node, env, self.decide(node.test, env, 0))
        else:
            self._split(self._grouped(lambda i: self.decide(node.test, env, i)), lambda d: self._if(node, env, d))

    def _if(self, node: cst.If, env: Env, decided: bool | None) -> None:
        if decided is not None:  # `if phase == "train":` with a known phase: only one branch runs
            if decided:
                self.block(body_of(node), env)
            elif type(node.orelse) is cst.If:
                self.if_(node.orelse, env)
            elif node.orelse is not None:
                self.suite(node.orelse, env)
            return
        test = self.expr(node.test, env)
        active = [self.lanes[i] for i in self.active]
        guarded, conds = [], []
        truthy = self._param_truth(node.test)
        for lane in active:
            guard = lane.domain.branch(lane, node, at(test, lane.i))
            if guard is not None:
                lane.guards.append(guard)
                guarded.append(lane)
            cond = self._branch_cond(node.test, env, lane.i) if lane.domain.conditional_branches else None
            if cond is not None:
                lane.branch_conds.append(cond)
                conds.append((lane, cond))
            lane.param_guards.append(truthy[0] if truthy and truthy[1] else None)
        body = dict(env)
        self.block(body_of(node), body)
        for lane in active:
            lane.param_guards[-1] = truthy[0] if truthy and not truthy[1] else None
        for lane, cond in conds:
            lane.branch_conds[-1] = (cond[0], (_NEGATED[cond[1][0]], cond[1][1]))
        other = dict(env)
        if type(node.orelse) is cst.If:
            self.if_(node.orelse, other)
        elif node.orelse is not None:
            self.suite(node.orelse, other)
        for lane in active:
            lane.param_guards.pop()
        for lane, _ in conds:
            lane.branch_conds.pop()
        for lane in guarded:
            lane.guards.pop()
        env.clear()
        env.update(body)
        merge_into(env, other)

    def _branch_cond(self, test: cst.BaseExpression, env: Env, i: int) -> tuple | None:
        """(parameter term, (op, literal)) for `if flag == "test":`, `!=`, `in ("test", "pred")`, `not in`, on a
        parameter of the function (`def data_provider(args, flag)`); ("truthy"/"falsy", None) for `if is_train:` and
        `if not is_train:` (`def build_dataset(is_train, config)`)."""
        if self.frame.is_module:
            return None
        truth = "truthy"
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not and type(test.expression) is cst.Name:
            test, truth = test.expression, "falsy"
        if type(test) is cst.Name:
            bound = _get(env, test.value, i)
            if bound is None or bound.parts or bound.fields or len(bound.terms) != 1:
                return None
            term = next(iter(bound.terms))
            return (term, (truth, None)) if type(term) is ParamTerm and not term.path else None
        if type(test) is not cst.Comparison or len(test.comparisons) != 1 or type(test.left) is not cst.Name:
            return None
        bound = _get(env, test.left.value, i)
        if bound is None or bound.parts or bound.fields:
            return None
        terms = [t for t in bound.terms if type(t) is ParamTerm and not t.path]
        if len(terms) != 1 or len(bound.terms) != 1:
            return None
        comparison = test.comparisons[0]
        op = type(comparison.operator)
        if op in (cst.Equal, cst.NotEqual):
            text = string(comparison.comparator)
            return None if text is None else (terms[0], ("eq" if op is cst.Equal else "ne", text))
        if op in (cst.In, cst.NotIn):
            options = literal_strings(comparison.comparator)
            return None if options is None else (terms[0], ("in" if op is cst.In else "notin", tuple(options)))
        return None

    def _param_truth(self, test: cst.BaseExpression) -> tuple | None:
        """((index, name), whether the body runs when it is truthy) for `if p:`, `if not p:`, `if p is not None:`,
        `if p is None:` on a parameter of the function (`run_epoch(loader, model, optimizer=None)`)."""
        if self.frame.is_module:
            return None
        truth = True
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            test, truth = test.expression, False
        if type(test) is cst.Comparison and len(test.comparisons) == 1 and \
                type(test.comparisons[0].comparator) is cst.Name and test.comparisons[0].comparator.value == "None":
            op = type(test.comparisons[0].operator)
            if op not in (cst.IsNot, cst.Is, cst.NotEqual, cst.Equal):
                return None
            truth = truth == (op in (cst.IsNot, cst.NotEqual))
            test = test.left
        if type(test) is not cst.Name or test.value not in self.frame.params:
            return None
        return (self.frame.params.index(test.value), test.value), truth

    def decide(self, test: cst.BaseExpression, env: Env, i: int = 0) -> bool | None:
        """The value of `name == "literal"` / `name != "literal"` / `name in (...)` for a name bound to a literal
        (in lane i)."""
        if not (type(test) is cst.Comparison and len(test.comparisons) == 1 and type(test.left) is cst.Name):
            return None
        bound = _get(env, test.left.value, i)
        if bound is None or not isinstance(bound.const, str):
            return None
        comparison = test.comparisons[0]
        if type(comparison.operator) in (cst.Equal, cst.NotEqual):
            text = string(comparison.comparator)
            if text is None:
                return None
            return (bound.const == text) == (type(comparison.operator) is cst.Equal)
        if type(comparison.operator) in (cst.In, cst.NotIn):
            options = literal_strings(comparison.comparator)
            if options is None:
                return None
            return (bound.const in options) == (type(comparison.operator) is cst.In)
        return None

    def for_(self, node: cst.For, env: Env) -> None:
        phases = literal_strings(node.iter)
        if phases and type(node.target) is cst.Name:
            # `for phase in ("train", "test"):` runs the body once per phase, so that
            # `loaders[phase]` and `if phase == "train":` are decided in each pass
            merged: Env = {}
            for phase in phases:
                branch = dict(env)
                self.put(branch, node.target.value, Val(const=phase))
                self.block(body_of(node), branch)
                merge_into(merged, branch)
            merge_into(env, merged)
            self.suite(node.orelse, env)
            return
        items = self.pure(iterate, self.expr(node.iter, env))
        active = self.active
        for _ in range(2):
            before = dict(env)
            self.bind(node.target, items, env, None)
            self.block(body_of(node), env)
            merge_into(env, before)
            again = self._changed(env, before)
            if not again:
                break
            self.active = again
        self.active = active
        self.suite(node.orelse, env)

    # --- binding ------------------------------------------------------------------------------------
    def bind(self, target: cst.BaseExpression, value: "Val | Lanes", env: Env, source: cst.BaseExpression | None) -> None:
        if self.n == 1:
            lane = self.lanes[0]
            if lane.branch_conds:
                value = lane.conditioned(value)
        elif any(self.lanes[i].branch_conds for i in self.active):
            value = self.each(lambda lane, v: lane.conditioned(v) if lane.branch_conds else v, value)
        kind = type(target)
        if kind is cst.Name:
            name = target.value
            if self.n == 1:
                value = self.lanes[0].domain.named(self.lanes[0], target, name, value, source)
            else:
                value = self.each(lambda lane, v: lane.domain.named(lane, target, name, v, source), value)
            self.put(env, name, value)
            frame = self.frame
            for i in self.active:
                if frame.is_module or name in frame.globals[i]:
                    globals_ = self.lanes[i].facts.globals
                    old, v = globals_.get(name), at(value, i)
                    globals_[name] = union(old, v) if old is not None else v
        elif kind in (cst.Tuple, cst.List):
            elements = [e.value for e in target.elements]
            for i, element in enumerate(elements):
                if type(element) is cst.StarredElement:
                    self.bind(element.value, self.pure(lambda v: index(v, None), value), env, None)
                    continue
                part = self.each(lambda lane, v: lane.domain.unpacked(lane, index(v, i), elements) if v.tainted()
                                 else index(v, i), value)
                paired = source.elements[i].value if type(source) in (cst.Tuple, cst.List) \
                    and len(source.elements) == len(elements) else None  # `X_train, X_test = X[:800], X[800:]`
                self.bind(element, part, env, paired)
        elif kind is cst.Attribute:
            attr = target.attr.value
            value = self.each(lambda lane, v: lane.domain.named(lane, target.attr, attr, v, source), value)
            receiver = target.value
            if type(receiver) is cst.Name and receiver.value == self.frame.self_name and self.frame.cls:
                self.put(env, f"{receiver.value}.{attr}", value)
                for i in self.active:
                    self._store_attr(self.lanes[i], self.frame.cls, attr, at(value, i))
            else:
                owner = self.expr(receiver, env)
                for i in self.active:
                    cls = at(owner, i).cls
                    if cls and self.ctx.names.classes.get(cls.rsplit(".", 1)[-1]) is not None:
                        self._store_attr(self.lanes[i], cls.rsplit(".", 1)[-1], attr, at(value, i))
        elif kind is cst.Subscript and type(target.value) is cst.Name:
            name = target.value.value
            for i in self.active:
                v = at(value, i)
                if not v.tainted():
                    continue
                key = self.key(target, env, i)
                current = _get(env, name, i) or CLEAN
                if key is not None and current.parts is None:  # `data[k] = ...`: that key only
                    fields = dict(current.fields or ())
                    fields[key] = union(fields.get(key, CLEAN), v)
                    self.put(env, name, Val(current.terms, fields=tuple(fields.items())), (i,))
                else:
                    self.put(env, name, union(current, v), (i,))

    def _store_attr(self, lane: Lane, cls: str, attr: str, value: Val) -> None:
        """Attributes are per class, not per object: only the arguments of constructors and of set-up methods
        (`set_data_loader(loaders)`, `setup(...)`) are kept as parameters. Another method's parameters
        (`AverageMeter.update(val)`) would mix every object's values; the caller's own object carries those
        instead (see `_mutate`)."""
        if not _SETS_UP.match(self.frame.qual.rsplit(".", 1)[-1]):
            value = terms_val(t for t in value.flat() if not (type(t) is ParamTerm and t.func == self.frame.qual))
        if not value.tainted():
            return
        attrs = lane.facts.attrs
        old = attrs.get((cls, attr))
        attrs[(cls, attr)] = union(old, value) if old is not None else value

    # --- expressions --------------------------------------------------------------------------------
    def expr(self, node: cst.BaseExpression, env: Env) -> "Val | Lanes":
        kind = type(node)
        handler = _EXPRESSION_TYPES[kind] if kind in _EXPRESSION_TYPES else _by_type(_EXPRESSION_TYPES, _EXPRESSIONS, kind)
        return handler(self, node, env) if handler is not None else CLEAN

    def string_expr(self, node, env: Env) -> Val:
        return Val(const=string(node))

    def binary(self, node: cst.BinaryOperation, env: Env) -> "Val | Lanes":
        left, right = self.expr(node.left, env), self.expr(node.right, env)
        if self.n == 1:
            return self._binary(self.lanes[0], node, left, right)
        return self.each(lambda lane, left, right: self._binary(lane, node, left, right), left, right)

    def _binary(self, lane: Lane, node: cst.BinaryOperation, left: Val, right: Val) -> Val:
        known = lane.domain.operated(lane, node, left, right)
        if known is not None:
            return known
        created = lane.domain.operation(lane, node)
        if type(node.operator) is cst.Add and left.parts is not None and right.parts is not None:
            return Val(parts=left.parts + right.parts)  # list concatenation keeps the pieces
        result = union(left, right) if not (left.tainted() and right.tainted()) else derived_union(left, right)
        if not (literal(node.left) or literal(node.right) or type(node.operator) is cst.Add):
            result = derive(result)
        return union(result, terms_val({created})) if created else result

    def unary(self, node: cst.UnaryOperation, env: Env) -> "Val | Lanes":
        not_ = type(node.operator) is cst.Not
        minus = type(node.operator) is cst.Minus

        def value(inner: Val) -> Val:
            if not_ and inner.const is not None:
                return Val(const=not inner.const)
            return derive(inner) if not minus else inner
        return self.pure(value, self.expr(node.expression, env))

    def boolean(self, node: cst.BooleanOperation, env: Env) -> "Val | Lanes":
        return self.pure(derived_union, self.expr(node.left, env), self.expr(node.right, env))

    def comparison(self, node: cst.Comparison, env: Env) -> "Val | Lanes":
        vals = [self.expr(node.left, env)] + [self.expr(c.comparator, env) for c in node.comparisons]
        return self.pure(derived_union, *vals)

    def if_expr(self, node: cst.IfExp, env: Env) -> "Val | Lanes":
        test = self.expr(node.test, env)
        body, orelse = self.expr(node.body, env), self.expr(node.orelse, env)

        def value(lane: Lane, test: Val, body: Val, orelse: Val) -> Val:
            chosen = lane.domain.choice(lane, node, test, body, orelse)
            return chosen if chosen is not None else union(body, orelse)
        return self.each(value, test, body, orelse)

    def sequence(self, node, env: Env) -> "Val | Lanes":
        parts = []
        for element in node.elements:
            value = self.expr(element.value, env)
            parts.append(self.pure(lambda v: index(v, None), value) if type(element) is cst.StarredElement else value)
        return self.pure(lambda *parts: Val(parts=parts), *parts)

    def set_display(self, node: cst.Set, env: Env) -> "Val | Lanes":
        return self.pure(union, *(self.expr(e.value, env) for e in node.elements))

    def dict_display(self, node: cst.Dict, env: Env) -> "Val | Lanes":
        keys, values, extra = [], [], []
        for element in node.elements:
            if type(element) is cst.DictElement:
                value = self.expr(element.value, env)
                self.expr(element.key, env)
                key = string(element.key)  # str_value without literal_eval for a plain literal
                if key is not None:
                    keys.append(key)
                    values.append(value)
                else:
                    extra.append(value)
            else:
                extra.append(self.expr(element.value, env))
        count = len(values)
        return self.pure(lambda *vals: Val(union(*vals[count:]).flat(), fields=tuple(zip(keys, vals[:count]))),
                         *values, *extra)

    def named_expr(self, node: cst.NamedExpr, env: Env) -> "Val | Lanes":
        value = self.expr(node.value, env)
        self.bind(node.target, value, env, node.value)
        return value

    def inner_expr(self, node, env: Env) -> "Val | Lanes":
        """`await x`, `*x`: the value of x."""
        return self.expr(node.expression if type(node) is cst.Await else node.value, env)

    def fstring(self, node: cst.FormattedString, env: Env) -> Val:
        for part in node.parts:
            if type(part) is cst.FormattedStringExpression:
                self.expr(part.expression, env)
        return CLEAN

    def comprehension(self, node, env: Env) -> "Val | Lanes":
        inner = dict(env)
        clause = node.for_in
        while clause is not None:
            self.bind(clause.target, self.pure(iterate, self.expr(clause.iter, inner)), inner, None)
            for cond in clause.ifs:
                self.expr(cond.test, inner)
            clause = clause.inner_for_in
        if type(node) is cst.DictComp:
            return self._dict_comprehension(node, env, inner)
        return self.pure(lambda elem: Val(elem=elem), self.expr(node.elt, inner))

    def _dict_comprehension(self, node: cst.DictComp, env: Env, inner: Env) -> "Val | Lanes":
        """`{x: DataLoader(sets[x]) for x in sets}` over known keys: one field per key; else the keys' and the
        values' union."""
        clause = node.for_in
        keys = None
        if not (clause.inner_for_in is not None or clause.ifs or type(clause.target) is not cst.Name
                or type(node.key) is not cst.Name or node.key.value != clause.target.value):
            keys = literal_strings(clause.iter)
            if keys is None:
                source = self.expr(clause.iter, env)
                groups = self._grouped(lambda i: tuple(k for k, _ in at(source, i).fields)
                                       if at(source, i).fields is not None else None)
            else:
                groups = {tuple(keys): list(self.active)}
        else:
            groups = {None: list(self.active)}
        out = [CLEAN] * self.n
        active = self.active

        def run(keys: tuple | None) -> None:
            if keys:
                fields = []
                for key in keys:
                    scope = dict(env)
                    self.put(scope, clause.target.value, Val(const=key))
                    fields.append(self.expr(node.value, scope))
                value = self.pure(lambda *vals: Val(fields=tuple(zip(keys, vals))), *fields)
            else:
                value = self.pure(union, self.expr(node.key, inner), self.expr(node.value, inner))
            for i in self.active:
                out[i] = at(value, i)
        self._split(groups, run)
        self.active = active
        return pack(out) if self.n > 1 else out[0]

    def name(self, node: cst.Name, env: Env) -> "Val | Lanes":
        value = env.get(node.value)
        if value is not None and type(value) is not Lanes and value is not ABSENT:
            return value
        if self.n == 1:
            return self._name(node, env, 0)
        return self.each(lambda lane: self._name(node, env, lane.i))

    def _name(self, node: cst.Name, env: Env, i: int) -> Val:
        name = node.value
        value = _get(env, name, i)
        if value is not None:
            return value
        if name in ("True", "False"):
            return Val(const=name == "True")
        outer = self.frame.outer
        if outer is not None:
            value = _get(outer, name, i)
            if value is not None:
                return value
        if not self.frame.is_module and name in self.module_names:
            return terms_val({GlobalTerm(self.ctx.rel, f"{self.module}.{name}")})
        if self.frame.is_module and name in self.ctx.names.functions:  # a function as a value (dispatch.py)
            return terms_val({GlobalTerm(self.ctx.rel, f"{self.module}.{name}")})
        qualified = self.ctx.names.qualify(node)
        if qualified and self.ctx.is_project_name(qualified) and not qualified.startswith(self.module + "."):
            return terms_val({GlobalTerm(self.ctx.rel, qualified)})
        return CLEAN

    def attribute(self, node: cst.Attribute, env: Env) -> "Val | Lanes":
        attr = node.attr.value
        receiver = node.value
        if type(receiver) is cst.Name and receiver.value == self.frame.self_name and self.frame.cls:
            key = f"{receiver.value}.{attr}"
            local = env.get(key)
            if local is not None and type(local) is not Lanes and local is not ABSENT:
                return local

            def value(lane: Lane) -> Val:
                found = _get(env, key, lane.i)
                return found if found is not None else \
                    terms_val({AttrTerm(self.ctx.rel, f"{self.module}.{self.frame.cls}", attr)})
            return self.each(value)
        owner = self.expr(receiver, env)
        if self.n == 1:
            return self._attribute(self.lanes[0], node, attr, receiver, owner, env)
        return self.each(lambda lane, owner: self._attribute(lane, node, attr, receiver, owner, env), owner)

    def _attribute(self, lane: Lane, node: cst.Attribute, attr: str, receiver, owner: Val, env: Env) -> Val:
        if attr in lane.options and not owner.tainted() and type(receiver) is cst.Name:
            return Val(const=lane.options[attr])  # `args.split` of `--split` with a literal default
        if owner.cls:
            return union(terms_val({AttrTerm(self.ctx.rel, owner.cls, attr)}), index(terms_val(owner.terms), "." + attr))
        if not owner.tainted():
            if type(receiver) is cst.Name and (owner is CLEAN or owner == CLEAN) \
                    and _get(env, receiver.value, lane.i) is None:
                qualified = self.ctx.names.qualify(node)  # `data.test_loader` of an imported project module
                if qualified and self.ctx.is_project_name(qualified):
                    return terms_val({GlobalTerm(self.ctx.rel, qualified)})
            return CLEAN
        if attr in L.METADATA_ATTRS:
            return CLEAN
        return index(owner, "." + attr)

    def key(self, node: cst.Subscript, env: Env, i: int = 0) -> object:
        """The literal key of a subscript, or the literal a name in it is bound to (`data[k]`, k = "test"), in lane i."""
        keys = self._slice_keys
        key = keys[id(node)] if id(node) in keys else keys.setdefault(id(node), slice_key(node))
        if key is None and len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index \
                and type(node.slice[0].slice.value) is cst.Name:
            bound = _get(env, node.slice[0].slice.value.value, i)
            if bound is not None and isinstance(bound.const, (str, int)) and not isinstance(bound.const, bool):
                key = bound.const
        return key

    def subscript(self, node: cst.Subscript, env: Env) -> "Val | Lanes":
        owner = self.expr(node.value, env)
        for element in node.slice:
            if type(element.slice) is cst.Index:
                self.expr(element.slice.value, env)
        if self.n == 1:
            return self._subscript(self.lanes[0], node, owner, env)
        return self.each(lambda lane, owner: self._subscript(lane, node, owner, env), owner)

    def _subscript(self, lane: Lane, node: cst.Subscript, owner: Val, env: Env) -> Val:
        key = self.key(node, env, lane.i)
        recognised = lane.domain.subscript(lane, node, owner, key)
        if recognised is not None:
            return recognised
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Slice:
            return owner  # a slice of the data is the data
        return index(owner, key)

    # --- calls --------------------------------------------------------------------------------------
    def call(self, node: cst.Call, env: Env) -> "Val | Lanes":
        func = node.func
        receiver = self.expr(func.value, env) if type(func) is cst.Attribute else CLEAN
        args = [(position, self.expr(arg.value, env), arg) for position, arg in arg_keys(node)]
        short = callee_name(func)
        imported = self.ctx.names.qualify(func)  # names.callee(node)
        qualified = imported or dotted(func) or ""
        if short == "add_argument" or short.startswith("DEFINE_"):
            self._option(node)
        if self.n == 1:
            return self._call(self.lanes[0], node, env, receiver, args, short, imported, qualified)
        split = any(type(v) is Lanes for _, v, _ in args)
        return self.each(lambda lane, receiver: self._call(
            lane, node, env, receiver, [(p, v[lane.i], a) if type(v) is Lanes else (p, v, a) for p, v, a in args]
            if split else args, short, imported, qualified), receiver)

    def _call(self, lane: Lane, node: cst.Call, env: Env, receiver: Val, args: list, short: str,
              imported: str | None, qualified: str) -> Val:
        func = node.func
        site = self._project_callee(lane, func, receiver, imported, short)
        dynamic = D.callee_value(lane, func, lane.view(env)) if site is None and type(func) is not cst.Attribute else None
        if dynamic is not None:  # a callee looked up at run time that may be project code (dispatch.py)
            site = (D.DISPATCH, 0)
        facts = lane.facts
        call = Call(node, short, qualified, receiver, args, lane.view(env), lane.frame,
                    f"{self.ctx.rel}#{len(facts.calls)}" if site is not None else "", site is not None)
        lane.domain.call_sinks(lane, call)
        call.library_site = ""
        self._mutate(call)
        found = lane.domain.call_sources(lane, call)
        sources = found.sources
        known = lane.domain.call_result(lane, call)
        if known is not None:
            return union(known, terms_val(sources)) if sources else known
        if site is not None:
            callee, offset = site
            # if the project index finds no such function (a module shadowing a library, a star import),
            # the call is read as a library call
            fallback = self.library_result(lane, call)
            fallback = union(fallback, terms_val(sources)) if sources else fallback
            key = f"{self.ctx.rel}#{len(facts.calls)}"
            lane._call_nodes.append((key, node))
            facts.calls[key] = self.ctx.calls.of(
                node, self.frame.qual, CallSite, located=False, key=key, rel=self.ctx.rel, dotted=callee,
                args=tuple((p, v) for p, v, _ in args if p is not None), offset=offset, fallback=fallback,
                falsy=tuple(p for p, _, arg in args if p is not None and _falsy(arg.value)), dynamic=dynamic,
            )
            cls = callee if short[:1].isupper() and dynamic is None else None
            return Val(frozenset({ReturnTerm(key)}) | sources, cls=cls)
        result = self.library_result(lane, call)
        result = union(result, terms_val(sources)) if sources else result
        if found.marks and not sources:
            result = replace(result, marks=result.marks | found.marks)
        return result

    def _option(self, node: cst.Call) -> None:
        """`add_argument("--split", default="test")`: an option whose literal default decides `args.split`."""
        known = self._options_of
        option = known[id(node)] if id(node) in known else known.setdefault(id(node), option_of_call(node, self.ctx.names))
        if option is not None and option.kind in (OptionKind.ARGPARSE, OptionKind.ABSL) and option.dest \
                and option.constant is not None:
            for i in self.active:
                self.lanes[i].options[option.dest] = option.constant

    def _project_callee(self, lane: Lane, func, receiver: Val, imported: str | None, short: str) -> tuple[str, int] | None:
        """(callee as written for the project index, self offset) when the call may run project code.
        imported: the callee qualified through the imports (names.qualify), None when its root is not imported."""
        kind = type(func)
        if kind is cst.Name:
            local = self.frame.local_functions[lane.i].get(func.value)
            if local is not None:
                return local, 0
        elif kind is cst.Attribute:
            frame = self.frame
            if type(func.value) is cst.Name and func.value.value == frame.self_name and frame.cls:
                return f"{self.module}.{frame.cls}.{short}", 1
            if receiver.cls:
                return f"{receiver.cls}.{short}", 1
            base = self._super_base(func.value)
            if base is not None:  # `super().__init__(root, transform)`: the project base class's method
                return f"{base}.{short}", 1
        if imported and self.ctx.is_project_name(imported) and imported not in L.LIBRARY_APIS:
            return imported, 0
        return None

    def _super_base(self, value: cst.BaseExpression) -> str | None:
        """In a method of a module-level class, `super()` (or `super(Cls, self)`): the qualified name of the
        class's first base when that is project code."""
        frame = self.frame
        if type(value) is not cst.Call or type(value.func) is not cst.Name or value.func.value != "super" \
                or not frame.cls or len(value.args) not in (0, 2):
            return None
        node = self.ctx.names.classes.get(frame.cls)
        if node is None or not node.bases:
            return None
        base = self.ctx.names.qualify(node.bases[0].value)
        return base if base and self.ctx.is_project_name(base) and base not in L.LIBRARY_APIS else None

    def library_result(self, lane: Lane, call: Call) -> Val:
        """What a library call returns: the domain's answer, else the library model (library.py)."""
        known = lane.domain.library_result(lane, call)
        if known is not None:
            return known
        short, receiver, node = call.short, call.receiver, call.node
        values = [v for _, v, _ in call.args]
        if short in L.CLEAN_CALLS:
            return CLEAN
        if short == "partial" and (known := D.partial_value(lane, call)) is not None:
            return known
        if short == "enumerate":
            first = values[0] if values else CLEAN
            return Val(elem=Val(parts=(CLEAN, iterate(first))))
        if short == "zip":
            return Val(elem=Val(parts=tuple(iterate(v) for v in values)))
        if short in L.NAMESPACE_CALLS and all(isinstance(p, str) for p, _, _ in call.args):
            return Val(fields=tuple((p, v) for p, v, _ in call.args))
        if short in ("get", "pop") and receiver.fields is not None and values and isinstance(values[0].const, str):
            return index(receiver, values[0].const)
        if short in ("next", "iter") and values:
            return iterate(values[0]) if short == "next" else values[0]
        if call.is_method and short in L.RETURNS_ARGUMENTS and call.args and all(isinstance(p, int) for p, _, _ in call.args):
            return values[0] if len(values) == 1 else Val(parts=tuple(values))
        if call.is_method and (short in L.DATA_METHODS and not is_empty(receiver) or receiver.fields is not None):
            # a view of the receiver; a dataset dict keeps its splits through .map(), .with_transform(), ...
            kept = receiver if short not in ("items", "values") else Val(elem=iterate(receiver))
            return union(kept, *(derive(v) for v in values if v.tainted()))
        if short in L.DATA_CALLS:
            data = [v for p, v, _ in call.args if p == 0 or p in ("dataset", "datasets", "data", "tensors", "objs")]
            if short in L.CONCAT_CALLS or short in ("TensorDataset", "array", "stack"):
                data = [v for p, v, _ in call.args if isinstance(p, int) or p in ("dataset", "datasets", "tensors", "objs")]
            result = union(*(index(d, None) if short in L.CONCAT_CALLS and d.parts is not None else d for d in data))
            if type(node.func) is cst.Attribute:
                result = union(result, receiver)
            return replace(result, const=None) if result.const is not None else result  # data, not the path
        ctor = short if short[:1].isupper() else None
        if not receiver.tainted() and not any(v.tainted() for v in values):  # nothing to carry
            return Val(ctor=ctor) if ctor else CLEAN
        # sizes and counts given by keyword (`num_labels=`) configure an object; they are not its data
        carried = [v for p, v, _ in call.args if not (isinstance(p, str) and L.CONFIG_KEYWORD.search(p))]
        result = derived_union(receiver, *carried)
        return Val(result.terms, ctor=ctor) if ctor else result

    def _mutate(self, call: Call) -> None:
        """`losses.append(loss.item())`: the container now holds what was added."""
        func = call.node.func
        if call.short in L.MUTATORS and type(func) is cst.Attribute and type(func.value) is cst.Name:
            added = union(*(v for _, v, _ in call.args))
            name = func.value.value
            if added.tainted() and name in call.env:
                call.env[name] = union(call.env[name], derive(added))
            elif added.tainted() and self.frame.is_module:
                call.env[name] = derive(added)


# Methods whose arguments become the object's state: constructors and set-up methods.
_SETS_UP = re.compile(r"__init__$|__post_init__$|(?:set|setup|init|initialize|initialise|build|prepare|attach|register)(?:_|$)")


_NEGATED = {"eq": "ne", "ne": "eq", "in": "notin", "notin": "in", "truthy": "falsy", "falsy": "truthy"}

# per module (while its context lives): what the interpretations of one module share (see Interpreter.__init__)
_MODULE_MEMO: "weakref.WeakKeyDictionary[ModuleContext, tuple[dict, dict]]" = weakref.WeakKeyDictionary()


def _conditioned(value: Val, rel: str, made: dict) -> Val:
    terms = frozenset(
        CondTerm(made[t.i][0], made[t.i][1], (t.rel, t.i), path=t.path, raw=t.raw, tags=t.tags)
        if type(t) is SourceTerm and t.rel == rel and t.i in made else t for t in value.terms)
    parts = tuple(_conditioned(p, rel, made) for p in value.parts) if value.parts is not None else None
    fields = tuple((k, _conditioned(v, rel, made)) for k, v in value.fields) if value.fields is not None else None
    elem = _conditioned(value.elem, rel, made) if value.elem is not None else None
    return replace(value, terms=terms, parts=parts, fields=fields, elem=elem)


def _falsy(expr: cst.BaseExpression) -> bool:
    """A literal None, False, 0 or empty string."""
    kind = type(expr)
    if kind is cst.Name:
        return expr.value in ("None", "False")
    if kind is cst.Integer:
        return expr.value == "0"
    if kind is cst.SimpleString:
        return expr.value in ('""', "''")
    return False


def _taint1(env: Env) -> dict:
    """The tainted names of an interpretation with one lane, with their terms (value.tainted(), flat once)."""
    return {name: terms for name, value in env.items() if (terms := value.flat())}


def _taint(env: Env, i: int) -> dict:
    """Lane i's tainted names, with their terms (value.tainted(), flat once)."""
    return {name: terms for name, value in env.items()
            if (terms := (value[i] if type(value) is Lanes else value).flat())}


def merge_into(env: Env, other: Env) -> None:
    for name, value in other.items():
        current = env.get(name)
        if current is None:
            env[name] = value
        elif current is not value:  # branches copy the environment: most names hold the same value on both
            env[name] = _join(current, value)


def _join(current: "Val | Lanes", value: "Val | Lanes") -> "Val | Lanes":
    """The union of two bindings of a name, lane by lane (a lane where one side does not bind it keeps the other)."""
    if type(current) is not Lanes and type(value) is not Lanes:
        if current is ABSENT or value is ABSENT:
            return value if current is ABSENT else current
        return union(current, value)
    out = []
    for i in range(len(current) if type(current) is Lanes else len(value)):
        c, v = at(current, i), at(value, i)
        out.append(v if c is ABSENT else c if v is ABSENT or c is v else union(c, v))
    return pack(out)


# Dispatch per node type, by class name (TryStar exists only in newer libcst).
_STATEMENTS: dict[str, Callable] = {
    "SimpleStatementLine": Interpreter.simple_line, "If": Interpreter.if_, "For": Interpreter.for_,
    "While": Interpreter.while_, "With": Interpreter.with_, "Try": Interpreter.try_, "TryStar": Interpreter.try_,
    "FunctionDef": Interpreter.function_stmt, "ClassDef": Interpreter.class_stmt,
}
_SMALL: dict[str, Callable] = {
    "Assign": Interpreter.assign, "AnnAssign": Interpreter.ann_assign, "AugAssign": Interpreter.aug_assign,
    "Expr": Interpreter.expression_stmt, "Return": Interpreter.return_, "Global": Interpreter.global_,
}
_EXPRESSIONS: dict[str, Callable] = {
    "Name": Interpreter.name, "Call": Interpreter.call, "Attribute": Interpreter.attribute,
    "SimpleString": Interpreter.string_expr, "ConcatenatedString": Interpreter.string_expr,
    "Subscript": Interpreter.subscript, "BinaryOperation": Interpreter.binary,
    "UnaryOperation": Interpreter.unary, "BooleanOperation": Interpreter.boolean,
    "Comparison": Interpreter.comparison, "IfExp": Interpreter.if_expr,
    "Tuple": Interpreter.sequence, "List": Interpreter.sequence, "Set": Interpreter.set_display,
    "Dict": Interpreter.dict_display, "ListComp": Interpreter.comprehension, "SetComp": Interpreter.comprehension,
    "GeneratorExp": Interpreter.comprehension, "DictComp": Interpreter.comprehension,
    "NamedExpr": Interpreter.named_expr, "Await": Interpreter.inner_expr, "StarredElement": Interpreter.inner_expr,
    "FormattedString": Interpreter.fstring,
}
# the same tables by node class, filled on first sight of each class (a class's name is read once)
_STATEMENT_TYPES: dict[type, Callable | None] = {}
_SMALL_TYPES: dict[type, Callable | None] = {}
_EXPRESSION_TYPES: dict[type, Callable | None] = {}


def _by_type(table: dict, by_name: dict, kind: type) -> Callable | None:
    handler = table[kind] = by_name.get(kind.__name__)
    return handler
