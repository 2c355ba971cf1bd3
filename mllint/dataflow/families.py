"""One abstract interpretation per module for every data-flow family.

A family registers a factory of its `Domain` (`@family("leak")`: given the module's context, a domain, or None
where the family does not interpret the module), and its extractor asks for its part of the module's one
interpretation (`interpretation(ctx, "leak")`: the facts and the domain, or None). The first request runs the
interpreter once with every registered family that interprets the module, one lane each (interpreter.py:
each lane's facts are exactly those of an interpretation with its domain alone); later requests read their lane.

The families are those registered whose extractor the run needs, where the pipeline says which
(`ctx.extractors`), else every registered family. Should the interpretation fail, each family is interpreted
alone again, so that a failure stays its family's (the pipeline reports it for that extractor only).
Kept free of libcst: families register at import, before any file is parsed.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..context import ModuleContext
    from .interpreter import Domain
    from .terms import FlowFacts

FAMILIES: dict[str, Callable[["ModuleContext"], "Domain | None"]] = {}
_RUNS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
STATS = {"interpretations": 0, "alone": 0}  # interpretations run, and families interpreted alone after a failure


def family(name: str) -> Callable:
    """Register a family's domain factory under its extractor's name."""
    def register(make: Callable[["ModuleContext"], "Domain | None"]) -> Callable:
        FAMILIES[name] = make
        return make
    return register


def interpretation(ctx: "ModuleContext", name: str) -> "tuple[FlowFacts, Domain] | None":
    """The facts family `name` has of the module, with its domain; None where it does not interpret the module."""
    runs = _RUNS.get(ctx)
    if runs is None:
        runs = _RUNS[ctx] = _interpret(ctx)
    found = runs.get(name)
    if isinstance(found, Exception):
        raise found
    return found


def _domains(ctx: "ModuleContext") -> dict[str, "Domain"]:
    wanted = ctx.extractors
    domains = {}
    for name, make in FAMILIES.items():
        if wanted is None or name in wanted:
            try:
                domain = make(ctx)
            except Exception as exc:  # noqa: BLE001 - raised again to the extractor that asks for it
                domain = exc
            if domain is not None:
                domains[name] = domain
    return domains


def _interpret(ctx: "ModuleContext") -> dict:
    from .interpreter import Interpreter

    found = _domains(ctx)
    domains = {name: domain for name, domain in found.items() if not isinstance(domain, Exception)}
    failed = {name: exc for name, exc in found.items() if isinstance(exc, Exception)}
    if not domains:
        return failed
    STATS["interpretations"] += 1
    try:
        facts = Interpreter(ctx, list(domains.values())).run_all()
        return {**failed, **{name: (kept, domain) for (name, domain), kept in zip(domains.items(), facts)}}
    except Exception:  # noqa: BLE001 - a family's failure is its own: each family alone, with fresh domains
        if len(domains) == 1:
            raise
    runs: dict = dict(failed)
    for name in domains:
        STATS["alone"] += 1
        try:
            domain = FAMILIES[name](ctx)
            runs[name] = (Interpreter(ctx, domain).run(), domain)
        except Exception as exc:  # noqa: BLE001 - raised again to the extractor that asks for it
            runs[name] = exc
    return runs
