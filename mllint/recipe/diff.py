"""`mllint recipe --diff A B`: what changed between two recipes besides the model.

A side is a path (a folder or a script), a git revision of the repository PATH is in (exported with
`git archive` into a temporary folder: the user's work tree is never touched), an entry point of PATH, or a
config file (YAML/JSON/TOML, or a nanoGPT-style Python config) applied to the entry point."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass

from .card import Card, RecipeError, analyse, build, pick_entries
from ..core.configs import is_config_file
from .facts import SECTION_TITLES


@dataclass
class Side:
    spec: str
    path: str  # the folder or file to analyse
    entry: str | None = None
    config: str | None = None


def resolve_side(spec: str, base: str, entry: str | None, config: str | None, stack: ExitStack) -> Side:
    folder = base if os.path.isdir(base) else os.path.dirname(base)
    if not os.path.exists(spec) and os.path.exists(os.path.join(folder, spec)):
        spec_path = os.path.join(folder, spec)
        if os.path.isfile(spec_path) and is_config_file(spec_path):
            return Side(spec, base, entry, spec_path)
        if os.path.isfile(spec_path) and _is_revision_like(base, spec) is False:
            return Side(spec, base, spec, config)
    if os.path.exists(spec):
        if os.path.isfile(spec) and is_config_file(spec):
            return Side(spec, base, entry, spec)
        return Side(spec, spec, entry, config)
    top = _git_top(base)
    if top is not None and _is_revision(top, spec):
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="mllint-recipe-"))
        _export(top, spec, folder)
        inside = os.path.relpath(os.path.abspath(base), top)
        return Side(spec, os.path.normpath(os.path.join(folder, inside)), entry, config)
    raise RecipeError(f"{spec!r} is neither a path, a git revision of {base}, nor an entry point in it")


def _is_revision_like(base: str, spec: str) -> bool:
    top = _git_top(base)
    return top is not None and _is_revision(top, spec)


def _git(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)


def _git_top(path: str) -> str | None:
    if shutil.which("git") is None:
        return None
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        done = _git(["rev-parse", "--show-toplevel"], folder)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode().strip() if done.returncode == 0 else None


def _is_revision(top: str, spec: str) -> bool:
    if spec.startswith("-"):
        return False
    done = _git(["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"], top)
    return done.returncode == 0


def _export(top: str, revision: str, folder: str) -> None:
    archive = os.path.join(folder, ".archive.tar")
    done = _git(["archive", "--format=tar", "-o", archive, revision], top)
    if done.returncode != 0:
        raise RecipeError(f"git archive {revision} failed: {done.stderr.decode(errors='replace').strip()}")
    import tarfile

    with tarfile.open(archive) as tar:
        try:
            tar.extractall(folder, filter="data")
        except TypeError:  # Python without extraction filters
            tar.extractall(folder)
    os.remove(archive)


def card_of(side: Side, jobs: int) -> Card:
    project = analyse(side.path, jobs, entry=side.entry)
    chosen = pick_entries(project, side.path, side.entry)
    if len(chosen) > 1:
        raise RecipeError(f"{side.spec} has {len(chosen)} entry points ({', '.join(chosen[:6])}): pick one with --entry")
    return build(project, chosen[0], side.config)


def _values(card: Card) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], list[str]] = {}
    for row in card.rows:
        found.setdefault((row.section, row.label), []).append(row.value)
    return {key: "; ".join(dict.fromkeys(values)) for key, values in found.items()}


def compare(a: Card, b: Card) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(changed besides the model, model rows that changed, unchanged): (section, field, A, B)."""
    left, right = _values(a), _values(b)
    changed, model, same = [], [], []
    for key in list(dict.fromkeys([*left, *right])):
        va, vb = left.get(key, "—"), right.get(key, "—")
        if va == vb:
            same.append((key[0], key[1], va))
        elif key[0] == "model":
            model.append((key[1], va, vb))
        else:
            changed.append((key[0], key[1], va, vb))
    return changed, model, same


def markdown(a: Card, b: Card, spec_a: str, spec_b: str) -> str:
    changed, model, same = compare(a, b)
    out = [f"# Recipe diff: `{spec_a}` → `{spec_b}`", ""]
    if model:
        out += ["## Model", "", "| Field | A | B |", "|---|---|---|"]
        out += [f"| {f} | `{va}` | `{vb}` |" for f, va, vb in model] + [""]
    out += ["## What changed besides the model", ""]
    if changed:
        out += ["| Section | Field | A | B |", "|---|---|---|---|"]
        out += [f"| {SECTION_TITLES.get(s, s)} | {f} | `{va}` | `{vb}` |" for s, f, va, vb in changed]
    else:
        out.append("_nothing_")
    out += ["", f"<details><summary>{len(same)} unchanged fields</summary>", ""]
    out += [f"- {SECTION_TITLES.get(s, s)}: {f} = `{v}`" for s, f, v in same]
    out += ["", "</details>", ""]
    return "\n".join(out)


def as_dict(a: Card, b: Card, spec_a: str, spec_b: str) -> dict:
    changed, model, same = compare(a, b)
    return {"a": spec_a, "b": spec_b,
            "model": [{"field": f, "a": va, "b": vb} for f, va, vb in model],
            "changed": [{"section": s, "field": f, "a": va, "b": vb} for s, f, va, vb in changed],
            "unchanged": [{"section": s, "field": f, "value": v} for s, f, v in same]}
