"""Which files to read: Python sources, notebooks and the configs/scripts that carry sweep evidence.

Walks folders once, honouring default and configured excludes and `.gitignore` files; follows
symlinked folders at most once each (a symlink loop ends there); unreadable entries become
diagnostics instead of errors.
"""
from __future__ import annotations

import errno
import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_SUFFIXES = (".py", ".pyi", ".ipynb")
AUX_SUFFIXES = (".sh", ".bash", ".zsh", ".slurm", ".sbatch", ".yaml", ".yml", ".json", ".toml", ".cfg")
AUX_NAMES = ("Makefile", "makefile", "justfile")
MAX_AUX_SIZE = 1024 * 1024
ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "mllint.toml", ".git")


@dataclass
class Discovered:
    sources: list[str] = field(default_factory=list)  # absolute paths
    aux: list[str] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, message, hint)
    stamps: list[tuple[str, int, int]] = field(default_factory=list)  # (path, size, mtime in ns) of every file
    # the walk reached (sources, configs, READMEs...): what a cached run's result depends on besides its settings


class _Ignore:
    """The subset of gitignore semantics that matters for source trees."""

    def __init__(self, base: str, lines: list[str]) -> None:
        self.base = base
        self.rules: list[tuple[re.Pattern, bool, bool]] = []  # (regex, negated, dir_only)
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.rstrip("/")
            line = line.lstrip("/")
            regex = _glob_to_regex(line)
            if not anchored:
                regex = r"(?:.*/)?" + regex
            self.rules.append((re.compile(regex + r"\Z"), negated, dir_only))

    def decide(self, rel: str, is_dir: bool) -> bool | None:
        verdict = None
        for regex, negated, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if regex.match(rel):
                verdict = not negated
        return verdict


def _glob_to_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(r".*")
            i += 2
            continue
        if c == "*":
            out.append(r"[^/]*")
        elif c == "?":
            out.append(r"[^/]")
        elif c == "[":
            j = glob.find("]", i)
            if j == -1:
                out.append(re.escape(c))
            else:
                out.append("[" + glob[i + 1 : j].replace("!", "^", 1) + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _matches_any(name: str, rel: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatch(rel, pattern.strip("/")) or fnmatch.fnmatch(rel, pattern.strip("/") + "/*"):
                return True
        elif fnmatch.fnmatch(name, pattern):
            return True
    return False


def _read_gitignore(folder: str) -> _Ignore | None:
    path = os.path.join(folder, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _Ignore(folder, handle.readlines())
    except OSError:
        return None


def discover(
    paths: list[str], excludes: list[str], respect_gitignore: bool = True, with_aux: bool = True
) -> Discovered:
    found = Discovered()
    seen_files: set[str] = set()
    seen_dirs: set[tuple[int, int]] = set()

    def add_file(path: str, explicit: bool) -> None:
        name = os.path.basename(path)
        try:
            os.stat(path)
        except OSError as exc:
            if explicit or name.endswith(SOURCE_SUFFIXES):
                found.problems.append((path, *_describe(exc, path)))
            return
        real = os.path.abspath(path)
        if real in seen_files:
            return
        if name.endswith(SOURCE_SUFFIXES) or (explicit and os.path.isfile(path) and is_python_script(path)):
            seen_files.add(real)
            found.sources.append(real)
        elif with_aux and (name.endswith(AUX_SUFFIXES) or name in AUX_NAMES):
            try:
                if os.path.getsize(path) <= MAX_AUX_SIZE:
                    seen_files.add(real)
                    found.aux.append(real)
            except OSError:
                pass

    for given in paths:
        if os.path.isdir(given):
            root = os.path.abspath(given)
            ignores = _parent_ignores(root) if respect_gitignore else []
            _walk(root, root, excludes, ignores, respect_gitignore, seen_dirs, add_file, found)
        elif os.path.lexists(given):
            add_file(given, explicit=True)
        else:
            found.problems.append((given, "no such file or directory", "Check the path: it does not exist."))
    found.sources.sort()
    found.aux.sort()
    return found


def _parent_ignores(root: str) -> list[_Ignore]:
    """.gitignore files above root that apply to it: those within the same git work tree."""
    chain: list[str] = []
    if (Path(root) / ".git").exists():
        return []
    for folder in Path(root).parents:
        chain.append(str(folder))
        if (folder / ".git").exists():
            break
    else:
        return []
    found = [_read_gitignore(folder) for folder in reversed(chain)]
    return [ig for ig in found if ig is not None]


def _walk(top, root, excludes, ignores, respect_gitignore, seen_dirs, add_file, found) -> None:
    try:
        st = os.stat(top)
    except OSError as exc:
        found.problems.append((top, *_describe(exc, top)))
        return
    key = (st.st_dev, st.st_ino)
    if key in seen_dirs:
        return  # a symlink loop, or the same folder reached twice
    seen_dirs.add(key)
    local = _read_gitignore(top) if respect_gitignore else None
    active = ignores + [local] if local else ignores
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        found.problems.append((top, *_describe(exc, top)))
        return
    for entry in entries:
        rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if _matches_any(entry.name, rel, excludes):
            continue
        if _ignored(active, entry.path, is_dir):
            continue
        if is_dir:
            _walk(entry.path, root, excludes, active, respect_gitignore, seen_dirs, add_file, found)
        else:
            add_file(entry.path, explicit=False)
            try:
                st = entry.stat()
                found.stamps.append((entry.path, st.st_size, st.st_mtime_ns))
            except OSError:
                found.stamps.append((entry.path, -1, -1))


def _ignored(ignores: list[_Ignore], path: str, is_dir: bool) -> bool:
    verdict = False
    for ig in ignores:
        rel = os.path.relpath(path, ig.base).replace(os.sep, "/")
        if rel.startswith(".."):
            continue
        decided = ig.decide(rel, is_dir)
        if decided is not None:
            verdict = decided
    return verdict


def _describe(exc: OSError, path: str) -> tuple[str, str]:
    """The message and the hint of a FILE007 finding: the fix depends on the cause."""
    folder = "folder " if os.path.isdir(path) else ""
    if exc.errno == errno.ELOOP:
        return "symlink loop: cannot be read", "Break the loop (one of the links points back at itself), or exclude the path."
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return "broken symlink: its target does not exist", "Fix or remove the link, or exclude the path."
        return "no such file or directory", "Check the path: it does not exist."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"{folder}cannot be read: permission denied",
                "Give the user running mllint read permission (and, for a folder, execute permission), or exclude the path.")
    return f"{folder}cannot be read: {exc.strerror or exc}", "Fix the path's permissions or exclude it."


def is_python_script(path: str) -> bool:
    """A file given explicitly without a Python suffix is linted only if its first line names python
    (`#!/usr/bin/env python3`), as pre-commit's `python` type does; README.md or notes.txt are skipped."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(256)
    except OSError:
        return True  # the analysis reports why it cannot be read
    return first.startswith(b"#!") and b"python" in first


def find_root(path: str) -> str:
    """The project root of a linted path: the nearest folder at or above it with a root marker."""
    start = Path(os.path.abspath(path))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return str(candidate)
    return str(folder)
