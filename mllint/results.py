"""What a run produces, as reporters see it (kept apart from the engine so that reporters need not import it)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Finding


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)  # sorted, unsuppressed
    suppressed: list[Finding] = field(default_factory=list)
    files: int = 0  # files reported on
    scanned: list[str] = field(default_factory=list)  # their display paths, sorted
    baselined: int = 0  # findings left out because a baseline or --changed-since covers them
    known: list[Finding] = field(default_factory=list)  # those findings (SARIF lists them as baselineState unchanged)
    compared: bool = False  # whether a baseline or --changed-since decided what is new
    sources: dict[str, str] = field(default_factory=dict)  # display path -> file to read it from (stdin)
