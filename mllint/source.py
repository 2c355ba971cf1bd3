"""Reading a file into analysable text: decoding, binary and size checks, notebooks.

Never raises: every problem becomes a diagnostic (a FILE code, a message and a place).
A notebook's code cells are joined into one module (so that names flow between cells) with
a map from module lines back to (cell, line); IPython magics become `pass` lines. Markdown cells
come in as comment lines marked as prose (core/prose.py): a notebook documents its code there
("lr = 0.01, as in the paper"), and the rules that read comments near a statement read them too.
"""
from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass, field

from .core.prose import PROSE_MARK

_MAGIC = re.compile(r"^(\s*)(?:[%!]|[\w.\[\]'\"]+\s*=\s*[%!])")
_HELP = re.compile(r"^\s*[\w.]+\?{1,2}\s*$")
# Characters that end a line for str.splitlines (or are not source at all): prose may hold them, a comment must not.
_LINE_BREAKS = dict.fromkeys(map(ord, "\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " ")
# Cell magics whose body is still Python.
_PY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "writefile_no"}


@dataclass
class Diagnostic:
    code: str
    message: str
    line: int = 1
    column: int = 1
    cell: int | None = None


@dataclass
class Source:
    text: str | None
    is_notebook: bool = False
    cell_starts: list[tuple[int, int]] = field(default_factory=list)  # (first module line, cell index)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_cell(self, line: int) -> tuple[int | None, int]:
        """Map a module line to (cell, line within the cell)."""
        if not self.is_notebook or not self.cell_starts:  # a notebook that did not load: the file, not "cell 1"
            return None, line
        cell, first = 1, 1
        for start, index in self.cell_starts:
            if start <= line:
                cell, first = index, start
            else:
                break
        return cell, line - first + 1


def read_bytes(path: str, max_size: int) -> tuple[bytes | None, Diagnostic | None]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_size + 1)
    except IsADirectoryError:
        return None, Diagnostic("FILE007", "is a folder, not a file")
    except OSError as exc:
        reason = "symlink loop" if exc.errno == 40 else (exc.strerror or str(exc))
        return None, Diagnostic("FILE007", f"cannot be read: {reason}")
    if len(data) > max_size:
        return None, Diagnostic(
            "FILE006", f"larger than max-file-size ({max_size} bytes): skipped; raise `max-file-size` to lint it"
        )
    return data, None


def decode_python(data: bytes) -> tuple[str | None, Diagnostic | None]:
    if b"\x00" in data[:8192] or b"\x00" in data:
        return None, Diagnostic("FILE005", "contains NUL bytes: a binary file, not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return None, Diagnostic("FILE001", f"cannot decode: {exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        return None, Diagnostic("FILE001", f"cannot decode as {encoding}: {_short(exc)}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."


def load_python(path: str, max_size: int) -> Source:
    data, problem = read_bytes(path, max_size)
    if problem:
        return Source(None, diagnostics=[problem])
    text, problem = decode_python(data)
    return Source(text, diagnostics=[problem] if problem else [])


# Notebooks carry their outputs (images, tables) in the same file: the size limit applies to the code,
# and the file itself may be this many times larger.
NOTEBOOK_SIZE_FACTOR = 32


def load_notebook(path: str, max_size: int) -> Source:
    data, problem = read_bytes(path, max_size * NOTEBOOK_SIZE_FACTOR)
    if problem:
        return Source(None, is_notebook=True, diagnostics=[problem])
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return Source(None, True, diagnostics=[Diagnostic("FILE001", f"cannot decode notebook as UTF-8: {_short(exc)}")])
    except (ValueError, RecursionError) as exc:
        return Source(None, True, diagnostics=[Diagnostic("FILE003", f"not a valid notebook: invalid JSON: {_short(exc)}")])
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if cells is None and isinstance(nb, dict) and isinstance(nb.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", []) or []]
        for cell in cells:
            if isinstance(cell, dict) and "input" in cell and "source" not in cell:
                cell["source"] = cell["input"]
    if not isinstance(cells, list):
        return Source(None, True, diagnostics=[Diagnostic("FILE003", "not a valid notebook: no list of cells")])
    for with_prose in (True, False):
        source = _join_cells(cells, with_prose)
        if source.text is not None and len(source.text) <= max_size:
            return source
    message = f"its code is larger than max-file-size ({max_size} bytes): skipped; raise `max-file-size` to lint it"
    return Source(None, True, diagnostics=[Diagnostic("FILE006", message)])


def _join_cells(cells: list, with_prose: bool) -> Source:
    """One module of the notebook's code cells (and its markdown cells as comments, with_prose)."""
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    diagnostics: list[Diagnostic] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            diagnostics.append(Diagnostic("FILE003", "cell is not an object: skipped", cell=index))
            continue
        kind = cell.get("cell_type")
        if kind != "code" and not (with_prose and kind == "markdown"):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            if kind == "code":
                diagnostics.append(Diagnostic("FILE003", "cell source is not text: skipped", cell=index))
            continue
        cell_lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        starts.append((len(lines) + 1, index))
        if kind == "code":
            lines.extend(_neutralise_magics(cell_lines))
        else:
            lines.extend(f"{PROSE_MARK} {line.translate(_LINE_BREAKS)}".rstrip() for line in cell_lines)
    return Source("\n".join(lines) + "\n", True, starts, diagnostics)


def _neutralise_magics(lines: list[str]) -> list[str]:
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split()[0] if lines[0][2:].split() else ""
        if magic not in _PY_CELL_MAGICS:
            return ["pass" if i == 0 else "" for i in range(len(lines))]
        return ["pass", *_neutralise_magics(lines[1:])]  # the body is IPython too: `!pip`, `%cd`
    out = []
    continued = False  # a magic or shell command continued with a backslash
    for line in lines:
        if continued:
            out.append("")
            continued = line.rstrip().endswith("\\")
            continue
        match = _MAGIC.match(line)
        if match or _HELP.match(line):
            indent = match.group(1) if match else re.match(r"\s*", line).group(0)
            out.append(indent + "pass")
            continued = bool(match) and line.rstrip().endswith("\\")
        else:
            out.append(line)
    return out


def load(path: str, max_size: int) -> Source:
    if path.endswith(".ipynb"):
        return load_notebook(path, max_size)
    return load_python(path, max_size)
