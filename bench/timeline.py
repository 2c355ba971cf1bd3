"""Where the wall time of one mllint run goes: a timeline of the parent and its workers.

    python bench/timeline.py [--runs N] -- MLLINT_ARGS...

Runs `python -m mllint MLLINT_ARGS` N times (default 1) in a fresh process, with a few of the engine's and the
workers' functions wrapped to record when they start and end (time.perf_counter, CLOCK_MONOTONIC: one clock for
the parent and its forked workers). Prints, per run, each event's start and end in ms from the moment the
process was spawned, and its process (P: the parent, W: a worker). Used to find the critical path of the
pre-commit run (one changed file). The wrapping costs a few microseconds per call; wrapped functions called many
times (content_hash) are summed into one line.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

HOOK = r'''
import os, sys, time, functools, importlib
LOG = os.environ["MLLINT_TIMELINE"]
T0 = float(os.environ["MLLINT_T0"])
PARENT = os.getpid()

FD = os.open(LOG, os.O_WRONLY | os.O_APPEND)  # not `open`: project rules record the files they open

def note(name, start, end):
    line = (f"{'P' if os.getpid() == PARENT else 'W'}\t{name}\t{(start - T0) * 1000:.1f}\t{(end - T0) * 1000:.1f}"
            f"\t{time.process_time() * 1000:.1f}\n")
    os.write(FD, line.encode())

def wrap(owner, attr, name=None):
    inner = getattr(owner, attr)
    label = name or f"{getattr(owner, '__name__', owner)}.{attr}"
    @functools.wraps(inner)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            note(label, start, time.perf_counter())
    setattr(owner, attr, timed)

note("interpreter up", time.perf_counter(), time.perf_counter())
sys.argv = ["mllint", *sys.argv[1:]]
start = time.perf_counter()
from mllint import workers
note("import workers", start, time.perf_counter())

def worker_hook(inner=workers._load_libcst):
    note("worker forked", time.perf_counter(), time.perf_counter())
    workers._start_worker()
    start = time.perf_counter()
    import libcst
    libcst.parse_module
    note("import libcst", start, time.perf_counter())
    start = time.perf_counter()
    from mllint import pipeline
    note("import pipeline", start, time.perf_counter())
    from mllint import parsing
    wrap(pipeline, "parse_for")
    wrap(pipeline, "resolve_positions")
    wrap(pipeline, "Index")
    wrap(parsing, "preparse")
workers._load_libcst = worker_hook
if hasattr(workers, "_preload"):
    wrap(workers, "_preload")
wrap(workers, "_analyze_chunk_in_worker")
start = time.perf_counter()
import mllint.cli
note("import cli", start, time.perf_counter())
start = time.perf_counter()
from mllint import engine, discovery, cache, lint
note("import engine", start, time.perf_counter())
wrap(discovery, "discover")
wrap(discovery, "find_root")
wrap(engine, "code_fingerprint")
wrap(engine, "_start_for_changed_files")
wrap(engine, "analyze_cached")
wrap(engine, "_replay_key")
wrap(engine._ProjectMemo, "load")
wrap(engine._ProjectMemo, "preread")
wrap(engine._ProjectMemo, "kept_value")
wrap(engine, "_check_project")
wrap(engine, "_select_and_suppress")
wrap(engine, "run")
wrap(workers.WarmPool, "start")
wrap(workers, "_collect")
wrap(workers, "_analyze_chunk")
wrap(cache.Cache, "prune")
wrap(lint, "_check_known")
import atexit
atexit.register(lambda: note("exit", time.perf_counter(), time.perf_counter()))
start = time.perf_counter()
try:
    mllint.cli.main()
finally:
    note("cli.main", start, time.perf_counter())
'''


def main() -> int:
    args = sys.argv[1:]
    runs = 1
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    for run in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".tsv") as log:
            t0 = time.perf_counter()
            env = dict(os.environ, MLLINT_TIMELINE=log.name, MLLINT_T0=repr(t0))
            subprocess.run([sys.executable, "-c", HOOK, *args], env=env, stdout=subprocess.DEVNULL, check=False)
            wall = (time.perf_counter() - t0) * 1000
            rows = [line.rstrip("\n").split("\t") for line in log]
        summed: dict[tuple[str, str], list[float]] = {}
        for who, name, start, end, cpu in rows:
            entry = summed.setdefault((who, name), [float(start), float(end), 0.0, 0, float(cpu)])
            entry[1] = max(entry[1], float(end))
            entry[2] += float(end) - float(start)
            entry[3] += 1
            entry[4] = float(cpu)
        print(f"run {run + 1}: wall {wall:.0f} ms (load {os.getloadavg()[0]:.1f}); cpu: the process's CPU time at the "
              "event's end (the parent's counts from its start, a worker's from the parent's start too: fork copies it)")
        for (who, name), (start, end, total, count, cpu) in sorted(summed.items(), key=lambda kv: kv[1][0]):
            times = f" x{count}, {total:.1f} ms in all" if count > 1 else f" {total:7.1f} ms"
            print(f"  {who} {start:8.1f} -> {end:8.1f}  cpu {cpu:7.1f}  {name}{times}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
