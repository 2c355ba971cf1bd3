"""Run mllint over every .py file of the CPython standard library and of other large trees.

    python bench/large_scale.py [TREE ...] [--jobs N]

Default trees: the running Python's standard library and every folder in /tmp/repos. Default
excludes are narrowed to site-packages and caches, so that folders such as the stdlib's `venv`,
`test` and `build`-like packages are linted too. A crash is an exit code of 2, a traceback on
stderr, a project rule that failed or overran (a warning on stderr) or a FILE008 (internal error) finding; the script exits 1 if there is any.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time

CONFIG = 'exclude = ["site-packages", "__pycache__", ".git", ".mllint_cache"]\n'


def default_trees() -> list[str]:
    trees = [sysconfig.get_paths()["stdlib"]]
    repos = "/tmp/repos"
    if os.path.isdir(repos):
        trees += sorted(os.path.join(repos, name) for name in os.listdir(repos) if os.path.isdir(os.path.join(repos, name)))
    return trees


def count_python_files(tree: str, config_path: str) -> int:
    from mllint import discovery
    from mllint.config import load_config

    config = load_config(config_path, None)
    found = discovery.discover([tree], [*config.exclude, *config.extend_exclude], config.respect_gitignore, with_aux=False)
    return sum(1 for path in found.sources if path.endswith(".py"))


def lint(tree: str, config_path: str, jobs: int) -> dict:
    command = [sys.executable, "-m", "mllint", "--format", "json", "--no-cache", "--exit-zero", "--jobs", str(jobs),
               "--config", config_path, tree]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        findings = json.loads(proc.stdout) if proc.stdout.strip() else []
    except ValueError:
        findings = []
    codes = collections.Counter(f["code"] for f in findings if f["code"].startswith("FILE"))
    crashes = []
    if proc.returncode == 2:
        crashes.append(f"exit code 2: {proc.stderr.strip()[:300]}")
    if "Traceback" in proc.stderr:
        crashes.append("traceback on stderr: " + proc.stderr.strip()[-300:])
    crashes += [line for line in proc.stderr.splitlines() if line.startswith("mllint: warning: rule ")]
    crashes += [f"FILE008 {f['path']}: {f['message']}" for f in findings if f["code"] == "FILE008"]
    return {"tree": tree, "files": count_python_files(tree, config_path), "seconds": seconds, "findings": len(findings),
            "file_codes": dict(sorted(codes.items())), "crashes": crashes, "exit": proc.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    trees = args.trees or default_trees()
    with tempfile.TemporaryDirectory(prefix="mllint-large-") as work:
        config_path = os.path.join(work, "mllint.toml")
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(CONFIG)
        results = []
        print("| tree | .py files | seconds | findings | FILE diagnostics | crashes |\n|---|---|---|---|---|---|")
        for tree in trees:
            result = lint(tree, config_path, args.jobs)
            results.append(result)
            codes = ", ".join(f"{code} x{count}" for code, count in result["file_codes"].items()) or "-"
            print(f"| {tree} | {result['files']} | {result['seconds']:.1f} | {result['findings']} | {codes} | "
                  f"{len(result['crashes'])} |", flush=True)
    files = sum(r["files"] for r in results)
    seconds = sum(r["seconds"] for r in results)
    crashes = [c for r in results for c in r["crashes"]]
    print(f"\ntotal: {files} .py files in {len(results)} trees, {seconds:.1f} s, {len(crashes)} crashes (--jobs {args.jobs})")
    for crash in crashes:
        print("  crash:", crash)
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
