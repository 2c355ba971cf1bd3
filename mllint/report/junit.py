"""`--format junit`: JUnit XML as CI servers read it (Jenkins, GitLab, Azure, ...), in the shape of the Ant
JUnit schema: one <testsuite> per linted file, one failing <testcase> per finding (type = the code), and
one passing <testcase> for a file without findings, so that a CI server counts clean files too."""
from __future__ import annotations

import socket
from datetime import datetime, timezone
from xml.sax.saxutils import quoteattr, escape

from ..findings import Finding
from ..results import RunResult
from . import common


def _where(f: Finding) -> str:
    cell = f"cell {f.loc.cell}:" if f.loc.cell is not None else ""
    return f"{f.loc.path}:{cell}{f.loc.line}:{f.loc.column}"


def _case(f: Finding) -> str:
    details = [f"{_where(f)}: {f.code} [{f.severity}] {f.message}"]
    details += [f"related: {r.loc.path}:{r.loc.line}:{r.loc.column}: {r.message}" for r in f.related]
    if f.suppressed is not None:
        details.append(f"suppressed: {f.suppressed or '(no reason given)'}")
    if f.hint:
        details.append(f"help: {f.hint}")
    name = f"{f.code} {f.name} at {_where(f)}"
    body = f"<failure message={quoteattr(f.message)} type={quoteattr(f.code)}>{escape(chr(10).join(details))}</failure>"
    if f.suppressed is not None:
        body = f"<skipped message={quoteattr('suppressed: ' + (f.suppressed or '(no reason given)'))}/>"
    return f'    <testcase classname={quoteattr(f.loc.path)} name={quoteattr(name)} time="0">{body}</testcase>'


def render(result: RunResult, *, show_suppressed: bool = False, **_: object) -> str:
    by_file: dict[str, list[Finding]] = {path: [] for path in result.scanned}
    for f in common.listed(result, show_suppressed):
        by_file.setdefault(f.loc.path, []).append(f)
    stamp = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()
    host = quoteattr(socket.gethostname() or "localhost")
    suites = []
    total = failures = 0
    for index, (path, findings) in enumerate(sorted(by_file.items())):
        cases = [_case(f) for f in findings] or [
            f'    <testcase classname={quoteattr(path)} name={quoteattr("mllint: no findings")} time="0"/>']
        failed = sum(1 for f in findings if f.suppressed is None)
        silenced = len(findings) - failed
        total += len(cases)
        failures += failed
        suites.append(
            f'  <testsuite name={quoteattr(path)} package="mllint" id="{index}" timestamp="{stamp}" hostname={host} '
            f'tests="{len(cases)}" failures="{failed}" errors="0" skipped="{silenced}" time="0">\n'
            f"    <properties/>\n" + "\n".join(cases) + "\n    <system-out/>\n    <system-err/>\n  </testsuite>")
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mllint" tests="{total}" '
            f'failures="{failures}" errors="0" time="0">')
    return "\n".join([head, *suites, "</testsuites>"]) + "\n"
