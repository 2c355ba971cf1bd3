"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Rules carry their metadata from rules/ (summary, the page's "What it flags", the hint and the page as help);
results carry regions, related locations, a code flow for LEAK findings (held-out source -> hops -> the
sink where it is used), partialFingerprints (the baseline's line-number-free hashes, so that code scanning
follows a finding across commits), `suppressions` for silenced findings (always listed: the viewer decides),
and `baselineState` (new / unchanged) when a baseline or --changed-since decided what is new.
Paths are relative to %SRCROOT%, the working folder (GitHub resolves them against the checkout).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from ..findings import Finding, Loc, Severity
from ..results import RunResult
from . import common

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FLOW_FAMILIES = ("LEAK",)


def _uri(path: str) -> str:
    return quote(path.replace(os.sep, "/"), safe="/")


def _physical(loc: Loc, with_end: bool = True) -> dict:
    location: dict = {"artifactLocation": {"uri": _uri(loc.path), "uriBaseId": "%SRCROOT%"}}
    if loc.cell is None and loc.line >= 1:  # a notebook's lines are within a cell, not the .ipynb file
        region = {"startLine": loc.line, "startColumn": max(loc.column, 1)}
        if with_end and loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
            if loc.end_column > (loc.column if loc.end_line == loc.line else 0):
                region["endColumn"] = loc.end_column
        location["region"] = region
    return location


def _where(loc: Loc) -> str:
    return f"cell {loc.cell}, line {loc.line}: " if loc.cell is not None else ""


def _rule(code: str) -> dict:
    meta = common.rule_meta(code)
    rule: dict = {
        "id": code,
        "name": meta["name"],
        "shortDescription": {"text": meta["summary"] or meta["name"]},
        "fullDescription": {"text": meta["description"] or meta["summary"] or meta["name"]},
        "help": {"text": meta["hint"] or meta["summary"] or meta["name"], "markdown": meta["page"] or meta["hint"]},
        "defaultConfiguration": {"level": LEVELS[Severity.parse(meta["severity"])]},
        "properties": {"tags": [common.family(code)]},
    }
    url = meta["url"]
    if url and url.startswith(("http://", "https://")):  # a viewer elsewhere cannot open this machine's files
        rule["helpUri"] = url
    return rule


def _result(result: RunResult, f: Finding, index: dict[str, int], state: str | None) -> dict:
    out: dict = {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": LEVELS[f.severity],
        "message": {"text": _where(f.loc) + f.message},
        "locations": [{"physicalLocation": _physical(f.loc)}],
    }
    if state is not None:
        out["baselineState"] = state
    line, context = _fingerprints(result, f)
    out["partialFingerprints"] = {"mllintLineHash/v1": line, "mllintContextHash/v1": context}
    if f.loc.cell is not None:
        out["properties"] = {"cell": f.loc.cell}
    if f.related:
        out["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(r.loc, with_end=False), "message": {"text": _where(r.loc) + r.message}}
            for i, r in enumerate(f.related, start=1)
        ]
        if common.family(f.code) in FLOW_FAMILIES:
            steps = [(r.loc, r.message) for r in f.related] + [(f.loc, f.message)]
            out["codeFlows"] = [{"threadFlows": [{"locations": [
                {"location": {"physicalLocation": _physical(loc, with_end=False), "message": {"text": _where(loc) + text}},
                 "nestingLevel": 0, "executionOrder": order}
                for order, (loc, text) in enumerate(steps, start=1)
            ]}]}]
    if f.suppressed is not None:
        suppression: dict = {"kind": "inSource", "status": "accepted"}
        if f.suppressed:
            suppression["justification"] = f.suppressed
        out["suppressions"] = [suppression]
    return out


def _state(result: RunResult, f: Finding, new: set[int]) -> str | None:
    if not result.compared or f.suppressed is not None:
        return None
    return "new" if id(f) in new else "unchanged"


def _fingerprints(result: RunResult, f: Finding) -> tuple[str, str]:
    from ..baseline import fingerprints

    return fingerprints(result, f)


def render(result: RunResult, **_: object) -> str:
    from .. import __version__

    # every result, as the SARIF consumer decides what to show: silenced ones carry `suppressions`, and with a
    # baseline or --changed-since, known ones are `baselineState: unchanged` and the rest `new`
    new = {id(f) for f in result.findings}
    findings = sorted([*result.findings, *result.suppressed, *result.known], key=Finding.sort_key)
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    run = {
        "tool": {"driver": {
            "name": "mllint",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule(code) for code in codes],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(os.getcwd()).as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(result, f, index, _state(result, f, new)) for f in findings],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, ensure_ascii=False) + "\n"
