"""Project seeding helpers: functions that forward a parameter to a seeding API, directly or through
other helpers, across modules (a fixpoint over every module's `HelperParam` facts), and what the
calls of those helpers seed: a literal, an option, or a loop variable over seeds."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ...findings import Related
from ...core.forwarders import close_over_forwarders
from .facts import SeedCall, SeedFacts, Signature

Chain = tuple[str, list[Related]]  # the seeding API reached, and the places on the way


@dataclass
class HelperCalls:
    """What the calls of seeding helpers in one module seed."""

    literals: list[tuple[SeedCall, int, str, list[Related]]] = field(default_factory=list)  # (call, value, api, chain)
    options: list[tuple[SeedCall, str]] = field(default_factory=list)  # (call, option name)
    sweeps: list[tuple[SeedCall, str]] = field(default_factory=list)  # (call, description)


def seeding_helpers(
    facts: dict[str, SeedFacts], signatures: dict[str, Signature], target: Callable[[str, str], str | None]
) -> dict[tuple[str, str], Chain]:
    """(function, parameter) -> how the parameter reaches a seeding API. `target(rel, callee)` is the
    qualified name of the project function a call in `rel` names."""
    helpers: dict[tuple[str, str], Chain] = {}
    for f in facts.values():
        for h in f.helpers:
            if h.api:
                helpers.setdefault((h.function, h.param), (h.api, [Related(h.loc, f"`{h.param}` seeds {h.api} here")]))
    forwarders = [(rel, h) for rel, f in facts.items() for h in f.helpers if not h.api]
    return close_over_forwarders(helpers, forwarders, target, lambda callee: _params(signatures, callee))


def _params(signatures: dict[str, Signature], callee: str) -> list[str] | None:
    sig = signatures.get(callee)
    return sig.params if sig is not None else None


def helper_calls(
    rel: str, f: SeedFacts, helpers: dict[tuple[str, str], Chain], signatures: dict[str, Signature],
    target: Callable[[str, str], str | None],
) -> HelperCalls:
    by_function: dict[str, list[tuple[str, Chain]]] = {}
    for (function, param), chain in helpers.items():
        by_function.setdefault(function, []).append((param, chain))
    out = HelperCalls()
    for call in f.calls:
        callee = target(rel, call.callee)
        sig = signatures.get(callee or "")
        if sig is None:
            continue
        for param, (api, chain) in by_function.get(callee, ()):
            index = str(sig.params.index(param)) if param in sig.params else None
            keys = [k for k in (param, index) if k is not None]
            short = callee.rsplit(".", 1)[-1]
            if any(k in call.literals for k in keys):
                value = next(call.literals[k] for k in keys if k in call.literals)
                out.literals.append((call, value, f"{short}() -> {api}", chain))
            elif any(k in call.options for k in keys):
                out.options.append((call, next(call.options[k] for k in keys if k in call.options)))
            elif any(k in call.sweeps for k in keys):
                out.sweeps.append((call, f"{short}() is called with a loop variable over seeds"))
            elif not any(k in call.keywords or (k.isdigit() and int(k) < call.positional) for k in keys):
                if param in sig.defaults and names_seeding(short):
                    out.literals.append((call, sig.defaults[param], f"{short}() -> {api} (default `{param}`)", chain))
    return out


def names_seeding(function: str) -> bool:
    """Only helpers named for seeding count when called without the seed (their default is the seed)."""
    lowered = function.lower()
    return any(word in lowered for word in ("seed", "rng", "random"))

