"""The probe's report: what ran (per seed), compute accounting, seeds, redirected writes, the --seeds statistics,
and the findings with their status. `text` and `json` are the probe's own; any other name is handed to the
linter's reporters (`mllint.report.FORMATS`, e.g. SARIF) with the findings, and the run summary goes to stderr."""
from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field

from ..engine import RunResult, display_path
from ..findings import Finding
from .runner import Outcome, Spec
from .stats import SeedSummary

STATUS_TEXT = {
    "steps": "stopped after the step budget", "finished": "ended on its own", "exit": "exited with an error code",
    "crash": "crashed", "stopped-by-error": "stopped (the script failed once the probe ended its epoch)",
    "timeout": "hung: killed at the timeout", "no-record": "ended without a report from the probe",
    "no-torch": "could not import torch", "no-cuda": "no CUDA device", "probe-error": "could not be instrumented",
    "not-started": "could not be started",
    "task-failed": "gave no result: its cluster task failed",  # probe/executors.py
    "probe-caused": "failed because of the probe's own redirection of file writes",
}
NMS = "operator torchvision::nms does not exist"
GOOD = {"steps", "finished", "stopped-by-error"}


@dataclass
class ProbeReport:
    spec: Spec
    command: list[str]
    outcomes: list[Outcome]
    findings: list[Finding]
    seeds: SeedSummary | None = None
    printed: SeedSummary | None = None  # the same over the loss the script printed last, when every run printed one
    static_error: str | None = None
    problems: list[str] = field(default_factory=list)  # why a run could not be checked
    limits: list[str] = field(default_factory=list)  # what a run that did train could not check

    def failed(self) -> bool:
        return bool(self.problems)


def problems_of(outcome: Outcome) -> list[str]:
    """Clear reasons a run could not be checked: crash, hang, no optimiser step, no DataLoader."""
    record, status = outcome.record, outcome.status
    out = []
    if status not in GOOD:
        out.append(STATUS_TEXT.get(status, status))
    error = record.get("error") or {}
    if error.get("probe_cause"):
        out.append(f"the probe caused this failure, not the script: {error['probe_cause']}")
    if NMS in (error.get("message") or "") or any(NMS in line for line in outcome.stderr_tail):
        out.append(f"torchvision does not load beside this torch (`{NMS}`): the two builds do not pair (often a "
                   f"CUDA torchvision beside a CPU-only torch); install both from one index, as the README's "
                   f"probe section shows")
    if record.get("steps") == 0 and status in GOOD | {"crash", "timeout", "exit"}:
        out.append("no optimiser step was taken (the step counter and the checks that need training stayed at 0)")
    return out


def limits_of(outcome: Outcome) -> list[str]:
    """What a run that did step could not check."""
    record = outcome.record
    out = []
    if record.get("steps") and "loaders" in record and not record["loaders"]:
        out.append("no DataLoader was built: samples could not be fingerprinted (LEAK overlap not checkable)")
    if record.get("steps"):
        for code, reason in sorted(record.get("unchecked", {}).items()):
            out.append(f"{code} not checked: {reason}")
    return out


def limits_of_runs(outcomes: list[Outcome]) -> list[str]:
    """Each run's limits, those that every run shares said once."""
    if len(outcomes) == 1:
        return limits_of(outcomes[0])
    every = set.intersection(*(set(limits_of(o)) for o in outcomes))
    out = [f"all runs: {p}" for p in dict.fromkeys(limits_of(outcomes[0])) if p in every]
    for index, outcome in enumerate(outcomes):
        out.extend(f"run {index + 1} (seed {outcome.seed}): {p}" for p in limits_of(outcome) if p not in every)
    return out


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 'es' if word.endswith(('s', 'ch')) else 's'}"


def _user_traceback(text: str) -> list[str]:
    """The script's traceback without the frames of installed packages, ending with the exception line."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("  File "):
            skipping = any(part in line for part in ("site-packages", "dist-packages", "/mllint/probe/", '"<frozen'))
        elif not line.startswith(" "):
            skipping = False
        if not skipping and line.strip() and not set(line.strip()) <= {"^", "~"}:
            out.append(line)
    return out[-9:]


def _median_ms(times: list[float]) -> str:
    return f"{statistics.median(times) * 1000:.1f} ms" if times else "-"


def _site(site) -> str:
    if not site:
        return "?"
    return f"{display_path(site[0])}:{site[1]}"


def _effective(record: dict) -> str:
    samples = [s for s in record.get("step_samples", []) if s]
    micro = [m for m in record.get("step_micro", []) if m]
    if not samples:
        return "-"
    batch = statistics.mode(samples)
    per = statistics.mode(micro) if micro else 1
    return f"{batch} ({per} micro-batch{'es' if per != 1 else ''} of {batch // per} per step)" if per > 1 else str(batch)


def _run_lines(outcome: Outcome, index: int, total: int) -> list[str]:
    record = outcome.record
    label = f"run {index + 1}/{total}" + (f" (seed {outcome.seed})" if outcome.seed is not None else "")
    status = STATUS_TEXT.get(outcome.status, outcome.status)
    lines = [f"{label}: {status}, {outcome.wall:.1f} s"]
    if "steps" in record:
        times = record.get("step_times", [])[1:] or record.get("step_times", [])
        steps = (f"{record['steps']} update{'' if record['steps'] == 1 else 's'} by hand" if record.get("manual_steps")
                 else _n(record["steps"], "optimiser step"))
        lines.append(f"  compute: {steps}, {_n(record.get('backwards', 0), 'backward pass')}, "
                     f"{record.get('samples_trained', 0)} samples trained, effective batch {_effective(record)}, "
                     f"device {record.get('device') or '-'}, {_median_ms(times)} per step (median)")
        if record.get("root_inputs") and record.get("samples_trained"):
            shapes = ", ".join("(" + ", ".join(map(str, shape)) + ")" for shape in record["root_inputs"])
            lines.append(f"  samples counted from the first dimension of the model's input (no DataLoader; input shape "
                         f"{shapes}: a sequence-first input counts time steps)")
        losses = [v for v in record.get("step_losses", []) if v is not None]
        if losses:
            lines.append(f"  training loss at the last step: {losses[-1]:.4g}, {record.get('loss_quantity', '')}")
        printed = record.get("printed_losses") or []
        if printed:
            step, value, line = printed[-1]
            ours = record.get("step_losses", [])[step - 1] if 0 < step <= len(record.get("step_losses", [])) else None
            same = f"; the probe's loss of step {step}: {ours:.6g}" if ours is not None else ""
            lines.append(f"  training loss the script printed last: {value:g} (after step {step}: {line!r}{same})")
        for loader in record.get("loaders", []):
            lines.append(f"  loader {_site(loader['site'])} {loader['dataset']}: {_n(loader['batches'], 'batch')}, "
                         f"{loader['samples']} samples, {loader['role']}"
                         + (f" ({_n(loader['eval_passes'], 'pass')})" if loader["eval_passes"] else ""))
        lines.extend(_seed_lines(record.get("seeds", [])))
        folder = outcome.kept
        for write in record.get("redirects", []):
            to = write["to"] if folder else "the probe's temporary folder, removed at the end (--keep keeps it)"
            lines.append(f"  write redirected: {display_path(write['path'])} -> {to} ({write['kind']} at "
                         f"{_site(write['site'])})")
        for hidden in record.get("hidden", []):
            lines.append(f"  user file left in place: {display_path(hidden['path'])} ({hidden['how']} at "
                         f"{_site(hidden['site'])}; the run saw it as gone)")
        for folder_path in record.get("skipped_removals", []):
            lines.append(f"  user folder left in place: {display_path(folder_path)} (shutil.rmtree not done)")
        if record.get("created_dirs"):
            lines.append(f"  folders created by the script and removed again: "
                         f"{', '.join(display_path(d) for d in record['created_dirs'])}")
        if record.get("synthetic"):
            lines.append(f"  synthetic data: {', '.join(record['synthetic'])}")
        for note in record.get("notes", []):
            lines.append(f"  note: {note}")
    if outcome.kept:
        lines.append(f"  kept: {outcome.kept} (redirected writes and the run's record; --keep)")
    error = record.get("error")
    if error:
        where = f" at {_site(error['site'])}" if error.get("site") else ""
        lines.append(f"  error: {error['type']}: {error['message']}{where}")
        trace = _user_traceback(error.get("traceback") or "")
        if trace:
            lines.append("  the script's traceback (end):")
            lines.extend(f"    {line}" for line in trace)
    if outcome.status not in GOOD or error:
        tail = [line for line in outcome.stderr_tail if line.strip()][-12:]
        if tail:
            lines.append("  last lines of the script's stderr:")
            lines.extend(f"    {line}" for line in tail)
    return lines


def _seed_lines(seeds: list[dict]) -> list[str]:
    """The script's seeding calls one per call site; per-sample and library seeding apart, grouped too."""
    out = []
    for seed in seeds:
        over = f" -> {seed['overridden_to']} (--seeds)" if "overridden_to" in seed else ""
        count = seed["count"]
        kind = seed.get("kind", "script")
        values = seed.get("values") or [seed["value"]]
        shown = f"{seed['api']}({seed['value']})" if len(values) == 1 else \
            f"{seed['api']}({len(values)}{'+' if len(values) >= 50 else ''} values: {', '.join(map(str, values[:3]))}, ...)"
        times = f" x{count}" if count > 1 else ""
        via = f", reached from {_site(seed['from'])}" if seed.get("from") and seed["from"] != seed["site"] else ""
        if kind == "script":
            out.append(f"  seed: {shown}{over} at {_site(seed['site'])}{times}{via}")
        else:
            what = "per-sample seeding in data loading" if kind == "per-sample" else "library seeding"
            out.append(f"  {what} (not the run's seed): {shown} at {_site(seed['site'])}{times}{via}")
    return out


def _finding_lines(finding: Finding) -> list[str]:
    loc = finding.loc
    status = f" [{finding.status}]" if finding.status else ""
    out = [f"{loc.path}:{loc.line}:{loc.column}: {finding.code}{status} {finding.message}"]
    for rel in finding.related:
        out.append(f"  = related: {rel.loc.path}:{rel.loc.line}:{rel.loc.column}: {rel.message}")
    if finding.hint:
        out.append(f"  = help: {finding.hint}")
    return out


def loss_notes(report: ProbeReport) -> list[str]:
    """The synthetic-data caveat on a seed interval, and a final loss at chance level (chance.py)."""
    from . import chance

    records = [outcome.record for outcome in report.outcomes]
    synthetic = sorted({name for record in records for name in record.get("synthetic", [])})
    finals = report.seeds.values if report.seeds is not None else [
        losses[-1] for losses in ([v for v in r.get("step_losses", []) if v is not None] for r in records) if losses]
    interval_on_synthetic = report.seeds is not None and bool(report.spec.synthetic or synthetic)
    return chance.loss_notes(finals, interval_on_synthetic, chance.classes_of_synthetic(synthetic))


def summary_text(report: ProbeReport) -> str:
    spec = report.spec
    lines = [f"mllint probe: {' '.join(report.command)}",
             f"  {spec.steps} steps, device {spec.device}, timeout {spec.timeout:g} s"
             + (", synthetic data" if spec.synthetic else "")]
    for index, outcome in enumerate(report.outcomes):
        lines.extend(_run_lines(outcome, index, len(report.outcomes)))
    if report.seeds is not None:
        s = report.seeds
        lines.append(f"seeds: training loss at the last step over {len(s.values)} seeds: mean {s.mean:.4g}, "
                     f"std {s.std:.3g}, 95 % interval [{s.low:.4g}, {s.high:.4g}] (t = {s.t:.3f})")
        lines.append(f"  a difference between two methods smaller than {s.min_detectable:.3g} in this loss cannot be "
                     f"told from seed noise with {len(s.values)} seeds each (two-sided 5 % test, 80 % power)")
        quantity = next((o.record.get("loss_quantity") for o in report.outcomes if o.record.get("loss_quantity")), "")
        if quantity:
            lines.append(f"  the loss of a step is {quantity}")
    if report.printed is not None:
        p = report.printed
        lines.append(f"seeds: training loss the script printed last, over {len(p.values)} seeds: mean {p.mean:.4g}, "
                     f"std {p.std:.3g}, 95 % interval [{p.low:.4g}, {p.high:.4g}], smallest detectable difference "
                     f"{p.min_detectable:.3g}")
    lines.extend(f"note: {note}" for note in loss_notes(report))
    if report.static_error:
        lines.append(f"static analysis skipped: {report.static_error}")
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    for limit in report.limits:
        lines.append(f"limit: {limit}")
    return "\n".join(lines) + "\n"


def render_text(report: ProbeReport) -> str:
    out = [summary_text(report)]
    for finding in report.findings:
        out.append("\n".join(_finding_lines(finding)) + "\n")
    counts: dict[str, int] = {}
    for finding in report.findings:
        counts[finding.status or "-"] = counts.get(finding.status or "-", 0) + 1
    if report.findings:
        out.append(f"{len(report.findings)} findings: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + "\n")
    else:
        out.append("No findings.\n")
    return "\n".join(out)


def _outcome_json(outcome: Outcome) -> dict:
    record = outcome.record
    keep = ("steps", "backwards", "samples_trained", "step_losses", "loss_quantity", "printed_losses", "step_samples",
            "step_micro", "step_times", "step_cpu", "manual_steps", "root_inputs", "device", "loaders", "seeds", "saves",
            "redirects", "hidden", "skipped_removals", "created_dirs", "synthetic", "notes", "unchecked", "error",
            "exit_code")
    data = {"seed": outcome.seed, "status": outcome.status, "wall": outcome.wall, "returncode": outcome.returncode,
            "redirect_folder": outcome.kept, "problems": problems_of(outcome)}
    data.update({k: record[k] for k in keep if k in record})
    if outcome.status not in GOOD:
        data["stderr_tail"] = outcome.stderr_tail[-20:]
    return data


def render_json(report: ProbeReport) -> str:
    data = {
        "command": report.command,
        "settings": {"steps": report.spec.steps, "device": report.spec.device, "timeout": report.spec.timeout,
                     "synthetic_data": report.spec.synthetic, "eval_batches": report.spec.eval_batches},
        "runs": [_outcome_json(o) for o in report.outcomes],
        "seeds": report.seeds.to_json() if report.seeds else None,
        "seeds_printed_loss": report.printed.to_json() if report.printed else None,
        "loss_notes": loss_notes(report),
        "problems": report.problems,
        "limits": report.limits,
        "static_error": report.static_error,
        "findings": [f.to_json() for f in report.findings],
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=repr) + "\n"


def render(report: ProbeReport, fmt: str) -> tuple[str, str]:
    """(stdout, stderr) for a format name."""
    if fmt == "text":
        return render_text(report), ""
    if fmt == "json":
        return render_json(report), ""
    from ..report import FORMATS

    result = RunResult(findings=list(report.findings), files=len({f.loc.path for f in report.findings}))
    return FORMATS[fmt](result), summary_text(report)


def plot(report: ProbeReport, path: str) -> None:
    """Training loss per optimiser step, one curve per seed (matplotlib, from the probe extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for outcome in report.outcomes:
        losses = outcome.record.get("step_losses") or []
        points = [(i + 1, v) for i, v in enumerate(losses) if v is not None]
        if points:
            label = f"seed {outcome.seed}" if outcome.seed is not None else "run"
            axes.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=label)
    axes.set_xlabel("optimiser step")
    axes.set_ylabel("training loss")
    axes.set_title(os.path.basename(report.command[1] if len(report.command) > 1 else "probe"))
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
