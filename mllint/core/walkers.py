"""One walk per module for every family's node handlers (as Fixit batches its rules' visitors).

A family registers a factory of its `Handlers` (core/scopes.py) under its extractor's name (`@walker("seed")`:
given the module's context, its handlers, or None where it does not walk the module), and its extractor asks for
them once the module was walked (`walked(ctx, "seed")`). The first request walks the module once for every
registered family that walks it (`scopes.FamilyWalk`: one pass over the index; each node's type is looked up once
and the node goes to the handlers of the families that handle that type; scope entry and exit once for all); later
requests read their family's handlers. The families are those registered whose extractor the run needs
(`ctx.extractors`, None: all), as in dataflow/families.py. Should the walk fail, each family walks alone again
with fresh handlers, so that a failure stays its family's. Kept free of libcst: families register at import.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..context import ModuleContext
    from .scopes import Handlers

WALKERS: dict[str, Callable[["ModuleContext"], "Handlers | None"]] = {}
_RUNS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
STATS = {"walks": 0, "alone": 0}  # shared walks run, and families walked alone after a failure


def walker(name: str) -> Callable:
    """Register a family's handlers factory under its extractor's name."""
    def register(make: Callable[["ModuleContext"], "Handlers | None"]) -> Callable:
        WALKERS[name] = make
        return make
    return register


def walked(ctx: "ModuleContext", name: str) -> "Handlers | None":
    """Family `name`'s handlers after the module's one walk; None where it does not walk the module."""
    runs = _RUNS.get(ctx)
    if runs is None:
        runs = _RUNS[ctx] = _walk(ctx)
    found = runs.get(name)
    if isinstance(found, Exception):
        raise found
    return found


def _make(ctx: "ModuleContext", names) -> dict:
    made: dict = {}
    for name in names:
        try:
            made[name] = WALKERS[name](ctx)
        except Exception as exc:  # noqa: BLE001 - raised again to the extractor that asks for it
            made[name] = exc
    return {name: h for name, h in made.items() if h is not None}


def _run(ctx: "ModuleContext", handlers: list) -> None:
    from .scopes import FamilyWalk, Scope

    if any(h.needs_scopes for h in handlers):
        module_scope, scopes = ctx.module_scope, ctx.scopes
    else:
        module_scope, scopes = Scope(ctx.module, None), {}
    FamilyWalk(ctx.index, ctx.names.module_name, module_scope, scopes, handlers).run(ctx.module)


def _walk(ctx: "ModuleContext") -> dict:
    wanted = ctx.extractors
    made = _make(ctx, [name for name in WALKERS if wanted is None or name in wanted])
    handlers = {name: h for name, h in made.items() if not isinstance(h, Exception)}
    if not handlers:
        return made
    STATS["walks"] += 1
    try:
        _run(ctx, list(handlers.values()))
        return made
    except Exception as exc:  # noqa: BLE001 - a family's failure is its own: each family alone, with fresh handlers
        if len(handlers) == 1:
            made[next(iter(handlers))] = exc
            return made
    runs = {name: h for name, h in made.items() if isinstance(h, Exception)}
    for name in handlers:
        STATS["alone"] += 1
        again = _make(ctx, [name]).get(name)
        try:
            if again is not None and not isinstance(again, Exception):
                _run(ctx, [again])
            runs[name] = again
        except Exception as exc:  # noqa: BLE001
            runs[name] = exc
    return {name: h for name, h in runs.items() if h is not None}

