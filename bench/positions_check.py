"""Positions of every requested node, by this checkout's positions.py and by another checkout's, side by side.

    python bench/positions_check.py TREE [TREE ...] --ref DIR [--code DIR]

DIR holds a copy of the `mllint` package (`git archive COMMIT mllint | tar -x -C DIR`). The per-file pipeline runs
on every .py/.ipynb file of each TREE (every rule selected); the position requests of each file are resolved by both
positions modules, alternating file by file, and compared. Prints the files, requests, mismatches (the first ten in
full) and each module's CPU time.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

_CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv[:-1] else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, _CODE)  # this checkout's mllint, or the one --code names (a copy: `git archive COMMIT mllint`)
if "--code" in sys.argv[:-1]:
    del sys.argv[sys.argv.index("--code"):sys.argv.index("--code") + 2]

import libcst  # noqa: E402

libcst.parse_module  # noqa: B018

from mllint import discovery, engine, pipeline, positions  # noqa: E402
from mllint.config import Config  # noqa: E402
from mllint.core.walk import Index  # noqa: E402
from mllint.findings import Loc  # noqa: E402
from mllint.rules import all_rules  # noqa: E402
from mllint.settings import Settings  # noqa: E402


def main() -> int:
    args = sys.argv[1:]
    ref_dir = args[args.index("--ref") + 1]
    trees = [a for i, a in enumerate(args) if a != "--ref" and (i == 0 or args[i - 1] != "--ref")]
    spec = importlib.util.spec_from_file_location("mllint._reference_positions",
                                                  os.path.join(ref_dir, "mllint", "positions.py"))
    reference = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = reference
    spec.loader.exec_module(reference)
    spent = {"this": 0.0, "reference": 0.0}
    counts = {"files": 0, "requests": 0, "mismatches": 0}
    current = [""]

    def both(module, requests, text=None, index=None):
        requests = list(requests)
        counts["requests"] += len(requests)
        mine = [(node, Loc()) for node, _ in requests]
        theirs = [(node, Loc()) for node, _ in requests]
        # each with an index of its own (an index keeps the parents a first run derives), in alternating order
        runs = [("reference", reference, theirs), ("this", positions, mine)]
        for name, resolver, locs in runs if counts["files"] % 2 else runs[::-1]:
            own = Index(module) if index is not None else None
            start = time.process_time()
            resolver.resolve_positions(module, locs, text, own)
            spent[name] += time.process_time() - start
        for (node, a), (_, b) in zip(mine, theirs):
            got, wanted = (a.line, a.column, a.end_line, a.end_column), (b.line, b.column, b.end_line, b.end_column)
            if got != wanted:
                counts["mismatches"] += 1
                if counts["mismatches"] <= 10:
                    print(f"MISMATCH {current[0]}: {type(node).__name__} {got} (reference {wanted})")
        positions.resolve_positions(module, requests, text, index)

    pipeline.resolve_positions = both
    rules = all_rules()
    chosen = list(rules)
    config = Config()
    for tree in trees:
        found = discovery.discover([tree], [], True, with_aux=True)
        settings = Settings(config.max_file_size, config.family_options(), engine._project_modules(tree, found.sources),
                            tuple(chosen), tuple(sorted({n for c in chosen for n in rules[c].needs})))
        for path in sorted(p for p in found.sources if p.endswith((".py", ".ipynb"))):
            current[0] = path
            counts["files"] += 1
            rel = os.path.relpath(path, tree).replace(os.sep, "/")
            pipeline.analyze(path, rel, rel, settings)
    print(f"{counts['files']} files, {counts['requests']} requests, {counts['mismatches']} mismatches; positions CPU "
          f"this {spent['this']:.2f} s, reference {spent['reference']:.2f} s")
    return 1 if counts["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
