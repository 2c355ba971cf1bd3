"""The HPARAM project phase: project wrappers across modules (a helper fixpoint, as SEED's), literals passed
to them, the options each unit defines, and the `hparam-modules` the user declares."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from ...project import Project
from ...core.forwarders import close_over_forwarders
from .apis import CONCEPT_OPTIONS
from .facts import HparamFacts, HparamValue, OptionDef, Wrapper
from ...core.names import module_dotted_name
from ...core.origins import same_value


@dataclass
class Statement:
    rel: str
    key: int
    values: list[HparamValue] = field(default_factory=list)
    undocumented: list[HparamValue] = field(default_factory=list)
    overrides: list[tuple[HparamValue, OptionDef]] = field(default_factory=list)


@dataclass
class HparamAnalysis:
    statements: list[Statement]


def hparam_modules(project: Project) -> list[str]:
    """`hparam-modules` of the project's configuration (globs of paths relative to the project root)."""
    return list(project.options("HPARAM").get("hparam-modules", ()))


def _wrappers(project: Project, facts: dict[str, HparamFacts], signatures: dict[str, list[str]]):
    def target(rel: str, callee: str) -> str | None:
        found = project.resolve(rel, callee)
        return f"{module_dotted_name(found[0])}.{found[1]}" if found and found[1] else None

    direct: dict[tuple[str, str], Wrapper] = {}
    for f in facts.values():
        for w in f.wrappers:
            if not w.label:
                continue
            known = direct.get((w.function, w.param))
            if known is None:
                direct[(w.function, w.param)] = w
            elif w.label not in known.label.split(" or "):  # one parameter, several positions (`name == "SGD"`)
                direct[(w.function, w.param)] = Wrapper(w.function, w.param, f"{known.label} or {w.label}",
                                                        known.concept, known.default if same_value(known.default, w.default) else None)  # type: ignore[arg-type]
    forwarders = [(rel, w) for rel, f in facts.items() for w in f.wrappers if not w.label]
    close_over_forwarders(direct, forwarders, target, signatures.get,
                          lambda w, reached: Wrapper(w.function, w.param, reached.label, reached.concept, reached.default))
    return direct, target


def analyse(project: Project) -> HparamAnalysis:
    facts: dict[str, HparamFacts] = {r.rel: f for r, f in project.facts("hparam")}
    signatures: dict[str, list[str]] = {}
    for f in facts.values():
        signatures.update(f.signatures)
    wrappers, target = _wrappers(project, facts, signatures)
    by_key: dict[tuple[str, int], Statement] = {}
    for rel, f in facts.items():
        for s in f.statements:
            by_key[(rel, s.key)] = Statement(rel, s.key, list(s.values))
        for call in f.calls:
            callee = target(rel, call.callee)
            params = signatures.get(callee or "")
            if params is None:
                continue
            short = (callee or "").rsplit(".", 1)[-1]
            for arg in call.args:
                param = params[int(arg.key)] if arg.key.isdigit() and int(arg.key) < len(params) else arg.key
                wrapper = wrappers.get((callee or "", param))
                if wrapper is None or same_value(arg.value, wrapper.default):  # type: ignore[arg-type]
                    continue
                statement = by_key.setdefault((rel, call.statement), Statement(rel, call.statement))
                statement.values.append(HparamValue(arg.loc, f"{param}={arg.shown}", f"{wrapper.label}, via {short}()",
                                                    wrapper.concept, arg.documented))
    declared = hparam_modules(project)
    options = _options_of_files(project, facts)
    statements = sorted(by_key.values(), key=lambda s: (s.rel, s.key))
    for statement in statements:
        statement.values.sort(key=lambda v: (v.loc.cell or 0, v.loc.line, v.loc.column))
        excused = any(fnmatch.fnmatch(statement.rel, glob) for glob in declared)
        for value in statement.values:
            if value.documented or (value.bare_constant and excused):
                continue
            option = _option_for(options, statement.rel, value.concept)
            if option is not None:
                statement.overrides.append((value, option))
            else:
                statement.undocumented.append(value)
    return HparamAnalysis(statements)


def _options_of_files(project: Project, facts: dict[str, HparamFacts]) -> dict[str, list[tuple[OptionDef, set[str]]]]:
    """Options each file can see: its own and those of the project modules it imports, with the concepts
    each reaches there (`SGD(lr=args.lr)`: the option works for `lr`). A sibling script's option is another
    program's; an option named `momentum` that sets an EMA does not set SGD's momentum."""
    found: dict[str, list[tuple[OptionDef, set[str]]]] = {}
    for rel, f in facts.items():
        result = project.files.get(rel)
        imports = (result.facts.get("imports") if result is not None else None) or {}
        sources = {rel}
        for qualified in imports.values():
            target = project.resolve(rel, qualified)
            if target is not None and target[0] in facts:
                sources.add(target[0])
        positions = set().union(*(facts[source].option_positions for source in sources))
        for source in sorted(sources):
            for option in facts[source].options:
                concepts = {p.split(":", 1)[0] for p in positions if p.split(":", 1)[1] in option.aliases}
                if concepts:
                    found.setdefault(rel, []).append((option, concepts))
    return found


def _option_for(options: dict[str, list[tuple[OptionDef, set[str]]]], rel: str, concept: str) -> OptionDef | None:
    names = CONCEPT_OPTIONS.get(concept)
    if not names:
        return None
    for option, concepts in options.get(rel, ()):
        if set(option.aliases) & names and concept in concepts:
            return option
    return None
