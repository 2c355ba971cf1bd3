"""Fixture folders: what mllint reports on each, the `# expect: CODE` markers written on the lines they check
(as in pylint's functional tests), and each folder's snapshot (`expected.txt`: location, code, message and
related locations), so that a moved line or a changed message shows in review."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from mllint.config import Config
from mllint.engine import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MARKER = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]{3}(?:\s*,\s*[A-Z]+[0-9]{3})*)\s*$")
# Files a marker can sit in (a comment at the end of the line); findings elsewhere (JSON configs, notebooks
# that do not load) are checked by the snapshot alone.
COMMENTABLE = (".py", ".yml", ".yaml", ".sh", ".toml", ".cfg", ".conf")


def fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "README.md").is_file())


def family_of(folder: Path) -> str:
    """A fixture checks its own family (the folder's prefix: `leak_pos_x` -> LEAK) and FILE diagnostics, so that
    a new family's findings on another family's fixture do not rewrite that fixture's expectations."""
    return folder.name.split("_", 1)[0].upper()


def in_scope(code: str, folder: Path) -> bool:
    return code.startswith(("FILE", family_of(folder)))


def findings(folder: Path, base: Path | None = None) -> list:
    base = base or folder
    cwd = os.getcwd()
    os.chdir(base)
    try:
        result = run([os.path.relpath(folder, base)], Config(), ["ALL"], [], jobs=1)
    finally:
        os.chdir(cwd)
    return [f for f in result.findings if in_scope(f.code, folder)]


def _place(f) -> str:
    cell = f"cell {f.loc.cell}:" if f.loc.cell is not None else ""
    path = f.loc.path[2:] if f.loc.path.startswith("./") else f.loc.path
    return f"{path}:{cell}{f.loc.line}"


def finding_lines(folder: Path, base: Path | None = None) -> list[str]:
    """`path:line:col: CODE` per finding (path relative to the folder)."""
    return [f"{_place(f)}:{f.loc.column}: {f.code}" for f in findings(folder, base)]


def snapshot_lines(found: list) -> list[str]:
    """The snapshot of a folder's findings: location, code and message, then each related location."""
    lines = []
    for f in found:
        lines.append(f"{_place(f)}:{f.loc.column}: {f.code} {f.message}")
        for r in f.related:
            cell = f"cell {r.loc.cell}:" if getattr(r.loc, "cell", None) is not None else ""
            lines.append(f"    related {r.loc.path}:{cell}{r.loc.line}: {r.message}")
    return lines


def marked(folder: Path) -> list[str]:
    """`path:line: CODE` (or `path:cell N:line: CODE`) for every `# expect:` marker in the folder."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            try:
                cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            except (ValueError, AttributeError):
                continue
            for index, cell in enumerate(cells, 1):
                source = cell.get("source", "") if isinstance(cell, dict) else ""
                text = "".join(source) if isinstance(source, list) else str(source)
                found += _markers(text, f"{rel}:cell {index}")
        elif path.suffix in COMMENTABLE and path.is_file():
            found += _markers(path.read_text(encoding="utf-8", errors="replace"), rel)
    return sorted(found)


def _markers(text: str, where: str) -> list[str]:
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        m = MARKER.search(line)
        if m:
            found += [f"{where}:{number}: {code.strip()}" for code in m.group(1).split(",")]
    return found


def markable(line: str) -> bool:
    """Whether a `path:...` finding place can carry a marker (see COMMENTABLE; notebooks by cell)."""
    path = line.split(":", 1)[0]
    return path.endswith(COMMENTABLE) or (path.endswith(".ipynb") and ":cell " in line)


def expected_lines(folder: Path) -> list[str]:
    """The snapshot's finding lines, `path:line:col: CODE` (related lines and messages left out)."""
    return [re.sub(r"^(.*?:\d+:\d+: [A-Z]+[0-9]{3})( .*)?$", r"\1", line) for line in snapshot(folder)
            if not line.startswith(" ")]


def snapshot(folder: Path) -> list[str]:
    path = folder / "expected.txt"
    if not path.is_file():
        raise AssertionError(f"{folder.name}: missing expected.txt (python tests/update_expected.py {folder.name})")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
