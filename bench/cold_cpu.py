"""Cold runs of several copies of mllint, alternating: wall and CPU time (user+sys of the process tree) against
the parse floor's (bench/run.py's FLOOR: a fresh Python and a pool of 2 that import libcst and parse every file).

    python bench/cold_cpu.py TREE ROUNDS NAME=FOLDER [NAME=FOLDER ...]

Each FOLDER holds a copy of the `mllint` package (`git archive COMMIT mllint | tar -x -C FOLDER`). Per round, each
copy runs `mllint -q --exit-zero --jobs 2` on a copy of TREE with an empty cache, then the floor runs. Printed:
medians, and each copy's CPU runs. CPU time over the floor's is the ratio the cold-run target is stated in; on a
busy machine it moves less than the wall.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402
from one_file_cpu import timed  # noqa: E402


def main() -> int:
    tree, rounds = sys.argv[1], int(sys.argv[2])
    codes = dict(a.split("=", 1) for a in sys.argv[3:])
    work = tempfile.mkdtemp(prefix="coldcpu-")
    try:
        copy = bench.copy_tree(tree, work)
        env0 = dict(os.environ, PYTHONPATH=next(iter(codes.values())))
        listing = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[2]); import run; "
                                  "print('\\n'.join(run.python_files(sys.argv[1])))", copy,
                                  os.path.dirname(os.path.abspath(__file__))],
                                 capture_output=True, text=True, env=env0, check=True).stdout
        paths = os.path.join(work, "paths.txt")
        with open(paths, "w") as out:
            out.write(listing)
        floor_py = os.path.join(work, "floor.py")
        with open(floor_py, "w") as out:
            out.write(bench.FLOOR)
        results: dict[str, list] = {name: [] for name in codes}
        floor = []
        for r in range(rounds):
            for name, code in codes.items():
                env = dict(os.environ, PYTHONPATH=code)
                cache = os.path.join(work, f"cache-{name}-{r}")
                results[name].append(timed([sys.executable, "-m", "mllint", "-q", "--exit-zero", "--jobs", "2",
                                            "--cache-dir", cache, copy], env, work))
                floor.append(timed([sys.executable, floor_py, paths, "2"], env, work))
        fw = statistics.median(w for w, _ in floor)
        fc = statistics.median(c for _, c in floor)
        print(f"{tree}: {rounds} rounds, floor wall {fw:.2f} s, CPU {fc:.2f} s; load {os.getloadavg()[0]:.1f}")
        for name, runs in results.items():
            w = statistics.median(x for x, _ in runs)
            c = statistics.median(y for _, y in runs)
            print(f"  {name}: cold wall {w:.2f} s ({w / fw:.2f}x), CPU {c:.2f} s ({c / fc:.2f}x); "
                  f"CPU runs {' '.join(f'{y:.2f}' for _, y in runs)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
