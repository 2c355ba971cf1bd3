"""Run mllint on a fixture folder and render findings as `path:line:col: CODE` lines (path relative to the folder)."""
from __future__ import annotations

import os
from pathlib import Path

from mllint.config import Config
from mllint.engine import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "README.md").is_file())


def family_of(folder: Path) -> str:
    """A fixture checks its own family (the folder's prefix: `leak_pos_x` -> LEAK) and FILE diagnostics, so that
    a new family's findings on another family's fixture do not rewrite that fixture's expectations."""
    return folder.name.split("_", 1)[0].upper()


def in_scope(code: str, folder: Path) -> bool:
    return code.startswith(("FILE", family_of(folder)))


def finding_lines(folder: Path, base: Path | None = None) -> list[str]:
    base = base or folder
    cwd = os.getcwd()
    os.chdir(base)
    try:
        result = run([os.path.relpath(folder, base)], Config(), ["ALL"], [], jobs=1)
    finally:
        os.chdir(cwd)
    lines = []
    for f in result.findings:
        if not in_scope(f.code, folder):
            continue
        cell = f"cell {f.loc.cell}:" if f.loc.cell is not None else ""
        path = f.loc.path[2:] if f.loc.path.startswith("./") else f.loc.path
        lines.append(f"{path}:{cell}{f.loc.line}:{f.loc.column}: {f.code}")
    return lines


def expected_lines(folder: Path) -> list[str]:
    path = folder / "expected.txt"
    if not path.is_file():
        raise AssertionError(f"{folder.name}: missing expected.txt")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
