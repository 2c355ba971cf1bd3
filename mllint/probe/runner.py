"""Launch the user's script under the instrumentation: a subprocess in its own process group, offline
switches, a timeout that ends the whole process tree, and the run's record read back (no torch here)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import mllint

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(mllint.__file__)))
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
TERM_GRACE = 5.0


class CommandError(ValueError):
    """The command after `--` is not a Python invocation the probe can run."""


@dataclass
class Spec:
    """One run: the interpreter and its arguments (`SCRIPT ARGS` or `-m MODULE ARGS`) and the probe's settings."""

    python: str
    argv: list[str]
    project: str
    steps: int = 20
    eval_batches: int = 5
    timeout: float = 600.0
    device: str = "auto"
    synthetic: bool = False
    seed: int | None = None
    keep_tmp: bool = False


@dataclass
class Outcome:
    """What one run gave: the record the subprocess wrote (or none), its exit code, the end of its stderr."""

    seed: int | None
    status: str
    record: dict = field(default_factory=dict)
    returncode: int | None = None
    stderr_tail: list[str] = field(default_factory=list)
    wall: float = 0.0
    tmpdir: str | None = None
    timed_out: bool = False
    script: str | None = None
    kept: str | None = None  # the temporary folder, kept with --keep


def parse_command(command: list[str], project: str | None) -> tuple[str, list[str], str]:
    """`python train.py ARGS`, `python -m pkg.train ARGS` or `train.py ARGS` -> (interpreter, argv, project)."""
    from ..discovery import find_root

    if not command:
        raise CommandError("give the command to probe after `--`, e.g. `mllint probe -- python train.py`")
    first, rest = command[0], list(command[1:])
    if first.endswith(".py"):
        python, rest = sys.executable, [first, *rest]
    elif _PYTHON.match(os.path.basename(first)):
        python = sys.executable if os.sep not in first else first
    else:
        raise CommandError(f"the probe runs Python scripts: `-- python SCRIPT ARGS` or `-- python -m MODULE ARGS` "
                           f"(got {first!r})")
    while rest and rest[0].startswith("-") and rest[0] not in ("-m",):
        rest.pop(0)  # interpreter options such as -u or -O: the bootstrap decides those
    if not rest:
        raise CommandError("no script given after the interpreter")
    if rest[0] == "-m":
        if len(rest) < 2:
            raise CommandError("`-m` needs a module name")
        start = os.getcwd()
    else:
        if not os.path.isfile(rest[0]):
            raise CommandError(f"no such script: {rest[0]}")
        start = rest[0]
    return python, rest, os.path.abspath(project) if project else find_root(start)


def environment(spec: Spec, tmpdir: str, config_path: str) -> dict:
    env = dict(os.environ)
    env.update({
        "MLLINT_PROBE_CONFIG": config_path,
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "TORCH_HOME": os.path.join(tmpdir, "torch_home"), "WANDB_MODE": "disabled", "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
    })
    if spec.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    paths = [PACKAGE_PARENT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)  # the bootstrap is importable from another interpreter
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (the bootstrap writes its record), SIGKILL to whatever is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(TERM_GRACE)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_once(spec: Spec) -> Outcome:
    tmpdir = tempfile.mkdtemp(prefix="mllint-probe-")
    record_path = os.path.join(tmpdir, "record.json")
    config_path = os.path.join(tmpdir, "config.json")
    config = {
        "argv": spec.argv, "project": spec.project, "steps": spec.steps, "eval_batches": spec.eval_batches,
        "device": spec.device, "synthetic": spec.synthetic, "seed": spec.seed, "tmpdir": tmpdir,
        "record": record_path,
    }
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    started = time.perf_counter()
    tail: deque[str] = deque(maxlen=40)
    terminal = _terminal()
    try:
        proc = subprocess.Popen(
            [spec.python, "-m", "mllint.probe.bootstrap"], env=environment(spec, tmpdir, config_path),
            stdin=terminal[1] if terminal else subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        return Outcome(spec.seed, "not-started", stderr_tail=[str(exc)])
    except BaseException:  # an interrupt (or any other failure) while the process starts: the folder goes too
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    finally:
        if terminal:
            os.close(terminal[1])
    try:
        return _wait(spec, proc, terminal, tmpdir, record_path, started, tail)
    finally:  # whatever happens in the parent (an interrupt), the folder does not outlive the run unless asked
        if not spec.keep_tmp and os.path.isdir(tmpdir):
            shutil.rmtree(tmpdir, ignore_errors=True)


def _wait(spec: Spec, proc: subprocess.Popen, terminal, tmpdir: str, record_path: str, started: float,
          tail: deque) -> Outcome:
    import threading

    timed_out = False

    reader = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
    reader.start()
    try:
        proc.wait(spec.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    else:
        try:  # the script's own children (DataLoader workers, launched tools) go with it
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    reader.join(5)
    if terminal:
        os.close(terminal[0])
    outcome = Outcome(spec.seed, "no-record", returncode=proc.returncode, stderr_tail=list(tail),
                      wall=time.perf_counter() - started, tmpdir=tmpdir, timed_out=timed_out,
                      script=os.path.abspath(spec.argv[0]) if spec.argv[0] != "-m" else None)
    try:
        with open(record_path, encoding="utf-8") as handle:
            outcome.record = json.load(handle)
        outcome.status = outcome.record.get("status", "no-record")
    except (OSError, ValueError):
        outcome.status = "timeout" if timed_out else "no-record"
    if timed_out and outcome.status not in ("timeout",):
        outcome.status = "timeout"
    _tidy(outcome, spec.keep_tmp)
    return outcome


def _terminal() -> tuple[int, int] | None:
    """A pseudo-terminal of 80x24 for the script's stdin: training scripts ask it for its width
    (`stty size` in pytorch-cifar's progress bar) and crash on /dev/null."""
    try:
        import fcntl
        import pty
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        return master, slave
    except (ImportError, OSError):
        return None


def _drain(stream: Any, tail: deque) -> None:
    for raw in iter(stream.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def _tidy(outcome: Outcome, keep: bool) -> None:
    """The run's temporary folder (redirected writes, caches, the record) goes at the end, unless --keep."""
    if outcome.tmpdir is None:
        return
    shutil.rmtree(os.path.join(outcome.tmpdir, "torch_home"), ignore_errors=True)
    if keep:
        outcome.kept = outcome.tmpdir
        return
    shutil.rmtree(outcome.tmpdir, ignore_errors=True)
    outcome.tmpdir = None
