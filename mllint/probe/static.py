"""The static half of a probe: the linter's findings for the probed script and the project modules it imports,
not for the whole repository (on timm, linting every file took 35 s of a 43 s probe, and a script's report
listed findings from unrelated folders). The lint cache is reused when the project has one. No torch here."""
from __future__ import annotations

import os
from pathlib import Path

READMES = ("README.md", "README.rst", "README.txt", "README")


def unit_of(script: str, root: str) -> str:
    """The script's own unit: its folder, or the nearest folder above it (within the project root) that has a
    README; the script's folder when none has."""
    folder = os.path.dirname(os.path.abspath(script))
    root = os.path.abspath(root)
    current = folder
    while True:
        if any(os.path.isfile(os.path.join(current, name)) for name in READMES):
            return current
        parent = os.path.dirname(current)
        if current == root or parent == current or not (parent + os.sep).startswith(root.rstrip(os.sep) + os.sep):
            return folder
        current = parent


def _module_file(name: str, level: int, importer: str, unit: str) -> str | None:
    """`pkg.mod` (or `.mod` from importer) -> its file in the unit: pkg/mod.py or pkg/mod/__init__.py."""
    if level:
        base = os.path.dirname(importer)
        for _ in range(level - 1):
            base = os.path.dirname(base)
        bases = [base]
    else:
        bases = [os.path.dirname(importer), unit]
    for base in bases:
        stem = os.path.join(base, *name.split(".")) if name else base
        for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
            if os.path.isfile(candidate) and candidate.startswith(unit.rstrip(os.sep) + os.sep):
                return candidate
    return None


def _imports(path: str, unit: str, names: set[str] | None) -> list[tuple[str, set[str] | None]]:
    """The project files that path's imports reach, each with the names wanted of it when it is a package's
    __init__ (None: all): `from pkg import x` wants x of pkg, or the submodule x; a package imported whole
    (`from timm import utils`, `import a.b as c`) wants the attributes the importer reads on it (`utils.x`).
    names: for a package __init__ itself, the names asked of it: only the imports that bring those are followed
    (`from .loader import create_loader`), not every module the package imports."""
    import ast
    import re

    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return []
    found: list[tuple[str, set[str] | None]] = []

    def whole(target: str, alias: str) -> None:
        if target.endswith("__init__.py"):
            found.append((target, set(re.findall(r"(?<![\w.])" + re.escape(alias) + r"\.(\w+)", text))))
        else:
            found.append((target, None))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _module_file(alias.name, 0, path, unit)
                if target:
                    whole(target, alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom):
            wanted = {alias.name for alias in node.names}
            if names is not None and not wanted & names and "*" not in wanted:
                continue  # a package's re-export of names nobody asked for
            target = _module_file(node.module or "", node.level, path, unit)
            if target is None:
                continue
            if "*" in wanted and names is not None and not _defines(target, names):
                continue  # `from .beit import *` in a package: only the module that defines a wanted name
            if not target.endswith("__init__.py"):
                found.append((target, None))
                continue
            rest: set[str] = set()
            for alias in node.names:
                sub = _module_file(alias.name, 1, target, unit) if alias.name != "*" else None
                if sub:  # `from pkg import submodule`
                    whole(sub, alias.asname or alias.name)
                else:
                    rest.add(alias.name)
            if rest:
                found.append((target, None if "*" in rest else rest))
    return found


def _defines(path: str, names: set[str]) -> bool:
    import re

    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError:
        return False
    return any(re.search(rb"^(?:def|class)[ \t]+" + re.escape(n.encode()) + rb"\b|^" + re.escape(n.encode()) +
                         rb"[ \t]*=", text, re.M) for n in names)


def imported_modules(script: str, unit: str, limit: int = 400) -> list[str]:
    """The script and the project modules it imports, followed through the modules they import (a package's
    __init__ only for the names asked of it), within the unit."""
    found: dict[str, None] = {script: None}
    asked: dict[str, set[str]] = {}  # package __init__ -> names asked of it
    queue: list[tuple[str, set[str] | None]] = [(script, None)]
    while queue and len(found) < limit:
        path, names = queue.pop(0)
        for target, wanted in _imports(path, unit, names):
            if wanted is None:
                if target not in found or target in asked:
                    found[target] = None
                    asked.pop(target, None)
                    queue.append((target, None))
                continue
            known = asked.get(target, set()) if target in asked or target not in found else None
            if known is None:  # already followed whole
                continue
            new = wanted - known
            found.setdefault(target, None)
            asked[target] = known | new
            if new:
                queue.append((target, new))
    return list(found)


def static_findings(project: str, script: str | None, whole: bool) -> list:
    from ..config import load_config
    from ..engine import run

    config = load_config(None, Path(project))
    cache_dir = _cache_dir(project)
    if whole or script is None:
        return run([project], config, ["ALL"], [], jobs=1, use_cache=True, cache_dir=cache_dir).findings
    files = imported_modules(script, unit_of(script, project))
    return run(files, config, ["ALL"], [], jobs=1, use_cache=True, cache_dir=cache_dir, restrict=files).findings


def _cache_dir(project: str) -> str:
    """The project's lint cache when it has one (`mllint` made it); else one in the user's cache folder, so that
    the probe writes nothing into the project."""
    import hashlib

    own = os.path.join(project, ".mllint_cache")
    if os.path.isdir(own):
        return own
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha1(os.path.abspath(project).encode()).hexdigest()[:16]
    return os.path.join(base, "mllint", "probe", digest)

