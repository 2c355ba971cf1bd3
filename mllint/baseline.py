"""Which findings are new: against a baseline file (`--write-baseline` / `--baseline`), or on lines changed
since a git revision (`--changed-since REV`).

A finding's fingerprint does not contain its line number, so that it survives code moving up or down:
it is the rule code, the path, and the finding's source line with whitespace normalised (`line`), and,
to tell apart identical lines, the same with the lines just above and below (`context`). A baseline
matches on `context` first, then on `line` alone, each entry used once, so an edit next to a finding
does not make it new, and a second copy of a baselined line is.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass

from .findings import Finding
from .report.common import finding_lines
from .results import RunResult

FORMAT = "mllint-baseline"
VERSION = 1


class BaselineError(Exception):
    """A baseline or a revision that cannot be used: a usage error (exit 2)."""


def _normal(lines: tuple[str, ...], index: int) -> str:
    return " ".join(lines[index].split()) if 0 <= index < len(lines) else ""


def fingerprints(result: RunResult, finding: Finding, path: str | None = None) -> tuple[str, str]:
    """(line, context) hashes of a finding; path defaults to its display path."""
    lines = finding_lines(result, finding)
    index = finding.loc.line - 1
    key = f"{finding.code}\0{path if path is not None else finding.loc.path}\0{_normal(lines, index)}"
    line = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    around = f"{line}\0{_normal(lines, index - 1)}\0{_normal(lines, index + 1)}"
    return line, hashlib.sha256(around.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _relative(display: str, baseline_file: str) -> str:
    """A finding's path relative to the baseline's folder, so the file works from any working folder."""
    folder = os.path.dirname(os.path.abspath(baseline_file))
    return os.path.relpath(os.path.abspath(display), folder).replace(os.sep, "/")


def write(result: RunResult, baseline_file: str) -> int:
    """Record the findings of result; the number recorded."""
    entries = []
    for finding in result.findings:
        path = _relative(finding.loc.path, baseline_file)
        line, context = fingerprints(result, finding, path)
        entries.append({"code": finding.code, "path": path, "line": finding.loc.line, "message": finding.message,
                        "fingerprint": line, "context": context})
    data = {"format": FORMAT, "version": VERSION, "findings": entries}
    try:
        with open(baseline_file, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {baseline_file}: {exc.strerror or exc}") from None
    return len(entries)


@dataclass
class Baseline:
    entries: list[dict]
    path: str

    @classmethod
    def load(cls, baseline_file: str) -> "Baseline":
        try:
            with open(baseline_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise BaselineError(f"cannot read baseline {baseline_file}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise BaselineError(f"{baseline_file} is not a baseline (invalid JSON: {exc})") from None
        ok = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("findings"), list)
        if not ok or not all(isinstance(e, dict) and {"fingerprint", "context"} <= set(e) for e in data["findings"]):
            raise BaselineError(f"{baseline_file} is not an mllint baseline (write one with --write-baseline)")
        if data.get("version") != VERSION:
            raise BaselineError(f"{baseline_file} is baseline version {data.get('version')}; this mllint reads "
                                f"version {VERSION}: write it again with --write-baseline")
        return cls(data["findings"], baseline_file)

    def new_findings(self, result: RunResult) -> tuple[list[Finding], int]:
        """The findings of result that the baseline does not cover, and how many it covers."""
        by_context: dict[str, list[int]] = {}
        by_line: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            by_context.setdefault(entry["context"], []).append(index)
            by_line.setdefault(entry["fingerprint"], []).append(index)
        used: set[int] = set()
        keys = [fingerprints(result, f, _relative(f.loc.path, self.path)) for f in result.findings]
        matched = [False] * len(keys)
        for pass_, table in ((1, by_context), (0, by_line)):
            for i, key in enumerate(keys):
                if matched[i]:
                    continue
                free = next((e for e in table.get(key[pass_], ()) if e not in used), None)
                if free is not None:
                    used.add(free)
                    matched[i] = True
        new = [f for f, known in zip(result.findings, matched) if not known]
        return new, len(result.findings) - len(new)


def changed_lines(rev: str, cwd: str = ".") -> dict[str, set[int] | None]:
    """Absolute path -> lines added or changed since rev (working tree against rev), None for a whole file
    (untracked: every line is new). Read with `git diff --unified=0`; errors are BaselineErrors."""
    top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd, what=f"unknown revision {rev!r}")
    diff = _git(["-c", "core.quotePath=false", "diff", "--unified=0", "--no-color", "--no-ext-diff", rev, "--"], top)
    changed: dict[str, set[int] | None] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            if name == "/dev/null":
                current = None
                continue
            name = name[2:] if name.startswith("b/") else name
            current = changed.setdefault(os.path.abspath(os.path.join(top, _unquote(name))), set())
        elif line.startswith("@@") and current is not None:
            new = line.split(" ")[2]  # +start[,count]
            start, _, count = new[1:].partition(",")
            first, length = int(start), int(count) if count else 1
            current.update(range(first, first + length))
    for name in _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0"):
        if name:
            changed[os.path.abspath(os.path.join(top, name))] = None
    return changed


def on_changed_lines(findings: list[Finding], changed: dict[str, set[int] | None]) -> list[Finding]:
    """Findings whose span touches a changed line; in a notebook, any change to the file counts (its
    cell lines do not map onto the diff of the JSON)."""
    kept = []
    for finding in findings:
        lines = changed.get(os.path.abspath(finding.loc.path), set())
        if lines is None or (finding.loc.cell is not None and lines):
            kept.append(finding)
        elif lines and any(n in lines for n in range(finding.loc.line, max(finding.loc.line, finding.loc.end_line) + 1)):
            kept.append(finding)
    return kept


def _unquote(name: str) -> str:
    """git quotes paths with unusual characters in C style."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return name


def _git(args: list[str], cwd: str, what: str | None = None) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, errors="surrogateescape")
    except OSError as exc:
        raise BaselineError(f"--changed-since needs git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        detail = what or (proc.stderr.strip().splitlines() or [f"git {' '.join(args)} failed"])[-1]
        raise BaselineError(f"--changed-since: {detail}")
    return proc.stdout
