"""The project phase of the data-flow analysis: terms resolved into *atoms* over every module's facts.

An atom is a concrete chain from a source (with the call sites it passed through), or a reference
to a parameter, which becomes a function summary ("this function trains on its parameter 2").
Nothing here knows a family: conditional sources are decided by the family's `decide`.
`reach` follows those summaries from every sink up through the callers of its function.
"""
from __future__ import annotations

import os

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from .terms import (NO_TAGS, AttrTerm, CallSite, CondTerm, FlowFacts, FlowFile, Function, GlobalTerm, ParamTerm,
                   ReturnTerm, Sink, Source, SourceTerm, Term, Val, apply_path, is_plain, last_name, stepped_by)
from ..core.calls import qualify, target
from ..core.paths import module_dotted_name
from .dispatch import DISPATCH, MAX_CANDIDATES, folded, lookup, split_path
from .terms import ANY, ITER, canonical

# A family's test of a conditional source: does this literal value satisfy the predicate? (None: not a literal)
Decide = Callable[[tuple, Any], "bool | None"]


@dataclass(frozen=True)
class Hop:
    site: str  # call-site key
    message: str


@dataclass(frozen=True)
class Atom:
    """A concrete chain from a source, or a reference to a function's parameter."""

    source: tuple | None  # (rel, i) for a concrete chain
    func: str = ""  # for a parameter reference
    index: int = -1
    name: str = ""
    path: tuple = ()
    raw: bool = True
    hops: tuple = ()  # Hop, source side first
    tags: frozenset = NO_TAGS  # the family's labels of this flow (Term.tags)
    predicate: Any = None  # for a conditional source: held-out iff the parameter's value satisfies it
    cond_source: tuple | None = None


MAX_HOPS = 8
MAX_ATOMS = 24


class Resolver:
    """Resolves terms into atoms over every file's FlowFile (memoised, cycle-safe). A module's bulk is
    unpickled when the resolution first reaches it: a call site, function, global or attribute it holds,
    or a caller of a function, found through the names each module calls (`FlowFile.callees`)."""

    def __init__(self, files: dict[str, FlowFile], project: Any, decide: Decide,
                 aliases: dict[str, set[str]] | None = None) -> None:
        self.files = files
        self.decide = decide
        self._project = project
        self._resolve = project.resolve  # a name to (file, object path): globals and class attributes
        self._aliases = aliases or {}  # a name -> the other names it is imported as (`from .a import f as g`)
        self._modules: dict[str, list[str]] = {}  # module name -> its files (a script and a notebook may share one)
        for rel, file in files.items():
            self._modules.setdefault(file.module, []).insert(0, rel)
        self._memo: dict[Term, frozenset] = {}
        self._busy: set[Term] = set()
        self._callee: dict[str, tuple[Function | None, int]] = {}
        self._targets: dict[str, tuple] = {}
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
            if not any(qualify(self._project, rel, callee) in targets for callee in written):
                continue  # the same name, something else (resolved without reading the module)
            for site in self.facts(rel).calls.values():
                if last_name(site.dotted) in names:
                    func, _ = self.callee(site)
                    if func is not None and func.qual == qual:
                        found.append(site)
        for rel, file in self.files.items():  # calls through a run-time lookup that may run it (dispatch.py)
            if DISPATCH in file.callees:
                for site in self.facts(rel).calls.values():
                    if site.dynamic is not None and any(f.qual == qual for f, _, _ in self.targets(site)[0]):
                        found.append(site)
        self._callers[qual] = found
        return found

    def callee(self, site: CallSite) -> tuple[Function | None, int]:
        cached = self._callee.get(site.key)
        if cached is not None:
            return cached
        result: tuple[Function | None, int] = (None, 0)
        if site.dynamic is not None:
            self._callee[site.key] = result
            return result
        qual = qualify(self._project, site.rel, site.dotted)
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

    def targets(self, site: CallSite) -> tuple[list, bool]:
        """The functions a call runs, as (function, self offset, the call as the function sees it), and whether
        the call may also run something else (a library callee, an unresolved entry). A plain call has at most
        one; a call through a run-time lookup the union of its candidates (dispatch.py), at most MAX_CANDIDATES,
        a partial's bound arguments added."""
        if site.dynamic is None:
            func, offset = self.callee(site)
            return ([(func, offset, site)] if func is not None else []), func is None
        cached = self._targets.get(site.key)
        if cached is not None:
            return cached
        found: dict[str, tuple] = {}
        other = False
        terms = sorted((t for t in site.dynamic.flat() if type(t) is GlobalTerm and t.raw), key=canonical)
        other = len(terms) < len(site.dynamic.flat())
        for term in terms:
            other |= not self._candidates(term, site, found, 0)
        result = (list(found.values())[:MAX_CANDIDATES], other)
        self._targets[site.key] = result
        return result

    def _candidates(self, term: GlobalTerm, site: CallSite, found: dict, depth: int) -> bool:
        """Add the functions a reference may hold; False when some of it is not project code."""
        if depth > 4 or len(found) >= MAX_CANDIDATES:
            return True
        term = folded(term)
        steps, positional, literals = split_path(term.path)
        found_at = target(self._project, term.rel, term.dotted) or self._source_package(term)
        if found_at is None:
            return False
        rel, qual = found_at
        if not qual:  # a project module: `getattr(datasets, name)`, `datasets.__dict__[name]`
            module = module_dotted_name(rel)
            key = steps[0] if steps and isinstance(steps[0], str) and steps[0] not in (ANY, ITER) else None
            functions = self._functions(rel) if rel in self.files else {}
            members = self._members(rel, module, functions)
            if key is not None and key in members:
                members = {key: members[key]}
            for name in sorted(members):
                func, offset = members[name]
                self._add(found, func, offset, site, positional, literals)
            return bool(members)
        func = self.function(qual)
        if func is not None:
            self._add(found, func, 0, site, positional, literals)
            return True
        init = self.function(f"{qual}.__init__")
        if init is not None:
            self._add(found, init, 1, site, positional, literals)
            return True
        val = self._global(term.rel, term.dotted)
        if val is None:
            return False
        held = lookup(val, steps)
        inner = [t for t in held.flat() if type(t) is GlobalTerm]
        ok = len(inner) == len(held.flat())
        for ref in sorted(inner, key=repr):
            extra = tuple(s for s in term.path if type(s) is tuple)
            ok &= self._candidates(replace(ref, path=ref.path + extra) if extra else ref, site, found, depth + 1)
        return ok

    def _source_package(self, term: GlobalTerm) -> tuple[str, str] | None:
        """The namespace of a run-time lookup (`eval("dataset." + name)`, `getattr(dataset, name)`) that no folder
        above the caller holds, when one project package sits one folder down from the caller's folder or the
        nearest folder above it that has any: `lib/dataset/` for scripts in `tools/` that put `lib/` on `sys.path`
        (`_init_paths.py`). Only a package (an `__init__.py`) answers; two candidates at that level answer nothing."""
        if not term.path or "." in term.dotted:
            return None
        tail = f"/{term.dotted}/__init__.py"
        packages = [rel for rel in self._project.modules.values() if rel.endswith(tail)]
        folder = os.path.dirname(term.rel)
        while packages:
            prefix = f"{folder}/" if folder else ""
            found = [rel for rel in packages if rel.startswith(prefix) and rel[len(prefix):].count("/") == 2]
            if found:
                return (found[0], "") if len(found) == 1 else None
            if not folder:
                return None
            folder = os.path.dirname(folder)
        return None

    def _members(self, rel: str, module: str, functions: dict) -> dict[str, tuple[Function, int]]:
        """What a project module's namespace may hand a run-time lookup (`getattr(datasets, name)`): its public
        functions, its classes (their `__init__`, self offset 1), and the project functions and classes it
        imports when it is a package (its `__init__.py`: `from .coco import COCODataset as coco`)."""
        depth = module.count(".") + 1
        members: dict[str, tuple[Function, int]] = {}
        for qual, func in functions.items():
            name = qual[len(module) + 1:]
            if name.startswith("_") or not qual.startswith(module + "."):
                continue
            if qual.count(".") == depth and not qual.endswith(".<module>"):
                members[name] = (func, 0)
            elif qual.count(".") == depth + 1 and qual.endswith(".__init__"):
                members[name.partition(".")[0]] = (func, 1)
        result = self._project.files.get(rel) if rel.endswith("__init__.py") else None
        imports = result.facts.get("imports") if result is not None else None
        for local in sorted(imports or ()):
            if local.startswith("_") or local in members:
                continue
            qual = qualify(self._project, rel, imports[local])  # what it imports (`coco` may also be a submodule)
            func = self.function(qual) if qual else None
            if func is not None:
                members[local] = (func, 0)
                continue
            init = self.function(f"{qual}.__init__") if qual else None
            if init is not None:
                members[local] = (init, 1)
        return members

    def _add(self, found: dict, func: Function, offset: int, site: CallSite, positional: int, literals: tuple) -> None:
        if func.qual in found or len(found) >= MAX_CANDIDATES:
            return
        seen = site
        if literals:
            given = {key for key, _ in site.args}
            seen = replace(site, args=site.args + tuple((k, Val(const=v)) for k, v in literals if k not in given))
        found[func.qual] = (func, offset + positional, seen)

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
        elif is_plain(val):  # the common case, without building the Val of each step
            terms = {stepped_by(term, path) for term in val.terms}
        else:
            terms = apply_path(val, path).flat()
        out: set[Atom] = set()
        if len(terms) > 1:  # past MAX_ATOMS the rest is cut: the sources themselves first; then a fixed order, as
            # the memo keeps what a term resolved to while a cycle through it was cut (see term_atoms)
            terms = sorted(terms, key=_term_order)
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
        if term.tags:
            found = frozenset(_with(a, tags=a.tags | term.tags) for a in found)
        found = frozenset(sorted(found, key=_atom_order)[:MAX_ATOMS] if len(found) > MAX_ATOMS else found)
        self._memo[term] = found
        return found

    def _term_atoms(self, term: Term) -> frozenset:
        kind = type(term)
        if kind is SourceTerm:
            return frozenset({Atom((term.rel, term.i))})
        if kind is ParamTerm:
            return frozenset({Atom(None, term.func, term.index, term.name, term.path)})
        if kind is GlobalTerm:
            val = self._global(term.rel, term.dotted)
            return self.atoms(val, term.path) if val is not None else frozenset()
        if kind is AttrTerm:
            found = self._resolve(term.rel, term.cls)
            owner = self.facts(found[0]) if found else None
            val = owner.attrs.get((found[1], term.name)) if owner else None
            return self.atoms(val, term.path) if val is not None else frozenset()
        if kind is ReturnTerm:
            return self._ret(term)
        if kind is CondTerm:
            inner = term.inner
            if type(inner) is ParamTerm:
                return frozenset({Atom(None, inner.func, inner.index, inner.name, predicate=term.predicate,
                                       cond_source=term.source)})
            if type(inner) is GlobalTerm:
                val = self._global(inner.rel, inner.dotted)
                if val is not None and self.decide(term.predicate, val.const):
                    return frozenset({Atom(term.source)})
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
        if len(terms) == 1 and type(terms[0]) is GlobalTerm and not terms[0].path:
            found = self._global(terms[0].rel, terms[0].dotted)
            return found.const if found is not None else None
        return None

    def _ret(self, term: ReturnTerm) -> frozenset:
        site = self.call(term.site)
        if site is None:
            return frozenset()
        targets, other = self.targets(site)
        if not targets:
            return self.atoms(site.fallback, term.path)
        out: set[Atom] = set(self.atoms(site.fallback, term.path)) if other and site.dynamic is not None else set()
        for func, offset, seen in targets:
            short = site.short or last_name(func.qual) if site.dynamic is None else last_name(func.qual)
            returned = Hop(site.key, f"returned by {short}()")
            for atom in self.atoms(func.returns, term.path):
                if atom.source is not None:
                    out.add(_hop(atom, returned))
                elif atom.func == func.qual:
                    out |= self.bind(atom, seen, func, offset)
                else:
                    out.add(atom)
        return frozenset(out)

    def call_of(self, site: CallSite, qual: str) -> tuple[CallSite, Function | None, int]:
        """The call as the function `qual` sees it (a partial's bound arguments added), and its self offset."""
        for func, offset, seen in self.targets(site)[0]:
            if func.qual == qual:
                return seen, func, offset
        return site, None, 0

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

    def guard_holds(self, site: CallSite, func: Function, offset: int, guard: tuple) -> bool:
        """Can every parameter in guard be truthy in this call? Not when it is given a literal None/False/0/""
        or left to such a default."""
        for index, name in guard:
            passed = name in site.falsy or (index - offset) in site.falsy
            given = self.argument(site, func, offset, index, name) is not None
            if passed or not given and name in func.falsy_defaults:
                return False
        return True

    def bind(self, atom: Atom, site: CallSite, func: Function, offset: int) -> set[Atom]:
        """A parameter atom of func, seen from the call site: what the caller passed."""
        arg = self.argument(site, func, offset, atom.index, atom.name)
        short = last_name(func.qual) if site.dynamic is not None else site.short
        passed = Hop(site.key, f"passed to {short}() as `{atom.name}`")
        if atom.predicate is not None:
            value = arg.const if arg is not None else func.defaults.get(atom.name)
            if value is None and arg is not None:
                value = self._global_const(arg)
            holds = self.decide(atom.predicate, value)
            if holds:
                called = Hop(site.key, f"{short}() called with `{atom.name}={value!r}`")
                return {Atom(atom.cond_source, hops=((called,) + atom.hops)[:MAX_HOPS])}
            if holds is None and arg is not None:
                out = set()
                for inner in arg.flat():
                    if type(inner) in (ParamTerm, GlobalTerm) and not inner.path:
                        for resolved in self.term_atoms(CondTerm(inner, atom.predicate, atom.cond_source)):
                            out.add(_chain(resolved, passed, atom))
                if not out and atom.predicate[0] in _TRUTH_OPS and not _traced(arg):
                    # `if is_train:` given a value nobody can read (`args.train`): either branch may run
                    return {Atom(atom.cond_source, hops=((passed,) + atom.hops)[:MAX_HOPS])}
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
        if func is not None and self.decide(atom.predicate, func.defaults.get(atom.name)):
            return Atom(atom.cond_source, hops=atom.hops)
        if func is not None and atom.predicate[0] in _TRUTH_OPS and func.defaults.get(atom.name) is None:
            return Atom(atom.cond_source, hops=atom.hops)  # `if is_train:` with no default and no caller
        return None


_TRUTH_OPS = ("truthy", "falsy")


def _traced(arg: Val) -> bool:
    """Does the argument hold a parameter or global the resolution can follow further?"""
    return any(type(t) in (ParamTerm, GlobalTerm) and not t.path for t in arg.flat())


def import_aliases(tables: Iterable[dict[str, str]]) -> dict[str, set[str]]:
    """name -> every other name it is imported as, given each module's imports (local name -> dotted
    target): `from .impl import f as g`, and `h` if another module imports g as h. The caller index
    looks call sites up by the name they call."""
    renamed: dict[str, set[str]] = {}
    for imports in tables:
        for local, target in imports.items():
            original = last_name(target)
            if original != local:
                renamed.setdefault(original, set()).add(local)
    closed: dict[str, set[str]] = {}
    for name in renamed:
        seen, todo = set(), [name]
        while todo:
            for alias in renamed.get(todo.pop(), ()):
                if alias not in seen and alias != name:
                    seen.add(alias)
                    todo.append(alias)
        closed[name] = seen
    return closed


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
    if inner.raw and not inner.tags:
        return outer
    return _with(outer, raw=outer.raw and inner.raw, tags=outer.tags | inner.tags)


def _chain(outer: Atom, hop: Hop, inner: Atom) -> Atom:
    """outer's chain, then the call that binds inner's parameter, then inner's own hops."""
    return _with(outer, hops=(outer.hops + (hop,) + inner.hops)[:MAX_HOPS])


def _term_order(term: Term) -> tuple:
    """Sources themselves first, then a fixed order (not the hash order of the set the terms came in)."""
    return type(term) is not SourceTerm, canonical(term)


def _atom_order(atom: Atom) -> tuple:
    return (atom.source is None, atom.source or (), len(atom.hops), atom.func, atom.index, canonical(atom))


def reach(resolver: Resolver, sinks: list[Sink]) -> dict[int, list[Atom]]:
    """For each sink (by position in `sinks`), the source chains that reach it, following
    parameter summaries up through every call site of the function that holds the sink."""
    found: dict[int, list[Atom]] = {}
    seen: set = set()
    work: list[tuple[int, Atom]] = []
    for i, sink in enumerate(sinks):  # (in a fixed order: what is resolved first decides where cycles are cut)
        work.extend((i, atom) for atom in sorted(resolver.atoms(sink.val), key=_atom_order, reverse=True))
    while work:
        i, atom = work.pop()
        if sinks[i].raw_only and not atom.raw or not sinks[i].excludes.isdisjoint(atom.tags):
            continue
        if atom.source is not None:
            found.setdefault(i, []).append(atom)
            continue
        key = (i, atom.func, atom.index, atom.path, atom.predicate, atom.cond_source)
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
            site, _, offset = resolver.call_of(site, atom.func)
            if sinks[i].guard and atom.func == sinks[i].scope and not resolver.guard_holds(site, func, offset, sinks[i].guard):
                continue  # `run_epoch(test_loader, model, optimizer=None)`: the guarded sink does not run
            work.extend((i, bound) for bound in sorted(resolver.bind(atom, site, func, offset), key=_atom_order,
                                                       reverse=True))
    for atoms in found.values():
        atoms.sort(key=_atom_order)
    return found
