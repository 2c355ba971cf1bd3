"""Abstract values for a cross-module data-flow analysis, and their resolution over the project.

Workers interpret each function once and describe what flows with symbolic *terms*: a source
seen in this file, a parameter of the enclosing function, the return value of a call to project
code, a module global, an attribute of a project class, or a split decided by a parameter's
value (`train=(split == "train")`). The project phase resolves terms into *atoms*: concrete
chains from a source (with the call sites it passed through), or references to parameters,
which become function summaries ("this function trains on its parameter 2").
"""
from __future__ import annotations

import hashlib
import pickle
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Iterable

SRC, PARAM, RET, GLOBAL, ATTR, COND = "src", "param", "ret", "global", "attr", "cond"
ITER = "__iter__"  # path step: an element of an iterable
ANY = "*"  # path step: an unknown index


@dataclass(frozen=True)
class Term:
    kind: str
    ref: Any  # src: (rel, i); param: (func, index, name); ret: site key; global: (rel, dotted); attr: (rel, class, name); cond: (Term, predicate, (rel, i))
    path: tuple = ()
    raw: bool = True  # the data itself (not a model output or a metric computed from it)
    unlabelled: bool = False  # inputs unpacked without their labels (`for x, _ in target_loader`)


@dataclass(frozen=True)
class Val:
    terms: frozenset = frozenset()
    parts: tuple | None = None  # elements of a tuple/list display
    fields: tuple | None = None  # ((key, Val), ...) of a dict display or a namespace
    elem: "Val | None" = None  # what iterating yields, when known (enumerate, zip)
    const: Any = None  # a str/bool literal
    cls: str | None = None  # an instance of this project class (dotted as written)
    ctor: str | None = None  # the library class that built it (StandardScaler, ReduceLROnPlateau)
    train_split: bool = False  # known to be (part of) the training split: what is carved from it is validation

    def flat(self) -> frozenset:
        """Every term, structure forgotten."""
        if self.parts is None and self.fields is None and self.elem is None:
            return self.terms
        out = set(self.terms)
        for part in self.parts or ():
            out |= part.flat()
        for _, value in self.fields or ():
            out |= value.flat()
        if self.elem is not None:
            out |= self.elem.flat()
        return frozenset(out)

    def tainted(self) -> bool:
        return bool(self.flat())


CLEAN = Val()


def terms_val(terms: Iterable[Term]) -> Val:
    terms = frozenset(terms)
    return Val(terms) if terms else CLEAN


def is_empty(v: Val) -> bool:
    return not v.terms and v.parts is None and v.fields is None and v.elem is None and v.const is None \
        and v.cls is None and v.ctor is None and not v.train_split


def _plain(v: Val) -> bool:
    return v.parts is None and v.fields is None and v.elem is None and v.const is None and v.cls is None \
        and v.ctor is None and not v.train_split


def union(*vals: Val) -> Val:
    vals = tuple(v for v in vals if v is not CLEAN and not is_empty(v))
    if not vals:
        return CLEAN
    if len(vals) == 1:
        return vals[0]
    if all(_plain(v) for v in vals):  # the common case: only terms
        return Val(frozenset().union(*(v.terms for v in vals)))
    first = vals[0]
    if all(v.parts is not None and len(v.parts) == len(first.parts) for v in vals) and not any(v.fields for v in vals):
        parts = tuple(union(*(v.parts[i] for v in vals)) for i in range(len(first.parts)))
        return Val(frozenset().union(*(v.terms for v in vals)), parts=parts)
    if any(v.fields is not None for v in vals) and not any(v.parts is not None or v.elem is not None for v in vals):
        # a dict whose key was written on one branch only: the known keys, over the unknown rest
        merged: dict = {}
        for v in vals:
            for key, value in v.fields or ():
                merged[key] = union(merged[key], value) if key in merged else value
        return Val(frozenset().union(*(v.terms for v in vals)), fields=tuple(merged.items()))
    consts = {v.const for v in vals}
    cls = {v.cls for v in vals} - {None}
    ctors = {v.ctor for v in vals} - {None}
    return Val(
        frozenset().union(*(v.flat() for v in vals)),
        const=consts.pop() if len(consts) == 1 else None,
        cls=cls.pop() if len(cls) == 1 else None,
        ctor=ctors.pop() if len(ctors) == 1 else None,
        train_split=all(v.train_split for v in vals),
    )


def unlabel(val: Val) -> Val:
    return terms_val(replace(t, unlabelled=True) for t in val.flat())


@lru_cache(maxsize=65536)
def _derived(term: Term) -> Term:
    return replace(term, raw=False) if term.raw else term


@lru_cache(maxsize=65536)
def _stepped(term: Term, step: Any) -> Term:
    return replace(term, path=term.path + (step,)) if term.kind != SRC and len(term.path) < 6 else term


def _stepped_by(term: Term, path: tuple) -> Term:
    """apply_path for one term of a plain value: each step appended, up to 6 (as _stepped does)."""
    if term.kind == SRC or len(term.path) >= 6:
        return term
    return replace(term, path=(term.path + path)[:6])


def derive(val: Val) -> Val:
    """A value computed from val: still carries its taint, no longer the data itself."""
    terms = val.flat()
    if not terms:
        return CLEAN
    return Val(frozenset(map(_derived, terms)))


def _extend(val: Val, step: Any) -> Val:
    terms = val.flat()
    if not terms:
        return CLEAN
    return Val(frozenset(_stepped(t, step) for t in terms))


def index(val: Val, key: Any) -> Val:
    """val[key] (or val.key for a `.name` key): a column or element of a training split is training data."""
    result = _index(val, key)
    return replace(result, train_split=True) if val.train_split and not result.train_split else result


def _index(val: Val, key: Any) -> Val:
    if val.parts is not None and isinstance(key, int) and -len(val.parts) <= key < len(val.parts):
        return union(val.parts[key], _extend(terms_val(val.terms), key))
    if val.fields is not None and key is not None and key != ANY:
        bare = key[1:] if isinstance(key, str) and key.startswith(".") else key
        for name, value in val.fields:
            if name == bare:
                return union(value, _extend(terms_val(val.terms), key))
        return _extend(terms_val(val.terms), key)  # a key the dict display does not hold
    if val.parts is not None or val.fields is not None:
        return _extend(val, ANY if key is None else key)
    return _extend(val, ANY if key is None else key)


def iterate(val: Val) -> Val:
    if val.elem is not None:
        return union(val.elem, _extend(terms_val(val.terms), ITER))
    if val.parts is not None:
        return union(*val.parts, _extend(terms_val(val.terms), ITER))
    return _extend(val, ITER)


def apply_path(val: Val, path: tuple) -> Val:
    for step in path:
        val = iterate(val) if step == ITER else index(val, None if step == ANY else step)
    return val


# --- facts the workers produce -------------------------------------------------------------------


@dataclass
class Source:
    loc: Any  # Loc
    what: str  # "CIFAR10(train=False)", "load_dataset(split='test')", "named `X_test`"


@dataclass
class CallSite:
    key: str  # unique in the project: "rel#n"
    rel: str
    callee: str  # dotted as written in rel (resolved by the project index)
    loc: Any
    args: tuple  # ((position:int | keyword:str, Val), ...)
    offset: int = 0  # 1 when the callee's first parameter is `self` bound by the call
    fallback: Val = CLEAN  # what the result carries if the callee is not project code after all
    short: str = ""


@dataclass
class Function:
    qual: str  # dotted: module.Class.method
    params: tuple  # names, including self
    defaults: dict = field(default_factory=dict)  # name -> str/bool literal default
    returns: Val = CLEAN


@dataclass
class Sink:
    code: str
    loc: Any
    val: Val
    what: str  # "backward()", "torch.save guarded by", ...
    raw_only: bool = False  # statistics: only the data itself counts, not metrics computed from it
    labelled_only: bool = False  # training: unlabelled inputs (domain adaptation) do not count
    scope: str = ""  # the enclosing function (or module body)
    needs_monitor: bool = False  # counts only if some module checkpoints or stops early on a monitored metric
    # a library API read at a call that may run project code (`engine.fit(...)`): if the project index finds
    # a plain function there, its body is analysed instead, and the sink is dropped (see Resolver.runs_function)
    site: str = ""


@dataclass
class FlowFacts:
    rel: str
    module: str
    splits: tuple = ()  # the configured held-out split names
    sources: list[Source] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    calls: dict[str, CallSite] = field(default_factory=dict)
    globals: dict[str, Val] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Val] = field(default_factory=dict)  # (class path in module, attr) -> value
    sinks: list[Sink] = field(default_factory=list)
    monitors: bool = False  # ModelCheckpoint/EarlyStopping(monitor=...) in this module

    def sealed(self, path: str) -> "FlowFile":
        """Called by the engine once every Loc is final, with the path they carry (see FlowFile)."""
        return FlowFile(self, path)


class FlowFile:
    """One module's facts as the project phase holds them: what every run reads in the open (sinks, the
    names the module calls), the bulk pickled and unpickled only when the resolution reaches this module.
    A warm run reads every file's entry from the cache; the resolution starts at the sinks and reaches
    a few modules (timm: 40 of 272). The functions are a blob of their own: looking a function up is the
    commonest reason to reach a module, and a model file's call sites are most of its bytes."""

    def __init__(self, facts: FlowFacts, path: str) -> None:
        self.rel, self.module, self.splits, self.monitors = facts.rel, facts.module, facts.splits, facts.monitors
        self.sinks = facts.sinks
        callees: dict[str, set[str]] = {}
        for site in facts.calls.values():
            callees.setdefault(last_name(site.callee), set()).add(site.callee)
        self.callees = {name: tuple(sorted(written)) for name, written in sorted(callees.items())}  # last name -> as written
        self._functions_blob = pickle.dumps(facts.functions, pickle.HIGHEST_PROTOCOL)
        self._blob = pickle.dumps(replace(facts, sinks=[], functions={}), pickle.HIGHEST_PROTOCOL)
        self._path = self._sealed_path = path
        self._functions: dict[str, Function] | None = None
        self._facts: FlowFacts | None = None
        # What a project result depended on, to reuse it in a later run: the open part, compared by
        # value (as much of it as the resolution reads), and the bulk, by its bytes (equal bytes, equal
        # facts; a set pickled in another process may differ in order: a needless miss, never a wrong hit).
        sinks = [(s.code, _position(s.loc), s.what, s.raw_only, s.labelled_only, s.scope, s.needs_monitor, s.site,
                  sorted(map(repr, s.val.flat()))) for s in self.sinks]
        light = repr((self.module, self.splits, self.monitors, self.callees, sinks))
        self.light_digest = _digest(light.encode())
        self.bulk_digest = _digest(self._functions_blob + self._blob)

    def functions(self) -> dict[str, Function]:
        if self._functions is None:
            self._functions = pickle.loads(self._functions_blob)  # no Locs: nothing to retarget
        return self._functions

    def facts(self) -> FlowFacts:
        if self._facts is None:
            from ..findings import retarget

            facts = pickle.loads(self._blob)
            if self._path != self._sealed_path:
                retarget(facts, self._sealed_path, self._path)
            self._facts = replace(facts, sinks=self.sinks, functions=self.functions())
        return self._facts

    def retargeted(self, old: str, new: str) -> None:
        if self._path == old:
            self._path = new

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_facts": None, "_functions": None}


def _position(loc: Any) -> tuple:
    return (loc.line, loc.column, loc.end_line, loc.end_column, loc.cell) if loc is not None else ()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def last_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


# --- the project phase ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hop:
    site: str  # call-site key
    message: str


@dataclass(frozen=True)
class Atom:
    """A concrete held-out chain (source set) or a reference to a function's parameter."""

    source: tuple | None  # (rel, i) for a concrete chain
    func: str = ""  # for a parameter reference
    index: int = -1
    name: str = ""
    path: tuple = ()
    raw: bool = True
    hops: tuple = ()  # Hop, source side first
    unlabelled: bool = False
    predicate: Any = None  # for a conditional source: held-out iff the parameter's value satisfies it
    cond_source: tuple | None = None


MAX_HOPS = 8
MAX_ATOMS = 24


def predicate_holds(predicate: tuple, value: Any, held_out: tuple[str, ...]) -> bool | None:
    """Does a literal value make the split held-out? None when the value is not a literal."""
    if value is None:
        return None
    op, literal = predicate
    if op == "heldout":
        return isinstance(value, str) and is_held_out_split(value, held_out)
    if op == "false":
        return value is False
    if op == "true":
        return value is True
    if op == "eq":
        return value == literal
    if op == "ne":
        return value != literal
    return None


def is_held_out_split(text: str, held_out: tuple[str, ...]) -> bool:
    """`test`, `test[:10%]`, `train+test` (tfds/HF split syntax), and named variants of a held-out split
    (`test_matched`, `test.clean`, `test-other`)."""
    for piece in text.replace(" ", "").split("+"):
        base = piece.split("[", 1)[0].lower()
        if base in held_out or re.split(r"[._-]", base, maxsplit=1)[0] in held_out:
            return True
    return False


class Resolver:
    """Resolves terms into atoms over every file's FlowFile (memoised, cycle-safe). A module's bulk is
    unpickled when the resolution first reaches it: a call site, function, global or attribute it holds,
    or a caller of a function, found through the names each module calls (`FlowFile.callees`)."""

    def __init__(self, files: dict[str, FlowFile], resolve: Callable[[str, str], tuple[str, str] | None],
                 module_of: Callable[[str], str], held_out: tuple[str, ...],
                 aliases: dict[str, set[str]] | None = None) -> None:
        self.files = files
        self.held_out = held_out
        self._resolve = resolve
        self._module_of = module_of
        self._aliases = aliases or {}  # a name -> the other names it is imported as (`from .a import f as g`)
        self._modules: dict[str, list[str]] = {}  # module name -> its files (a script and a notebook may share one)
        for rel, file in files.items():
            self._modules.setdefault(file.module, []).insert(0, rel)
        self._memo: dict[Term, frozenset] = {}
        self._busy: set[Term] = set()
        self._callee: dict[str, tuple[Function | None, int]] = {}
        self._callers: dict[str, list[CallSite]] = {}
        self.read: set[str] = set()  # the modules whose bulk the resolution has read

    # the project's facts, loaded on demand ------------------------------------------------------------
    def facts(self, rel: str) -> FlowFacts | None:
        found = self.files.get(rel)
        if found is None:
            return None
        self.read.add(rel)
        return found.facts()

    def _functions(self, rel: str) -> dict[str, Function]:
        self.read.add(rel)
        return self.files[rel].functions()

    def call(self, key: str) -> CallSite | None:
        facts = self.facts(key.rpartition("#")[0])
        return facts.calls.get(key) if facts is not None else None

    def function(self, qual: str) -> Function | None:
        """The function (module.Class.method) of that dotted name, from the longest module that has it."""
        parts = qual.split(".")
        for k in range(len(parts) - 1, 0, -1):
            for rel in self._modules.get(".".join(parts[:k]), ()):
                found = self._functions(rel).get(qual)
                if found is not None:
                    return found
        return None

    def callers(self, qual: str) -> list[CallSite]:
        """Every call site that runs the function, in project order. Only modules that call something of
        that name (or of a name it is imported as) are read."""
        cached = self._callers.get(qual)
        if cached is not None:
            return cached
        owner, _, name = qual.rpartition(".")
        names = {name, *self._aliases.get(name, ())}
        targets = {qual}
        if name == "__init__":  # `Model(...)` runs Model.__init__
            cls = last_name(owner)
            names |= {cls, *self._aliases.get(cls, ())}
            targets.add(owner)
        found = []
        for rel, file in self.files.items():
            if names.isdisjoint(file.callees):
                continue
            written = (callee for n in names for callee in file.callees.get(n, ()))
            if not any(self._qualify(rel, callee) in targets for callee in written):
                continue  # the same name, something else (resolved without reading the module)
            for site in self.facts(rel).calls.values():
                if last_name(site.callee) in names:
                    func, _ = self.callee(site)
                    if func is not None and func.qual == qual:
                        found.append(site)
        self._callers[qual] = found
        return found

    # names ------------------------------------------------------------------------------------
    def _qualify(self, rel: str, dotted: str) -> str | None:
        found = self._resolve(rel, dotted)
        if found is None or not found[1]:
            return None
        return f"{self._module_of(found[0])}.{found[1]}"

    def callee(self, site: CallSite) -> tuple[Function | None, int]:
        cached = self._callee.get(site.key)
        if cached is not None:
            return cached
        result: tuple[Function | None, int] = (None, 0)
        qual = self._qualify(site.rel, site.callee)
        if qual is not None:
            func = self.function(qual)
            if func is not None:
                result = (func, site.offset)
            else:
                init = self.function(f"{qual}.__init__")
                if init is not None:
                    result = (init, 1)
        self._callee[site.key] = result
        return result

    def runs_function(self, key: str) -> bool:
        """Does the call site run a plain project function (not a method or a class, which may hand the
        call on to a library base class the analysis does not follow)?"""
        site = self.call(key)
        if site is None:
            return False
        func, offset = self.callee(site)
        return func is not None and offset == 0

    def source(self, key: tuple) -> Source:
        return self.facts(key[0]).sources[key[1]]

    # resolution --------------------------------------------------------------------------------
    def atoms(self, val: Val, path: tuple = ()) -> frozenset:
        if not path:
            terms = val.flat()
        elif _plain(val):  # the common case, without building the Val of each step
            terms = {_stepped_by(term, path) for term in val.terms}
        else:
            terms = apply_path(val, path).flat()
        out: set[Atom] = set()
        for term in terms:
            out |= self.term_atoms(term)
            if len(out) > MAX_ATOMS:
                break
        return frozenset(out)

    def term_atoms(self, term: Term) -> frozenset:
        memo = self._memo.get(term)
        if memo is not None:
            return memo
        if term in self._busy:
            return frozenset()
        self._busy.add(term)
        try:
            found = self._term_atoms(term)
        finally:
            self._busy.discard(term)
        if not term.raw:
            found = frozenset(_with(a, raw=False) for a in found)
        if term.unlabelled:
            found = frozenset(_with(a, unlabelled=True) for a in found)
        found = frozenset(sorted(found, key=_atom_order)[:MAX_ATOMS])
        self._memo[term] = found
        return found

    def _term_atoms(self, term: Term) -> frozenset:
        kind = term.kind
        if kind == SRC:
            return frozenset({Atom(term.ref)})
        if kind == PARAM:
            func, idx, name = term.ref
            return frozenset({Atom(None, func, idx, name, term.path)})
        if kind == GLOBAL:
            rel, dotted = term.ref
            val = self._global(rel, dotted)
            return self.atoms(val, term.path) if val is not None else frozenset()
        if kind == ATTR:
            rel, cls, name = term.ref
            found = self._resolve(rel, cls)
            owner = self.facts(found[0]) if found else None
            val = owner.attrs.get((found[1], name)) if owner else None
            return self.atoms(val, term.path) if val is not None else frozenset()
        if kind == RET:
            return self._ret(term)
        if kind == COND:
            inner, predicate, src = term.ref
            if inner.kind == PARAM:
                func, idx, name = inner.ref
                return frozenset({Atom(None, func, idx, name, predicate=predicate, cond_source=src)})
            if inner.kind == GLOBAL:
                val = self._global(*inner.ref)
                if val is not None and predicate_holds(predicate, val.const, self.held_out):
                    return frozenset({Atom(src)})
            return frozenset()
        return frozenset()

    def _global(self, rel: str, dotted: str) -> Val | None:
        found = self._resolve(rel, dotted)
        if found is None:
            return None
        owner = self.facts(found[0])
        if owner is None or "." in found[1] or not found[1]:
            return None
        return owner.globals.get(found[1])

    def _global_const(self, val: Val) -> Any:
        terms = list(val.flat())
        if len(terms) == 1 and terms[0].kind == GLOBAL and not terms[0].path:
            found = self._global(*terms[0].ref)
            return found.const if found is not None else None
        return None

    def _ret(self, term: Term) -> frozenset:
        site = self.call(term.ref)
        if site is None:
            return frozenset()
        func, offset = self.callee(site)
        if func is None:
            return self.atoms(site.fallback, term.path)
        out: set[Atom] = set()
        returned = Hop(site.key, f"returned by {site.short}()")
        for atom in self.atoms(func.returns, term.path):
            if atom.source is not None:
                out.add(_hop(atom, returned))
            elif atom.func == func.qual:
                out |= self.bind(atom, site, func, offset)
            else:
                out.add(atom)
        return frozenset(out)

    def argument(self, site: CallSite, func: Function, offset: int, index: int, name: str) -> Val | None:
        for key, val in site.args:
            if key == name:
                return val
        position = index - offset
        if position >= 0:
            for key, val in site.args:
                if key == position:
                    return val
        return None

    def bind(self, atom: Atom, site: CallSite, func: Function, offset: int) -> set[Atom]:
        """A parameter atom of func, seen from the call site: what the caller passed."""
        arg = self.argument(site, func, offset, atom.index, atom.name)
        passed = Hop(site.key, f"passed to {site.short}() as `{atom.name}`")
        if atom.predicate is not None:
            value = arg.const if arg is not None else func.defaults.get(atom.name)
            if value is None and arg is not None:
                value = self._global_const(arg)
            holds = predicate_holds(atom.predicate, value, self.held_out)
            if holds:
                called = Hop(site.key, f"{site.short}() called with `{atom.name}={value!r}`")
                return {Atom(atom.cond_source, hops=((called,) + atom.hops)[:MAX_HOPS])}
            if holds is None and arg is not None:
                out = set()
                for inner in arg.flat():
                    if inner.kind in (PARAM, GLOBAL) and not inner.path:
                        for resolved in self.term_atoms(Term(COND, (inner, atom.predicate, atom.cond_source))):
                            out.add(_chain(resolved, passed, atom))
                return out
            return set()
        if arg is None:
            return set()
        return {_chain(_inherit(a, atom), passed, atom) for a in self.atoms(arg, atom.path)}

    def at_top(self, atom: Atom) -> Atom | None:
        """A conditional atom whose parameter is never bound: decide it from the default value."""
        if atom.predicate is None:
            return None
        func = self.function(atom.func)
        if func is not None and predicate_holds(atom.predicate, func.defaults.get(atom.name), self.held_out):
            return Atom(atom.cond_source, hops=atom.hops)
        return None


def _with(atom: Atom, **changes: Any) -> Atom:
    """dataclasses.replace for Atoms, without its per-field checks (the resolution makes thousands)."""
    copy = object.__new__(Atom)
    copy.__dict__.update(atom.__dict__, **changes)
    return copy


def _hop(atom: Atom, hop: Hop) -> Atom:
    if len(atom.hops) >= MAX_HOPS:
        return atom
    return _with(atom, hops=atom.hops + (hop,))


def _inherit(outer: Atom, inner: Atom) -> Atom:
    """What the callee did to its parameter (compute on it, drop its labels) holds for the argument."""
    if inner.raw and not inner.unlabelled:
        return outer
    return _with(outer, raw=outer.raw and inner.raw, unlabelled=outer.unlabelled or inner.unlabelled)


def _chain(outer: Atom, hop: Hop, inner: Atom) -> Atom:
    """outer's chain, then the call that binds inner's parameter, then inner's own hops."""
    return _with(outer, hops=(outer.hops + (hop,) + inner.hops)[:MAX_HOPS])


def _atom_order(atom: Atom) -> tuple:
    return (atom.source is None, atom.source or (), len(atom.hops), atom.func, atom.index, repr(atom.hops))


def reach(resolver: Resolver, sinks: list[Sink]) -> dict[int, list[Atom]]:
    """For each sink (by position in `sinks`), the held-out chains that reach it, following
    parameter summaries up through every call site of the function that holds the sink."""
    found: dict[int, list[Atom]] = {}
    seen: set = set()
    work: list[tuple[int, Atom]] = []
    for i, sink in enumerate(sinks):
        work.extend((i, atom) for atom in resolver.atoms(sink.val))
    while work:
        i, atom = work.pop()
        if sinks[i].raw_only and not atom.raw or sinks[i].labelled_only and atom.unlabelled:
            continue
        if atom.source is not None:
            found.setdefault(i, []).append(atom)
            continue
        key = (i, atom.func, atom.index, atom.path, atom.predicate)
        if key in seen or len(seen) > 20000:
            continue
        seen.add(key)
        top = resolver.at_top(atom)
        if top is not None:
            work.append((i, top))
        func = resolver.function(atom.func)
        if func is None:
            continue
        for site in resolver.callers(atom.func):
            _, offset = resolver.callee(site)
            work.extend((i, bound) for bound in resolver.bind(atom, site, func, offset))
    for atoms in found.values():
        atoms.sort(key=_atom_order)
    return found
