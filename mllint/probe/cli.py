"""`mllint probe [OPTIONS] -- python SCRIPT ARGS`: run a training script for a few optimiser steps under the
probe's instrumentation and report what it confirms (PRODUCT §6).

Importing this module imports neither torch nor the linter's engine: the `mllint` group loads it lazily.
Exit codes: 0 nothing confirmed, 1 a confirmed finding, 2 a usage error, torch missing, or a run that could
not be checked (crash, hang, no optimiser step), with the reason printed.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from .executors import cluster_options

INSTALL_HINT = "mllint probe needs PyTorch, which comes with the probe extra: pip install 'mllint-redflags[probe]'"
OWN_FORMATS = ("text", "json")


def _formats() -> list[str]:
    from ..report import FORMATS

    return list(dict.fromkeys([*OWN_FORMATS, *FORMATS]))


def _static(project: str, script: str | None, whole: bool):
    from .static import static_findings

    return static_findings(project, script, whole)


@click.command(
    name="probe",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False,
                      "help_option_names": ["-h", "--help"]},
)
@click.option("--steps", type=click.IntRange(min=1), default=20, show_default=True,
              help="Optimiser steps before the training epoch is ended (the script then evaluates and is stopped).")
@click.option("--seeds", "seed_count", type=click.IntRange(min=1), default=None,
              help="K runs with seeds 0..K-1 (overriding the script's seeding calls), with loss statistics.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: CUDA when present, else the CPU; cpu hides CUDA devices from the script.")
@click.option("--timeout", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="Seconds per run; the script's process group is killed after it.")
@click.option("--synthetic-data", is_flag=True,
              help="Replace torchvision datasets by deterministic synthetic tensors (also done when files are missing).")
@click.option("--eval-batches", type=click.IntRange(min=1), default=5, show_default=True,
              help="Batches per evaluation pass before the pass is ended.")
@click.option("--format", "fmt", default="text", show_default=True,
              help="text, json, or any of the linter's formats (sarif, ...): findings only, the run summary on stderr.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write the report to a file.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Runs in parallel (--seeds).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="PNG of the training loss per step, one curve per seed (matplotlib).")
@click.option("--project", type=click.Path(exists=True, file_okay=False), default=None,
              help="Mark the static findings of this whole folder (default: the script and the project modules it "
                   "imports, in the script's unit: its folder, or the nearest folder above with a README).")
@click.option("--keep", is_flag=True, help="Keep each run's temporary folder (redirected writes, record) and name it.")
@click.option("--no-static", is_flag=True, help="Skip the static analysis of the project.")
@cluster_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def probe(steps, seed_count, device, timeout, synthetic_data, eval_batches, fmt, output, jobs, plot_path, project,
          keep, no_static, command):
    """Run `python SCRIPT ARGS` (or `python -m MODULE ARGS`) for a few optimiser steps and confirm findings.

    Usage: mllint probe [OPTIONS] -- python train.py ARGS
    """
    from .executors import run_seeds, settings
    from .runner import CommandError, Spec, parse_command

    if fmt not in _formats():
        raise click.UsageError(f"unknown format {fmt!r} (choose from {', '.join(_formats())})")
    try:
        python, argv, root = parse_command(list(command), project)
    except CommandError as exc:
        raise click.UsageError(str(exc)) from None
    cluster = settings(root)  # --executor and [tool.mllint.probe]; torch may live on the cluster only
    if python == sys.executable and not cluster.remote and importlib.util.find_spec("torch") is None:
        click.echo(f"mllint probe: {INSTALL_HINT}", err=True)
        sys.exit(2)
    if plot_path and importlib.util.find_spec("matplotlib") is None:
        click.echo("mllint probe: --plot needs matplotlib: pip install 'mllint-redflags[probe]'", err=True)
        sys.exit(2)

    base = Spec(python, argv, root, steps=steps, eval_batches=eval_batches, timeout=timeout, device=device,
                synthetic=synthetic_data, keep_tmp=keep)
    seeds = list(range(seed_count)) if seed_count else [None]
    specs = [Spec(**{**base.__dict__, "seed": seed}) for seed in seeds]
    script = None if argv[0] == "-m" else os.path.abspath(argv[0])
    # the static pass runs while the script does (the runs are other processes, local or on a cluster)
    background = ThreadPoolExecutor(max_workers=1)
    pending_static = None if no_static else background.submit(_static, root, script, bool(project))
    outcomes = run_seeds(specs, cluster, jobs)

    from . import report as reporting
    from .verdicts import merge

    background.shutdown(wait=False)
    if any(o.status == "no-torch" for o in outcomes):
        click.echo(f"mllint probe: {INSTALL_HINT} (in the interpreter {python})", err=True)
        sys.exit(2)
    if any(o.status == "no-cuda" for o in outcomes):
        click.echo("mllint probe: --device cuda, but torch sees no CUDA device", err=True)
        sys.exit(2)

    static, static_error = [], None
    if pending_static is not None:
        try:
            static = pending_static.result()
        except Exception as exc:  # noqa: BLE001 - the run's own evidence still stands
            static_error = f"{type(exc).__name__}: {exc}"
    findings = merge(static, outcomes)
    result = reporting.ProbeReport(base, ["python", *argv], outcomes, findings, static_error=static_error)
    result.limits.extend(reporting.limits_of_runs(outcomes))
    for index, outcome in enumerate(outcomes):
        label = f"run {index + 1} (seed {outcome.seed}): " if len(outcomes) > 1 else ""
        result.problems.extend(label + p for p in reporting.problems_of(outcome))
    if seed_count and seed_count > 1:
        result.seeds = _seed_summary(outcomes, result.problems)
        result.printed = _printed_summary(outcomes)
    if plot_path:
        reporting.plot(result, plot_path)

    text, summary = reporting.render(result, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if summary:
        click.echo(summary, err=True, nl=False)
    if result.failed():
        sys.exit(2)
    sys.exit(1 if any(f.status == "confirmed" for f in findings) else 0)


def _seed_summary(outcomes: list, problems: list[str]):
    from .stats import summarise

    finals = []
    for outcome in outcomes:
        losses = [v for v in outcome.record.get("step_losses", []) if v is not None]
        if losses:
            finals.append(losses[-1])
    if len(finals) < 2:
        problems.append("fewer than two runs recorded a training loss: no seed statistics")
        return None
    return summarise(finals)


def _printed_summary(outcomes: list):
    """The same statistics over the training loss each run printed last, when every run printed one."""
    from .stats import summarise

    finals = [o.record["printed_losses"][-1][1] for o in outcomes if o.record.get("printed_losses")]
    return summarise(finals) if len(finals) == len(outcomes) and len(finals) > 1 else None


def main() -> None:
    probe(prog_name=os.environ.get("MLLINT_PROBE_PROG", "mllint probe"))
