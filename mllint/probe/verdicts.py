"""Evidence from the runs -> findings with the static rules' codes, and the static findings marked
`confirmed`, `not reproduced` or `not checkable`."""
from __future__ import annotations

from typing import Any, Iterable

from ..engine import display_path
from ..findings import Finding, Loc, Related, Severity
from .runner import Outcome

CONFIRMED, NOT_REPRODUCED, NOT_CHECKABLE = "confirmed", "not reproduced", "not checkable"

# Codes the probe can answer, with what to show when the static rule is not installed.
CODES: dict[str, tuple[str, Severity, str]] = {
    "LEAK001": ("test-split-in-training", Severity.ERROR,
                "Train only on the training split; keep the test set for the one final evaluation."),
    "LEAK002": ("held-out-selection", Severity.ERROR,
                "Select checkpoints on a validation split carved from the training data."),
    "SEED001": ("single-fixed-seed", Severity.WARNING,
                "Run at least 3 seeds and report mean ± std or a Student-t interval (`mllint probe --seeds 3`)."),
    "SEED002": ("seed-option-single-default", Severity.WARNING,
                "Run at least 3 seeds and report mean ± std or a Student-t interval (`mllint probe --seeds 3`)."),
    "EVAL001": ("ema-at-evaluation", Severity.WARNING,
                "Report the raw model's result beside the averaged one, or put the EMA behind an explicit option."),
    "EVAL004": ("eval-without-eval-mode", Severity.WARNING,
                "Call model.eval() before evaluating (and model.train() before training again)."),
    "PREP001": ("bgr-rgb-mismatch", Severity.ERROR,
                "Convert the images to RGB (cv2.cvtColor(img, cv2.COLOR_BGR2RGB) or img[..., ::-1]) before normalising."),
}
# Reported on their own when no static finding carries them: the run alone shows the problem. LEAK002 and
# SEED001 need the static side (is the evaluated split held out? is there a sweep elsewhere?).
STANDALONE = {"LEAK001", "EVAL001", "EVAL004", "PREP001"}
# The evidence that answers a static code: a seeding call observed at run time answers both SEED rules.
EVIDENCE_FOR = {"SEED002": "SEED001"}


def _rule_meta(code: str) -> tuple[str, Severity, str]:
    try:
        from ..rules import all_rules

        rule = all_rules().get(code)
    except Exception:  # noqa: BLE001 - a broken plugin must not hide the probe's result
        rule = None
    if rule is not None:
        return rule.name, rule.severity, rule.hint
    return CODES[code]


def loc_of(site: Any) -> Loc:
    if not site:
        return Loc(0, 0, 0, 0, "<probe>")
    path, line, column = site[0], int(site[1]), int(site[2])
    return Loc(line, column, line, column, display_path(path))


def _touched(record: dict, script: str | None) -> set[str]:
    """Files the run went through (sites it recorded): a static finding elsewhere was not exercised."""
    paths: set[str] = {display_path(script)} if script else set()
    stack: list[Any] = [record]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            site = item.get("site")
            if isinstance(site, list) and site and isinstance(site[0], str):
                paths.add(display_path(site[0]))
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return paths


def _seed_evidence(record: dict) -> list[dict]:
    calls = [s for s in record.get("seeds", []) if s.get("value") is not None and s.get("kind", "script") == "script"]
    if not calls:
        return []
    shown = ", ".join(f"{s['api']}({s['value']})" for s in calls[:4])
    return [{"code": "SEED001", "site": calls[0].get("site"), "related": [],
             "message": f"the run seeds with fixed values: {shown}"}]


def evidence_of(outcomes: Iterable[Outcome]) -> tuple[dict[str, list[dict]], set[str], set[str]]:
    """Evidence per code (from the first run that shows it), the codes some run could check, the files run."""
    evidence: dict[str, list[dict]] = {}
    checked: set[str] = set()
    touched: set[str] = set()
    for outcome in outcomes:
        record = outcome.record
        if not record or "steps" not in record:
            continue
        touched |= _touched(record, outcome.script)
        checked |= {code for code, ok in record.get("checked", {}).items() if ok}
        if record.get("steps") or record.get("seeds"):
            checked.add("SEED001")
        items = list(record.get("evidence", [])) + _seed_evidence(record)
        for item in items:
            if item["code"] not in evidence:
                evidence[item["code"]] = [item]
    return evidence, checked, touched


def _finding(item: dict) -> Finding:
    name, severity, hint = _rule_meta(item["code"])
    related = [Related(loc_of(r.get("site")), r["message"]) for r in item.get("related", [])]
    return Finding(item["code"], name, severity, loc_of(item.get("site")), item["message"], hint, related,
                   status=CONFIRMED)


def merge(static: list[Finding], outcomes: list[Outcome]) -> list[Finding]:
    """Mark each static finding, attach the run's evidence to the ones it confirms, and add the dynamic
    findings no static finding carries. Sorted as the linter sorts."""
    evidence, checked, touched = evidence_of(outcomes)
    out: list[Finding] = []
    carried: set[str] = set()
    for finding in static:
        code = EVIDENCE_FOR.get(finding.code, finding.code)
        if finding.code not in CODES or finding.loc.path not in touched:
            finding.status = NOT_CHECKABLE
        elif code in evidence:
            finding.status = CONFIRMED
            carried.add(code)
            for item in evidence[code]:
                finding.related.append(Related(loc_of(item.get("site")), f"probe: {item['message']}"))
        elif code in checked:
            finding.status = NOT_REPRODUCED
        else:
            finding.status = NOT_CHECKABLE
        out.append(finding)
    for code, items in evidence.items():
        if code in STANDALONE and code not in carried:
            out.extend(_finding(item) for item in items)
    out.sort(key=Finding.sort_key)
    return out
