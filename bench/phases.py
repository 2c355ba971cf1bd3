"""CPU time of the per-file analysis by phase, in-process, nothing cached.

    python bench/phases.py TREE [REL ...] [--code DIR]

Runs the per-file pipeline (pipeline.analyze, every rule selected) on every .py file of TREE (or on the files
named, relative to TREE; a file named twice is analysed twice) and prints the CPU time (time.process_time) of each
phase, exclusive of the phases timed inside it: libcst's parse, the depth guard that runs CPython's parser first
on large files, the module index (core.walk.Index), the families' one walk (core/walkers.py), the one data-flow
interpretation (dataflow/families.py), each extractor's own work, per-file rules, positions and suppressions.
"rest" is the remainder (the context, scopes, sealing facts). A family module imported on the first file counts in the
phase that imports it.
The project phase (check_project) is not included: see bench/run.py for whole runs. With --code DIR, the mllint
of DIR runs (a copy of another commit's package), for comparisons in one session.
"""
from __future__ import annotations

import collections
import os
import sys
import time
from pathlib import Path

_CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv[:-1] else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, _CODE)  # this checkout's mllint, or the one --code names (a copy: `git archive COMMIT mllint`)
if "--code" in sys.argv[:-1]:
    del sys.argv[sys.argv.index("--code"):sys.argv.index("--code") + 2]

import libcst  # noqa: E402

libcst.parse_module  # noqa: B018 - the real module, loaded before the timing starts

from mllint import discovery, engine, parsing, pipeline, positions, suppress  # noqa: E402
from mllint.config import Config  # noqa: E402
from mllint.core import walk as walk_module, walkers  # noqa: E402
from mllint.dataflow import families  # noqa: E402
from mllint.rules import EXTRACTORS, all_rules  # noqa: E402
from mllint.rules.base import Rule  # noqa: E402
from mllint.settings import Settings  # noqa: E402

SPENT: collections.Counter = collections.Counter()
_STACK: list[float] = []


def timed(label: str, function):
    def run(*args, **kwargs):
        _STACK.append(0.0)
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.process_time() - start
            inner = _STACK.pop()
            SPENT[label] += spent - inner
            if _STACK:
                _STACK[-1] += spent
    return run


def main() -> int:
    tree = os.path.abspath(sys.argv[1])
    parsing._too_deep = timed("parse: depth guard (CPython's parser)", parsing._too_deep)
    pipeline.parse_for = timed("parse: libcst", pipeline.parse_for)
    pipeline.Index = timed("walk.Index", walk_module.Index)
    pipeline.resolve_positions = timed("positions", positions.resolve_positions)
    pipeline.find_suppressions = timed("suppressions", suppress.find_suppressions)
    walkers._WALKS._together = timed("families' one walk (seed, hparam, config)", walkers._WALKS._together)
    families._INTERPRETATIONS._together = timed("one interpretation (leak, eval, prep)",
                                                families._INTERPRETATIONS._together)
    rules = all_rules()
    for name in list(EXTRACTORS):
        EXTRACTORS[name] = timed(f"extractor {name}", EXTRACTORS[name])
    for code, rule in rules.items():
        if rule.check_module is not Rule.check_module:
            rule.check_module = timed(f"check_module {code}", rule.check_module)
    found = discovery.discover([tree], [], True, with_aux=True)
    files = [os.path.join(tree, rel) for rel in sys.argv[2:]] or sorted(p for p in found.sources if p.endswith(".py"))
    chosen = list(rules)
    config = Config()
    settings = Settings(config.max_file_size, config.family_options(), engine._project_modules(tree, found.sources),
                        tuple(chosen), tuple(sorted({n for c in chosen for n in rules[c].needs})))
    start = time.process_time()
    for path in files:
        rel = os.path.relpath(path, tree).replace(os.sep, "/")
        pipeline.analyze(path, rel, rel, settings)
    total = time.process_time() - start
    code = os.path.dirname(os.path.dirname(os.path.abspath(discovery.__file__)))
    print(f"{tree}: {len(files)} files, {total:.2f} s CPU (mllint of {code})")
    for label, spent in SPENT.most_common():
        if spent >= 0.0005:
            print(f"  {spent:7.3f} s {100 * spent / total:5.1f} %  {label}")
    rest = total - sum(SPENT.values())
    print(f"  {rest:7.3f} s {100 * rest / total:5.1f} %  rest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
