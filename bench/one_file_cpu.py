"""The pre-commit path of several copies of mllint, side by side: one changed file, a warm cache.

    python bench/one_file_cpu.py TREE FILE --code NAME=FOLDER [--code NAME=FOLDER ...] [--runs 5] [--top]
                                 [--work DIR]

Each FOLDER holds a copy of the `mllint` package (`git archive COMMIT mllint | tar -x -C FOLDER`). TREE is copied
to DIR (default: a new temporary folder) with a `.git` folder, so that it is a project of its own; each copy of
mllint keeps its own cache there, warmed by one run on the whole tree. Then, per round and for each copy in turn:
FILE is edited (a comment line appended; with --top inserted above its first line, which moves every location
below it), `mllint --jobs 2` runs on FILE, and the floor runs (a fresh Python that imports libcst and parses FILE).
Printed: medians of wall time and of CPU time (user+sys of the process and its workers) and their ratios to the
floor's. Compare copies only within one invocation: the rounds alternate them, so a machine's load falls on all.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = "import sys, libcst; libcst.parse_module(open(sys.argv[1], 'rb').read())"


def timed(command: list[str], env: dict | None = None, cwd: str | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("file", help="the file to change, relative to TREE")
    parser.add_argument("--code", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", action="store_true", help="insert the edit above the first line")
    parser.add_argument("--work", help="where the tree is copied (default: a new temporary folder)")
    args = parser.parse_args()
    codes = dict(spec.split("=", 1) for spec in args.code)
    work = args.work or tempfile.mkdtemp(prefix="mllint-one-file-")
    tree = os.path.join(work, os.path.basename(os.path.abspath(args.tree)))
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(args.tree, tree, ignore=shutil.ignore_patterns(".git", ".mllint_cache"))
    os.makedirs(os.path.join(tree, ".git"), exist_ok=True)
    path = os.path.join(tree, args.file)

    def lint(name: str, target: str) -> tuple[float, float]:
        env = dict(os.environ, PYTHONPATH=os.path.abspath(codes[name]))
        cache = os.path.join(work, f"cache-{name}")
        return timed([sys.executable, "-m", "mllint", "-q", "--exit-zero", "--jobs", "2", "--cache-dir", cache, target], env)

    for name in codes:
        lint(name, tree)
    results: dict[str, list] = {name: [] for name in codes}
    floor = []
    for round_ in range(args.runs):
        for name in codes:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            edit = f"# edit {name} {round_}\n"
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(edit + text if args.top else text + "\n" + edit)
            results[name].append(lint(name, path))
            floor.append(timed([sys.executable, "-c", FLOOR, path]))
    floor_wall = statistics.median(w for w, _ in floor)
    floor_cpu = statistics.median(c for _, c in floor)
    print(f"{args.tree} {args.file}: floor wall {floor_wall:.3f} s, CPU {floor_cpu:.3f} s (load {os.getloadavg()[0]:.1f})")
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"  {name}: wall {wall:.3f} s ({wall / floor_wall:.2f}x), CPU {cpu:.3f} s ({cpu / floor_cpu:.2f}x); "
              f"walls {' '.join(f'{w:.2f}' for w, _ in runs)}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
