"""Abstract values of the data-flow engine (interpreter.py, resolve.py), and the facts workers produce.

Workers interpret each function once and describe what flows with symbolic *terms*: a source seen
in this file, a parameter of the enclosing function, the return value of a call to project code, a
module global, an attribute of a project class, or a source decided by a parameter's value
(`train=(split == "train")`). The project phase (resolve.py) resolves terms into atoms.

The engine knows no family. A family (a `Domain`, see interpreter.py) decides what a source and a
sink are, and labels flows with *tags* (held by a term: "this flow may be unlabelled inputs") and
values with *marks* (held by a value only when every branch has them: "this is the training split").
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable

from ..core.calls import Call

ITER = "__iter__"  # path step: an element of an iterable
ANY = "*"  # path step: an unknown index
NO_TAGS: frozenset = frozenset()


@lru_cache(maxsize=1 << 16)
def canonical(value: Any) -> str:
    """A text of a term, an atom or a value that does not depend on the hash order of the sets it holds (tags,
    terms): the order the resolver visits terms in, and cuts long sets at, so that a run's findings are the same
    whatever PYTHONHASHSEED is."""
    kind = type(value)
    if kind is frozenset or kind is set:
        return "{" + ",".join(sorted(canonical(v) for v in value)) + "}"
    if kind is tuple or kind is list:
        return "(" + ",".join(canonical(v) for v in value) + ")"
    names = _CANONICAL_FIELDS.get(kind)
    if names is None:
        from dataclasses import fields, is_dataclass
        names = _CANONICAL_FIELDS[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else ()
    if names:
        return kind.__name__ + "(" + ",".join(canonical(getattr(value, n)) for n in names) + ")"
    return repr(value)


_CANONICAL_FIELDS: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Term:
    """What a value may carry, symbolically. `path` selects a part of it (`.attr`, a key, ITER), `raw` says
    it is the thing itself rather than a computation on it, `tags` are the family's labels of this flow."""

    path: tuple = field(default=(), kw_only=True)
    raw: bool = field(default=True, kw_only=True)
    tags: frozenset = field(default=NO_TAGS, kw_only=True)


@dataclass(frozen=True)
class SourceTerm(Term):
    """The i-th source recorded in module `rel`."""
    rel: str
    i: int


@dataclass(frozen=True)
class ParamTerm(Term):
    """A parameter of `func` (index -1: keyword-only, -2: *args/**kwargs)."""
    func: str
    index: int
    name: str


@dataclass(frozen=True)
class ReturnTerm(Term):
    """What the project call at `site` returns."""
    site: str


@dataclass(frozen=True)
class GlobalTerm(Term):
    """A module-level name, as written in module `rel`."""
    rel: str
    dotted: str


@dataclass(frozen=True)
class AttrTerm(Term):
    """An attribute of a project class (`cls` as written in module `rel`)."""
    rel: str
    cls: str
    name: str


@dataclass(frozen=True)
class CondTerm(Term):
    """A source (rel, i) that holds when the parameter or global `inner` satisfies `predicate`
    (a family-defined pair such as ("false", None) or ("eq", "train"))."""
    inner: Term
    predicate: tuple
    source: tuple


@dataclass(frozen=True)
class Val:
    terms: frozenset = frozenset()
    parts: tuple | None = None  # elements of a tuple/list display
    fields: tuple | None = None  # ((key, Val), ...) of a dict display or a namespace
    elem: "Val | None" = None  # what iterating yields, when known (enumerate, zip)
    const: Any = None  # a str/bool literal
    cls: str | None = None  # an instance of this project class (dotted as written)
    ctor: str | None = None  # the library class that built it (StandardScaler, ReduceLROnPlateau)
    marks: frozenset = NO_TAGS  # what is known of the whole value on every branch (a family's labels)

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
        return bool(self.terms) or bool(self.flat())


CLEAN = Val()


def terms_val(terms: Iterable[Term]) -> Val:
    terms = frozenset(terms)
    return Val(terms) if terms else CLEAN


def is_empty(v: Val) -> bool:
    return not v.terms and v.parts is None and v.fields is None and v.elem is None and v.const is None \
        and v.cls is None and v.ctor is None and not v.marks


def is_plain(v: Val) -> bool:
    return v.parts is None and v.fields is None and v.elem is None and v.const is None and v.cls is None \
        and v.ctor is None and not v.marks


def union(*vals: Val) -> Val:
    kept = []
    plain = True
    for v in vals:  # is_empty and is_plain, inlined (the engine's most frequent call)
        if v is CLEAN:
            continue
        if v.parts is None and v.fields is None and v.elem is None and v.const is None and v.cls is None \
                and v.ctor is None and not v.marks:
            if not v.terms:
                continue
        else:
            plain = False
        kept.append(v)
    if not kept:
        return CLEAN
    if len(kept) == 1 or len(kept) == 2 and kept[0] is kept[1]:  # a value joined with itself is itself
        return kept[0]
    vals = tuple(kept)
    if plain:  # the common case: only terms
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
        marks=frozenset.intersection(*(v.marks for v in vals)),
    )


def tag(val: Val, label: str) -> Val:
    """Every flow of val, labelled (`for x, _ in loader`: inputs without their labels)."""
    return terms_val(replace(t, tags=t.tags | {label}) for t in val.flat())


def mark(val: Val, label: str) -> Val:
    return replace(val, marks=val.marks | {label})


@lru_cache(maxsize=65536)
def _derived(term: Term) -> Term:
    return replace(term, raw=False) if term.raw else term


@lru_cache(maxsize=65536)
def _stepped(term: Term, step: Any) -> Term:
    return replace(term, path=term.path + (step,)) if type(term) is not SourceTerm and len(term.path) < 6 else term


def stepped_by(term: Term, path: tuple) -> Term:
    """apply_path for one term of a plain value: each step appended, up to 6 (as _stepped does)."""
    if type(term) is SourceTerm or len(term.path) >= 6:
        return term
    return replace(term, path=(term.path + path)[:6])


def derive(val: Val) -> Val:
    """A value computed from val: still carries its taint, no longer the data itself."""
    terms = val.flat()
    if not terms:
        return CLEAN
    for term in terms:
        if term.raw:
            return Val(frozenset(map(_derived, terms)))
    return Val(terms)  # already derived: the same terms


def derived_union(*vals: Val) -> Val:
    """derive(union(*vals)) without building the union: every flat term of the values, derived. (The union of
    values keeps their flat terms, except where one value holds both parts and elem: then the union is built.)"""
    terms: frozenset = NO_TAGS
    for v in vals:
        flat = _union_flat(v)
        if flat is None:
            return derive(union(*vals))
        if flat:
            terms = terms | flat if terms else flat
    return derive(Val(terms)) if terms else CLEAN


def _union_flat(v: Val) -> frozenset | None:
    """v.flat(), or None when v (or a value inside it) has both parts and elem."""
    if v.parts is None and v.fields is None and v.elem is None:
        return v.terms
    if v.parts is not None and v.elem is not None:
        return None
    out = set(v.terms)
    for part in v.parts or ():
        flat = _union_flat(part)
        if flat is None:
            return None
        out |= flat
    for _, value in v.fields or ():
        flat = _union_flat(value)
        if flat is None:
            return None
        out |= flat
    if v.elem is not None:
        flat = _union_flat(v.elem)
        if flat is None:
            return None
        out |= flat
    return frozenset(out)


def _extend(val: Val, step: Any) -> Val:
    terms = val.flat()
    if not terms:
        return CLEAN
    return Val(frozenset(_stepped(t, step) for t in terms))


def index(val: Val, key: Any) -> Val:
    """val[key] (or val.key for a `.name` key): a part of a marked value keeps the marks (a column of the
    training split is training data)."""
    result = _index(val, key)
    return replace(result, marks=result.marks | val.marks) if val.marks and not val.marks <= result.marks else result


def _index(val: Val, key: Any) -> Val:
    if val.parts is not None and isinstance(key, int) and -len(val.parts) <= key < len(val.parts):
        return union(val.parts[key], _extend(terms_val(val.terms), key))
    if val.fields is not None and key is not None and key != ANY:
        bare = key[1:] if isinstance(key, str) and key.startswith(".") else key
        for name, value in val.fields:
            if name == bare:
                return union(value, _extend(terms_val(val.terms), key))
        return _extend(terms_val(val.terms), key)  # a key the dict display does not hold
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


@dataclass(eq=True)
class CallSite(Call):
    """A call that may run project code: the call record (core/calls.py; `loc` filled only in files whose chains
    may pass it, `name` the callee's last name as written) plus the engine's annotations."""

    key: str = ""  # unique in the project: "rel#n"
    rel: str = ""
    # the dotted name the project index resolves (`Call.callee` qualified through the module's names, or a local
    # function's, `module.Class.method` for `self.method()`, `Class.method` for a receiver of a known class)
    dotted: str = ""
    args: tuple = ()  # ((position:int | keyword:str, Val), ...)
    offset: int = 0  # 1 when the callee's first parameter is `self` bound by the call
    fallback: Val = CLEAN  # what the result carries if the callee is not project code after all
    falsy: tuple = ()  # positions and keywords given a literal None, False, 0 or "" (see Sink.guard)
    dynamic: "Val | None" = None  # a callee looked up at run time: its value (dispatch.py); dotted is "<dispatch>"

    @property
    def short(self) -> str:
        """The callee's last name as written (`Call.name`)."""
        return self.name


@dataclass
class Function:
    qual: str  # dotted: module.Class.method
    params: tuple  # names, including self
    defaults: dict = field(default_factory=dict)  # name -> str/bool literal default
    returns: Val = CLEAN
    falsy_defaults: frozenset = frozenset()  # parameters whose default is None, False, 0 or ""


@dataclass
class Sink:
    code: str  # the rule that reports it
    loc: Any
    val: Val
    what: str  # "the loss of `backward()`", ...
    raw_only: bool = False  # only the thing itself counts, not values computed from it (statistics of the data)
    excludes: frozenset = NO_TAGS  # flows with one of these tags do not count (unlabelled inputs for training)
    scope: str = ""  # the enclosing function (or module body)
    requires: str = ""  # a project-level condition the family checks before resolving it ("monitored")
    # a library API read at a call that may run project code (`engine.fit(...)`): if the project index finds
    # a plain function there, its body is analysed instead, and the sink is dropped (see Resolver.runs_function)
    site: str = ""
    # parameters of the enclosing function that must be truthy for the sink to run: ((index, name), ...) from
    # `if optimizer:` / `if optimizer is not None:` around it; a call passing None/False there does not reach it
    guard: tuple = ()


@dataclass
class FlowFacts:
    rel: str
    module: str
    sources: list[Source] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    calls: dict[str, CallSite] = field(default_factory=dict)
    globals: dict[str, Val] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Val] = field(default_factory=dict)  # (class path in module, attr) -> value
    sinks: list[Sink] = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # the family's module-level facts, read without the bulk

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
        self.rel, self.module, self.notes = facts.rel, facts.module, facts.notes
        self.sinks = facts.sinks
        callees: dict[str, set[str]] = {}
        for site in facts.calls.values():
            callees.setdefault(last_name(site.dotted), set()).add(site.dotted)
        self.callees = {name: tuple(sorted(written)) for name, written in sorted(callees.items())}  # last name -> as written
        self._functions_blob = pickle.dumps(facts.functions, pickle.HIGHEST_PROTOCOL)
        self._blob = pickle.dumps(replace(facts, sinks=[], functions={}), pickle.HIGHEST_PROTOCOL)
        self._path = self._sealed_path = path
        self._functions: dict[str, Function] | None = None
        self._facts: FlowFacts | None = None
        # What a project result depended on, to reuse it in a later run: the open part, compared by
        # value (as much of it as the resolution reads), and the bulk, by its bytes (equal bytes, equal
        # facts; a set pickled in another process may differ in order: a needless miss, never a wrong hit).
        sinks = [(s.code, _position(s.loc), s.what, s.raw_only, sorted(s.excludes), s.scope, s.requires, s.site,
                  sorted(map(repr, s.val.flat()))) for s in self.sinks]
        light = repr((self.module, sorted(self.notes.items()), self.callees, sinks))
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

    def same_facts(self, other: "FlowFile") -> bool:
        """The same facts as another run's entry of the module (the project phase's kept findings may be reused):
        compared by value, since the blobs' bytes follow the order of sets, which differs between processes."""
        if (self.rel, self.module, self.notes, self.callees, self.sinks) != \
                (other.rel, other.module, other.notes, other.callees, other.sinks):
            return False
        if self._functions_blob != other._functions_blob and self.functions() != other.functions():
            return False
        return self._blob == other._blob or pickle.loads(self._blob) == pickle.loads(other._blob)


def _position(loc: Any) -> tuple:
    return (loc.line, loc.column, loc.end_line, loc.end_column, loc.cell) if loc is not None else ()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def last_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]
