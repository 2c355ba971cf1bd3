"""SEED: a result that rests on one fixed seed, with no sweep over seeds anywhere in the project."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Iterator

from typing import TYPE_CHECKING

from ..analysis.names import module_dotted_name
from ..findings import Finding, Loc, Related, Severity
from ..project import Project
from .base import Rule, extractor

if TYPE_CHECKING:
    from ..analysis.seed_facts import SeedFacts
    from ..context import ModuleContext


@extractor("seed")
def extract_seed_facts(ctx: "ModuleContext") -> "SeedFacts | None":
    from ..analysis.seeds import extract_seed_facts as extract  # not needed when every file is cached

    return extract(ctx)

SWEEP_HINT = (
    "Keep the seed for reproducibility, but do not let a result rest on it: run at least 3 seeds "
    "(e.g. `for seed in 0 1 2; do python train.py --seed $seed; done`) and report mean ± std or a "
    "Student-t 95% interval (mean ± t(0.975, n-1)·std/√n)."
)


@dataclass
class _Use:
    """A fixed seed that reaches a seeding API in file `rel`."""

    rel: str
    loc: Loc
    value: int
    api: str
    scope: str
    via: list[Related]


@dataclass
class SeedAnalysis:
    uses: list[_Use]
    options: list[tuple[str, object]]  # (rel, SeedOption)
    option_uses: dict[str, set[str]]  # unit -> option names that reach seeding
    option_sites: dict[tuple[str, str], Loc]  # (unit, option name) -> a place it seeds
    sweeps: dict[str, list[tuple[str, Loc | None, str]]]  # unit -> (rel, loc, description)
    cli_dests: dict[str, set[str]]  # unit -> seed options defined on the command line


def analyse(project: Project) -> SeedAnalysis:
    """Resolve helpers across modules, then collect literal seeds, options and sweep evidence."""
    return project.shared("seed", _analyse)


def _analyse(project: Project) -> SeedAnalysis:
    facts: dict[str, SeedFacts] = {r.rel: f for r, f in project.facts("seed")}
    signatures = {}
    for rel, f in facts.items():
        signatures.update(f.signatures)

    def target(rel: str, callee: str) -> str | None:
        found = project.resolve(rel, callee)
        if found is None or not found[1]:
            return None
        return f"{module_dotted_name(found[0])}.{found[1]}"

    # helper (function, param) -> how it reaches a seed: the API and the chain of places
    helpers: dict[tuple[str, str], tuple[str, list[Related]]] = {}
    for rel, f in facts.items():
        for h in f.helpers:
            if h.api:
                helpers.setdefault((h.function, h.param), (h.api, [Related(h.loc, f"`{h.param}` seeds {h.api} here")]))
    changed = True
    while changed:  # forwarders of forwarders, across modules
        changed = False
        for rel, f in facts.items():
            for h in f.helpers:
                if h.api or (h.function, h.param) in helpers:
                    continue
                callee = target(rel, h.callee)
                sig = signatures.get(callee or "")
                if sig is None:
                    continue
                param = h.callee_keyword or (sig.params[h.callee_index] if 0 <= h.callee_index < len(sig.params) else "")
                if (callee, param) in helpers:
                    api, chain = helpers[(callee, param)]
                    helpers[(h.function, h.param)] = (api, chain)
                    changed = True

    uses: list[_Use] = []
    option_uses: dict[str, set[str]] = defaultdict(set)
    option_sites: dict[tuple[str, str], Loc] = {}
    sweeps: dict[str, list] = defaultdict(list)
    for rel, f in facts.items():
        unit = project.unit_of(rel)
        for site in f.sites:
            uses.append(_Use(rel, site.loc, site.value, site.api, site.scope, []))
        option_uses[unit] |= set(f.option_uses)
        for name, loc in f.option_uses.items():
            option_sites.setdefault((unit, name), loc)
        for loc, text in f.sweeps:
            sweeps[unit].append((rel, loc, text))
        for call in f.calls:
            callee = target(rel, call.callee)
            sig = signatures.get(callee or "")
            if sig is None:
                continue
            for (function, param), (api, chain) in helpers.items():
                if function != callee:
                    continue
                index = str(sig.params.index(param)) if param in sig.params else None
                keys = [k for k in (param, index) if k is not None]
                short = callee.rsplit(".", 1)[-1]
                if any(k in call.literals for k in keys):
                    value = next(call.literals[k] for k in keys if k in call.literals)
                    uses.append(_Use(rel, call.loc, value, f"{short}() -> {api}", call.scope, chain))
                elif any(k in call.options for k in keys):
                    name = next(call.options[k] for k in keys if k in call.options)
                    option_uses[unit].add(name)
                    option_sites.setdefault((unit, name), call.loc)
                elif any(k in call.sweeps for k in keys):
                    sweeps[unit].append((rel, call.loc, f"{short}() is called with a loop variable over seeds"))
                elif not any(k in call.keywords or (k.isdigit() and int(k) < call.positional) for k in keys):
                    if param in sig.defaults and _names_seeding(short):
                        uses.append(_Use(rel, call.loc, sig.defaults[param], f"{short}() -> {api} (default `{param}`)", call.scope, chain))
    for rel, items in project.aux.items():
        unit = project.unit_of(rel)
        for line, text in items:
            sweeps[unit].append((rel, Loc(line, 1, line, 1, rel), text))
    options = [(r, o) for r, f in facts.items() for o in f.options]
    cli_dests: dict[str, set[str]] = defaultdict(set)
    for rel, f in facts.items():
        cli_dests[project.unit_of(rel)] |= f.cli_dests
    return SeedAnalysis(uses, options, option_uses, option_sites, sweeps, cli_dests)


def _names_seeding(function: str) -> bool:
    """Only helpers named for seeding count when called without the seed (their default is the seed)."""
    lowered = function.lower()
    return any(word in lowered for word in ("seed", "rng", "random"))


_DATA_SCRIPT = re.compile(r"^(generate|gen_|make_data|make_dataset|prepare|preprocess|download|create_data|synth)")


def is_data_script(rel: str) -> bool:
    """Scripts that generate or prepare data: their seed fixes the data, which is what every method shares."""
    return bool(_DATA_SCRIPT.match(rel.rsplit("/", 1)[-1].lower()))


def sweep_for(analysis: SeedAnalysis, project: Project, rel: str):
    for unit, items in analysis.sweeps.items():
        if project.covers(unit, rel) and items:
            return items[0]
    return None


class FixedSeedLiteral(Rule):
    code, name, severity = "SEED001", "single-fixed-seed", Severity.WARNING
    summary = "A literal seed reaches a seeding API (directly or through a project helper) and no sweep over seeds exists."
    hint = SWEEP_HINT
    needs = ("seed", "imports")

    def check_project(self, project: Project) -> Iterable[Finding]:
        analysis = analyse(project)
        groups: dict[tuple[str, str], list[_Use]] = defaultdict(list)
        for use in analysis.uses:
            if sweep_for(analysis, project, use.rel) is None and not is_data_script(use.rel):
                groups[(use.rel, use.scope)].append(use)
        for (rel, _), uses in groups.items():
            uses.sort(key=lambda u: (u.loc.cell or 0, u.loc.line, u.loc.column))
            first, others = uses[0], uses[1:]
            where = "" if first.scope == "<module>" else f" in `{first.scope.rsplit('.', 1)[-1]}()`"
            message = (
                f"seed fixed to {first.value} by {first.api}{where}, and the project shows no sweep over seeds: "
                "the result rests on one draw"
            )
            if others:
                message += f" (+{len(others)} more fixed seeding call{'s' if len(others) > 1 else ''} here)"
            related = [*first.via] + [Related(o.loc, f"also fixed to {o.value} by {o.api}") for o in others]
            yield self.finding(first.loc, message, related=related)


class SeedOptionSingleDefault(Rule):
    code, name, severity = "SEED002", "seed-option-single-default", Severity.WARNING
    summary = "A seed option's default is the only seed ever used: nothing in the project runs other seeds."
    hint = SWEEP_HINT
    needs = ("seed", "imports")

    def check_project(self, project: Project) -> Iterator[Finding]:
        analysis = analyse(project)
        for rel, option in analysis.options:
            if sweep_for(analysis, project, rel) is not None or is_data_script(rel):
                continue
            unit = project.unit_of(rel)
            if option.field and any(option.dest in dests for u, dests in analysis.cli_dests.items() if u == unit):
                continue  # a command-line option of the same name is what reaches the seed
            used_in = [
                u for u, names in analysis.option_uses.items()
                if option.dest in names and (project.covers(u, rel) or project.covers(unit, u + "/"))
            ]
            if not used_in:
                continue  # the option never reaches a seeding call
            related = []
            site = analysis.option_sites.get((used_in[0], option.dest))
            if site is not None:
                related.append(Related(site, f"`{option.dest}` seeds the run here"))
            yield self.finding(
                option.loc,
                f"seed option {option.name} defaults to {option.default} and no script or config runs other seeds: "
                "every reported number comes from this one seed",
                related=related,
            )


RULES = [FixedSeedLiteral, SeedOptionSingleDefault]
