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


def imported_modules(script: str, unit: str, limit: int = 400) -> list[str]:
    """The script and the project modules it imports, followed through the modules they import, within the unit."""
    from .. import discovery
    from ..config import Config
    from ..recipe.card import _imported_files

    config = Config()
    sources = discovery.discover([unit], [*config.exclude, *config.extend_exclude], config.respect_gitignore,
                                 with_aux=False).sources
    sources = sorted(set(sources) | {script})
    found, queue = [script], [script]
    while queue and len(found) < limit:
        for path in _imported_files(queue.pop(0), unit, sources):
            if path not in found:
                found.append(path)
                queue.append(path)
    return found


def static_findings(project: str, script: str | None, whole: bool) -> list:
    from ..config import load_config
    from ..engine import run

    config = load_config(None, Path(project))
    cache_dir = os.path.join(project, ".mllint_cache")
    use_cache = os.path.isdir(cache_dir)  # reuse the lint cache; never create one in the user's tree
    if whole or script is None:
        return run([project], config, ["ALL"], [], jobs=1, use_cache=use_cache).findings
    files = imported_modules(script, unit_of(script, project))
    return run(files, config, ["ALL"], [], jobs=1, use_cache=use_cache, restrict=files).findings

