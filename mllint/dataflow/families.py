"""One abstract interpretation per module for every data-flow family.

A family registers a factory of its `Domain` (`@family("leak")`: given the module's context, a domain, or None
where the family does not interpret the module), and its extractor asks for its part of the module's one
interpretation (`interpretation(ctx, "leak")`: the facts and the domain, or None). The first request runs the
interpreter once with every registered family that interprets the module, one lane each (interpreter.py:
each lane's facts are exactly those of an interpretation with its domain alone); later requests read their lane.

The families are those registered whose extractor the run needs, where the pipeline says which
(`ctx.extractors`), else every registered family. Should the interpretation fail, each family is interpreted
alone again, so that a failure stays its family's (the pipeline reports it for that extractor only); the
mechanism, shared with the families' one walk, is core/shared_runs.py.
Kept free of libcst: families register at import, before any file is parsed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..core.shared_runs import SharedRun

if TYPE_CHECKING:
    from ..context import ModuleContext
    from .interpreter import Domain

FAMILIES: dict[str, Callable[["ModuleContext"], "Domain | None"]] = {}


def _interpret(ctx: "ModuleContext", domains: dict[str, "Domain"]) -> dict:
    from .interpreter import Interpreter

    facts = Interpreter(ctx, list(domains.values())).run_all()
    return {name: (kept, domain) for (name, domain), kept in zip(domains.items(), facts)}


_INTERPRETATIONS = SharedRun(lambda: FAMILIES, _interpret, "interpretations")
STATS = _INTERPRETATIONS.stats  # interpretations run, and families interpreted alone after a failure
family = _INTERPRETATIONS.register  # `@family("leak")`: register a family's domain factory under its extractor's name
interpretation = _INTERPRETATIONS.get  # `interpretation(ctx, "leak")`: (facts, domain) of its lane, or None
