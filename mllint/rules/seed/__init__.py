"""SEED: a training result that rests on one fixed seed, with no sweep over seeds that runs it.
The analysis (helpers, call graph, sweep binding) is in project.py beside this module."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from ...findings import Finding, Related, Severity
from ...project import Project
from ...core.walkers import walker
from ..base import Rule, aux_extractor, extractor

if TYPE_CHECKING:
    from .facts import SeedFacts
    from ...context import ModuleContext


@walker("seed")
def _seed_handlers(ctx: "ModuleContext"):
    """SEED's handlers in the module's one walk (core/walkers.py)."""
    from .extract import seed_handlers

    return seed_handlers(ctx)


@extractor("seed")
def extract_seed_facts(ctx: "ModuleContext") -> "SeedFacts | None":
    from .extract import extract_seed_facts as extract  # not needed when every file is cached

    return extract(ctx)


@aux_extractor("seed")
def scan_seed_evidence(path: str, rel: str, display: str):
    """Seed sweeps, launched scripts and fixed seeds in shell scripts, Makefiles and YAML/JSON/TOML configs."""
    from .sweeps import scan_aux

    return scan_aux(path, rel, display)


SWEEP_HINT = (
    "Keep the seed for reproducibility, but do not let a result rest on it: run at least 3 seeds "
    "(e.g. `for seed in 0 1 2; do python train.py --seed $seed; done`) and report mean ± std or a "
    "Student-t 95% interval (mean ± t(0.975, n-1)·std/√n)."
)

NOTEBOOK_HINT = (
    "Keep the seed for reproducibility, but do not let a result rest on it: wrap the training cells in a loop "
    "over at least 3 seeds (or parametrise the notebook, e.g. with papermill, and run it per seed) and report "
    "mean ± std or a Student-t 95% interval (mean ± t(0.975, n-1)·std/√n)."
)


def analyse(project: Project):
    """The SEED analysis of a project (computed once, shared by the rules)."""
    from .project import analyse as compute  # not loaded when no SEED rule runs

    return compute(project)


class FixedSeedLiteral(Rule):
    code, name, severity = "SEED001", "single-fixed-seed", Severity.WARNING
    summary = ("A literal seed (in code or in a config the training code reads) seeds a training run, "
               "and no sweep over seeds runs it.")
    hint = SWEEP_HINT
    needs = ("seed", "imports")

    def check_project(self, project: Project) -> Iterable[Finding]:
        analysis = analyse(project)
        unswept = "the project shows no sweep over seeds" if not analysis.any_sweep else \
            "no sweep over seeds in the project runs this code"
        for uses in analysis.groups:
            first, others = uses[0], uses[1:]
            where = "" if first.scope.startswith("<") else f" in `{first.scope.rsplit('.', 1)[-1]}()`"
            message = f"seed fixed to {first.value} by {first.api}{where}, and {unswept}: the result rests on one draw"
            if others:
                where_others = "here" if all(o.rel == first.rel for o in others) else "in this run"
                message += f" (+{len(others)} more fixed seeding call{'s' if len(others) > 1 else ''} {where_others})"
            idle = analysis.idle.get(first.rel)
            if idle:
                message += (f"; the script's option {idle[0].name} is parsed and never read: the literal decides,"
                            f" whatever seed is passed")
            related = [*first.via] + [Related(o.loc, f"also fixed to {o.value} by {o.api}"
                                              + ("" if o.rel == first.rel else " at import time")) for o in others]
            yield self.finding(first.loc, message, related=related,
                               hint=NOTEBOOK_HINT if first.rel.endswith(".ipynb") else None)
        for config in analysis.configs:
            message = (
                f"seed fixed to {config.value} by `{config.key}` in a config that training code reads, "
                f"and {unswept}: the result rests on one draw"
            )
            if config.others:
                message += f" (+{len(config.others)} more config{'s' if len(config.others) > 1 else ''} in this folder)"
            related = [Related(loc, f"`{config.key}` fixed to {value} here too") for loc, value in config.others]
            yield self.finding(config.loc, message, related=related)


class SeedOptionSingleDefault(Rule):
    # INFO, not WARNING: a seed option with a default is a reproducibility feature, and nothing in the code
    # is wrong; what the user needs is a reminder to run the option with other seeds before reporting a
    # result (a literal seed, SEED001, needs a code change to do so and stays a warning).
    code, name, severity = "SEED002", "seed-option-single-default", Severity.INFO
    summary = "A seed option's default is the only seed a training run uses: nothing runs other seeds."
    hint = SWEEP_HINT
    needs = ("seed", "imports")

    def check_project(self, project: Project) -> Iterator[Finding]:
        analysis = analyse(project)
        unswept = "no script or config runs other seeds" if not analysis.any_sweep else \
            "no sweep in the project runs this entry point with other seeds"
        for item in analysis.options:
            option = item.option
            related = [] if item.seeds_here is None or item.seeds_here == option.loc else [
                Related(item.seeds_here, f"`{_written(option)}` seeds the run here")]
            if item.default_at is not None:  # no default of its own: the code fills one in
                related.insert(0, Related(item.default_at, f"`{_written(option)}` set to {option.default} when not given"))
            yield self.finding(
                option.loc,
                f"seed option {option.name} defaults to {option.default}"
                f"{' (set by the code when not given)' if item.default_at is not None else ''} and {unswept}: "
                "as shipped, the code runs this one seed",
                related=related,
            )


RULES = [FixedSeedLiteral, SeedOptionSingleDefault]


def _written(option) -> str:
    """The option's attribute as the source spells it (`manualSeed` for `--manualSeed`; matching ignores case)."""
    written = option.name.split(" ", 1)[0].lstrip("-").replace("-", "_")
    return written if written.lower() == option.dest.lower() else option.dest
