"""HPARAM: undocumented magic numbers in the training recipe."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ...findings import Finding, Related, Severity
from ...project import Project
from ...core.walkers import walker
from ..base import Rule, extractor

if TYPE_CHECKING:
    from .facts import HparamFacts
    from .project import HparamAnalysis
    from ...context import ModuleContext


@walker("hparam")
def _hparam_handlers(ctx: "ModuleContext"):
    """HPARAM's handlers in the module's one walk (core/walkers.py)."""
    from .extract import hparam_handlers

    return hparam_handlers(ctx)


@extractor("hparam")
def extract_hparam_facts(ctx: "ModuleContext") -> "HparamFacts | None":
    from .extract import extract_hparam_facts as extract  # not needed when every file is cached

    return extract(ctx)


def analyse(project: Project) -> "HparamAnalysis":
    from .project import analyse as run

    return project.shared("hparam", run)


class UndocumentedHyperparameter(Rule):
    code, name, severity = "HPARAM001", "undocumented-hyperparameter", Severity.WARNING
    summary = "A literal sets a training hyper-parameter and nothing says where it comes from."
    hint = (
        "Make it an option or a config value, or say why on the statement (`# from the paper, Table 3`, "
        "`# tuned on the validation split`), so that the recipe can be reported and compared."
    )
    needs = ("hparam", "imports", "references")

    def check_project(self, project: Project) -> Iterator[Finding]:
        for statement in analyse(project).statements:
            values = statement.undocumented
            if values:
                described = ", ".join(v.describe() for v in values)
                plural = "s" if len(values) > 1 else ""
                related = [Related(v.loc, f"{v.setting} sets the {v.label}") for v in values[1:]]
                related += _uses(values)
                yield self.finding(
                    values[0].loc, f"undocumented hyper-parameter literal{plural}: {described}", related=related,
                )


class OverriddenOption(Rule):
    code, name, severity = "HPARAM002", "literal-overrides-option", Severity.WARNING
    summary = "A literal sets a hyper-parameter that a command-line or config option also sets: the option is ignored there."
    hint = "Use the option's value here (or remove the option): the command line must say what the run does."
    needs = ("hparam", "imports", "references")

    def check_project(self, project: Project) -> Iterator[Finding]:
        for statement in analyse(project).statements:
            if statement.overrides:
                parts = [_config_part(v, o) if o.config else f"{v.describe()} while option {o.name} "
                         f"{'exists' if o.read else 'is parsed and never read'}" for v, o in statement.overrides]
                first_value, first_option = statement.overrides[0]
                options = any(not o.config for _, o in statement.overrides)
                what = "an option" if options else "a config value"
                tail = "the command line says one value" if options else "the config says one value"
                related = []
                for _, o in statement.overrides:
                    if o.config:
                        related.append(Related(o.loc, f"the config sets `{o.config}` here"))
                        if o.reached is not None:
                            related.append(Related(o.reached, f"`{o.name}` of the config sets it here"))
                    else:
                        related.append(Related(o.loc, f"option {o.name} is defined here" + ("" if o.read else ", and no module reads it")))
                yield self.finding(
                    first_value.loc,
                    f"literal overrides {what}: {'; '.join(parts)}; {tail}, the run uses another",
                    related=related,
                )


def _uses(values) -> list[Related]:
    """Where the values are used, one related location per place: the calls that leave several defaults in
    place say so once (`called here without `beta1`, `beta2``)."""
    notes: dict[tuple, list[str]] = {}
    where: dict[tuple, object] = {}
    for v in values:
        for loc in v.uses:
            key = (loc.path, loc.cell, loc.line, loc.column)
            note = v.use_note or f"`{v.setting.split('=', 1)[-1].strip()}` is used here"
            where.setdefault(key, loc)
            if note not in notes.setdefault(key, []):
                notes[key].append(note)
    related = []
    for key, found in notes.items():
        prefix = "called here without "
        if len(found) > 1 and all(n.startswith(prefix) for n in found):
            found = [prefix + ", ".join(n[len(prefix):] for n in found)]
        related.append(Related(where[key], "; ".join(found)))  # type: ignore[arg-type]
    return related


def _config_part(value, option) -> str:
    where = f"{option.loc.path}:{option.loc.line}" if option.loc.line else option.loc.path
    shown = repr(option.value) if isinstance(option.value, str) else option.value
    if option.reached is None:  # `cfg.SOLVER.BASE_LR = 0.01` after the config was loaded
        return f"{value.describe()} replaces the config's `{option.config}` = {shown} ({where})"
    return (f"{value.describe()} while the config's `{option.name}` sets it elsewhere in this module "
            f"(`{option.config}` = {shown}, {where})")


RULES = [UndocumentedHyperparameter, OverriddenOption]
