"""Families' shares of one run per module: the one walk of their node handlers (core/walkers.py) and the one
abstract interpretation of their domains (dataflow/families.py) are the same mechanism, kept here once.

A family registers a factory of its part under its extractor's name (given the module's context: its part, or None
where it takes no part in the module's run), and its extractor asks for its result (`get(ctx, name)`). The first
request makes the part of every registered family that the run needs (`ctx.extractors`, None: all) and runs them
together; later requests read their family's result. A factory's failure, or the run's, is raised again to that
family's extractor only: should the joint run fail, each family runs alone again with a fresh part. Kept free of
libcst: families register at import, before any file is parsed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..context import ModuleContext

Factories = dict[str, Callable[["ModuleContext"], Any]]


class SharedRun:
    """`factories()` gives the registry (read at each run, so that a test may swap it); `together(ctx, parts)`
    runs the parts at once and gives each family's result; `counted` names the runs in `stats`."""

    def __init__(self, factories: Callable[[], Factories], together: Callable[["ModuleContext", dict], dict],
                 counted: str) -> None:
        self._factories, self._together, self._counted = factories, together, counted
        self.stats = {counted: 0, "alone": 0}  # joint runs, and families run alone after a joint run failed

    def register(self, name: str) -> Callable:
        """Register a family's factory under its extractor's name (a decorator)."""
        def register(make: Callable[["ModuleContext"], Any]) -> Callable:
            self._factories()[name] = make
            return make
        return register

    def get(self, ctx: "ModuleContext", name: str) -> Any:
        """Family `name`'s result of the module's one run; None where it takes no part."""
        # Kept on the context, so that the results die with it: the parts hold the context (a registry keyed
        # weakly by the context would keep every analysed module's tree alive through them).
        kept = ctx.__dict__.setdefault("_shared_runs", {})
        runs = kept.get(self._counted)
        if runs is None:
            runs = kept[self._counted] = self._run(ctx)
        found = runs.get(name)
        if isinstance(found, Exception):
            raise found
        return found

    def _make(self, ctx: "ModuleContext", names: list[str]) -> dict:
        made: dict = {}
        factories = self._factories()
        for name in names:
            try:
                made[name] = factories[name](ctx)
            except Exception as exc:  # noqa: BLE001 - raised again to the extractor that asks for it
                made[name] = exc
        return {name: part for name, part in made.items() if part is not None}

    def _run(self, ctx: "ModuleContext") -> dict:
        wanted = ctx.extractors
        made = self._make(ctx, [name for name in self._factories() if wanted is None or name in wanted])
        parts = {name: part for name, part in made.items() if not isinstance(part, Exception)}
        if not parts:
            return made
        self.stats[self._counted] += 1
        try:
            return {**made, **self._together(ctx, parts)}
        except Exception as exc:  # noqa: BLE001 - a family's failure is its own: each family alone, with a fresh part
            if len(parts) == 1:
                return {**made, **{name: exc for name in parts}}
        runs = {name: part for name, part in made.items() if isinstance(part, Exception)}
        for name in parts:
            self.stats["alone"] += 1
            again = self._make(ctx, [name]).get(name)
            try:
                runs[name] = again if again is None or isinstance(again, Exception) \
                    else self._together(ctx, {name: again})[name]
            except Exception as exc:  # noqa: BLE001
                runs[name] = exc
        return {name: result for name, result in runs.items() if result is not None}
