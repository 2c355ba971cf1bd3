"""Project helpers that forward a parameter to a known position (`set_seed(s)` -> `torch.manual_seed(s)`,
`make_optimizer(lr)` -> `SGD(lr=lr)`), closed over forwarders of forwarders across modules. Shared by the
families that ask "does this call of a project function end up setting X?" (SEED, HPARAM)."""
from __future__ import annotations

from typing import Callable, Iterable, Protocol, Sequence, TypeVar

T = TypeVar("T")


class Forwarder(Protocol):
    """A parameter of `function` passed on to `callee` (as written in its module), by keyword or position."""
    function: str
    param: str
    callee: str
    callee_keyword: str
    callee_index: int


def close_over_forwarders(
    known: dict[tuple[str, str], T],
    forwarders: Iterable[tuple[str, Forwarder]],
    target: Callable[[str, str], "str | None"],
    params_of: Callable[[str], "Sequence[str] | None"],
    carry: Callable[[Forwarder, T], T] = lambda forwarder, reached: reached,
) -> dict[tuple[str, str], T]:
    """Extend `known` ((function, parameter) -> what the parameter sets) with every forwarder (module, record)
    that reaches a known parameter, until nothing changes. `target(rel, callee)` qualifies a callee written in
    module rel; `params_of(qualified)` lists its parameters; `carry` makes the forwarder's entry from what it
    reaches."""
    forwarders = list(forwarders)
    changed = True
    while changed:
        changed = False
        for rel, record in forwarders:
            key = (record.function, record.param)
            if key in known:
                continue
            callee = target(rel, record.callee) or ""
            params = params_of(callee)
            if params is None:
                continue
            index = record.callee_index
            param = record.callee_keyword or (params[index] if 0 <= index < len(params) else "")
            reached = known.get((callee, param))
            if reached is not None:
                known[key] = carry(record, reached)
                changed = True
    return known

