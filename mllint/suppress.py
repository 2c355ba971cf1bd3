"""Suppression comments: `# mllint: ignore[CODE, ...] reason` and `# noqa: CODE reason`.

A suppression applies to findings on its own line, or, when it stands alone on a comment line,
to the next line. `# noqa` comments count only when they name an mllint code, so flake8/ruff
`# noqa` comments neither silence mllint nor get reported by it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

FAMILIES = ("LEAK", "SEED", "HPARAM", "EVAL", "PREP", "FILE")
_MLLINT = re.compile(r"#\s*mllint\s*:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?(?P<rest>.*)$", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]*(?:\s*,\s*[A-Z]+[0-9]*)*)(?P<rest>.*)$", re.IGNORECASE)
_CODE_RE = re.compile(r"^[A-Z]+[0-9]{0,3}$")


@dataclass
class Suppression:
    line: int  # the line the comment is on
    column: int
    applies_to: tuple[int, ...]
    codes: tuple[str, ...]  # empty: every code
    reason: str
    cell: int | None = None

    def covers(self, code: str) -> bool:
        return not self.codes or any(code.startswith(c) for c in self.codes)


def _reason(rest: str) -> str:
    rest = rest.strip()
    rest = re.sub(r"^[-:—–]+\s*", "", rest)
    rest = rest.split("#", 1)[0].strip()  # another tool's trailing comment is not a reason
    return rest


def find_suppressions(text: str) -> list[Suppression]:
    found: list[Suppression] = []
    lowered = text.lower()
    if "mllint" not in lowered and "noqa" not in lowered:  # `# NOQA:SEED001` counts too
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        stripped = line.lstrip()
        alone = stripped.startswith("#")
        applies = (number, number + 1) if alone else (number,)
        match = _MLLINT.search(line)
        if match:
            raw = match.group("codes")
            codes = tuple(c.strip().upper() for c in raw.split(",") if c.strip()) if raw else ()
            found.append(Suppression(number, match.start() + 1, applies, codes, _reason(match.group("rest"))))
            continue
        match = _NOQA.search(line)
        if match:
            codes = tuple(c.strip().upper() for c in match.group("codes").split(","))
            ours = tuple(c for c in codes if c.startswith(FAMILIES) and _CODE_RE.match(c))
            if ours:
                found.append(Suppression(number, match.start() + 1, applies, ours, _reason(match.group("rest"))))
    return found


def unused(
    suppressions: dict[str, list[Suppression]], used: set[int], codes: list[str], selected: Callable[[str, str], bool],
    findings: list,
) -> list[tuple[str, Suppression, str]]:
    """(display path, suppression, message) for each suppression that names an unknown code or silenced
    nothing in this run (ruff's RUF100). A named code that could not have matched in this run (not
    selected, or not reported in a test file) leaves the suppression unreported; a bare `# mllint: ignore` is. When a finding that the
    suppression covers lists the suppressed line as a related location, the message says where the
    suppression belongs (at the finding's own line)."""
    from .codes import did_you_mean, is_known

    out: list[tuple[str, Suppression, str]] = []
    for display, sups in suppressions.items():
        for sup in sups:
            unknown = [c for c in sup.codes if not is_known(c, codes)]
            if unknown:
                names = ", ".join(f"{c}{did_you_mean(c, codes)}" for c in unknown)
                out.append((display, sup, f"suppression names unknown code {names}"))
                continue
            if id(sup) in used or (sup.codes and not all(_any_selected(c, codes, lambda code: selected(code, display)) for c in sup.codes)):
                continue
            what = ", ".join(sup.codes) if sup.codes else "all codes"
            message = f"suppression of {what} silenced nothing in this run"
            meant = _finding_with_related_line(findings, display, sup)
            if meant is not None:
                message += (f"; the {meant.code} finding it names this line for is reported at "
                            f"{meant.loc.path}:{meant.loc.line}: put the suppression there")
            out.append((display, sup, message))
    return out


def _any_selected(prefix: str, codes: list[str], selected: Callable[[str], bool]) -> bool:
    return any(code.startswith(prefix) and selected(code) for code in codes)


def _finding_with_related_line(findings: list, display: str, sup: Suppression):
    for finding in findings:
        if not sup.covers(finding.code):
            continue
        for rel in finding.related:
            if rel.loc.path == display and rel.loc.cell == sup.cell and rel.loc.line in sup.applies_to:
                return finding
    return None
