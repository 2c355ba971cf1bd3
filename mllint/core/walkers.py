"""One walk per module for every family's node handlers (as Fixit batches its rules' visitors).

A family registers a factory of its `Handlers` (core/scopes.py) under its extractor's name (`@walker("seed")`:
given the module's context, its handlers, or None where it does not walk the module), and its extractor asks for
them once the module was walked (`walked(ctx, "seed")`). The first request walks the module once for every
registered family that walks it (`scopes.FamilyWalk`: one pass over the index; each node's type is looked up once
and the node goes to the handlers of the families that handle that type; scope entry and exit once for all); later
requests read their family's handlers. The families are those registered whose extractor the run needs
(`ctx.extractors`, None: all), as in dataflow/families.py. Should the walk fail, each family walks alone again
with fresh handlers, so that a failure stays its family's (the mechanism, shared with the one interpretation:
core/shared_runs.py). Kept free of libcst: families register at import.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .shared_runs import SharedRun

if TYPE_CHECKING:
    from ..context import ModuleContext
    from .scopes import Handlers

WALKERS: dict[str, Callable[["ModuleContext"], "Handlers | None"]] = {}


def _run(ctx: "ModuleContext", handlers: dict[str, "Handlers"]) -> dict[str, "Handlers"]:
    from .scopes import FamilyWalk, Scope

    if any(h.needs_scopes for h in handlers.values()):
        module_scope, scopes = ctx.module_scope, ctx.scopes
    else:
        module_scope, scopes = Scope(ctx.module, None), {}
    FamilyWalk(ctx.index, ctx.names.module_name, module_scope, scopes, list(handlers.values())).run(ctx.module)
    return handlers


_WALKS = SharedRun(lambda: WALKERS, _run, "walks")
STATS = _WALKS.stats  # shared walks run, and families walked alone after a failure
walker = _WALKS.register  # `@walker("seed")`: register a family's handlers factory under its extractor's name
walked = _WALKS.get  # `walked(ctx, "seed")`: the family's handlers after the module's one walk, or None
