"""One record of a call, shared by every family and the recipe card, and the one resolution of a call to the
project code it may run.

Per module, `ctx.calls` (a `CallTable`) makes the record of a `cst.Call` node: where it is (`loc`: asked for by
a family that reports it, filled by the position pass; one `Loc` per node, shared by the records that ask), the
scope it runs in, the callee as written (`name`: `set_seed` in `utils.set_seed(...)`) and qualified through the
module's imports and definitions (`callee`: `pkg.utils.set_seed`), and the shape of its arguments (positional
count, keywords, a star), read once per node. A family's call facts are that record plus only the family's own
annotations, a subclass of `Call` made by the same table (`SeedCall`: literals, options and sweeps per argument;
`HparamCall`: the literals a wrapper's parameters receive; `EvalCall`: gradients, evaluation mode, switches;
`RecipeCall`: resolved arguments; the data-flow engine's `CallSite`: arguments as abstract values, the name the
project index resolves). Arguments are keyed alike by every family (`argument_keys`): "0", "1", ...
for positions, the keyword's name otherwise.

Per project, `target(project, rel, callee)` is the one resolution from a callee written in module `rel` to the
project code it names (a function, a class or a module; through imports, re-exports and the importer's
folders: `Project.resolve`), and `qualify` the qualified name of a function or class (the data-flow resolver's
too). `CallIndex` looks calls
up by the name they call (a family that matches by name, within a unit, or by the function's own name).

This module loads no libcst until a table is built: cached facts unpickle without the analysis.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, TypeVar

from ..findings import Loc
from .paths import module_dotted_name

if TYPE_CHECKING:
    import libcst as cst


@lru_cache(maxsize=None)
def _fields_of(cls: type) -> Callable[[Any], tuple]:
    return attrgetter(*(f.name for f in fields(cls)))


@dataclass(eq=True)
class Call:
    """A call: where, in which scope, whom it calls, and which arguments it passes (not their values).

    Pickled as the values of its fields (a family's subclass too), not a dict of their names: records are many
    (EVAL keeps every call), and cached facts are unpickled on every warm run (a third of the bytes, and faster)."""

    loc: Loc | None = None  # None when the family keeping it does not report it
    scope: str = "<module>"  # the enclosing definition's qualified name, "<module>" or "<main>" (as the family scopes)
    name: str = ""  # the last name of the called expression as written: `model` in `self.model(x)`, "" if none
    callee: str = ""  # qualified through the module's imports and definitions (`pkg.utils.set_seed`), else ""
    positional: int = 0  # positional arguments, stars left out
    keywords: tuple[str, ...] = ()  # the keywords passed, in order
    star: bool = False  # a `*args` or `**kwargs` argument: arguments cannot all be mapped to parameters
    attribute: bool = False  # called as an attribute (`obj.f()`, `utils.f()`), not a plain name

    def __reduce__(self) -> tuple:
        return type(self), _fields_of(type(self))(self)

    @property
    def function(self) -> str:
        """The called function's own name: the qualified callee's last part (`f` for `g()` after
        `from m import f as g`), else the name as written."""
        return self.callee.rsplit(".", 1)[-1] if self.callee else self.name


C = TypeVar("C", bound=Call)


class CallTable:
    """The `Call` records of one module (`ctx.calls`): what a call is, read once per node."""

    def __init__(self, ctx: Any) -> None:
        import libcst as cst

        from .syntax import callee_name

        self._ctx = ctx
        self._callee_name = callee_name
        self._attribute = cst.Attribute
        self._shapes: dict[int, tuple] = {}  # id(node) -> (name, callee, positional, keywords, star, attribute)
        self._locs: dict[int, Loc] = {}  # one Loc per node located, whichever families keep it

    def of(self, node: "cst.Call", scope: str, kind: type[C] = Call, *, located: bool = True, **annotations: Any) -> C:
        """The record of the call in that scope, as a family's `kind` (a subclass of `Call` with its annotations).
        `located`: its `loc` is filled by the position pass, one `Loc` per node shared by the records that ask;
        else `loc` is None."""
        at = id(node)
        shape = self._shapes.get(at)
        if shape is None:
            positional, keywords, star = 0, [], False
            for arg in node.args:
                if arg.star:
                    star = True
                elif arg.keyword is not None:
                    keywords.append(arg.keyword.value)
                else:
                    positional += 1
            func = node.func
            shape = self._shapes[at] = (self._callee_name(func), self._ctx.names.qualify(func) or "", positional,
                                        tuple(keywords), star, type(func) is self._attribute)
        loc = None
        if located:
            loc = self._locs.get(at)
            if loc is None:
                loc = self._locs[at] = self._ctx.locate(node, Loc())
        return kind(loc, scope, *shape, **annotations)


def argument_keys(node: "cst.Call") -> Iterator[tuple[str, Any]]:
    """(key, cst.Arg) for the arguments before the first star: "0", "1", ... for positions, else the keyword."""
    position = 0
    for arg in node.args:
        if arg.star:
            return
        if arg.keyword is not None:
            yield arg.keyword.value, arg
        else:
            yield str(position), arg
            position += 1


def target(project: Any, rel: str, callee: str) -> tuple[str, str] | None:
    """The project code a callee written in module `rel` names: (its file, its qualified name), the name ""
    when it is a module; None when it is no project code."""
    found = project.resolve(rel, callee)
    if found is None:
        return None
    return found[0], f"{module_dotted_name(found[0])}.{found[1]}" if found[1] else ""


def qualify(project: Any, rel: str, callee: str) -> str | None:
    """The qualified name (`pkg.train.main`, `pkg.engine.Trainer.fit`) of the project function or class that a
    callee written in module `rel` names, or None."""
    found = target(project, rel, callee)
    return found[1] or None if found is not None else None


def alternatives(project: Any, rel: str, name: str) -> tuple[str, ...]:
    """Every project function or class a name of module `rel` may stand for when its imports bind it on several
    branches (`try: from a import f` / `except: from b import f`), qualified; () for any other name. Read from
    the shared `alternatives` fact (a rule that asks lists it in `needs`)."""
    table = project.shared("core.alternatives", lambda p: {
        result.rel: found for result, found in p.facts("alternatives")})
    targets = table.get(rel, {}).get(name, ())
    return tuple(q for q in (qualify(project, rel, t) for t in targets) if q)


def calls_by_target(project: Any, calls: Iterable[tuple[str, Call]]) -> dict[str, list[Call]]:
    """The calls (module, record) of each project function or class (by qualified name), in the given order."""
    found: dict[str, list[Call]] = {}
    for rel, call in calls:
        qualified = qualify(project, rel, call.callee)
        if qualified:
            found.setdefault(qualified, []).append(call)
    return found


R = TypeVar("R", bound=Call)


class CallIndex(Generic[R]):
    """Records (a family's call facts) looked up by the name they call (`Call.name`, or `Call.function`)."""

    def __init__(self, records: Iterable[R] = (), by_function: bool = False) -> None:
        self._by: dict[str, list[R]] = {}
        self._function = by_function
        for record in records:
            self.add(record)

    def add(self, record: R) -> None:
        self._by.setdefault(record.function if self._function else record.name, []).append(record)

    def named(self, name: str) -> list[R]:
        return self._by.get(name, [])


def library_demos(project: Any, demos: Iterable[str], libraries: Iterable[str] = ()) -> set[str]:
    """Of the modules `demos` (those with an `if __name__ == "__main__":` block), those whose block is the demo or
    self-test of a library module: another project module imports it, or it defines a class at top level
    (`libraries`) and is not named as a script (`train.py`, `main.py`, `run_*.py`, ...). HPARAM and SEED both ask."""
    import re

    demos = set(demos)
    if not demos:
        return set()
    script = re.compile(r"train|main|run|fit|tune|launch|experiment|exp_|solver|demo", re.I)
    found: set[str] = {rel for rel in set(libraries) & demos if not script.search(rel.rsplit("/", 1)[-1])}
    for rel, result in project.files.items():
        for qualified in ((result.facts.get("imports") if result is not None else None) or {}).values():
            resolved = project.resolve(rel, qualified)
            if resolved is not None and resolved[0] != rel and resolved[0] in demos:
                found.add(resolved[0])
    return found
