"""The finding contract (PRODUCT §3): what every rule and diagnostic produces."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass
class Loc:
    """A source range in module coordinates (1-based lines, 1-based columns).

    Rules create Locs for CST nodes while they run; the engine fills the numbers in one
    position pass per file afterwards (see positions.py), so rules never pay for positions
    of nodes they do not report.
    """

    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    path: str = ""
    cell: int | None = None


def retarget(root: Any, old: str, new: str) -> None:
    """Give every Loc reachable from root whose path is `old` the path `new` (cached results carry the
    display path of the run that made them, which depends on its working folder). An object with a
    `retargeted(old, new)` method is told, for paths it keeps outside Locs."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
            continue
        seen.add(id(obj))
        if isinstance(obj, Loc):
            if obj.path == old:
                obj.path = new
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            hook = getattr(obj, "retargeted", None)
            if hook is not None:
                hook(old, new)
            stack.extend(vars(obj).values())
        elif hasattr(obj, "__slots__"):
            stack.extend(getattr(obj, name, None) for name in obj.__slots__)


@dataclass
class Related:
    loc: Loc
    message: str


@dataclass
class Finding:
    code: str
    name: str
    severity: Severity
    loc: Loc
    message: str
    hint: str = ""
    related: list[Related] = field(default_factory=list)
    suppressed: str | None = None  # the suppression's reason, when silenced
    status: str | None = None  # the probe's verdict on it: "confirmed", "not reproduced", "not checkable"

    def sort_key(self) -> tuple:
        return (self.loc.path, self.loc.cell or 0, self.loc.line, self.loc.column, self.code, self.message)

    def to_json(self) -> dict:
        data: dict = {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "path": self.loc.path,
            "line": self.loc.line,
            "column": self.loc.column,
            "end_line": self.loc.end_line,
            "end_column": self.loc.end_column,
            "message": self.message,
            "hint": self.hint,
            "related": [_related_json(r) for r in self.related],
        }
        if self.loc.cell is not None:
            data["cell"] = self.loc.cell
        if self.suppressed is not None:
            data["suppressed"] = {"reason": self.suppressed}
        if self.status is not None:
            data["status"] = self.status
        return data


def _related_json(rel: Related) -> dict:
    data = {"path": rel.loc.path, "line": rel.loc.line, "column": rel.loc.column, "message": rel.message}
    if rel.loc.cell is not None:
        data["cell"] = rel.loc.cell
    return data
