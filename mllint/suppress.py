"""Suppression comments: `# mllint: ignore[CODE, ...] reason` and `# noqa: CODE reason`.

A suppression applies to findings on its own line, or, when it stands alone on a comment line,
to the next line. `# noqa` comments count only when they name an mllint code, so flake8/ruff
`# noqa` comments neither silence mllint nor get reported by it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

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
    if "mllint" not in text and "noqa" not in text:
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
