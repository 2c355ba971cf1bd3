"""Benchmark of the runtime probe on the CPU (needs the probe extra).

1. `mllint probe --seeds 3 --steps 20` on the tiny fixture script: wall time of the whole command (target: under
   60 s on the CPU).
2. The instrumentation's overhead per optimiser step: the median time between optimiser steps under the probe
   against a plain run of the same script (only a step-time hook installed), over interleaved repetitions
   (target: under 10 %).

    python bench/probe_bench.py [--script fixtures/probe/clean/train.py] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A plain run: the script under runpy with one optimiser step post-hook that records the time of each step.
PLAIN = r"""
import json, runpy, sys, time
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook
times, cpu = [], []
def stamp(opt, args, kwargs):
    times.append(time.perf_counter())
    cpu.append(time.thread_time())
register_optimizer_step_post_hook(stamp)
out, steps, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.argv = [script]
class Enough(BaseException):
    pass
def check(opt, args, kwargs):
    if len(times) >= steps:
        raise Enough
register_optimizer_step_post_hook(check)
try:
    runpy.run_path(script, run_name="__main__")
except Enough:
    pass
with open(out, "w") as handle:
    json.dump({"wall": [b - a for a, b in zip(times, times[1:])], "cpu": [b - a for a, b in zip(cpu, cpu[1:])]},
              handle)
"""


ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}  # one thread: CPU time is the step's cost


def plain_step_times(script: str, steps: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "times.json")
        subprocess.run([sys.executable, "-c", PLAIN, out, str(steps), script], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, env=ENV)
        with open(out) as handle:
            return json.load(handle)


def probe(script: str, steps: int, *extra: str) -> tuple[float, dict]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mllint.probe", "--no-static", "--device", "cpu", "--steps", str(steps),
         "--format", "json", *extra, "--", "python", script],
        cwd=ROOT, capture_output=True, text=True, env=ENV,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"probe failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", default="fixtures/probe/clean/train.py")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    wall, report = probe(args.script, args.steps, "--seeds", "3")
    stats = report["seeds"]
    runs = ", ".join(f"{run['wall']:.1f} s" for run in report["runs"])
    print(f"seeds: `mllint probe --seeds 3 --steps {args.steps}` on {args.script}: {wall:.1f} s wall "
          f"(runs: {runs}); final loss mean {stats['mean']:.4f}, std {stats['std']:.4f}")

    medians: dict[str, list[float]] = {"plain wall": [], "probe wall": [], "plain cpu": [], "probe cpu": []}
    for _ in range(args.repeats):  # interleaved, so that machine load hits both alike
        plain = plain_step_times(args.script, args.steps)
        _, report = probe(args.script, args.steps)
        run = report["runs"][0]
        medians["plain wall"].append(statistics.median(plain["wall"]))
        medians["plain cpu"].append(statistics.median(plain["cpu"]))
        medians["probe wall"].append(statistics.median(run["step_times"][1:]))
        medians["probe cpu"].append(statistics.median(run["step_cpu"][1:]))
    print(f"overhead: median time per optimiser step, median over {args.repeats} interleaved runs of {args.steps} "
          f"steps (one thread):")
    for kind in ("cpu", "wall"):
        plain, probed = statistics.median(medians[f"plain {kind}"]), statistics.median(medians[f"probe {kind}"])
        print(f"  {kind:4}: plain {plain * 1000:.3f} ms, probe {probed * 1000:.3f} ms, "
              f"overhead {100 * (probed / plain - 1):+.1f} %  (per run, ms: plain "
              f"{[round(v * 1000, 2) for v in medians[f'plain {kind}']]}, probe "
              f"{[round(v * 1000, 2) for v in medians[f'probe {kind}']]})")


if __name__ == "__main__":
    main()
