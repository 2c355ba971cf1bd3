"""How many passes over each file the per-file analysis makes (the semantic-model issue's measure).

    python bench/passes.py TREE [--select CODES]

The pipeline expands every module once (`core.walk.Index`: the nodes in document order with the end of each
subtree); a node outside it is expanded from its fields by `core.walk._expand`. This script counts, while the
per-file pipeline runs in-process on each `.py` file of TREE, divided by the number of nodes of the file:
the expansions (walks of the syntax tree: 1.0 is one walk), the index reads (one node's children read,
`core.walk._kids`: a traversal that asks the model for children) and the nodes scanned (nodes that a
`walk(node)` slice, a `Visitor` or the families' one walk, `core.scopes.FamilyWalk`, passes over in the one walk's
document order). It also counts the data-flow
interpretations (`Interpreter.run_all`) per file, and the files by the interpretations run on them, each shown by
its lanes (`Leak*Eval: 37`: 37 files interpreted once for both families; `Leak + Prep: 3`: three files
interpreted twice, once per family). Medians and totals are printed per extractor too (each extractor run alone
on the same file, with the index build). With --hooks, the files interpreted for several families are listed
with the hooks of each domain that changed the interpretation there (a value other than the neutral default).
With --lanes, the statements those interpretations ran for only some of their lanes (where lanes decided
differently: a literal test, a loop's second pass, a class or method one domain skips), against all they ran.
With --facts FILE, a digest of every extractor's facts per file is written (sets sorted, sealed facts opened);
--compare FILE compares them with another run's, and --code DIR runs another checkout's mllint (the code
before a change: `--code /work/main --facts before.json`, then `--compare before.json`). Nothing is cached.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

_CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv[:-1] else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, _CODE)  # this checkout's mllint, or the one --code names

from mllint.core import walk as walk_module  # noqa: E402  (patched below, before any family imports it)

EXPANSIONS = Counter()
_real_expand = walk_module._expand
_real_kids = walk_module._kids
_real_walk = walk_module.walk
_real_visit_children = walk_module.Visitor.visit_children


def _counting_expand(node):
    EXPANSIONS["nodes"] += 1
    return _real_expand(node)


def _counting_kids(node):
    EXPANSIONS["reads"] += 1
    return _real_kids(node)


def _counting_walk(node):
    found = list(_real_walk(node))
    EXPANSIONS["scanned"] += len(found)
    return iter(found)


def _counting_visit_children(self, node):
    """`Visitor.visit_children`, counting the nodes it passes over in the document order."""
    dispatch = self._dispatch
    index = walk_module._ACTIVE.index
    at = index.pos.get(id(node)) if index is not None else None
    if at is None:
        return _real_visit_children(self, node)
    order, end = index.order, index.end
    i, stop = at + 1, end[at]
    while i < stop:
        EXPANSIONS["scanned"] += 1
        child = order[i]
        tp = type(child)
        try:
            method = dispatch[tp]
        except KeyError:
            method = dispatch[tp] = getattr(type(self), "visit_" + tp.__name__, None)
        i = i + 1 if method is None or method(self, child) is not False else end[i]


class _CountingTable(dict):
    """`FamilyWalk`'s table of methods by node type, counting the nodes the walk looks up (each once)."""

    def __getitem__(self, key):
        EXPANSIONS["scanned"] += 1
        return super().__getitem__(key)


def _count_family_walk() -> None:
    """Count the nodes the families' one walk (`core.scopes.FamilyWalk`, where it exists) passes over."""
    try:
        from mllint.core.scopes import FamilyWalk
    except ImportError:  # before the families' handlers shared one walk
        return
    real_init = FamilyWalk.__init__

    def init(self, *given, **named):
        real_init(self, *given, **named)
        self._table = _CountingTable(self._table)
    FamilyWalk.__init__ = init


def node_count(module) -> int:
    count, stack = 0, [module]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(_real_expand(node))
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("--select", default="ALL", help="rule codes or prefixes (default: every rule)")
    parser.add_argument("--hooks", action="store_true",
                        help="list the files interpreted for several families, with the hooks that changed the interpretation")
    parser.add_argument("--lanes", action="store_true",
                        help="count the statements interpretations with several lanes ran for only some of them")
    parser.add_argument("--facts", metavar="FILE", help="write a digest of every extractor's facts per file")
    parser.add_argument("--compare", metavar="FILE", help="compare the facts' digests with those of another run")
    parser.add_argument("--code", metavar="DIR", help="the checkout whose mllint runs (default: this one)")
    args = parser.parse_args()
    walk_module._expand = _counting_expand
    walk_module._kids = _counting_kids
    walk_module.walk = _counting_walk  # before any family imports it by name
    walk_module.Visitor.visit_children = _counting_visit_children
    _count_family_walk()
    from mllint import parsing, pipeline, source
    from mllint.config import load_config
    from mllint.dataflow import interpreter
    from mllint.rules import EXTRACTORS, all_rules, select_rules

    runs, domains = Counter(), []
    fused = hasattr(interpreter.Interpreter, "run_all")  # before one interpretation served every family: run
    real_run = interpreter.Interpreter.run_all if fused else interpreter.Interpreter.run

    def counting_run(self):
        runs["interpretations"] += 1
        lanes = [lane.domain for lane in self.lanes] if fused else [self.domain]
        domains.append("*".join(type(d).__name__.removesuffix("Domain") for d in lanes))
        return real_run(self)

    statements = Counter()
    if args.lanes:
        _count_lanes(interpreter, statements)
    digests: dict = {}

    fired: dict[str, Counter] = {}
    if args.hooks:
        _count_hooks(fired)

    setattr(interpreter.Interpreter, "run_all" if fused else "run", counting_run)
    config = load_config(None, Path(args.tree))
    rules = all_rules()
    chosen = [rule.code for rule in select_rules([c for c in args.select.split(",") if c], [])]
    needs = sorted({n for code in chosen for n in rules[code].needs})
    files = sorted(str(p) for p in Path(args.tree).rglob("*.py") if ".git" not in p.parts)
    totals, per_file, per_extractor = Counter(), [], {name: [] for name in needs}
    combinations, changed = Counter(), []
    for path in files:
        src = source.load(path, config.max_file_size)
        if src.text is None:
            continue
        module, problems, _ = parsing.parse_with_text(src)
        if module is None:
            continue
        nodes = node_count(module)
        rel = os.path.relpath(path, args.tree)
        for name in needs:  # each extractor alone
            settings = pipeline.Settings(config.max_file_size, config.family_options(), frozenset(), (), (name,))
            EXPANSIONS.clear()
            runs.clear()
            pipeline.analyze(path, rel, rel, settings)
            per_extractor[name].append((EXPANSIONS["nodes"] / nodes, runs["interpretations"], EXPANSIONS["nodes"], nodes,
                                        EXPANSIONS["reads"] / nodes, EXPANSIONS["scanned"] / nodes))
        settings = pipeline.Settings(config.max_file_size, config.family_options(), frozenset(), tuple(chosen),
                                     tuple(needs))
        EXPANSIONS.clear()
        runs.clear()
        domains.clear()
        fired.clear()
        result, _ = pipeline.analyze(path, rel, rel, settings)
        if args.facts or args.compare:
            digests[rel] = {name: _digest(fact) for name, fact in sorted(result.facts.items())}
        combinations[" + ".join(domains) or "none"] += 1
        lanes = [d for interpretation in domains for d in interpretation.split("*")]
        if len(lanes) > 1 and args.hooks:
            changed.append((rel, {d: dict(fired.get(d, {})) for d in lanes}))
        per_file.append((EXPANSIONS["nodes"] / nodes, runs["interpretations"], EXPANSIONS["nodes"], nodes,
                         EXPANSIONS["reads"] / nodes, EXPANSIONS["scanned"] / nodes))
        totals["nodes"] += nodes
        totals["expansions"] += EXPANSIONS["nodes"]
        totals["interpretations"] += runs["interpretations"]
    if not per_file:
        print("no Python files")
        return 1
    print(f"{len(per_file)} files, {totals['nodes']} nodes; rules: {args.select}")
    print(f"{'':18} {'walks per file: median':>23} {'mean':>6} {'over all nodes':>15} "
          f"{'index reads: median':>20} {'nodes scanned: median':>22} {'interpretations per file: median':>33} {'max':>5} {'mean':>6}")
    for name, rows in [*per_extractor.items(), ("all together", per_file)]:
        print(f"{name:18} {statistics.median(r[0] for r in rows):23.2f} {statistics.mean(r[0] for r in rows):6.2f} "
              f"{sum(r[2] for r in rows) / sum(r[3] for r in rows):15.2f} "
              f"{statistics.median(r[4] for r in rows):20.2f} {statistics.median(r[5] for r in rows):22.2f} "
              f"{statistics.median(r[1] for r in rows):33.1f} {max(r[1] for r in rows):5d} {statistics.mean(r[1] for r in rows):6.2f}")
    print("files by the domains interpreted on them: " + ", ".join(f"{k}: {v}" for k, v in combinations.most_common()))
    for rel, hooks in changed:
        print(f"  {rel}: " + "; ".join(f"{d} {' '.join(f'{h}={n}' for h, n in sorted(c.items())) or '-'}"
                                      for d, c in hooks.items()))
    try:
        from mllint.dataflow.families import STATS
        print(f"families interpreted alone again after an interpretation failed: {STATS['alone']}")
    except ImportError:  # before one interpretation served every family
        pass
    if args.lanes:
        shared, some = statements["all lanes"], statements["some lanes"]
        print(f"statements run by interpretations with several lanes: {shared + some}, for only some of their lanes: "
              f"{some} ({some / max(shared + some, 1):.1%})")
    if args.facts:
        Path(args.facts).write_text(json.dumps(digests, indent=0, sort_keys=True))
    if args.compare:
        before = json.loads(Path(args.compare).read_text())
        differ = [(rel, name) for rel in sorted(before.keys() | digests.keys())
                  for name in sorted(before.get(rel, {}).keys() | digests.get(rel, {}).keys())
                  if before.get(rel, {}).get(name) != digests.get(rel, {}).get(name)]
        print(f"facts compared with {args.compare}: {len(digests)} files, "
              f"{len(differ)} (file, extractor) pairs differ" + "".join(f"\n  {rel}: {name}" for rel, name in differ))
    print("(a walk: every node of the file expanded once from its fields; an index read: one node's children read "
          "from the module's index by a family's traversal; a node scanned: one node of the document order passed over by a "
          "walk() slice, a Visitor or the families' one walk; an interpretation: one data-flow run of the module, "
          "which reads its statements without core.walk)")
    return 0


# The hooks that change the interpretation itself, by what their neutral answer is (see Domain).
_NEUTRAL_NONE = ("library_result", "call_result", "subscript", "choice", "operated", "operation", "branch")
_NEUTRAL_VALUE = {"named": 3, "unpacked": 1}  # the position of the value the hook may replace, after flow
_NEUTRAL_FALSE = ("skips", "skips_class")


def _count_hooks(fired: dict) -> None:
    """Wrap every domain's interpretation-changing hooks to count, per domain, the answers that were not neutral."""
    from mllint.dataflow.interpreter import Domain
    from mllint.rules import EXTRACTORS  # noqa: F401  (registers the families, whose modules define the domains)
    from mllint.rules.eval import domain as _eval  # noqa: F401
    from mllint.rules.leak import domain as _leak  # noqa: F401
    from mllint.rules.prep import domain as _prep  # noqa: F401

    def wrap(cls, hook, changed):
        real = cls.__dict__[hook]
        name = cls.__name__.removesuffix("Domain")

        def counting(self, *given, **named):
            answer = real(self, *given, **named)
            if changed(answer, given):
                fired.setdefault(name, Counter())[hook] += 1
            return answer
        setattr(cls, hook, counting)

    for cls in Domain.__subclasses__():
        for hook in _NEUTRAL_NONE:
            if hook in cls.__dict__:
                wrap(cls, hook, lambda answer, given: answer is not None)
        for hook, at in _NEUTRAL_VALUE.items():
            if hook in cls.__dict__:
                wrap(cls, hook, lambda answer, given, at=at: answer != given[at])
        for hook in _NEUTRAL_FALSE:
            if hook in cls.__dict__:
                wrap(cls, hook, lambda answer, given: bool(answer))


def _count_lanes(interpreter, statements: Counter) -> None:
    """Count, in interpretations with several lanes, the statements run for every lane and for some only."""
    real_block = interpreter.Interpreter.block

    def block(self, stmts, env):
        if self.n > 1:
            statements["all lanes" if len(self.active) == self.n else "some lanes"] += len(stmts)
        return real_block(self, stmts, env)
    interpreter.Interpreter.block = block


def _digest(fact) -> str:
    """A digest of facts that equal facts share: sets sorted, sealed facts opened, objects read field by field."""
    def text(x, depth: int = 0) -> str:
        if depth > 400:
            raise RecursionError("facts nested too deeply to digest")
        if x is None or isinstance(x, (bool, int, float, str, bytes)):
            return repr(x)
        if hasattr(x, "same_facts") and hasattr(x, "facts"):  # dataflow.FlowFile: its facts, unpickled
            return text(x.facts(), depth + 1)
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return type(x).__name__ + "(" + ",".join(f"{f.name}={text(getattr(x, f.name), depth + 1)}"
                                                     for f in dataclasses.fields(x)) + ")"
        if isinstance(x, (set, frozenset)):
            return "{" + ",".join(sorted(text(v, depth + 1) for v in x)) + "}"
        if isinstance(x, dict):
            return "{" + ",".join(sorted(f"{text(k, depth + 1)}:{text(v, depth + 1)}" for k, v in x.items())) + "}"
        if isinstance(x, (list, tuple)):
            return "[" + ",".join(text(v, depth + 1) for v in x) + "]"
        if hasattr(x, "__dict__"):
            return type(x).__name__ + text(vars(x), depth + 1)
        if hasattr(x, "__slots__"):
            return type(x).__name__ + text({s: getattr(x, s, None) for s in x.__slots__}, depth + 1)
        return type(x).__name__ + ":" + repr(x)
    return hashlib.sha1(text(fact).encode()).hexdigest()[:16]


if __name__ == "__main__":
    sys.exit(main())
