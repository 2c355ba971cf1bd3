"""The SEED project phase: which fixed seeds seed a training run that nothing sweeps.

Over every module's SEED facts and the facts of shell scripts and configs: resolve seeding helpers
(seed_helpers), build the call graph (seed_reach), bind each piece of sweep evidence to the code it
runs, and keep the fixed seeds (literals, option defaults, config values) of training runs that no
sweep reaches.

How a sweep is bound (the rule pages say the same):
- a Python loop over seeds, a list of seeds or a `--seeds` option: the runs of its scope (what the entry
  points that reach it run);
- a shell script or Makefile: the scripts it launches, when they take a seed option (a script whose
  seed is a literal runs that one seed however often it is launched);
- a config listing seeds: the runs of the code that names the config file;
- anything that cannot be bound (no launched script or loader found in the project): the unit it is
  in (its folder with a README, pyproject.toml, ... and the folders below).
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

from ...findings import Loc, Related
from ...project import Project
from ...core.calls import qualify
from ...core.origins import spelling
from ...core.config_model import DEFAULT, FALLBACK, ConfigModel
from .facts import SeedFacts, SeedOption
from .helpers import helper_calls, seeding_helpers
from .reach import CallGraph, node_of

_DATA_SCRIPT = re.compile(r"^(generate|gen_|make_data|make_dataset|prepare|preprocess|download|create_data|synth)")
_TEST_FOLDER = re.compile(r"(?:^|[_.-])tests?(?:$|[_.-])|testcode|^testing$|^unit_?tests?$", re.IGNORECASE)


def is_data_script(rel: str) -> bool:
    """Scripts that generate or prepare data: their seed fixes the data, which is what every method shares."""
    return bool(_DATA_SCRIPT.match(rel.rsplit("/", 1)[-1].lower()))


def in_test_code(rel: str) -> bool:
    """Test code of any naming: `tests/`, `unit_test/`, `Model_TestCode/`, `test-data/` folders."""
    return any(_TEST_FOLDER.search(part) for part in rel.split("/")[:-1])


@dataclass
class Use:
    """A fixed seed that reaches a seeding API in file `rel`."""

    rel: str
    loc: Loc
    value: int
    api: str
    scope: str
    via: list[Related] = field(default_factory=list)


@dataclass
class OptionFinding:
    rel: str
    option: SeedOption
    seeds_here: Loc | None  # where the option seeds the run of the entry point that defines it
    default_at: Loc | None = None  # an option without a default: where the code fills one in


@dataclass
class ConfigFinding:
    key: str
    value: int
    loc: Loc
    others: list[tuple[Loc, int]]  # the other configs of the family


@dataclass
class SeedAnalysis:
    uses: list[Use]  # fixed literal seeds of training runs that nothing sweeps
    groups: list[list[Use]]  # the same, one list per finding (a run's seeds in one file), first first
    options: list[OptionFinding]
    configs: list[ConfigFinding]
    any_sweep: bool  # the project shows a sweep somewhere (that does not run these)
    # per file, its seed options that seed nothing anywhere (`--seed` parsed, a literal seeds instead)
    idle: dict[str, list[SeedOption]] = field(default_factory=dict)


def analyse(project: Project) -> SeedAnalysis:
    return project.shared("seed", _analyse)


@dataclass
class _Sweeps:
    nodes: set[str] = field(default_factory=set)  # code that a sweep runs
    units: set[str] = field(default_factory=set)  # units whose evidence could not be bound

    def covers(self, project: Project, rel: str, node: str) -> bool:
        return node in self.nodes or any(project.covers(u, rel) for u in self.units)


def _analyse(project: Project) -> SeedAnalysis:
    facts: dict[str, SeedFacts] = {r.rel: f for r, f in project.facts("seed")}
    signatures = {name: sig for f in facts.values() for name, sig in f.signatures.items()}

    def target(rel: str, callee: str) -> str | None:
        return qualify(project, rel, callee)

    helpers = seeding_helpers(facts, signatures, target)
    uses: list[Use] = []
    option_uses: list[tuple[str, str, Loc, str]] = []  # (rel, option, where it seeds, scope)
    python_sweeps: list[tuple[str, str]] = []  # (rel, scope)
    for rel, f in facts.items():
        for site in f.sites:
            uses.append(Use(rel, site.loc, site.value, site.api, site.scope))
        option_uses.extend((rel, name, loc, scope) for name, loc, scope in f.option_uses)
        python_sweeps.extend((rel, scope) for _, _, scope in f.sweeps)
        calls = helper_calls(rel, f, helpers, signatures, target)
        for call, value, api, chain in calls.literals:
            uses.append(Use(rel, call.loc, value, api, call.scope, chain))
        option_uses.extend((rel, name, call.loc, call.scope) for call, name in calls.options)
        python_sweeps.extend((rel, call.scope) for call, _ in calls.sweeps)
    python_sweeps += _repetitions(project, facts)
    any_sweep = bool(python_sweeps or any(aux.sweeps for aux in project.aux_facts("seed").values()))
    if not (uses or any(f.options or f.config.values for f in facts.values()) or any(aux.seeds for aux in project.aux_facts("seed").values())):
        return SeedAnalysis([], [], [], [], any_sweep)  # nothing fixed: no call graph needed
    graph = CallGraph(project, facts)
    option_nodes = {node_of(rel, scope) for rel, _, _, scope in option_uses}
    option_nodes |= {node_of(rel, scope) for rel, f in facts.items() for scope in f.cli_dests.values()}
    swept = _bind_sweeps(project, graph, facts, python_sweeps, option_nodes)

    def keep(rel: str, scope: str) -> bool:
        node = node_of(rel, scope)
        if in_test_code(rel) or is_data_script(rel) or swept.covers(project, rel, node):
            return False
        return graph.trains(node) is not False  # undecided (no entry point reaches it): kept, as before

    kept = [use for use in uses if keep(use.rel, use.scope)]
    kept += _config_objects(project, graph, facts, option_uses, keep)
    launched = _launch_seeds(project, graph, option_uses, keep)
    kept += [use for use, _ in launched]
    options = [o for o in _options(project, graph, facts, option_uses, keep)
               if not any(script == o.rel and key == spelling(o.option.dest) for _, (script, key) in launched)]
    configs = _configs(project, graph, facts, option_uses, keep, swept)
    used = {spelling(name) for _, name, _, _ in option_uses}

    def read(rel: str) -> set[str]:
        """Seed attributes read by the module or by the project modules it imports (`args` handed on)."""
        found = set(facts[rel].seed_reads)
        for name in facts[rel].imports:
            hit = graph.target(rel, name)
            if hit is not None and graph.file_of.get(hit) in facts:
                found |= facts[graph.file_of[hit]].seed_reads
        return found

    idle = {rel: [o for o in facts[rel].options if not o.field and spelling(o.dest) not in used | read(rel)]
            for rel in {use.rel for use in kept} if rel in facts and facts[rel].options}
    return SeedAnalysis(kept, _group(kept, graph), options, configs, any_sweep,
                        {rel: found for rel, found in idle.items() if found})


def config_model(project: Project, facts: dict[str, SeedFacts]) -> ConfigModel:
    """The config model over SEED's facts (seed keys), built once per analysis."""
    return project.shared("seed-configs", lambda p: ConfigModel({rel: f.config for rel, f in facts.items()},
                                                                 p.root, p.files))


def _config_objects(project, graph, facts, option_uses, keep) -> list[Use]:
    """Seeds read from a config object (`hparams.seed`, `cfg.SEED`, `cfg.get("seed", 1337)`) that a
    Python config of the run fixes (`HParams(seed=1234)`, yacs `_C.SEED = 0`) or that only the code's
    default sets (`cfg.get("seed", 1337)`, `if seed is None: seed = 0`): one finding at the seeding call of
    each run, the config lines related; the values come from the config model (core/config_model.py). Not
    when a command-line option or a config-class field of that name exists in the unit (SEED002 speaks for
    those), nor when a config file of the project sets the key (the config finding does)."""
    model = config_model(project, facts)
    if not any(f.config.values for rel, f in facts.items() if not in_test_code(rel)):
        return []
    file_keys = [(crel, spelling(key)) for crel, aux in project.aux_facts("seed").items() for _, _, key, _ in aux.seeds]
    found: list[Use] = []
    for rel, name, loc, scope in option_uses:
        key = spelling(name)
        if not keep(rel, scope):
            continue
        unit = project.unit_of(rel)
        if any(
            project.unit_of(r) == unit and (key in {spelling(d) for d in g.cli_dests}
                                            or any(spelling(o.dest) == key for o in g.options))
            for r, g in facts.items()
        ):
            continue
        node = node_of(rel, scope)
        run = graph.run_of(node)
        set_in_files = any(k == key and (project.covers(unit, f) or project.covers(project.unit_of(f), rel))
                           for f, k in file_keys)

        def where(crel: str, cscope: str) -> bool:
            return not in_test_code(crel) and (node_of(crel, cscope) in run or f"{crel}:<module>" in run
                                                or crel == rel and cscope == scope)

        here = []
        for definition in model.resolve(name, where):
            value = definition.value
            code_default = value.kind in (FALLBACK, DEFAULT)
            if code_default:  # the code's own default where it reads the seed: only when no config sets it
                if definition.rel == rel and value.scope == scope and not set_in_files:
                    here.append((definition.rel, value.loc, value.path, value.value, True))
            elif node_of(definition.rel, value.scope) in run or f"{definition.rel}:<module>" in run:
                here.append((definition.rel, value.loc, value.path, value.value, False))
        if not here:
            continue
        here.sort(key=lambda item: (item[4], item[0] != rel, item[0], item[1].line))
        crel, cloc, ckey, value, fallback = here[0]
        if fallback:
            api = f"the code's default for `{name}` (no config sets it)"
            via = [] if cloc.line == loc.line and crel == rel else [Related(cloc, f"`{name}` defaults to {value} here")]
        else:
            api = f"the config value `{name}` ({os.path.basename(crel)})"
            via = [Related(c[1], f"`{c[2].rsplit('.', 1)[-1]}` fixed to {c[3]} here") for c in here if not c[4]]
        found.append(Use(rel, loc, value, api, scope, via))
    # one finding per run: a run that reads the same config seed in several places (the training function
    # and a dataset's shuffle) is reported once, where it trains
    found.sort(key=lambda u: (node_of(u.rel, u.scope) not in graph.trainers, u.rel, u.loc.line))
    chosen: list[tuple[Use, frozenset[str]]] = []
    for use in found:
        entries = graph.entries(node_of(use.rel, use.scope))
        if any(use.value == other.value and use.via[:1] == other.via[:1] and entries & seen for other, seen in chosen):
            continue
        chosen.append((use, entries))
    return [use for use, _ in chosen]


def _launch_seeds(project, graph, option_uses, keep) -> list[tuple[Use, tuple[str, str]]]:
    """A launcher (shell script, Makefile) that runs a training script with one literal seed (`--seed 0`) and
    never another fixes the run's seed as a literal does: reported at the launcher line, the seeding call
    related; the script's option default is then not what the run uses (its SEED002 goes)."""
    found = []
    for rel, aux in sorted(project.aux_facts("seed").items()):
        if not aux.launch_seeds or in_test_code(rel):
            continue
        line, column, flag, value = aux.launch_seeds[0]
        key = spelling(flag)
        for script in _launched(project, rel, aux.launches):
            run = graph.run_of(f"{script}:<main>")
            seeding = [(r, loc, scope) for r, name, loc, scope in option_uses
                       if spelling(name) == key and node_of(r, scope) in run]
            if not seeding or not any(keep(r, scope) for r, _, scope in seeding):
                continue
            r, loc, scope = sorted(seeding, key=lambda s: (s[0] != script, s[0], s[1].line))[0]
            where = Loc(line, column, line, column + len(flag), aux.display)
            use = Use(rel, where, value, f"`{flag} {value}` in {os.path.basename(rel)}, which runs {os.path.basename(script)}",
                      "<module>", [Related(loc, f"`{flag.lstrip('-')}` seeds the run here")])
            found.append((use, (script, key)))
            break
    return found


def _group(uses: list[Use], graph: CallGraph) -> list[list[Use]]:
    """One finding per scope, and the seeds of functions that a file's import-time code or main block runs
    join that code's finding (a notebook seeded at the top and again in its training function)."""
    groups: dict[tuple[str, str], list[Use]] = defaultdict(list)
    for use in sorted(uses, key=lambda u: (u.rel, not u.scope.startswith("<"), _position(u))):
        key = (use.rel, use.scope)
        if not use.scope.startswith("<"):
            node = node_of(use.rel, use.scope)
            for top in ("<module>", "<main>"):
                if (use.rel, top) in groups and node in graph.forward(node_of(use.rel, top)):
                    key = (use.rel, top)
                    break
        groups[key].append(use)
    return _join_imported(groups, graph)


def _join_imported(groups: dict[tuple[str, str], list[Use]], graph: CallGraph) -> list[list[Use]]:
    """One finding per run: the import-time seeds of modules that a script imports (`np.random.seed(0)` at the
    top of an augmentation module, `torch.manual_seed(0)` at the top of the trainer's module) join one finding:
    that of the script itself when it seeds, else that of the module that trains, else the first."""
    runs: dict[frozenset[str], list[tuple[str, str]]] = defaultdict(list)
    for rel, scope in groups:
        if scope != "<module>":
            continue
        top = _top_files(graph, node_of(rel, scope))
        if top and rel not in top:  # imported by the scripts in `top`, not one of them
            runs[frozenset(top)].append((rel, scope))
    joined: dict[tuple[str, str], tuple[str, str]] = {}
    for top, keys in runs.items():
        own = [k for k in groups if k[0] in top]
        if len(keys) + len(own) < 2 or len(top) != 1:
            continue
        keys.sort(key=lambda k: (k[0] not in graph.training_files, k[0]))
        head = sorted(own)[0] if own else keys[0]
        for key in keys:
            if key != head:
                joined[key] = head
    found = {key: sorted(group, key=_position) for key, group in groups.items() if key not in joined}
    for key, head in sorted(joined.items()):
        found[head] += sorted(groups[key], key=_position)  # after the head's own seeds, file by file
    return list(found.values())


def _top_files(graph: CallGraph, node: str) -> set[str]:
    """The files of the scripts whose runs reach `node`: its entry points that no other file's entry reaches."""
    entries = graph.entries(node)
    files = {graph.file_of.get(e, e.rsplit(":", 1)[0]) for e in entries}
    reached = {f for f in files for e in entries
               if graph.file_of.get(e, e.rsplit(":", 1)[0]) != f and f"{f}:<module>" in graph.forward(e)}
    return files - reached


def _position(use: Use) -> tuple[int, int, int]:
    return use.loc.cell or 0, use.loc.line, use.loc.column


def _bind_sweeps(project: Project, graph: CallGraph, facts: dict[str, SeedFacts],
                 python_sweeps: list[tuple[str, str]], option_nodes: set[str]) -> _Sweeps:
    swept = _Sweeps()
    launching = {node_of(rel, scope): (rel, scripts) for rel, f in facts.items() for scope, scripts in f.launches.items()}
    for rel, scope in python_sweeps:
        node = node_of(rel, scope)
        swept.nodes |= graph.run_of(node)
        for reached in graph.run_of(node) & launching.keys():  # a program that runs a script per seed
            where, scripts = launching[reached]
            for script in _launched(project, where, scripts):
                run = graph.run_of(f"{script}:<main>")
                if run & option_nodes:
                    swept.nodes |= run
    for rel, aux in project.aux_facts("seed").items():
        if not aux.sweeps:
            continue
        runs = [f"{script}:<main>" for script in _launched(project, rel, aux.launches)]
        if not runs and aux.is_config:
            runs = [n for n in _loaders(project, graph, facts, rel)]
        if not runs:
            if aux.is_config:
                continue  # a file listing seeds that no code loads (a results table) runs nothing
            swept.units.add(project.unit_of(rel))  # a script whose launches cannot be found: its unit
            continue
        for run in runs:
            reached = graph.run_of(run)
            if aux.is_config or reached & option_nodes:  # a launched script must take the seed it is given
                swept.nodes |= reached
    return swept


def _repetitions(project: Project, facts: dict[str, SeedFacts]) -> list[tuple[str, str]]:
    """Loops that build and train a fresh model on each pass (`for ii in range(args.itr)`), run at least twice: a
    sweep over draws (the seed before the loop fixes which draws, not one). The count is the literal, or the
    values the launchers of the script pass for the option (every one at least 2; a launcher that passes 1
    runs one draw), or, when none passes it, the option's default."""
    found = []
    aux = project.aux_facts("seed")
    for rel, f in facts.items():
        for _, scope, count, option in f.repeats:
            passed = []
            if option:
                key = option.replace("-", "_").lower()
                passed = [v for arel, a in aux.items() if key in a.counts and _launches(project, arel, a.launches, rel)
                          for v in a.counts[key]]
            if (min(passed) if passed else count) >= 2:
                found.append((rel, scope))
    return found


def _launches(project: Project, rel: str, scripts: list[str], script: str) -> bool:
    """Does the shell file `rel` run `script`: as `_launched` finds it, or from a folder above its own (`sh
    scripts/run_all.sh` started in the project folder that holds `run.py`)?"""
    if script in _launched(project, rel, scripts):
        return True
    folder = os.path.dirname(os.path.dirname(rel))
    return any(os.path.normpath(os.path.join(folder, s)) == script for s in scripts if not s.startswith("-m "))


def _launched(project: Project, rel: str, scripts: list[str]) -> list[str]:
    """Project files for the scripts a shell file launches (relative to it, to the root, or by suffix)."""
    found = []
    folder = os.path.dirname(rel)
    for script in scripts:
        if script.startswith("-m "):
            hit = project.resolve(rel, script[3:])  # run from the launcher's folder or one above it
            if hit is not None and not hit[1]:
                found.append(hit[0])
            continue
        for candidate in (os.path.normpath(os.path.join(folder, script)), os.path.normpath(script)):
            if candidate in project.files:
                found.append(candidate)
                break
        else:
            tail = "/" + script.lstrip("./")
            matches = [r for r in project.files if ("/" + r).endswith(tail)]
            if len(matches) == 1:
                found.append(matches[0])
    return found


def _loaders(project: Project, graph: CallGraph, facts: dict[str, SeedFacts], config: str) -> list[str]:
    """The nodes that name a config file or its folder (Hydra `config_path`): the config model's loaders."""
    return [node_of(rel, scope) for rel, scope in config_model(project, facts).loaders(config)]


_NUMBER = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple)"
_COUNT = r"(?:[2-9]|[1-9]\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple)"
_PROSE_SWEEP = re.compile(
    r"(?:mean|average[sd]?|median|avg)\b[^.\n|]{0,40}?\b(?:over|of|across|from)\s+" + _NUMBER
    + r"\s+(?:[\w-]+\s+)?(?:runs|seeds|trials|repetitions|repeats|experiments)\b"
    + r"|(?:±|\+/-|\+-)\s*(?:std|standard deviation|s\.?d\.?)\b[^.\n|]{0,40}?\b(?:seeds|runs)\b"
    + r"|(?:std|standard deviation)\s+(?:over|across|of)\s+" + _NUMBER + r"\s+(?:[\w-]+\s+)?(?:runs|seeds)\b"
    + r"|\b" + _NUMBER + r"\s+(?:random\s+|different\s+|independent\s+)?(?:seeds|runs)\b[^.\n|]{0,30}?\b(?:averaged|mean|median)\b"
    # "4 trials with different random seeds ... mean and std": runs stated with different seeds, and their
    # aggregate reported in the same sentence (without one, the runs may be anything: a search, the paper's)
    + r"|\b" + _NUMBER + r"\s+(?:[\w-]+\s+)?(?:trials|runs|repetitions|experiments)\s+(?:with|using|over|on)\s+"
    r"(?:\w+\s+)?(?:different|distinct|independent|random)\s+(?:random\s+)?seeds\b[^.\n]{0,80}?"
    r"(?:\b(?:mean|average[sd]?|std|standard deviation|median)\b|±)"
    # "the five replicates", "repeated 5 times": a count of replicates (a count of seeds or runs alone may be a
    # search or the paper's: "3 seeds were tried")
    + r"|\b" + _COUNT + r"\s+(?:independent\s+|random\s+)?(?:replicates|replications)\b"
    + r"|\brepeated\s+" + _COUNT + r"\s+times\b"
    # "seeds 0, 1 and 2", "random seeds used ... is 2-5 and 123", "seeds: [1, 2, 3]": two or more seed values
    + r"|\bseeds\b[^.\n|]{0,40}?[\[(]?\b\d+\s*(?:,|-|\band\b)\s*\d+",
    re.IGNORECASE,
)
# Prose that documents the project's scripts: READMEs, results pages and any Markdown/reST page beside them
# (`FINETUNE.md`, `docs/TRAINING.md`).
_README = re.compile(r"^(?:readme|results?)(?:\.\w+)?$|\.(?:md|markdown|rst)$", re.IGNORECASE)


def prose_sweeps(text: str) -> list[int]:
    """Lines of a README or results page that state a sweep over seeds ("mean of 5 runs", "averaged
    over 3 seeds", "± std over seeds", "median of 3 runs", "4 trials with different random seeds"). A bare `±`
    in a result table is not enough: it may be a deviation over folds, a confidence interval over the test set.
    Commands shown on the page count as a launcher's would (`python train.py -m seed=1,2,3`, a shell loop over
    seeds, several `--seed N` values)."""
    from .sweeps import scan_shell

    lines = [text.count("\n", 0, m.start()) + 1 for m in _PROSE_SWEEP.finditer(text)]
    return sorted({*lines, *(line for line, _ in scan_shell(text))})


def _stated_sweep(project: Project, rel: str, cache: dict[str, list[tuple[str, str]]]) -> bool:
    """Does a README or documentation page (in the script's folder or above, or their `docs/` folders)
    state a sweep, and name the script?"""
    script = os.path.basename(rel)
    folder = os.path.dirname(rel)
    while True:
        if folder not in cache:
            cache[folder] = []
            absolute = os.path.join(project.root, folder)
            try:
                names = sorted(os.listdir(absolute))
            except OSError:
                names = []
            if "docs" in names and os.path.isdir(os.path.join(absolute, "docs")):
                try:
                    names += sorted(os.path.join("docs", n) for n in os.listdir(os.path.join(absolute, "docs")))
                except OSError:
                    pass
            for name in names:
                if _README.search(os.path.basename(name)) and os.path.isfile(os.path.join(absolute, name)):
                    try:
                        with open(os.path.join(absolute, name), encoding="utf-8", errors="replace") as handle:
                            text = handle.read(1_000_000)
                    except OSError:
                        continue
                    if prose_sweeps(text):
                        cache[folder].append((name, text))
        if any(re.search(rf"(?<![\w.-]){re.escape(script)}\b", text) for _, text in cache[folder]):
            return True
        if not folder:
            return False
        folder = os.path.dirname(folder)


def _filled_in(project: Project, facts: dict[str, SeedFacts], rel: str, f: SeedFacts):
    """Options without a default that the code gives one (`if args.seed is None: args.seed = 0`, `seed =
    args.seed or 0`, in the module that defines the option): (the option with that default, where it is set)."""
    model = config_model(project, facts)
    for option in f.open_options:
        filled = model.resolve(option.dest, where=lambda r, _: r == rel, kinds=(DEFAULT,))
        if filled:
            value = filled[0].value
            yield SeedOption(option.loc, option.name, option.dest, value.value, scope=option.scope), value.loc


def _options(project, graph, facts, option_uses, keep) -> list[OptionFinding]:
    found = []
    readmes: dict[str, list[tuple[str, str]]] = {}
    for rel, f in facts.items():
        candidates = [(o, None) for o in f.options] + list(_filled_in(project, facts, rel, f))
        for option, default_at in candidates:
            if not keep(rel, option.scope):
                continue
            if _stated_sweep(project, rel, readmes):
                continue  # the README reports a mean over runs of this script: its option is varied
            unit = project.unit_of(rel)
            if option.field and any(
                spelling(option.dest) in {spelling(d) for d in g.cli_dests} for r, g in facts.items() if project.unit_of(r) == unit
            ):
                continue  # a command-line option of the same name is what reaches the seed
            node = node_of(rel, option.scope)
            run = graph.run_of(node) if graph.entries(node) else graph.run_of(f"{rel}:<main>")
            key = spelling(option.dest)
            here = [(r, loc) for r, name, loc, scope in option_uses if spelling(name) == key and node_of(r, scope) in run]
            if here:
                here.sort(key=lambda item: (item[0] != rel, item[0], item[1].line))
                found.append(OptionFinding(rel, option, here[0][1], default_at))
            elif any(spelling(name) == key and project.covers(unit, r) for r, name, _, _ in option_uses):
                found.append(OptionFinding(rel, option, None, default_at))  # seeds in the unit; the link is not resolved
    return found


def _configs(project, graph, facts, option_uses, keep, swept) -> list[ConfigFinding]:
    """A seed fixed in the configs that training code reads: one finding per folder and key."""
    families: dict[tuple[str, str], list[tuple[str, Loc, int]]] = defaultdict(list)
    readmes: dict[str, list[tuple[str, str]]] = {}
    for rel, aux in project.aux_facts("seed").items():
        if not aux.seeds or in_test_code(rel):
            continue
        loaders = _loaders(project, graph, facts, rel)
        runs = set().union(*(graph.run_of(n) for n in loaders)) if loaders else None
        unit = project.unit_of(rel)
        for line, column, key, value in aux.seeds:
            lowered = spelling(key)
            readers = [
                (r, scope) for r, name, _, scope in option_uses
                if spelling(name) == lowered and (
                    node_of(r, scope) in runs if runs is not None
                    else project.covers(unit, r) or project.covers(project.unit_of(r), rel)
                )
            ]
            if not any(keep(r, scope) for r, scope in readers) or any(project.covers(u, rel) for u in swept.units):
                continue
            if any(_stated_sweep(project, r, readmes) for r in {r for r, _ in readers}):
                continue  # a page of the project runs (or reports) the reading script over several seeds
            loc = Loc(line, column, line, column + len(key), aux.display)
            families[(os.path.dirname(rel), key)].append((rel, loc, value))
    found = []
    for (_, key), items in sorted(families.items()):
        items.sort(key=lambda item: item[0])
        (_, loc, value), others = items[0], items[1:]
        found.append(ConfigFinding(key, value, loc, [(o[1], o[2]) for o in others]))
    return found
