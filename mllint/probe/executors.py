"""Where `mllint probe` runs: local threads (the default), a Ray cluster, or SLURM through submitit.

Each run (one seed) is one task that calls `runner.run_once` on its node, so the bootstrap, the offline switches,
the timeout and the record are those of a local run; the outcomes come back in seed order and the statistics are
computed from them as for a local sweep. A task that fails (a lost node, a killed job) becomes an outcome with the
status `task-failed` and the executor's error: it is reported and the other seeds stand. The nodes must see the
project, its interpreter and mllint at the same paths (a shared filesystem, as SLURM clusters have).
ray and submitit are imported only when chosen; settings come from the options below or `[tool.mllint.probe]`.
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import click

from ..config import EXECUTORS, slurm_minutes

EXTRAS = {"ray": ("ray", "probe-ray", "Ray"), "slurm": ("submitit", "probe-slurm", "submitit")}
META = "mllint.probe.cluster"
FAILED = "task-failed"
GOOD = ("steps", "finished", "stopped-by-error")  # report.GOOD, without importing the engine in a worker
SLURM_MARGIN_MIN = 5  # the job's limit over the probe's own --timeout: interpreter start, torch import, record
QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD", "SUSPENDED",
          "UNKNOWN", "QUEUED"}


class ExecutorError(click.ClickException):
    """The executor could not start the runs (no cluster at the address, a rejected submission): exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mllint probe: {self.message}", err=True)


@dataclass
class Cluster:
    """The executor and what each task asks for; None means the executor's default."""

    executor: str = "local"
    ray_address: str | None = None
    partition: str | None = None
    time: int | None = None  # minutes per task (SLURM)
    gpus: int | None = None
    cpus: int | None = None
    mem_gb: float | None = None
    log_folder: str | None = None
    slurm_parameters: dict = field(default_factory=dict)  # other sbatch options: account, qos, constraint, ...
    slurm_cluster: str = "slurm"  # submitit's `cluster`: "local" runs the same jobs as local processes (tests)

    @property
    def remote(self) -> bool:
        return self.executor != "local"


# -- options -------------------------------------------------------------------------------------------------------

def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Options are kept in ctx.meta so that the probe command's signature stays as it is."""
    if value is not None:
        ctx.meta.setdefault(META, {})[param.name] = value
    return value


def _minutes(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is None:
        return None
    try:
        return _keep(ctx, param, slurm_minutes(int(value) if value.isdigit() else value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def cluster_options(command: Callable) -> Callable:
    """The executor options of `mllint probe`, added by one decorator."""
    options = [
        click.option("--executor", type=click.Choice(EXECUTORS), default=None, expose_value=False, callback=_keep,
                     help="Where the runs go: local processes (default), a Ray cluster, or SLURM jobs through "
                          "submitit; one task per seed (--jobs applies to local runs and a local Ray instance). "
                          "Default from [tool.mllint.probe] executor."),
        click.option("--ray-address", default=None, expose_value=False, callback=_keep,
                     help="The Ray cluster to join (ray.init(address=...), e.g. auto or ray://head:10001); "
                          "without it a local Ray instance is started with --jobs CPUs."),
        click.option("--partition", default=None, expose_value=False, callback=_keep, help="SLURM partition."),
        click.option("--time", "time", default=None, expose_value=False, callback=_minutes,
                     help="SLURM time limit per run: minutes or [D-]HH:MM:SS (default: --timeout plus 5 minutes)."),
        click.option("--gpus", type=click.IntRange(min=0), default=None, expose_value=False, callback=_keep,
                     help="GPUs per run (Ray, SLURM). Default 1 with --device cuda (Ray: also auto on a cluster "
                          "with GPUs), else 0."),
        click.option("--cpus", type=click.IntRange(min=1), default=None, expose_value=False, callback=_keep,
                     help="CPUs per run (Ray, SLURM; default 1)."),
        click.option("--mem-gb", "mem_gb", type=click.FloatRange(min=0, min_open=True), default=None,
                     expose_value=False, callback=_keep, help="Memory per run in GB (SLURM)."),
        click.option("--log-folder", default=None, expose_value=False, callback=_keep,
                     help="submitit's folder for jobs and logs, visible from the nodes (default: a new folder "
                          "under ~/.cache/mllint/submitit, removed when every job succeeded)."),
        # submitit's `cluster`: local/debug run the SLURM path without SLURM (the tests use it)
        click.option("--slurm-cluster", type=click.Choice(["slurm", "local", "debug"]), default=None,
                     expose_value=False, callback=_keep, hidden=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def settings(root: str) -> Cluster:
    """The executor settings: [tool.mllint.probe] of the script's project, then the command line's options.
    Exits 2 with the extra to install when the chosen engine is missing."""
    from ..config import ConfigError, load_config

    try:
        table = load_config(None, Path(root)).probe
    except ConfigError as exc:
        raise click.UsageError(f"configuration: {exc}") from None
    values = {key.replace("-", "_"): value for key, value in table.items()}
    ctx = click.get_current_context(silent=True)
    values.update(ctx.meta.get(META, {}) if ctx else {})
    cluster = Cluster(**values)
    if cluster.remote:
        module, extra, name = EXTRAS[cluster.executor]
        if importlib.util.find_spec(module) is None:
            click.echo(f"mllint probe: --executor {cluster.executor} needs {name}: "
                       f"pip install 'mllint-redflags[probe,{extra}]'", err=True)
            sys.exit(2)
    return cluster


# -- progress ------------------------------------------------------------------------------------------------------

class Progress:
    """Tasks queued, running, done (the run ended, however it ended) and failed (no result, or a run that could
    not be checked), on stderr: one rewritten line on a terminal, a line per change otherwise."""

    STATES = ("queued", "running", "done", "failed")

    def __init__(self, total: int, where: str, show: bool, stream: Any = None) -> None:
        self.states = ["queued"] * total
        self.where, self.show, self.stream = where, show, stream or sys.stderr
        self.live = show and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = ""
        self.lock = threading.Lock()

    def set(self, index: int, state: str, message: str | None = None) -> None:
        with self.lock:
            if self.states[index] in ("done", "failed") or self.states[index] == state:
                return
            self.states[index] = state
            if self.show and message:
                self._write(f"mllint probe: {message}", final=True)
            self._line()

    def _line(self) -> None:
        counts = ", ".join(f"{self.states.count(s)} {s}" for s in self.STATES)
        line = f"mllint probe: {len(self.states)} run{'s' if len(self.states) != 1 else ''} {self.where}: {counts}"
        if self.show and line != self.last:
            self.last = line
            self._write(line, final=False)

    def _write(self, text: str, final: bool) -> None:
        if self.live:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
            if final and self.last:
                self.stream.write(self.last)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def start(self) -> None:
        with self.lock:
            self._line()

    def close(self) -> None:
        if self.live and self.last:
            self.stream.write("\n")
            self.stream.flush()


def _finished(progress: Progress, index: int, outcome: Any, seed_label: str) -> None:
    if outcome.status in GOOD:
        progress.set(index, "done")
        return
    error = outcome.record.get("error") or {}
    if error:
        why = f"{error.get('type')}: {error.get('message', '')}"
    else:
        why = outcome.status + (f": {outcome.stderr_tail[-1]}" if outcome.stderr_tail else "")
    progress.set(index, "failed", f"{seed_label}: {why[:300]}")


def _label(spec: Any, index: int) -> str:
    return f"run {index + 1}" + (f" (seed {spec.seed})" if spec.seed is not None else "")


def failed_outcome(spec: Any, error: BaseException, where: str, logs: list[str] | None = None) -> Any:
    """The outcome of a task that gave no result: the executor's error as the run's error (the report prints it
    as it prints a script's), with the job's log files."""
    from .runner import Outcome

    lines = [line.strip() for line in str(error).splitlines() if line.strip() and not set(line.strip()) <= {"-"}]
    message = " ".join(lines[:2])[:500] or "no message"
    if logs:
        message += f" (logs: {', '.join(logs)})"
    record = {"error": {"type": type(error).__name__, "message": f"the {where} failed: {message}",
                        "traceback": "", "site": None}}
    return Outcome(spec.seed, FAILED, record=record)


# -- the task, on its node -----------------------------------------------------------------------------------------

def run_task(spec: Any, cwd: str, own_python: bool, where: str, tracker: Any = None, index: int = 0) -> Any:
    """One run on a worker: in the submitting folder (the script's relative paths), with this node's interpreter
    when the command said plain `python`; the node is named in the run's notes."""
    from .runner import Outcome, run_once

    if tracker is not None:
        tracker.started.remote(index)  # Ray: the driver learns that the task is running
    host = socket.gethostname()
    if own_python:
        spec = replace(spec, python=sys.executable)
    if not os.path.isdir(cwd):
        return Outcome(spec.seed, "not-started", stderr_tail=[
            f"{cwd} does not exist on {host}: the nodes need the project at the same path (a shared filesystem)"])
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        outcome = run_once(spec)
    finally:
        os.chdir(previous)
    outcome.record.setdefault("notes", []).append(f"ran on {host} ({where})")
    return outcome


class Tracker:
    """A Ray actor (no CPU) that tasks tell when they start, so that queued and running can be told apart."""

    def __init__(self) -> None:
        self.running: set[int] = set()

    def started(self, index: int) -> None:
        self.running.add(index)

    def seen(self) -> list[int]:
        return sorted(self.running)


# -- executors -----------------------------------------------------------------------------------------------------

def run_seeds(specs: list, cluster: Cluster, jobs: int) -> list:
    """Every spec run once through the chosen executor; outcomes in the order of `specs`."""
    if cluster.executor == "ray":
        return run_ray(specs, cluster, jobs)
    if cluster.executor == "slurm":
        return run_slurm(specs, cluster)
    show = len(specs) > 1 and sys.stderr.isatty()  # a log or a single run needs no progress line
    return run_local(specs, jobs, Progress(len(specs), "in local processes", show=show))


def run_local(specs: list, jobs: int, progress: Progress) -> list:
    from .runner import run_once

    def one(index: int, spec: Any) -> Any:
        progress.set(index, "running")
        outcome = run_once(spec)
        _finished(progress, index, outcome, _label(spec, index))
        return outcome

    progress.start()
    try:
        with ThreadPoolExecutor(max_workers=min(jobs, len(specs))) as pool:
            futures = [pool.submit(one, index, spec) for index, spec in enumerate(specs)]
            return [future.result() for future in futures]
    finally:
        progress.close()


def _own_python(spec: Any) -> bool:
    return spec.python == sys.executable


def _gpus(cluster: Cluster, device: str, available: float | None) -> int:
    if cluster.gpus is not None:
        return cluster.gpus
    if device == "cuda":
        return 1
    return 1 if device == "auto" and available else 0


def run_ray(specs: list, cluster: Cluster, jobs: int) -> list:
    """Ray tasks: ray.init(address=...) joins a cluster; without an address a local instance is started with
    `jobs` runs' worth of CPUs (and shut down after). Ray's dashboard and usage statistics stay off."""
    # Ray prints the raylet's messages ("A worker died ...") on stdout, where the report goes (--format json)
    with contextlib.redirect_stdout(sys.stderr):
        return _run_ray(specs, cluster, jobs)


def _run_ray(specs: list, cluster: Cluster, jobs: int) -> list:
    import logging

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    cpus = cluster.cpus or 1
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if cluster.ray_address:
            _reachable(cluster.ray_address)
            options["address"] = cluster.ray_address
        else:  # results are small records: a small object store
            options.update(num_cpus=max(1, jobs) * cpus, include_dashboard=False,
                           object_store_memory=256 * 1024 ** 2)
        try:
            ray.init(**options)
        except Exception as exc:  # noqa: BLE001 - Ray's many ways of not starting: one message, exit 2
            raise ExecutorError(f"Ray did not start: {type(exc).__name__}: {exc}") from None
    where = f"on Ray ({cluster.ray_address or 'a local instance'})"
    progress = Progress(len(specs), where, show=True)
    try:
        resources = ray.cluster_resources()
        gpus = _gpus(cluster, specs[0].device, resources.get("GPU"))
        if cpus > resources.get("CPU", 0) or gpus > resources.get("GPU", 0):
            message = (f"the Ray cluster has {_count(resources.get('CPU', 0), 'CPU')} and "
                       f"{_count(resources.get('GPU', 0), 'GPU')}; each run asks for {_count(cpus, 'CPU')} and "
                       f"{_count(gpus, 'GPU')}")
            if not cluster.ray_address:
                raise ExecutorError(message + " (--cpus, --gpus, --jobs)")
            click.echo(f"mllint probe: warning: {message}; the runs wait for an autoscaler", err=True)
        tracker = ray.remote(num_cpus=0)(Tracker).remote()
        task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=0)(run_task)
        cwd = os.getcwd()
        pending = {task.remote(spec, cwd, _own_python(spec), "ray", tracker, index): index
                   for index, spec in enumerate(specs)}
        outcomes: list = [None] * len(specs)
        progress.start()
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    index = pending.pop(ref)
                    try:
                        outcomes[index] = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - a lost worker or node fails one seed, not the sweep
                        outcomes[index] = failed_outcome(specs[index], exc, "Ray task")
                    _finished(progress, index, outcomes[index], _label(specs[index], index))
                for index in ray.get(tracker.seen.remote()):
                    progress.set(index, "running")
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref)
            raise
        return outcomes
    finally:
        progress.close()
        if started:
            ray.shutdown()


def _count(number: float, unit: str) -> str:
    return f"{number:g} {unit}{'' if number == 1 else 's'}"


def _reachable(address: str) -> None:
    """Ray retries an unreachable head for minutes: a `host:port` that refuses a connection is an error now."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local": Ray finds the instance, or says it found none
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise ExecutorError(f"no Ray cluster answers at {address}: {exc}") from None


def _log_folder(cluster: Cluster) -> str:
    if cluster.log_folder:
        os.makedirs(cluster.log_folder, exist_ok=True)
        return cluster.log_folder
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = os.path.join(cache, "mllint", "submitit")
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=root)


def slurm_parameters(cluster: Cluster, spec: Any, count: int) -> dict[str, Any]:
    """submitit's AutoExecutor parameters: generic ones, and `slurm_` ones that other clusters ignore."""
    params: dict[str, Any] = {
        "name": "mllint-probe", "nodes": 1, "tasks_per_node": 1, "cpus_per_task": cluster.cpus or 1,
        "timeout_min": cluster.time or math.ceil(spec.timeout / 60) + SLURM_MARGIN_MIN,
        "slurm_array_parallelism": count,
    }
    gpus = cluster.gpus if cluster.gpus is not None else int(spec.device == "cuda")
    if gpus:  # no --gpus-per-node=0 line: clusters without GPU resources refuse any GPU request
        params["gpus_per_node"] = gpus
    if cluster.mem_gb:
        params["mem_gb"] = cluster.mem_gb
    if cluster.partition:
        params["slurm_partition"] = cluster.partition
    if cluster.slurm_parameters:
        params["slurm_additional_parameters"] = dict(cluster.slurm_parameters)
    return params


def run_slurm(specs: list, cluster: Cluster, poll: float | None = None) -> list:
    """One SLURM job per seed (a job array) through submitit's AutoExecutor; `slurm_cluster="local"` runs the same
    jobs as local processes. The log folder is removed when every job gave a result, kept and named otherwise."""
    import submitit

    if cluster.slurm_cluster == "slurm" and shutil.which("sbatch") is None:
        raise ExecutorError("--executor slurm: no SLURM here (sbatch is not on PATH); submit from a login node")
    folder = _log_folder(cluster)
    try:
        executor = submitit.AutoExecutor(folder=os.path.join(folder, "%j"), cluster=cluster.slurm_cluster)
        executor.update_parameters(**slurm_parameters(cluster, specs[0], len(specs)))
    except Exception as exc:  # noqa: BLE001 - no srun, a parameter submitit refuses: say so, no traceback
        if not cluster.log_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise ExecutorError(f"submitit cannot submit here: {type(exc).__name__}: {exc}") from None
    cwd = os.getcwd()
    try:
        with executor.batch():
            jobs = [executor.submit(run_task, spec, cwd, _own_python(spec), "slurm") for spec in specs]
    except Exception as exc:  # noqa: BLE001 - sbatch refused the array (partition, account, limits): say why
        if not cluster.log_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise ExecutorError(f"the SLURM jobs were not submitted: {type(exc).__name__}: {exc}") from None
    where = ("on SLURM" + (f" ({cluster.partition})" if cluster.partition else "")
             if cluster.slurm_cluster == "slurm" else f"through submitit ({cluster.slurm_cluster})")
    progress = Progress(len(specs), where, show=True)
    outcomes: list = [None] * len(specs)
    lost = False
    interval = poll if poll is not None else (10.0 if cluster.slurm_cluster == "slurm" else 0.5)
    progress.start()
    try:
        pending = dict(enumerate(jobs))
        while pending:
            for index, job in list(pending.items()):
                if job.done():
                    del pending[index]
                    try:
                        outcomes[index] = job.result()
                    except Exception as exc:  # noqa: BLE001 - a failed job fails one seed, not the sweep
                        lost = True
                        outcomes[index] = failed_outcome(specs[index], exc, "SLURM job", _job_logs(job))
                    _finished(progress, index, outcomes[index], _label(specs[index], index))
                elif job.state.upper() not in QUEUED:
                    progress.set(index, "running")
            if pending:
                time.sleep(interval)
    except KeyboardInterrupt:
        for job in jobs:
            if not job.done():
                job.cancel(check=False)
        lost = True
        raise
    finally:
        progress.close()
        if lost or cluster.log_folder:
            if lost:
                click.echo(f"mllint probe: submitit's jobs and logs are in {folder}", err=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return outcomes


def _job_logs(job: Any) -> list[str]:
    try:
        return [str(path) for path in (job.paths.stderr, job.paths.stdout) if path.exists()]
    except Exception:  # noqa: BLE001 - logs are a courtesy
        return []
