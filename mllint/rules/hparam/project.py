"""The HPARAM project phase: project wrappers across modules (a helper fixpoint, as SEED's), literals passed
to them, the options each unit defines, and the `hparam-modules` the user declares."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from ...project import Project
from ...core.calls import calls_by_target, library_demos, qualify, target
from ...core.forwarders import close_over_forwarders
from .apis import CONCEPT_OPTIONS, hparam_key
from .facts import NOT_RECIPE, HparamFacts, HparamValue, OptionDef, Wrapper
from ...core.origins import same_value
from ...core.config_model import (ATTRIBUTE, CALL, CONFIG_FILE, DICT, FIELD, MODULE, ConfigModel, Definition,
                                  path_matches)
from ...findings import Loc


@dataclass
class Statement:
    rel: str
    key: int
    values: list[HparamValue] = field(default_factory=list)
    undocumented: list[HparamValue] = field(default_factory=list)
    overrides: list[tuple[HparamValue, OptionDef]] = field(default_factory=list)
    scope: str = ""


@dataclass
class HparamAnalysis:
    statements: list[Statement]


def hparam_modules(project: Project) -> list[str]:
    """`hparam-modules` of the project's configuration (globs of paths relative to the project root)."""
    return list(project.options("HPARAM").get("hparam-modules", ()))


def _wrappers(project: Project, facts: dict[str, HparamFacts], signatures: dict[str, list[str]]):
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
    close_over_forwarders(direct, forwarders, lambda rel, callee: qualify(project, rel, callee), signatures.get,
                          lambda w, reached: Wrapper(w.function, w.param, reached.label, reached.concept, reached.default))
    return direct


def analyse(project: Project) -> HparamAnalysis:
    facts: dict[str, HparamFacts] = {r.rel: f for r, f in project.facts("hparam")}
    signatures: dict[str, list[str]] = {}
    for f in facts.values():
        signatures.update(f.signatures)
    wrappers = _wrappers(project, facts, signatures)
    recipes = {c.qualified: (rel, c) for rel, f in facts.items() for c in f.recipe_classes}
    for qualified, (_, cls) in recipes.items():
        # literals passed to a project optimiser, scheduler or loss set its hyper-parameters; equal to the
        # class's own default is no documentation (only a library's published default is)
        signatures.setdefault(qualified, cls.params)
        for param in cls.params:
            if NOT_RECIPE.search(param):
                continue  # `ignore_index`, `reduction`: not a hyper-parameter of the class
            wrappers.setdefault((qualified, param), Wrapper(qualified, param, f"{cls.kind} `{param}`"))
    by_key: dict[tuple[str, int], Statement] = {}
    demos = _demo_blocks(project, facts)
    sites = _call_sites(project, facts, demos)
    _recipe_defaults(recipes, sites, by_key)
    _function_defaults(facts, wrappers, sites, by_key)
    for rel, f in facts.items():
        for s in f.statements:
            by_key[(rel, s.key)] = Statement(rel, s.key, list(s.values), scope=s.scope)
        for call in f.calls:
            if not call.args:
                continue
            callee = qualify(project, rel, call.callee)
            params = signatures.get(callee or "")
            if params is None:
                continue
            short = (callee or "").rsplit(".", 1)[-1]
            for arg in call.args:
                param = params[int(arg.key)] if arg.key.isdigit() and int(arg.key) < len(params) else arg.key
                wrapper = wrappers.get((callee or "", param))
                if wrapper is None or same_value(arg.value, wrapper.default):  # type: ignore[arg-type]
                    continue
                statement = by_key.setdefault((rel, call.statement), Statement(rel, call.statement, scope=call.scope))
                name, constant, value = arg.shown.partition(" = ")  # a constant passed by name: `lr=lr` (...; lr = 0.5)
                text, label = (f"{param}={name}", f"{wrapper.label}, via {short}(); {arg.shown}") if constant else \
                    (f"{param}={arg.shown}", f"{wrapper.label}, via {short}()")
                statement.values.append(HparamValue(arg.loc, text, label, wrapper.concept, arg.documented))
    by_key = {k: v for k, v in by_key.items() if not (v.rel in demos and v.scope == "<main>")}
    unused = _unused_functions(project, facts, {v.scope for v in by_key.values()})
    if unused:  # nothing calls or references the function: its literals set nothing that runs
        by_key = {k: v for k, v in by_key.items() if not _within(v.scope, unused)}
    declared = hparam_modules(project)
    options = _options_of_files(project, facts)
    configs = _Configs(project, facts)
    statements = sorted(by_key.values(), key=lambda s: (s.rel, s.key))
    for statement in statements:
        statement.values.sort(key=lambda v: (v.loc.cell or 0, v.loc.line, v.loc.column))
        excused = any(fnmatch.fnmatch(statement.rel, glob) for glob in declared)
        for value in statement.values:
            if value.documented or (value.bare_constant and excused):
                continue
            option = configs.defining(statement.rel, statement.scope, value) if value.config_path else None
            if option is None:
                option = _option_for(options, statement.rel, value.concept)
            if option is None and value.concept and not value.config_only:
                option = configs.reaching(statement.rel, value)
            if option is not None:
                statement.overrides.append((value, option))
            elif not value.config_only:
                statement.undocumented.append(value)
    return HparamAnalysis(statements)


def _within(scope: str, functions: set[str]) -> bool:
    """Is the scope one of the functions, or nested in one?"""
    while scope:
        if scope in functions:
            return True
        scope = scope.rpartition(".")[0]
    return False


def _unused_functions(project: Project, facts: dict[str, HparamFacts], scopes: set[str]) -> set[str]:
    """Module-level functions holding hyper-parameter statements, in a module that other project modules import,
    that nothing in the project calls or references: no call resolves to them (core/calls.py's resolution
    through the imports: `from utils.tools_b import f` names tools_b's `f`, not every `f`), no import names
    them, their module never names them after the definition, and no module that imports their module whole
    (`import utils.tools as T`, a package above it, `from ... import *`) names them (each module's names as its
    `references` fact records them, core/names.py: code and identifier strings, not comments). The project's uses of the
    module are known, and this function is not among them: like an optimiser never used, it sets nothing that
    runs. (A function of a module nothing imports may be an entry point called from outside: it is kept.)"""
    candidates = {q: rel for rel, f in facts.items() for q in f.functions if _within_any(q, scopes)}
    if not candidates:
        return set()
    used: set[str] = set()
    for rel, f in facts.items():
        for call in f.calls:
            qualified = qualify(project, rel, call.callee)
            if qualified:
                used.add(qualified)
    wanted = {rel for q, rel in candidates.items() if q not in used}
    if not wanted:
        return set()
    imported: set[str] = set()  # modules that another project module imports (by name or whole)
    whole: dict[str, set[str]] = {}  # module -> the modules that import it (or a package above it) whole

    def reads_whole(reader: str, imported_module: str) -> None:
        package = imported_module.rsplit("/", 1)[0] + "/" if imported_module.endswith("__init__.py") else imported_module
        for module in wanted:
            if module == imported_module or module.startswith(package):
                whole.setdefault(module, set()).add(reader)

    for rel, result in project.files.items():
        for qualified in ((result.facts.get("imports") if result is not None else None) or {}).values():
            found = target(project, rel, qualified)
            if found is None or found[0] == rel:
                continue
            imported.add(found[0])
            if found[1]:
                used.add(found[1])  # `from utils.tools import f` (also through a package's re-export)
                continue
            reads_whole(rel, found[0])
    references = {rel: refs for rel, result in project.files.items()
                  if result is not None and (refs := result.facts.get("references")) is not None}
    for rel, refs in references.items():  # `from utils.tools import *`: the reader names tools' functions bare
        for star in refs.stars:
            found = target(project, rel, star)
            if found is not None and found[0] != rel:
                imported.add(found[0])
                reads_whole(rel, found[0])
    unused = set()
    for qualified, rel in sorted(candidates.items()):
        if qualified in used or rel not in imported:
            continue
        name = qualified.rsplit(".", 1)[-1]
        own = references.get(rel)
        if own is not None and (name in own.names or name in own.strings):
            continue  # called, passed on or named in its own module
        if any(name in refs.names or name in refs.attributes or name in refs.strings
               for refs in map(references.get, whole.get(rel, ())) if refs is not None):
            continue
        unused.add(qualified)
    return unused


def _within_any(function: str, scopes: set[str]) -> bool:
    prefix = function + "."
    return any(s == function or s.startswith(prefix) for s in scopes)


def _call_sites(project, facts, demos) -> dict[str, list]:
    """Each project callee's calls (which arguments they pass), but not those of a library module's demo."""
    return calls_by_target(project, ((rel, c) for rel, f in facts.items() for c in f.calls
                            if not (c.in_main and rel in demos)))


def _recipe_defaults(recipes, sites, by_key) -> None:
    """Defaults of project optimiser, scheduler and loss classes that a call of the class leaves in place:
    reported once at the default, the calls related. A class that nothing constructs is silent."""
    serial = 30_000_000
    for qualified, (rel, cls) in sorted(recipes.items()):
        calls = sites.get(qualified, [])
        for default in cls.defaults:
            index = cls.params.index(default.param) if default.param in cls.params else 10**6
            keeping = [c for c in calls if not c.star and default.param not in c.keywords and c.positional <= index]
            if not keeping:
                continue
            if (rel, serial) not in by_key or by_key[(rel, serial)].scope != qualified:
                serial += 1  # one statement (one finding) per class: its signature
            value = HparamValue(default.loc, f"{default.param}={default.shown}",
                                f"default of {cls.kind} {qualified.rsplit('.', 1)[-1]}, which "
                                f"{len(keeping)} call{'s' if len(keeping) > 1 else ''} leave{'' if len(keeping) > 1 else 's'} in place",
                                "", default.documented, uses=[c.loc for c in keeping],
                                use_note=f"called here without `{default.param}`")
            by_key.setdefault((rel, serial), Statement(rel, serial, [], scope=qualified)).values.append(value)


def _function_defaults(facts, wrappers, sites, by_key) -> None:
    """Defaults of project functions whose parameter reaches a hyper-parameter position (`def train(...,
    weight_decay=1e-8)` passing it to an optimiser) that a call of the function leaves in place: reported once
    at the signature, the calls related. A function that nothing calls is silent (its callers decide)."""
    serial = 40_000_000
    for rel, f in sorted(facts.items()):
        for default in f.function_defaults:
            wrapper = wrappers.get((default.function, default.param))
            if wrapper is None or not wrapper.label or same_value(default.value, wrapper.default):  # type: ignore[arg-type]
                continue
            keeping = [c for c in sites.get(default.function, []) if not c.star and default.param not in c.keywords
                       and (default.index < 0 or c.positional <= default.index)]
            if not keeping:
                continue
            if (rel, serial) not in by_key or by_key[(rel, serial)].scope != default.function:
                serial += 1  # one statement (one finding) per function: its signature
            short = default.function.rsplit(".", 1)[-1]
            value = HparamValue(default.loc, f"{default.param}={default.shown}",
                                f"{wrapper.label}, default of {short}(), which {len(keeping)} call"
                                f"{'s' if len(keeping) > 1 else ''} leave{'' if len(keeping) > 1 else 's'} in place",
                                wrapper.concept, default.documented, uses=[c.loc for c in keeping],
                                use_note=f"called here without `{default.param}`")
            by_key.setdefault((rel, serial), Statement(rel, serial, [], scope=default.function)).values.append(value)


def _demo_blocks(project: Project, facts: dict[str, HparamFacts]) -> set[str]:
    """Modules whose `if __name__ == "__main__":` block is a library module's demo (core.calls.library_demos)."""
    return library_demos(project, [rel for rel, f in facts.items() if f.demo],
                         [rel for rel, f in facts.items() if f.library])


def _options_of_files(project: Project, facts: dict[str, HparamFacts]) -> dict[str, list[tuple[OptionDef, set[str]]]]:
    """Options each file can see: its own and those of the project modules it imports, with the concepts
    each reaches there (`SGD(lr=args.lr)`: the option works for `lr`). A sibling script's option is another
    program's; an option named `momentum` that sets an EMA does not set SGD's momentum."""
    found: dict[str, list[tuple[OptionDef, set[str]]]] = {}
    imported: dict[str, set[str]] = {}
    for rel in facts:
        result = project.files.get(rel)
        for qualified in ((result.facts.get("imports") if result is not None else None) or {}).values():
            target = project.resolve(rel, qualified)
            if target is not None and target[0] in facts and target[0] != rel:
                imported.setdefault(rel, set()).add(target[0])
    importers: dict[str, set[str]] = {}
    for rel, targets in imported.items():
        for target in targets:
            importers.setdefault(target, set()).add(rel)

    def program(rel: str) -> set[str]:
        """The modules of the program a module's options belong to: what it imports, transitively, and the
        modules that import it."""
        seen, stack = {rel}, [rel]
        while stack:
            for target in imported.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return seen | importers.get(rel, set())

    idle: dict[str, set[str]] = {}  # module -> the option spellings its program reads (None: any)
    for rel, f in facts.items():
        if f.options:
            modules = program(rel)
            if not any(facts[m].reads_all_options for m in modules):
                idle[rel] = set().union(*(facts[m].options_read for m in modules))
    def folder(rel: str) -> str:
        return rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""

    parsers = {rel: [m for m in facts if m.startswith(folder(rel))] for rel, f in facts.items() if f.options}
    for rel, f in facts.items():
        # its own options, those of the modules it imports, and those of the scripts that import it (the
        # run that calls this module's code is theirs); a module whose functions read an options namespace
        # passed in (`def __init__(self, args)`) sees the parsers of the folders above it, and where their
        # options reach in those folders
        sources = {rel} | imported.get(rel, set()) | importers.get(rel, set())
        program = set(sources)
        if f.takes_options:
            for parser, members in parsers.items():
                if rel.startswith(folder(parser)):
                    sources.add(parser)
                    program.update(members)
        positions = set().union(*(facts[source].option_positions for source in program))
        for source in sorted(sources):
            for option in facts[source].options:
                concepts = {p.split(":", 1)[0] for p in positions if p.split(":", 1)[1] in option.aliases}
                if concepts:
                    found.setdefault(rel, []).append((option, concepts))
                elif source in idle and not set(option.aliases) & idle[source]:
                    # parsed, and nothing in the project reads it: a literal does the job it names
                    concepts = {c for c, names in CONCEPT_OPTIONS.items() if set(option.aliases) & names}
                    unread = OptionDef(option.loc, option.name, option.aliases, read=False)
                    found.setdefault(rel, []).append((unread, concepts))
    return found


class _Configs:
    """Config values that a literal overrides: the config model over the modules' hyper-parameter keys."""

    def __init__(self, project: Project, facts: dict[str, HparamFacts]) -> None:
        self.project, self.facts = project, facts
        self.model = ConfigModel({rel: f.config for rel, f in facts.items() if f.config}, project.root, project.files)
        self._programs: dict[str, set[str]] = {}

    def program(self, rel: str) -> set[str]:
        """The module and the project modules it imports, transitively: where its config can be defined."""
        if rel not in self._programs:
            seen, stack = {rel}, [rel]
            while stack:
                here = stack.pop()
                result = self.project.files.get(here)
                for qualified in ((result.facts.get("imports") if result is not None else None) or {}).values():
                    target = self.project.resolve(here, qualified)
                    if target is not None and target[0] not in seen:
                        seen.add(target[0])
                        stack.append(target[0])
            self._programs[rel] = seen
        return self._programs[rel]

    def _files(self, rel: str, scope: str) -> list[str]:
        """The config files (project-relative) that the scope names with a literal."""
        config = self.facts[rel].config
        names = set().union(*((config.loads.get(s, set()) for s in {scope, "<module>"}))) if config else set()
        found = []
        for name in sorted(names):
            for candidate in (os.path.normpath(os.path.join(os.path.dirname(rel), name)), os.path.normpath(name)):
                if (CONFIG_FILE.search(candidate) or candidate.endswith(".py")) and os.path.isfile(os.path.join(self.project.root, candidate)):
                    found.append(candidate)
                    break
        return found

    def _hydra(self, rel: str, scope: str) -> list[tuple[str, str]]:
        """(config folder, config name) of a Hydra app the scope names: a folder and a YAML file in it."""
        config = self.facts[rel].config
        names = set().union(*((config.loads.get(s, set()) for s in {scope, "<module>"}))) if config else set()
        found = []
        for folder in sorted(names):
            path = os.path.normpath(os.path.join(os.path.dirname(rel), folder))
            if not os.path.isdir(os.path.join(self.project.root, path)):
                continue
            for name in sorted(names):
                if os.path.isfile(os.path.join(self.project.root, path, name.removesuffix(".yaml") + ".yaml")):
                    found.append((path, name.removesuffix(".yaml")))
        return found

    def definitions(self, rel: str, scope: str, path: str, exclude: Loc | None = None) -> list[Definition]:
        """What defines `path` as a config value: a file this scope loads, or code elsewhere that defines a
        config (a key path of two components or more, a config class's field, a config module's global); a
        one-component key (`lr`) matched anywhere is too weak (any `dict(lr=0.1)` would do)."""
        found = [Definition(config, v) for config in self._files(rel, scope)
                 for v in self.model.file_values(config, want=hparam_key) if path_matches(path, v.path)]
        for folder, name in self._hydra(rel, scope):  # `@hydra.main(config_path="conf", config_name="train")`
            found += [Definition(v.loc.path, v) for v in self.model.hydra_values(folder, name, want=hparam_key)
                      if path_matches(path, v.path)]
        read = len([p for p in path.split(".") if p])
        program = self.program(rel) | {f for f in self._files(rel, scope) if f.endswith(".py")}  # mmcv `Config.fromfile`
        for d in self.model.resolve(path, where=lambda r, _: r in program, kinds=(ATTRIBUTE, CALL, DICT, FIELD, MODULE)):
            if d.rel == rel and (d.value.scope == scope or d.value.loc == exclude):
                continue  # the scope's own setting, not the config's
            if min(read, len(d.value.path.split("."))) >= 2 or d.value.kind in (FIELD, MODULE):
                found.append(d)
        return found

    def defining(self, rel: str, scope: str, value: HparamValue) -> OptionDef | None:
        """`cfg.SOLVER.BASE_LR = 0.01` after the config was loaded: the config's own value, elsewhere."""
        found = self.definitions(rel, scope, value.config_path, value.loc)
        if not found or any(same_value(d.value.value, value.config_value) for d in found):  # type: ignore[arg-type]
            return None  # the config says the same
        d = found[0]
        return OptionDef(d.value.loc, value.config_path, (), config=d.value.path, value=d.value.value)

    def reaching(self, rel: str, value: HparamValue) -> OptionDef | None:
        """`SGD(lr=0.01)` while `cfg.SOLVER.BASE_LR` reaches a learning rate in the same module."""
        for read in self.facts[rel].config_reads:
            if read.concept != value.concept:
                continue
            for d in self.definitions(rel, read.scope, read.path):
                return OptionDef(d.value.loc, read.path, (), config=d.value.path, value=d.value.value, reached=read.loc)
        return None


def _option_for(options: dict[str, list[tuple[OptionDef, set[str]]]], rel: str, concept: str) -> OptionDef | None:
    names = CONCEPT_OPTIONS.get(concept)
    if not names:
        return None
    for option, concepts in options.get(rel, ()):
        if set(option.aliases) & names and concept in concepts:
            return option
    return None
