"""`--format text`: `path:line:col: CODE message`, the source line, a caret and the hint."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache

from ..engine import RunResult
from ..findings import Finding, Severity
from ..source import load

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


@lru_cache(maxsize=64)
def _lines(path: str, cell: int | None) -> list[str]:
    try:
        src = load(path, 64 * 1024 * 1024)
    except Exception:  # noqa: BLE001 - a snippet is a nicety
        return []
    if src.text is None:
        return []
    lines = src.text.splitlines()
    if cell is None:
        return lines
    starts = src.cell_starts
    for i, (start, index) in enumerate(starts):
        if index == cell:
            end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(lines)
            return lines[start - 1 : end]
    return []


_ANSI = {"red": 31, "yellow": 33, "blue": 34, "cyan": 36}


def _style(text: str, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
    """ANSI styles, as click.style writes them."""
    codes = [str(_ANSI[fg])] if fg else []
    codes += ["1"] if bold else []
    codes += ["2"] if dim else []
    return f"\033[{';'.join(codes)}m{text}\033[0m" if codes else text


def _where(f: Finding) -> str:
    cell = f"cell {f.loc.cell}:" if f.loc.cell is not None else ""
    return f"{f.loc.path}:{cell}{f.loc.line}:{f.loc.column}"


def _one(f: Finding, colour: bool, quiet: bool) -> list[str]:
    def style(text: str, **kw) -> str:
        return _style(text, **kw) if colour else text

    code = style(f.code, fg=_COLOURS[f.severity], bold=True)
    head = f"{style(_where(f), bold=True)}: {code} {f.message}"
    if f.suppressed is not None:
        head += style(f"  [suppressed: {f.suppressed}]", dim=True)
    out = [head]
    if quiet:
        return out
    lines = _lines(f.loc.path, f.loc.cell)
    if 1 <= f.loc.line <= len(lines):
        source = lines[f.loc.line - 1].replace("\t", " ")
        gutter = str(f.loc.line)
        pad = " " * len(gutter)
        out.append(style(f"{pad} |", fg="blue"))
        out.append(style(f"{gutter} | ", fg="blue") + source)
        start = max(f.loc.column - 1, 0)
        end = f.loc.end_column - 1 if f.loc.end_line == f.loc.line and f.loc.end_column > f.loc.column else len(source)
        width = max(1, min(end, len(source)) - start)
        out.append(style(f"{pad} | ", fg="blue") + " " * start + style("^" * width, fg=_COLOURS[f.severity]))
    for rel in f.related:
        cell = f"cell {rel.loc.cell}:" if rel.loc.cell is not None else ""
        out.append(f"  = related: {rel.loc.path}:{cell}{rel.loc.line}:{rel.loc.column}: {rel.message}")
    if f.hint:
        out.append(style("  = help: ", fg="cyan") + f.hint)
    out.append("")
    return out


def render(result: RunResult, *, colour: bool = False, quiet: bool = False, statistics: bool = False,
           show_suppressed: bool = False, **_: object) -> str:
    findings = list(result.findings)
    if show_suppressed:
        findings = sorted(findings + result.suppressed, key=Finding.sort_key)
    lines: list[str] = []
    if statistics:
        counts = Counter((f.code, f.name) for f in result.findings)
        for (code, name), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"{count:5d}  {code:<8} {name}")
        return "\n".join(lines) + ("\n" if lines else "")
    for f in findings:
        lines.extend(_one(f, colour, quiet))
    if not quiet:
        by = Counter(f.severity for f in result.findings)
        if result.findings:
            parts = [f"{by[s]} {str(s)}{'s' if by[s] != 1 else ''}" for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if by[s]]
            summary = f"Found {len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} ({', '.join(parts)}) in {result.files} file{'s' if result.files != 1 else ''}."
        else:
            summary = f"No findings in {result.files} file{'s' if result.files != 1 else ''}."
        if result.suppressed:
            summary += f" {len(result.suppressed)} suppressed" + ("." if show_suppressed else " (--show-suppressed lists them).")
        lines.append(summary)
    return "\n".join(lines) + "\n"
