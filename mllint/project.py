"""The project index: every analysed file's facts, and name resolution across modules."""
from __future__ import annotations

import gc
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .core.paths import module_dotted_name
from .config import FamilyOptions
from .findings import Finding
from .suppress import Suppression

# A folder holding one of these is a unit of its own (one example of a monorepo, one fixture):
# evidence such as a seed sweep found in a unit covers that unit and the units nested in it.
UNIT_MARKERS = (
    "pyproject.toml", "setup.py", "setup.cfg", "mllint.toml", ".git", "requirements.txt",
    "environment.yml", "README.md", "README.rst", "README.txt", "README",
)


_READS: list[set] = []  # while a project rule runs: the files it opened and the folders it listed (see reading)
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    if not _READS:
        return
    if event == "open":
        path = args[0]
        if isinstance(path, str) and not path.endswith(".pyc"):
            _READS[-1].add(path)
    elif event in ("os.listdir", "os.scandir"):
        path = args[0]
        if path is None or isinstance(path, str):
            _READS[-1].add(("dir", os.path.abspath(path or ".")))


@contextmanager
def reading() -> Iterator[set]:
    """Record what the code run inside opens or lists (an audit hook, Python >= 3.8): a project rule's result
    depends on its facts and on these files, and is kept with them (engine._ProjectMemo)."""
    global _HOOKED
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True
    reads: set = set()
    _READS.append(reads)
    try:
        yield reads
    finally:
        _READS.pop()
        if _READS:
            _READS[-1].update(reads)


@dataclass
class FileResult:
    """What the worker returns for one file (picklable, cacheable)."""

    display: str  # the path as printed
    rel: str  # relative to the project root
    is_test: bool = False
    is_notebook: bool = False
    parsed: bool = False
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)


class Stored:
    """A file's result read from the cache but not yet unpickled (`load` gives it); `codes` are its findings'
    codes, known without unpickling it."""

    __slots__ = ("load", "codes")

    def __init__(self, load: "Callable[[], FileResult]", codes: frozenset[str]) -> None:
        self.load, self.codes = load, codes


class Project:
    def __init__(self, root: str, files: "dict[str, FileResult | Stored]",
                 aux: "dict[str, Any] | Callable[[], dict] | None" = None,
                 cache: Any = None, options: FamilyOptions = FamilyOptions()) -> None:
        self.root = root
        self.options = options  # options(family) -> that family's configuration
        self._cache = cache  # cache.Cache, when the run keeps one: project analyses may keep results there
        # rel -> result; results still in the cache (Stored) are unpickled, all at once, when `files` is first read
        # (a pre-commit run whose project rules are all kept reads only the changed files, through `result`)
        self._files = files
        self._stored = any(type(r) is Stored for r in files.values())
        # extractor name -> rel -> facts of non-Python files (shell, YAML, JSON, TOML); or a function that reads
        # them, called when a rule first asks (a run whose project rules are all kept reads none)
        self._aux = aux
        self.modules = {module_dotted_name(rel): rel for rel in files if rel.endswith((".py", ".ipynb"))}
        self._units: dict[str, str] = {}
        self._resolved: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._shared: dict[str, Any] = {}
        self._shared_reads: dict[str, set] = {}

    @property
    def files(self) -> dict[str, FileResult]:
        if self._stored:
            enabled = gc.isenabled()
            gc.disable()  # unpickling allocates millions of objects and makes no cycles (see engine._no_cyclic_gc)
            try:
                for rel, result in self._files.items():
                    if type(result) is Stored:
                        self._files[rel] = result.load()
            finally:
                gc.freeze()
                if enabled:
                    gc.enable()
            self._stored = False
        return self._files  # type: ignore[return-value]

    @files.setter
    def files(self, files: dict[str, FileResult]) -> None:
        self._files, self._stored = files, any(type(r) is Stored for r in files.values())

    def result(self, rel: str) -> FileResult:
        """One file's result (unpickled from the cache now if it was not yet)."""
        result = self._files[rel]
        if type(result) is Stored:
            result = self._files[rel] = result.load()
        return result

    def codes(self, rel: str) -> frozenset[str]:
        """The codes of one file's findings, without unpickling a result still in the cache."""
        result = self._files[rel]
        return result.codes if type(result) is Stored else frozenset(f.code for f in result.findings)

    def shared(self, key: str, compute: "Callable[[Project], Any]") -> Any:
        """An analysis that several rules of a family need, computed once per project (what it read counts as
        read by every rule that asks for it)."""
        if key not in self._shared:
            with reading() as reads:
                self._shared[key] = compute(self)
            self._shared_reads[key] = reads
        elif _READS:
            _READS[-1].update(self._shared_reads.get(key, ()))
        return self._shared[key]

    def recall(self, name: str) -> Any | None:
        """What an analysis kept with `keep` in an earlier run on this project (None without a cache).
        The analysis itself checks that what the value depended on is unchanged."""
        return self._cache.load_value(name, self.root) if self._cache is not None else None

    def keep(self, name: str, value: Any) -> None:
        if self._cache is not None:
            self._cache.save_value(name, self.root, value)

    def aux_facts(self, name: str) -> dict[str, Any]:
        """What the aux extractor `name` read in each non-Python file (rel -> facts)."""
        return self.aux.get(name, {})

    @property
    def aux(self) -> dict[str, Any]:
        if callable(self._aux):
            self._aux = self._aux()
        if self._aux is None:
            self._aux = {}
        return self._aux

    def facts(self, name: str) -> Iterator[tuple[FileResult, Any]]:
        for result in self.files.values():
            value = result.facts.get(name)
            if value is not None:
                yield result, value

    def resolve(self, from_rel: str, qualified: str, _depth: int = 0) -> tuple[str, str] | None:
        """(file, object path) for a dotted name used in from_rel, if it names project code.

        Scripts import their siblings (`from utils import x` next to `train.py`), packages import
        from the root; so the importer's folder and each folder above it are tried, nearest first.
        Answers depend only on the importer's folder, so they are memoised per folder.
        """
        key = (os.path.dirname(from_rel), qualified)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(key[0], qualified, _depth)
        return self._resolved[key]

    def _resolve(self, folder: str, qualified: str, depth: int) -> tuple[str, str] | None:
        parts = qualified.split(".")
        bases: list[str] = []
        while True:
            bases.append(folder.replace("/", "."))
            if not folder:
                break
            folder = os.path.dirname(folder)
        for k in range(len(parts), 0, -1):
            module = ".".join(parts[:k])
            for base in bases:
                key = f"{base}.{module}" if base else module
                rel = self.modules.get(key)
                if rel is not None:
                    return self._follow_reexport(rel, ".".join(parts[k:]), depth)
        return None

    def _follow_reexport(self, rel: str, obj: str, depth: int) -> tuple[str, str]:
        """`pkg.f` where pkg/__init__.py does `from .impl import f`: the definition is in pkg/impl.py.
        Needs the "imports" extractor's facts (rules that resolve names list it in `needs`)."""
        result = self.files.get(rel)
        imports = result.facts.get("imports") if result is not None else None
        head, _, rest = obj.partition(".")
        if not imports or head not in imports or depth > 8:
            return rel, obj
        target = imports[head] + (f".{rest}" if rest else "")
        return self.resolve(rel, target, depth + 1) or (rel, obj)

    def unit_of(self, rel: str) -> str:
        """The nearest folder at or above the file that is a unit (see UNIT_MARKERS)."""
        folder = os.path.dirname(rel)
        passed: list[str] = []  # folders below the unit: their answer is the same (one stat per folder and marker)
        while True:
            cached = self._units.get(folder)
            if cached is not None:
                break
            absolute = os.path.join(self.root, folder)
            if not folder or any(os.path.exists(os.path.join(absolute, m)) for m in UNIT_MARKERS):
                cached = self._units[folder] = folder
                break
            passed.append(folder)
            folder = os.path.dirname(folder)
        for below in passed:
            self._units[below] = cached
        return cached

    @staticmethod
    def covers(unit: str, rel: str) -> bool:
        """Does evidence in `unit` apply to the file `rel`?"""
        return not unit or rel == unit or rel.startswith(unit + "/")
