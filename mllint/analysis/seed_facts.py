"""The SEED facts of one module (what workers return and the cache stores), apart from the analysis
that produces them: a cached run unpickles these without loading the analysis."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Loc


@dataclass
class SeedSite:
    loc: Loc
    api: str
    value: int
    scope: str  # enclosing function's qualified name, or "<module>"


@dataclass
class HelperParam:
    """Function `function` passes its parameter `param` on to a seed (directly or via `callee`)."""

    function: str
    param: str
    loc: Loc
    api: str = ""  # the seeding API, when direct
    callee: str = ""  # a project function it forwards to
    callee_index: int = -1
    callee_keyword: str = ""


@dataclass
class Signature:
    params: list[str]
    defaults: dict[str, int]  # literal int defaults


@dataclass
class CallSite:
    loc: Loc
    callee: str
    scope: str
    literals: dict[str, int] = field(default_factory=dict)  # "0"/"1" for positions, or keyword names
    options: dict[str, str] = field(default_factory=dict)  # arg -> option name
    sweeps: list[str] = field(default_factory=list)  # args fed by a loop over seeds
    positional: int = 0
    keywords: tuple[str, ...] = ()


@dataclass
class SeedOption:
    loc: Loc
    name: str  # the option as written: --seed
    dest: str  # the attribute it lands in: seed
    default: int
    field: bool = False  # a config-class field rather than a command-line option


@dataclass
class SeedFacts:
    sites: list[SeedSite] = field(default_factory=list)
    helpers: list[HelperParam] = field(default_factory=list)
    signatures: dict[str, Signature] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    options: list[SeedOption] = field(default_factory=list)
    option_uses: dict[str, Loc] = field(default_factory=dict)  # option names that reach a seeding API directly
    sweeps: list[tuple[Loc, str]] = field(default_factory=list)
    cli_dests: set[str] = field(default_factory=set)  # seed options of the command line, any default

    def empty(self) -> bool:
        return not (self.sites or self.helpers or self.calls or self.options or self.option_uses or self.sweeps or self.cli_dests)
