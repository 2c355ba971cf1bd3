"""The SEED facts of one module (what workers return and the cache stores), apart from the analysis
that produces them: a cached run unpickles these without loading the analysis."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...core.calls import Call
from ...core.config_model import ConfigFacts
from ...findings import Loc


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
class SeedCall(Call):
    """A call of a project function that may seed: the shared record (core/calls.py) and what its arguments are,
    keyed by position ("0", "1") or keyword: seed literals, options, loop variables over seeds."""

    literals: dict[str, int] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # arg -> option name
    sweeps: list[str] = field(default_factory=list)  # args fed by a loop over seeds


@dataclass
class SeedOption:
    loc: Loc
    name: str  # the option as written: --seed
    dest: str  # the attribute it lands in: seed
    default: int
    field: bool = False  # a config-class field rather than a command-line option
    scope: str = "<module>"  # where it is defined (a parser function, a config class)


@dataclass
class SeedFacts:
    sites: list[SeedSite] = field(default_factory=list)
    helpers: list[HelperParam] = field(default_factory=list)
    signatures: dict[str, Signature] = field(default_factory=dict)
    calls: list[SeedCall] = field(default_factory=list)
    options: list[SeedOption] = field(default_factory=list)
    option_uses: list[tuple[str, Loc, str]] = field(default_factory=list)  # (option, where it seeds, scope)
    sweeps: list[tuple[Loc, str, str]] = field(default_factory=list)  # (where, what, scope)
    # loops that build and train a fresh model on each pass (`for ii in range(args.itr)`): (where, scope, count:
    # the literal or the option's default, the option's name or "")
    repeats: list[tuple[Loc, str, int, str]] = field(default_factory=list)
    cli_dests: dict[str, str] = field(default_factory=dict)  # seed options of the command line (any default) -> scope
    # seed options without a default (`default=None`): the code may fill one in (`if args.seed is None: args.seed = 0`)
    open_options: list[SeedOption] = field(default_factory=list)
    # What the scopes of the module do, for "does this seeded run train?" and "what does this sweep run?".
    # Scopes are qualified definition names, "<module>" (import-time code) or "<main>" (the
    # `if __name__ == "__main__":` block).
    trains: set[str] = field(default_factory=set)  # scopes that train themselves (backward, step, fit, Trainer)
    # scope -> project callees of a call named like training (`train(args)`): they train when their body does;
    # a name that resolves to no project function trains by its name
    named_trains: dict[str, set[str]] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)
    seed_reads: set[str] = field(default_factory=set)  # seed-like attributes or keys the module reads (`args.seed`)
    writes: set[str] = field(default_factory=set)  # scopes that write files (`write_text`, `savetxt`, `to_csv`)
    # the `<main>` block runs on synthetic inputs (`torch.randn`, `torch.randint`) and loads no data: a self-test
    synthetic_main: bool = False
    library: bool = False  # the module defines a class at top level  # scopes that call something besides seeding and built-ins
    refs: dict[str, set[str]] = field(default_factory=dict)  # scope -> project names it calls or passes on
    defs: list[str] = field(default_factory=list)  # every function and class of the module
    imports: set[str] = field(default_factory=set)  # project modules imported at import time
    launches: dict[str, list[str]] = field(default_factory=dict)  # scope -> scripts it runs (`python x.py`)
    # The config model's facts of the module (core/config_model.py), seed keys only: seeds held in config
    # objects (`HParams(seed=1234)`, yacs `_C.SEED = 0`, `{"seed": 0}`, config-module globals), the code's
    # defaults (`cfg.get("seed", 1337)`, `if seed is None: seed = 0`), and the config files each scope names.
    config: ConfigFacts = field(default_factory=ConfigFacts)

    def empty(self) -> bool:
        return not (self.sites or self.helpers or self.calls or self.options or self.option_uses or self.sweeps or self.repeats
                    or self.cli_dests or self.trains or self.named_trains or self.refs or self.defs or self.imports or bool(self.config))
