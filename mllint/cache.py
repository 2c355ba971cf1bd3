"""A cache of per-file results (`FileResult`), one small pickle per entry in a cache folder.

An entry is keyed by what the per-file analysis depends on: the file's bytes, its path relative
to the project root (test detection and module names come from it), the per-file `Settings`
and the mllint code itself (version plus a fingerprint of the installed package, so a changed
rule never reads a stale result).

`Settings.project_modules` (the project's top-level module names) is not part of the key: it
changes whenever a file is added to the project, which would invalidate every entry. Instead
the analysis sees a `ProbedNames` set that records each name it asks about and the answer;
an entry stays valid while every recorded answer is still the same in the current project (a
module that never asks about `utils` does not care whether `utils.py` exists). If the analysis
ever needs the whole set (iterates it), the entry records a digest of the whole set instead.

Entries are written to a temporary file and moved into place with os.replace, so two runs can
share a folder; an entry that cannot be read, unpickled or checked is a miss and is rebuilt.

Project-level values (`load_value`/`save_value`, in `values/`) hold what a project rule kept from
an earlier run; the rule itself records and checks what the value depended on (see rules/leak.py).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time
from typing import Any, Iterable, Iterator

from . import __version__

FORMAT = 3  # 3: an entry keeps its result pickled apart (Entry)
WHOLE_SET = "*"  # probe key: the analysis used the whole set of project modules
_MAGIC = b"mllint-cache\n"


class ProbedNames(frozenset):
    """A frozenset of module names that records membership questions and their answers."""

    probes: dict[str, bool]

    def __new__(cls, names: Iterable[str] = ()) -> "ProbedNames":
        self = super().__new__(cls, names)
        self.probes = {}
        return self

    def __contains__(self, name: object) -> bool:
        answer = frozenset.__contains__(self, name)
        if isinstance(name, str):
            self.probes[name] = answer
        else:
            self.probes[WHOLE_SET] = True
        return answer

    def _whole(self) -> None:
        self.probes[WHOLE_SET] = True

    def __iter__(self) -> Iterator[str]:
        self._whole()
        return frozenset.__iter__(self)

    def __len__(self) -> int:
        self._whole()
        return frozenset.__len__(self)

    def __reduce__(self):  # crossing a process boundary: a fresh, unprobed set
        return (ProbedNames, (list(frozenset.__iter__(self)),))


def names_digest(names: frozenset[str]) -> str:
    return hashlib.blake2b("\0".join(sorted(frozenset.__iter__(names))).encode(), digest_size=16).hexdigest()


def probes_hold(probes: dict[str, bool], names: frozenset[str]) -> bool:
    """Do the recorded answers still hold for the current set of project modules?"""
    return all(frozenset.__contains__(names, name) == answer for name, answer in probes.items())


def code_fingerprint() -> str:
    """mllint's version, Python's, and the size and mtime of every module of mllint and of libcst's entry point
    (read from disk: importing libcst costs 0.2 s, which a warm run otherwise never pays)."""
    import importlib.util

    package = os.path.dirname(os.path.abspath(__file__))
    parts = [__version__, sys.version, str(FORMAT)]
    libcst = sys.modules.get("libcst")
    spec = getattr(libcst, "__spec__", None) or importlib.util.find_spec("libcst")
    if spec is not None and spec.origin:
        stat = os.stat(spec.origin)
        parts.append(f"libcst:{spec.origin}:{stat.st_size}:{stat.st_mtime_ns}")
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(folder, name))
                parts.append(f"{os.path.relpath(os.path.join(folder, name), package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def content_hash(path: str, limit: int) -> str | None:
    """Hash of the bytes the analysis would read (None if unreadable: such files are not cached)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    return hashlib.blake2b(data, digest_size=20).hexdigest()


class Entry:
    """A cached result with the module-name answers it depends on. Pickled as the answers plus the result's own
    pickle (bytes): a run checks every entry it reads, but unpickles a result only when something reads it
    (`result`), so that a pre-commit run whose project rules are all kept never unpickles the other files' facts.
    `codes` are the codes of the result's findings, known without unpickling it."""

    __slots__ = ("probes", "names_digest", "codes", "_result", "_blob")

    def __init__(self, result: Any, probes: dict[str, bool], names_digest: str | None = None) -> None:
        self.probes = probes  # module name asked about -> was it a project module
        self.names_digest = names_digest  # instead, when the analysis used the whole set of names
        self.codes = frozenset(f.code for f in getattr(result, "findings", ()))
        self._result, self._blob = result, None

    def __getstate__(self) -> tuple:
        blob = self._blob if self._blob is not None else pickle.dumps(self._result, pickle.HIGHEST_PROTOCOL)
        return (self.probes, self.names_digest, self.codes, blob)

    def __setstate__(self, state: tuple) -> None:
        self.probes, self.names_digest, self.codes, self._blob = state
        self._result = _UNREAD

    @property
    def result(self) -> Any:  # FileResult
        if self._result is _UNREAD:
            self._result, self._blob = pickle.loads(self._blob), None
        return self._result

    def holds(self, names: frozenset[str], digest: str) -> bool:
        if self.names_digest is not None:
            return self.names_digest == digest
        return probes_hold(self.probes, names)


_UNREAD = object()


class Cache:
    """Read and write entries under `folder`; every failure is a miss, never an error."""

    def __init__(self, folder: str, settings_key: str) -> None:
        self.folder = folder
        self.settings_key = settings_key
        self._prepared = False
        self.hits = self.misses = 0

    def key(self, rel: str, digest: str) -> str:
        return hashlib.blake2b(f"{self.settings_key}\0{rel}\0{digest}".encode(), digest_size=20).hexdigest()

    def _path(self, key: str, values: bool = False) -> str:
        return os.path.join(self.folder, "values" if values else key[:2], key + ".pickle")

    def has(self, key: str) -> bool:
        return os.path.exists(self._path(key))

    def get(self, key: str, names: frozenset[str], names_digest_: str) -> Any | None:
        entry = self.entry(key, names, names_digest_)
        return entry.result if entry is not None else None

    def entry(self, key: str, names: frozenset[str], names_digest_: str) -> Entry | None:
        """The entry under key if it holds for these project module names (its result not yet unpickled)."""
        entry = self._read(key)
        if not _is_entry(entry) or not entry.holds(names, names_digest_):
            self.misses += 1
            return None
        self.hits += 1
        self._touch(key)
        return entry

    def put(self, key: str, result: Any, probes: dict[str, bool], names_digest_: str) -> None:
        self._write(key, Entry(result, {}, names_digest_) if WHOLE_SET in probes else Entry(result, dict(probes)))

    def load_value(self, name: str, scope: str) -> Any | None:
        """A project-level value (e.g. a project rule's result with what it depended on), or None."""
        key = self.key(f"\0value:{name}", scope)
        value = self._read(key, values=True)
        if value is not None:
            self._touch(key, values=True)
        return value

    def save_value(self, name: str, scope: str, value: Any) -> None:
        self._write(self.key(f"\0value:{name}", scope), value, values=True)

    def _read(self, key: str, values: bool = False) -> Any | None:
        try:
            with open(self._path(key, values), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return _decode(data, key)

    def _touch(self, key: str, values: bool = False) -> None:
        try:
            os.utime(self._path(key, values))  # recency, for prune()
        except OSError:
            pass

    def _write(self, key: str, value: Any, values: bool = False) -> None:
        try:
            payload = _MAGIC + key.encode() + b"\n" + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an unpicklable value is simply not cached
            return
        target = self._path(key, values)
        try:
            self._prepare()
            os.makedirs(os.path.dirname(target), exist_ok=True)
            import tempfile  # only when writing: shutil, lzma and random cost a read-only run 5 ms

            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(target))
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                os.replace(temp, target)
            except BaseException:
                _remove(temp)
                raise
        except OSError:
            return  # a read-only or full disk: run without caching

    def prune(self, keep: int) -> int:
        """Delete the least recently used entries beyond `keep` (entries of older mllint code or settings
        are never read again), and temporary files left by interrupted runs. Returns how many were removed."""
        pickles: list[os.DirEntry] = []
        now = time.time()
        try:
            folders = [e.path for e in os.scandir(self.folder) if e.is_dir()]
        except OSError:
            return 0
        removed = 0
        for folder in folders:
            try:
                for item in os.scandir(folder):
                    if item.name.endswith(".pickle"):
                        pickles.append(item)  # its time is read only if the cache is over its size
                    elif item.name.startswith(".tmp-") and now - item.stat().st_mtime > 3600:
                        _remove(item.path)
                        removed += 1
            except OSError:
                continue
        if len(pickles) > keep:  # (a pre-commit run stats nothing: ~1,000 entries cost 10-60 ms)
            entries: list[tuple[float, str]] = []
            for item in pickles:
                try:
                    entries.append((item.stat().st_mtime, item.path))
                except OSError:
                    continue
            if len(entries) > keep:
                entries.sort()
                for _, path in entries[: len(entries) - keep]:
                    _remove(path)
                    removed += 1
        return removed

    def _prepare(self) -> None:
        """Create the folder with a .gitignore so that it never shows up in `git status`."""
        if self._prepared:
            return
        os.makedirs(self.folder, exist_ok=True)
        marker = os.path.join(self.folder, ".gitignore")
        if not os.path.exists(marker):
            with open(marker, "w", encoding="utf-8") as handle:
                handle.write("# created by mllint\n*\n")
        self._prepared = True


def _decode(data: bytes, key: str) -> Any | None:
    header = _MAGIC + key.encode() + b"\n"
    if not data.startswith(header):
        return None  # foreign, truncated or for another key
    try:
        return pickle.loads(data[len(header):])
    except Exception:  # noqa: BLE001 - truncated or corrupt: a miss
        return None


def _is_entry(entry: Any) -> bool:
    if not isinstance(entry, Entry) or not isinstance(entry.probes, dict):
        return False
    return isinstance(entry._blob, bytes) or hasattr(entry._result, "display")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def relocate(result: Any, display: str) -> None:
    """Give a cached result the display path of this run (it depends on the working folder)."""
    old = result.display
    if old == display:
        return
    from .findings import retarget

    retarget(result, old, display)
    result.display = display
