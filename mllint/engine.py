"""The pipeline: discover -> parse -> extract facts and run per-file rules (in parallel) ->
project rules -> selection and suppression -> sorted findings. Reporters print the result."""
from __future__ import annotations

import dataclasses
import fnmatch
import gc
import hashlib
import importlib.util
import os
import sys
import types
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator


class _LazyLibcst(types.ModuleType):
    """Stands in for libcst until an attribute is used. libcst's imports cost 0.2 s; a warm,
    cached run never parses, so it never pays for them. (importlib's LazyLoader does not help:
    the `import` statement itself reads `__spec__` and so triggers the load.)"""

    def __getattr__(self, name: str):
        if sys.modules.get("libcst") is self:
            del sys.modules["libcst"]
        real = importlib.import_module("libcst")
        self.__dict__.update(real.__dict__)  # later look-ups through this stand-in are plain hits
        return getattr(real, name)


def _defer_libcst() -> None:
    spec = None if "libcst" in sys.modules else importlib.util.find_spec("libcst")
    if spec is not None:
        stand_in = _LazyLibcst("libcst")
        stand_in.__spec__ = spec  # `import libcst` checks spec._initializing: no load for that
        sys.modules["libcst"] = stand_in


_defer_libcst()
from . import discovery, workers
from .cache import Cache, code_fingerprint, content_hash, names_digest, relocate
from .config import Config
from .core.paths import is_test_path
from .findings import Finding, Loc
from .settings import Settings  # noqa: F401 - re-exported for callers of run()
from .project import FileResult, Project, Stored, reading
from .results import RunResult  # noqa: F401 - re-exported: reporters and older callers import it from here
from .rules import AUX_EXTRACTORS, all_rules, is_reported, is_selected
from .rules.base import Rule
from .suppress import Suppression, unused as unused_suppressions


def _diagnostic(code: str, message: str, loc: Loc) -> Finding:
    return all_rules()[code].finding(loc, message)


def display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        rel = path
    return rel.replace(os.sep, "/")


def analyze_all(items: list[tuple[str, str, str]], settings: Settings, jobs: int) -> list[FileResult]:
    """Analyse files, in a process pool when it pays; a file that kills its worker is reported, not fatal."""
    return [result for result, _ in workers.analyze_many(items, settings, jobs)]


# The cache keeps a few versions of every file (branches, reverted edits) and drops the least recently used.
CACHE_MIN_ENTRIES = 2000
CACHE_ENTRIES_PER_FILE = 4


def open_cache(root: str, settings: Settings, cache_dir: str | None = None, fingerprint: str | None = None) -> Cache:
    """The cache for one project root (default folder: ROOT/.mllint_cache). fingerprint: mllint's
    `code_fingerprint()`, when the caller has it (a run reads it once: it stats every module of mllint)."""
    per_file = dataclasses.replace(settings, project_modules=frozenset())  # see cache.py: probed, not keyed
    return Cache(cache_dir or os.path.join(root, ".mllint_cache"), f"{fingerprint or code_fingerprint()}\0{per_file!r}")


def analyze_cached(
    items: list[tuple[str, str, str]], settings: Settings, jobs: int, cache: Cache | None,
    warm: workers.WarmPool | None = None, keys_out: dict[str, str | None] | None = None, lazy: bool = False,
    waiting: "Callable[[list[str]], None] | None" = None,
) -> list[FileResult]:
    """Like analyze_all, but results whose file, settings and module-name answers are unchanged come from the cache.
    keys_out, if given, receives each file's cache key by relative path (None: not cacheable). With lazy, a result
    from the cache is a `Stored` (unpickled when a project rule first reads the project's files, see Project).
    waiting, if given, is called with the relative paths of the files the warm pool's workers analyse, once the
    cache is read and before their results are awaited (the parent is otherwise idle then)."""
    if cache is None:
        with _no_cyclic_gc():
            return [result for result, _ in workers.analyze_many(items, settings, jobs, warm=warm)]
    digest = names_digest(settings.project_modules)
    results: list[FileResult | None] = [None] * len(items)
    keys: list[str | None] = [None] * len(items)
    todo: list[int] = []
    for index, (path, _, rel) in enumerate(items):
        content = content_hash(path, settings.max_file_size)
        keys[index] = cache.key(rel, content) if content is not None else None
    if keys_out is not None:
        keys_out.update((rel, keys[index]) for index, (_, _, rel) in enumerate(items))
    absent = [index for index, key in enumerate(keys) if key is None or not cache.has(key)]
    stored: set[int] = set()

    def store(index: int, outcome: workers.Outcome) -> None:  # written while later chunks are analysed
        result, probes = outcome
        results[index] = result
        stored.add(index)
        key = keys[index]
        if key is not None and probes is not None:
            cache.put(key, result, probes, digest)

    finish = None
    if warm is not None and absent:  # the files not in the cache go to the workers now (libcst may still be
        # loading there), and are analysed while the cache is read
        warm.start(len(absent))
        finish = workers.start_many([items[i] for i in absent], settings, jobs, warm=warm,
                                    arrived=lambda position, outcome: store(absent[position], outcome))
    pending = set(absent) if finish is not None else set()
    with _no_cyclic_gc(freeze=True):  # unpickling a project's facts allocates millions of objects: GC passes made it 7x slower
        for index, (path, display, rel) in enumerate(items):
            if index in pending:
                continue
            if keys[index] is not None:
                entry = cache.entry(keys[index], settings.project_modules, digest)
                if entry is not None:
                    results[index] = _stored(entry, items[index], settings) if lazy else _relocated(entry.result, display)
                    continue
            todo.append(index)
    if todo or pending:  # only runs that write entries can grow the cache: pruned now (while the workers analyse),
        # leaving room for the entries this run is about to write
        cache.prune(keep=max(CACHE_MIN_ENTRIES, CACHE_ENTRIES_PER_FILE * len(items)) - len(todo) - len(pending) - 2)
        # (and the run's kept result and project rules' findings, see _ProjectMemo)
    with _no_cyclic_gc():  # the same holds for results unpickled from the workers
        if finish is not None:
            if waiting is not None:
                waiting([items[i][2] for i in absent])
            for position, outcome in enumerate(finish()):
                if absent[position] not in stored:
                    store(absent[position], outcome)
        outcomes = workers.analyze_many([items[i] for i in todo], settings, jobs, warm=warm,
                                        arrived=lambda position, outcome: store(todo[position], outcome))
        for position, outcome in enumerate(outcomes):
            if todo[position] not in stored:
                store(todo[position], outcome)
    return results  # type: ignore[return-value]


def _relocated(result: FileResult, display: str) -> FileResult:
    relocate(result, display)
    return result


def _stored(entry: Any, item: tuple[str, str, str], settings: Settings) -> Any:
    """A cache hit whose result is unpickled when read: an entry that cannot be (it passed its checks, so this
    is not expected) is analysed again instead."""
    def load() -> FileResult:
        try:
            result = entry.result
        except Exception:  # noqa: BLE001
            return workers.analyze_many([item], settings, 1)[0][0]
        return _relocated(result, item[1])

    return Stored(load, entry.codes)


@contextmanager
def _no_cyclic_gc(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees memory). With freeze, move
    what survived to the permanent generation, so later collections do not walk it again (only for
    phases that make no garbage cycles, such as reading the cache: frozen garbage is never freed)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def _project_modules(root: str, sources: Iterable[str]) -> frozenset[str]:
    names: set[str] = set()
    for path in sources:
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        for part in rel.split("/"):
            names.add(part.rsplit(".", 1)[0] if part.endswith((".py", ".ipynb")) else part)
    names.discard("__init__")
    return frozenset(names)


def run(
    paths: list[str], config: Config, select: list[str], ignore: list[str], jobs: int = 1,
    cache_dir: str | None = None, use_cache: bool = False, substitutes: dict[str, str] | None = None,
    restrict: Iterable[str] | None = None,
) -> RunResult:
    """Lint paths. With use_cache, per-file results are kept in cache_dir (default ROOT/.mllint_cache).
    substitutes maps a linted file's absolute path to the file its text is read from (stdin: `-` with
    --stdin-filename PATH is analysed as PATH, in PATH's project, whether or not PATH exists).
    restrict limits the project analysed to those files (the probe: a script and the modules it imports)."""
    only = {os.path.abspath(p) for p in restrict} if restrict is not None else None
    substitutes = substitutes or {}
    rules = all_rules()
    chosen = [code for code in rules if is_selected(code, select, ignore)]
    extractors = tuple(sorted({need for code in chosen for need in rules[code].needs}))
    excludes = [*config.exclude, *config.extend_exclude]
    outcome = RunResult()
    findings: list[Finding] = []
    suppressions: dict[str, list[Suppression]] = {}
    tests: dict[str, bool] = {}  # display path -> is the analysed file a unit test (decided from its text)

    single_folder = os.path.abspath(paths[0]) if len(paths) == 1 and os.path.isdir(paths[0]) else None
    wanted = discovery.discover([p for p in paths if os.path.abspath(p) not in substitutes], excludes,
                                config.respect_gitignore, with_aux=single_folder is not None)
    wanted.sources = sorted({*wanted.sources, *substitutes})
    report_set = set(wanted.sources)
    for path, message, hint in wanted.problems:
        finding = _diagnostic("FILE007", message, Loc(1, 1, 1, 1, display_path(path)))
        finding.hint = hint or finding.hint
        findings.append(finding)

    by_root: dict[str, list[str]] = {}
    for path in wanted.sources:
        given_dir = next((os.path.abspath(p) for p in paths if os.path.isdir(p) and _inside(path, p)), None)
        root = given_dir or discovery.find_root(path)  # a folder is its own project; a file brings its project
        by_root.setdefault(root, []).append(path)

    # With a cache, most runs parse a few files or none: workers start only when one is needed, and
    # then at once (see analyze_cached).
    warm = workers.WarmPool(jobs) if use_cache and jobs > 1 and by_root else None
    fingerprint = code_fingerprint() if use_cache and by_root else None
    try:
        if warm is not None:
            _start_for_changed_files(warm, paths, report_set, config, chosen, extractors, cache_dir, fingerprint)
        for root, targets in by_root.items():
            if root == single_folder:  # `mllint DIR`: the project is what was just discovered
                context = wanted
            else:
                context = discovery.discover([root], excludes, config.respect_gitignore, with_aux=True)
            # the whole project, tests included, whatever was given: `mllint FILE` reports for FILE
            # exactly what `mllint DIR` reports for it, and both runs share cached project results
            sources = set(targets) | set(context.sources)
            if only is not None:
                sources &= only | set(targets)
            settings = Settings(
                config.max_file_size, config.family_options(), _project_modules(root, sources),
                tuple(chosen), extractors,
            )
            items = [(substitutes.get(p, p), display_path(p), _rel(p, root)) for p in sorted(sources)]
            cache = open_cache(root, settings, cache_dir, fingerprint) if use_cache else None
            replay = _replay_key(cache, root, context, sources, report_set) if not substitutes and only is None \
                else None
            kept = cache.load_value(replay, root) if replay is not None else None
            if kept is not None:  # nothing the run reads changed since the run that kept it: its findings stand
                kept_findings, kept_suppressions, linted, kept_tests = kept
                tests.update(kept_tests)
                findings.extend(kept_findings)
                suppressions.update(kept_suppressions)
                outcome.files += len(linted)
                outcome.scanned.extend(linted)
                continue
            keys: dict[str, str | None] = {}
            memo_wanted = cache is not None and not substitutes and only is None
            kept_memo = _ProjectMemo.kept_value(cache, root) if memo_wanted else None
            previous: dict[str, Any] = {}  # rel -> the entry the kept run read (see _ProjectMemo.preread)
            results = analyze_cached(items, settings, jobs, cache, warm, keys, lazy=True,
                                     waiting=lambda rels: _ProjectMemo.preread(cache, kept_memo, rels, previous))
            project = Project(root, {rel: result for (_, _, rel), result in zip(items, results)},
                              lambda root=root, aux=context.aux: _aux_facts(root, aux, extractors), cache,
                              config.family_options())
            memo = _ProjectMemo.load(cache, root, context, keys, project, kept_memo, previous) if memo_wanted else None
            linted_rels = [rel for _, _, rel in items if _abs_rel(rel, root) in report_set]
            linted_results = [project.result(rel) for rel in linted_rels]  # the other files' are read when needed
            linted = {r.display for r in linted_results}
            root_tests = {r.display: r.is_test for r in linted_results}
            tests.update(root_tests)
            reported = linted | {display_path(p) for p in wanted.aux}  # findings in configs (a seed fixed in YAML)
            root_findings: list[Finding] = []
            root_suppressions: dict[str, list[Suppression]] = {}
            for result in linted_results:  # (a result's display is its item's: no other result is reported)
                root_findings.extend(result.findings)
                root_suppressions[result.display] = result.suppressions
            complete = True
            for code in chosen:
                project_findings = memo.findings(rules[code]) if memo is not None else None
                if project_findings is None:
                    with reading() as reads:
                        project_findings = _check_project(rules[code], project)
                    if memo is not None and project_findings is not None:
                        memo.ran(rules[code], reads, project_findings)
                complete = complete and project_findings is not None
                root_findings.extend(f for f in project_findings or () if f.loc.path in reported)
            if memo is not None and not any(code in _TRANSIENT for _, _, rel in items for code in project.codes(rel)):
                memo.save()
            if replay is not None and complete and not any(f.code in _TRANSIENT for f in root_findings):
                cache.save_value(replay, root, (root_findings, root_suppressions, sorted(linted), root_tests))
            findings.extend(root_findings)
            suppressions.update(root_suppressions)
            outcome.files += len(linted)  # Python files and notebooks: the configs read as evidence are not "linted"
            outcome.scanned.extend(linted)  # (`--show-files` lists the same files)
    except BaseException:  # Ctrl-C: workers still loading or analysing are killed, not waited for
        if warm is not None:
            warm.kill()
        raise
    finally:
        if warm is not None:
            warm.close()
        workers.discard_early()

    outcome.scanned.sort()
    outcome.sources = {display_path(p): real for p, real in substitutes.items()}
    return _select_and_suppress(findings, suppressions, rules, config, select, ignore, outcome, tests)


def _start_for_changed_files(
    warm: workers.WarmPool, paths: list[str], report_set: set[str], config: Config, chosen: list[str],
    extractors: tuple[str, ...], cache_dir: str | None, fingerprint: str | None = None,
) -> None:
    """`mllint FILE...` (pre-commit): the files given are the ones likely changed. If some are not in the
    cache, start their workers now, so that libcst loads while the rest of the project is discovered,
    hashed and read from the cache (the per-file cache key does not depend on the other files)."""
    settings = Settings(config.max_file_size, config.family_options(), frozenset(), tuple(chosen), extractors)
    caches: dict[str, Cache] = {}
    missing = 0
    for path in map(os.path.abspath, paths):
        if path not in report_set:
            continue  # a folder, or a file that discovery excluded
        root = discovery.find_root(path)
        cache = caches.get(root) or caches.setdefault(root, open_cache(root, settings, cache_dir, fingerprint))
        content = content_hash(path, config.max_file_size)
        if content is None or not cache.has(cache.key(_rel(path, root), content)):
            missing += 1
    if missing:
        warm.start(missing)
    else:
        workers.discard_early()  # every file given is in the cache: the workers started for them are not needed


def _select_and_suppress(
    findings: list[Finding], suppressions: dict[str, list[Suppression]], rules: dict[str, type[Rule]],
    config: Config, select: list[str], ignore: list[str], outcome: RunResult, tests: dict[str, bool],
) -> RunResult:
    """Drop what unit tests, selection and per-file ignores exclude; mark suppressed findings; sort. tests says of
    each analysed file whether it is a unit test; a finding elsewhere (a config file) is judged by its path."""
    def in_test(display: str) -> bool:
        found = tests.get(display)
        return is_test_path(display) if found is None else found

    kept: list[Finding] = []
    for finding in findings:
        rule = rules.get(finding.code)
        if rule is not None and not rule.in_tests and in_test(finding.loc.path):
            continue
        if not is_reported(finding.code, select, ignore) or _per_file_ignored(finding, config):
            continue
        kept.append(finding)
    for display, sups in suppressions.items():
        for sup in sups:
            if not sup.reason and is_selected("FILE010", select, ignore):
                what = ", ".join(sup.codes) if sup.codes else "all codes"
                loc = Loc(sup.line, sup.column, sup.line, sup.column, display, sup.cell)
                kept.append(_diagnostic("FILE010", f"suppression of {what} gives no reason", loc))
    used: set[int] = set()
    for finding in kept:
        sup = _suppression_for(finding, suppressions.get(finding.loc.path, ()))
        if sup is not None and finding.code != "FILE010":
            finding.suppressed = sup.reason  # "" when the comment gives none (FILE010 reports that)
            outcome.suppressed.append(finding)
            used.add(id(sup))
        else:
            outcome.findings.append(finding)
    if is_selected("FILE011", select, ignore):
        def selected(code: str, display: str) -> bool:
            rule = rules[code]
            return is_selected(code, select, ignore) and (rule.in_tests or not in_test(display))

        for display, sup, message in unused_suppressions(suppressions, used, list(rules), selected, kept):
            if not _per_file_ignored_code("FILE011", display, config):
                loc = Loc(sup.line, sup.column, sup.line, sup.column, display, sup.cell)
                outcome.findings.append(_diagnostic("FILE011", message, loc))
    outcome.findings.sort(key=Finding.sort_key)
    outcome.suppressed.sort(key=Finding.sort_key)
    return outcome


PROJECT_RULE_TIMEOUT = float(os.environ.get("MLLINT_PROJECT_RULE_TIMEOUT", "60"))


_TRANSIENT = ("FILE008", "FILE009")  # an internal error or a time-out: a later run tries again, nothing is kept


def _replay_key(cache: Cache | None, root: str, context: discovery.Discovered, sources: set[str],
                report_set: set[str]) -> str | None:
    """The key of a run's kept result for this project: its settings and mllint's code (the cache's own key),
    the working folder (findings carry display paths), the files reported, and the size and modification time
    of every file discovery reached under the root (sources, configs, READMEs: whatever a rule may read)."""
    if cache is None:
        return None
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{os.getcwd()}\0{root}\0".encode())
    for path in sorted(sources):
        digest.update(f"s\0{path}\0{path in report_set}\0".encode())
    for path, size, mtime in sorted(context.stamps):
        digest.update(f"f\0{path}\0{size}\0{mtime}\0".encode())
    return "run:" + digest.hexdigest()


class _ProjectMemo:
    """Project rules' findings kept from the last run on this project, each with what it read: the facts of its
    extractors (and `imports`, which name resolution reads) in every file, and the files it opened or listed
    (`project.reading`). A rule whose inputs are unchanged is not run again: its kept findings stand. Files whose
    cache key (content, path, settings, mllint's code) is unchanged have unchanged facts; the facts of the changed
    files are compared with those of their previous entries, by value. The set of files, the working folder and
    every non-Python file discovery reached (configs, READMEs, launch scripts) must be unchanged as well. Only
    mllint's own rules are kept (a plugin may read anything)."""

    NAME = "project-rules"

    def __init__(self, cache: Cache, root: str, base: str, keys: dict[str, str | None], project: Project,
                 kept: dict | None, previous: dict[str, Any] | None = None) -> None:
        self.cache, self.root, self.base, self.keys, self.project = cache, root, base, keys, project
        self.kept = kept if kept is not None and kept.get("base") == base else None
        self.previous = previous or {}  # rel -> previous entry, read while the workers analysed (preread)
        self.rules: dict[str, tuple] = {}
        self._changed: list[tuple[FileResult, FileResult | None]] | None = None
        self._same: dict[str, bool] = {}

    @classmethod
    def kept_value(cls, cache: Cache, root: str) -> dict | None:
        kept = cache.load_value(cls.NAME, root)
        return kept if isinstance(kept, dict) else None

    @staticmethod
    def preread(cache: Cache, kept: dict | None, rels: list[str], into: dict[str, Any]) -> None:
        """While workers analyse changed files: read and unpickle the entries the kept run had for them, which
        `_changed_files` compares with the new results (unpickling imports the modules of the facts' classes,
        which the new results need too: ~50 ms that a pre-commit run would otherwise wait for afterwards)."""
        old_keys = kept.get("keys") if kept is not None else None
        if not isinstance(old_keys, dict):
            return
        for rel in rels:
            old = old_keys.get(rel)
            entry = cache._read(old) if old is not None else None
            if entry is None:
                continue
            try:
                entry.result  # noqa: B018 - unpickled now
            except Exception:  # noqa: BLE001 - read again (and failing) where it is compared
                continue
            into[rel] = (old, entry)

    @classmethod
    def load(cls, cache: Cache, root: str, context: discovery.Discovered, keys: dict[str, str | None],
             project: Project, kept: dict | None = None, previous: dict[str, Any] | None = None) -> "_ProjectMemo":
        digest = hashlib.blake2b(digest_size=20)
        digest.update(f"{os.getcwd()}\0{root}\0".encode())
        for rel in sorted(keys):
            digest.update(f"s\0{rel}\0".encode())
        for path, size, mtime in sorted(context.stamps):
            if not path.endswith((".py", ".ipynb")):
                digest.update(f"f\0{path}\0{size}\0{mtime}\0".encode())
        if kept is None:
            kept = cls.kept_value(cache, root)
        return cls(cache, root, digest.hexdigest(), keys, project, kept, previous)

    def _changed_files(self) -> list[tuple[FileResult, FileResult | None]]:
        """(now, before) for each file whose cache key changed since the kept run (before: None if unknown)."""
        if self._changed is None:
            self._changed = []
            old_keys = self.kept["keys"]
            for rel, key in self.keys.items():
                old = old_keys.get(rel)
                if key is not None and key == old:
                    continue
                read = self.previous.get(rel)
                entry = read[1] if read is not None and read[0] == old else \
                    self.cache._read(old) if old is not None else None
                before = getattr(entry, "result", None)
                now = self.project.result(rel)
                if before is not None:
                    relocate(before, now.display)
                self._changed.append((now, before))
        return self._changed

    def findings(self, rule: type[Rule]) -> list[Finding] | None:
        """The rule's kept findings, if nothing it read changed."""
        if self.kept is None or not rule.__module__.startswith("mllint."):
            return None
        found = self.kept["rules"].get(rule.code)
        if found is None:
            return None
        needs, stamps, findings = found
        if needs != _inputs(rule) or any(_stamp(path) != stamp for path, stamp in stamps):
            return None
        changed = self._changed_files()
        if any(before is None or (now.parsed, now.is_test) != (before.parsed, before.is_test) for now, before in changed):
            return None
        if not all(self._unchanged(name) for name in needs):
            return None
        self.rules[rule.code] = found
        return findings

    def _unchanged(self, name: str) -> bool:
        """Are the facts of extractor `name` equal in every changed file to its previous entry's? (Asked once per
        extractor: rules that need the same facts share the answer.)"""
        same = self._same.get(name)
        if same is None:
            same = self._same[name] = all(_same(now.facts.get(name), before.facts.get(name))
                                          for now, before in self._changed_files())
        return same

    def ran(self, rule: type[Rule], reads: set, findings: list[Finding]) -> None:
        if not rule.__module__.startswith("mllint."):
            return
        folder = os.path.abspath(self.cache.folder) + os.sep
        paths = sorted((p for p in reads if not (isinstance(p, str) and os.path.abspath(p).startswith(folder))),
                       key=repr)
        self.rules[rule.code] = (_inputs(rule), [(path, _stamp(path)) for path in paths], findings)

    def save(self) -> None:
        self.cache.save_value(self.NAME, self.root, {"base": self.base, "keys": self.keys, "rules": self.rules})


def _inputs(rule: type[Rule]) -> tuple[str, ...]:
    return tuple(sorted({*rule.needs, "imports"}))


def _stamp(path: Any) -> Any:
    """What a project rule read, as it stands now: a file's size and modification time, a folder's listing."""
    try:
        if isinstance(path, tuple):
            return sorted(os.listdir(path[1]))
        stat = os.stat(path)
        return (stat.st_size, stat.st_mtime_ns)
    except (OSError, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    """Equal facts, by value: containers item by item, objects without their own `__eq__` (sealed facts) by their
    attributes. Anything else is compared with `==`: a false negative only costs a rule's re-run."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(v, b[k]) for k, v in a.items())
    if hasattr(a, "same_facts"):  # sealed facts that know how to compare themselves (dataflow.FlowFile)
        return a.same_facts(b)
    if type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__"):
        return _same(vars(a), vars(b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _check_project(rule: type[Rule], project: Project) -> list[Finding] | None:
    """A project rule that fails or overruns loses its own findings (None), not the run. The recursion limit
    is the per-file analysis's, so that the outcome does not depend on where files were analysed."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    try:
        with workers.deadline(PROJECT_RULE_TIMEOUT):
            return list(rule().check_project(project))
    except workers.FileTimeout:
        reason = f"stopped after {PROJECT_RULE_TIMEOUT:g} s"
    except Exception as exc:  # noqa: BLE001 - RecursionError included
        reason = f"internal error: {type(exc).__name__}: {exc}"[:300]
    print(f"mllint: warning: rule {rule.code} failed on {project.root}: {reason}; its findings are missing. "
          "Please report it.", file=sys.stderr)
    return None


def _abs_rel(rel: str, root: str) -> str:
    return os.path.abspath(os.path.join(root, rel))


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _inside(path: str, folder: str) -> bool:
    folder = os.path.abspath(folder)
    return os.path.abspath(path) == folder or os.path.abspath(path).startswith(folder.rstrip(os.sep) + os.sep)


def _suppression_for(finding: Finding, sups: Iterable[Suppression]) -> Suppression | None:
    for sup in sups:
        if sup.cell == finding.loc.cell and finding.loc.line in sup.applies_to and sup.covers(finding.code):
            return sup
    return None


def _per_file_ignored(finding: Finding, config: Config) -> bool:
    return _per_file_ignored_code(finding.code, finding.loc.path, config)


def _per_file_ignored_code(code: str, path: str, config: Config) -> bool:
    for pattern, codes in config.per_file_ignores.items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, "*/" + pattern):
            if any(c == "ALL" or code.startswith(c) for c in codes):
                return True
    return False


def _aux_facts(root: str, aux_paths: list[str], extractors: tuple[str, ...]) -> dict[str, dict]:
    """Facts of non-Python files (shell, YAML, JSON, TOML) by extractor name, for the families whose rules need
    them (see rules.base.aux_extractor); test files are left out."""
    readers = {name: AUX_EXTRACTORS[name] for name in extractors if name in AUX_EXTRACTORS}
    facts: dict[str, dict] = {name: {} for name in readers}
    for path in aux_paths if readers else ():
        rel = _rel(path, root)
        if is_test_path(rel):
            continue
        for name, read in readers.items():
            found = read(path, rel, display_path(path))
            if found:
                facts[name][rel] = found
    return facts
