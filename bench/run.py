"""Benchmark mllint against the libcst parse-only floor on one source tree.

    python bench/run.py TREE [--runs N] [--jobs 2] [--edit REL ...]

The tree is copied to a temporary folder (so that the cache and the edited file never touch
it). Each round runs, alternating: the floor (a fresh Python process that imports libcst and
parses the same .py files with a pool of --jobs processes), mllint cold (a fresh cache folder),
mllint warm (the same cache folder again), and the pre-commit path (one file edited, mllint
given only that file, warm cache) for a median-sized file, for the largest file and for each
`--edit` file (say, the training script: LEAK's project phase reads it, so its result is
computed again rather than reused), each followed by that file's own floor (a fresh Python that imports
libcst and parses the file: the one-changed-file target is 2x that). It prints
the medians, the ratios to the targets of PRODUCT.md §8, and the peak memory of a cold run
(the sum of the resident sizes of mllint and its workers, sampled every 10 ms).
"""
from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

FLOOR = r"""
import sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
import libcst

def parse(path):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        libcst.parse_module(data)
    except Exception:
        pass

if __name__ == "__main__":
    paths = open(sys.argv[1], encoding="utf-8").read().splitlines()
    jobs = int(sys.argv[2])
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        list(pool.map(parse, paths, chunksize=4))
"""

ONE_FILE_FLOOR = "import sys, libcst; libcst.parse_module(open(sys.argv[1], 'rb').read())"


def mllint(*args: str) -> list[str]:
    return [sys.executable, "-m", "mllint", "-q", "--exit-zero", *args]


def snapshot_package(into: str) -> dict[str, str]:
    """Copy the mllint package and return an environment that runs the copy: the cache is keyed by
    mllint's own files, so edits to a working tree during the benchmark must not reach the runs."""
    import mllint

    source = os.path.dirname(os.path.abspath(mllint.__file__))
    shutil.copytree(source, os.path.join(into, "mllint"), ignore=shutil.ignore_patterns("__pycache__"))
    # An installed package has its bytecode compiled at install time; a machine with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module on every run (~50 ms).
    compileall.compile_dir(os.path.join(into, "mllint"), quiet=1)
    env = dict(os.environ)
    env["PYTHONPATH"] = into + os.pathsep + env.get("PYTHONPATH", "")
    return env


ENV: dict[str, str] | None = None  # set by main: the snapshot of the package


def timed(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"command failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr}")
    return elapsed


def _tree_rss(root_pid: int) -> int:
    """Resident bytes of a process and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    family = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in family)


def peak_memory(command: list[str], cwd: str) -> int:
    """Peak of the summed resident size of the command's process tree, in bytes."""
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    proc.wait()
    done.set()
    sampler.join()
    return peak


def python_files(tree: str) -> list[str]:
    from mllint import discovery

    found = discovery.discover([tree], [], True, with_aux=False)
    return sorted(p for p in found.sources if p.endswith(".py"))


def copy_tree(tree: str, into: str) -> str:
    target = os.path.join(into, os.path.basename(os.path.abspath(tree)))
    shutil.copytree(tree, target, symlinks=True, ignore=shutil.ignore_patterns(".git", ".mllint_cache"))
    if not any(os.path.exists(os.path.join(target, m)) for m in ("pyproject.toml", "setup.py", "setup.cfg")):
        os.mkdir(os.path.join(target, ".git"))  # keep the copy its own project root, as .git made the original
    return target


def _libcst_version() -> str:
    from importlib.metadata import version

    return version("libcst")


def versions() -> str:
    from mllint import __version__

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        commit = "?"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((l.split(":", 1)[1].strip() for l in handle if l.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n"
            f"versions: Python {platform.python_version()}, libcst {_libcst_version()}, "
            f"mllint {__version__} ({commit})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--edit", action="append", default=[], metavar="REL",
                        help="also time one changed file for this file of the tree (repeatable), e.g. a training "
                             "script that the LEAK resolution reads")
    args = parser.parse_args()
    jobs = str(args.jobs)

    global ENV
    with tempfile.TemporaryDirectory(prefix="mllint-bench-") as work:
        ENV = snapshot_package(os.path.join(work, "snapshot"))
        tree = copy_tree(args.tree, work)
        files = python_files(tree)
        listing = os.path.join(work, "files.txt")
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("\n".join(files) + "\n")
        floor_script = os.path.join(work, "floor.py")
        with open(floor_script, "w", encoding="utf-8") as handle:
            handle.write(FLOOR)
        by_size = sorted(files, key=os.path.getsize)
        edited = {"median file": by_size[len(by_size) // 2], "largest file": by_size[-1]}
        for rel in args.edit:
            edited[f"file {rel}"] = os.path.join(tree, rel)
        described = {k: f"{os.path.relpath(p, tree)}, {os.path.getsize(p) // 1024} KB" for k, p in edited.items()}
        lines = sum(open(p, "rb").read().count(b"\n") for p in files)
        print(f"tree: {args.tree} ({len(files)} .py files, {lines} lines), {args.runs} rounds, --jobs {jobs}")
        print(versions())

        load_before = os.getloadavg()
        times: dict[str, list[float]] = {k: [] for k in ("floor", "cold", "warm", *edited)}
        floors: dict[str, list[float]] = {k: [] for k in edited}
        for round_ in range(args.runs):
            cache = os.path.join(work, f"cache-{round_}")
            times["floor"].append(timed([sys.executable, floor_script, listing, jobs], work))
            times["cold"].append(timed(mllint("--jobs", jobs, "--cache-dir", cache, tree), work))
            times["warm"].append(timed(mllint("--jobs", jobs, "--cache-dir", cache, tree), work))
            for label, path in edited.items():
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(f"\n# bench edit {round_}\n")
                times[label].append(timed(mllint("--jobs", jobs, "--cache-dir", cache, path), work))
                # the one-file floor: a fresh Python that imports libcst and parses that file
                floors[label].append(timed([sys.executable, "-c", ONE_FILE_FLOOR, path], work))
        memory = peak_memory(mllint("--jobs", jobs, "--no-cache", tree), work)

    load_after = os.getloadavg()
    print(f"load average (1 min) before {load_before[0]:.1f}, after {load_after[0]:.1f} "
          f"(on {os.cpu_count()} cores; above ~0.5 other work shares the machine)")
    med = {k: statistics.median(v) for k, v in times.items()}
    print("\n| run | median s | min s | all runs (s) |\n|---|---|---|---|")
    for label, values in times.items():
        name = label if label in ("floor", "cold", "warm") else "one changed " + label
        print(f"| {name} | {med[label]:.2f} | {min(values):.2f} | {' '.join(f'{v:.2f}' for v in values)} |")
    for label, values in floors.items():
        print(f"| import libcst + parse {label} | {statistics.median(values):.2f} | {min(values):.2f} | "
              f"{' '.join(f'{v:.2f}' for v in values)} |")
    print()
    print(f"cold / floor = {med['cold'] / med['floor']:.2f}  (target <= 1.5)")
    print(f"warm / cold  = {med['warm'] / med['cold']:.1%}  (target <= 10%)")
    for label, what in described.items():
        one = statistics.median(floors[label])
        print(f"one changed {label} ({what}) = {med[label]:.2f} s, {med[label] / one:.2f}x importing libcst + "
              f"parsing it ({one:.2f} s)  (target <= 2x)")
    print(f"peak memory, cold run, all processes = {memory / 2**20:.0f} MB  (target < 500 MB)")


if __name__ == "__main__":
    main()
