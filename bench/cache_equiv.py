"""Cached runs after edits equal a run without a cache (the cache and the kept project findings lose nothing).

    python bench/cache_equiv.py TREE [--code FOLDER] [--seed 1] [--edits 8] [--work DIR]

TREE is copied to DIR (default: a new temporary folder). After a cold cached run, files drawn with SEED are
edited in turn, four ways (a comment appended, a line inserted at the top, the first numbers changed, `seed` and
`lr` renamed); after each edit, the cached run on the edited file must report that file's findings of a run
without a cache on the whole tree, and the cached run on the tree all of them. FOLDER holds the `mllint` package
to run (default: this checkout). Prints one line per edit and the number of differences (exit 1 when any).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def edited(text: str, kind: int) -> str:
    if kind == 0:
        return text + "\n# edit\n"
    if kind == 1:
        return "import os\n" + text
    if kind == 2:
        return re.sub(r"(?<![\w.])(\d+)", lambda m: str(int(m.group(1)) + 1), text, count=3)
    return text.replace("seed", "sead", 1).replace("lr", "lr2", 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("--code", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--work", help="where the tree is copied (default: a new temporary folder)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="mllint-cache-equiv-")
    tree = os.path.join(work, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(args.tree, tree, ignore=shutil.ignore_patterns(".git", ".mllint_cache"))
    os.makedirs(os.path.join(tree, ".git"), exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(args.code))

    def run(target: str, cache: bool = True) -> list:
        where = ["--cache-dir", os.path.join(work, "cache")] if cache else ["--no-cache"]
        out = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", "--exit-zero", "--jobs", "2", *where,
                              target], env=env, capture_output=True, text=True, cwd=work).stdout
        data = json.loads(out)
        return data["findings"] if isinstance(data, dict) else data

    run(tree)
    sources = sorted(str(p) for p in Path(tree).rglob("*.py") if ".git" not in p.parts)
    chosen = random.Random(args.seed).sample(sources, min(args.edits, len(sources)))
    differences = 0
    for number, path in enumerate(chosen):
        kind = number % 4
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        Path(path).write_text(edited(text, kind), encoding="utf-8", errors="surrogateescape")
        one, cached, fresh = run(path), run(tree), run(tree, cache=False)
        mine = [f for f in fresh if os.path.abspath(os.path.join(work, f["path"])) == path]
        same = one == mine and cached == fresh
        differences += not same
        print(kind, os.path.relpath(path, tree), len(mine), len(fresh), "equal" if same else "DIFFERENT")
    print("differences:", differences)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
