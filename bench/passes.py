"""How many passes over each file the per-file analysis makes (the semantic-model issue's measure).

    python bench/passes.py TREE [--select CODES]

The pipeline expands every module once (`core.walk.Index`: the nodes in document order with the end of each
subtree); a node outside it is expanded from its fields by `core.walk._expand`. This script counts, while the
per-file pipeline runs in-process on each `.py` file of TREE, divided by the number of nodes of the file:
the expansions (walks of the syntax tree: 1.0 is one walk), the index reads (one node's children read,
`core.walk._kids`: a traversal that asks the model for children) and the nodes scanned (nodes that a
`walk(node)` slice or a `Visitor` passes over in the one walk's document order). It also counts the data-flow
interpretations (`Interpreter.run`) per file, and the files by the domains interpreted on them (`Leak+Prep: 3`:
three files interpreted twice, once per domain). Medians and totals are printed per extractor too (each
extractor run alone on the same file, with the index build). With --hooks, the files interpreted more than once
are listed with the hooks of each domain that changed the interpretation there (a value other than the neutral
default: what a product of the domains, one interpretation for every family, has to reconcile). With
--decisions, those files are compared domain against domain on the engine's own decisions that depend on the
values (every `Val.tainted()` read in interpreter.py and dispatch.py, the loops' second passes included, and the
classes a domain skips), per function: where two domains take the same decisions in a function, one
interpretation of it could serve both with values whose family parts are kept apart; where they differ, the
product needs a per-family component there. Nothing is cached or written.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
                        help="list the files interpreted more than once, with the hooks that changed the interpretation")
    parser.add_argument("--decisions", action="store_true",
                        help="compare the domains' value-dependent decisions, per function, on files interpreted more than once")
    args = parser.parse_args()
    walk_module._expand = _counting_expand
    walk_module._kids = _counting_kids
    walk_module.walk = _counting_walk  # before any family imports it by name
    walk_module.Visitor.visit_children = _counting_visit_children
    from mllint import parsing, pipeline, source
    from mllint.config import load_config
    from mllint.dataflow import interpreter
    from mllint.rules import EXTRACTORS, all_rules, select_rules

    runs, domains = Counter(), []
    real_run = interpreter.Interpreter.run

    traces: list = []

    def counting_run(self):
        runs["interpretations"] += 1
        domains.append(type(self.domain).__name__.removesuffix("Domain"))
        traces.append([])
        return real_run(self)

    if args.decisions:
        _trace_decisions(interpreter, traces)
    functions = Counter()

    fired: dict[str, Counter] = {}
    if args.hooks:
        _count_hooks(fired)

    interpreter.Interpreter.run = counting_run
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
        traces.clear()
        pipeline.analyze(path, rel, rel, settings)
        if args.decisions and len(domains) > 1:
            _compare(domains, traces, functions)
        combinations["+".join(domains) or "none"] += 1
        if len(domains) > 1 and args.hooks:
            changed.append((rel, {d: dict(fired.get(d, {})) for d in domains}))
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
          f"{'index reads: median':>20} {'nodes scanned: median':>22} {'interpretations per file: median':>33} {'max':>5}")
    for name, rows in [*per_extractor.items(), ("all together", per_file)]:
        print(f"{name:18} {statistics.median(r[0] for r in rows):23.2f} {statistics.mean(r[0] for r in rows):6.2f} "
              f"{sum(r[2] for r in rows) / sum(r[3] for r in rows):15.2f} "
              f"{statistics.median(r[4] for r in rows):20.2f} {statistics.median(r[5] for r in rows):22.2f} "
              f"{statistics.median(r[1] for r in rows):33.1f} {max(r[1] for r in rows):5d}")
    print("files by the domains interpreted on them: " + ", ".join(f"{k}: {v}" for k, v in combinations.most_common()))
    for rel, hooks in changed:
        print(f"  {rel}: " + "; ".join(f"{d} {' '.join(f'{h}={n}' for h, n in sorted(c.items())) or '-'}"
                                      for d, c in hooks.items()))
    if args.decisions:
        print("functions (module bodies included) of the files interpreted more than once, against the first domain: "
              + ", ".join(f"{pair} {kind}: {n}" for (pair, kind), n in sorted(functions.items())))
    print("(a walk: every node of the file expanded once from its fields; an index read: one node's children read "
          "from the module's index by a family's traversal; a node scanned: one node of the document order passed over by a "
          "walk() slice or a Visitor; an interpretation: one data-flow run of the module, "
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


def _trace_decisions(interpreter, traces: list) -> None:
    """Record, per interpretation, (function, engine line, answer) for every value-dependent decision of the engine."""
    from mllint.dataflow import terms

    real_tainted, real_class = terms.Val.tainted, interpreter.Interpreter.class_def
    engine = ("interpreter.py", "dispatch.py")

    def tainted(self):
        answer = real_tainted(self)
        caller = sys._getframe(1)
        if traces and caller.f_code.co_filename.endswith(engine):
            frame = caller
            while frame is not None and not isinstance(frame.f_locals.get("self"), interpreter.Interpreter):
                frame = frame.f_back
            qual = frame.f_locals["self"].frame.qual if frame is not None else "?"
            traces[-1].append((qual, caller.f_code.co_name, caller.f_lineno, answer))
        return answer

    def class_def(self, node, prefix):
        if traces:
            traces[-1].append((self.frame.qual, "skips_class", node.name.value, bool(self.domain.skips_class(node))))
        return real_class(self, node, prefix)

    terms.Val.tainted = tainted
    interpreter.Interpreter.class_def = class_def


def _compare(domains: list, traces: list, functions: Counter) -> None:
    def by_function(trace):
        found: dict = {}
        for qual, *decision in trace:
            found.setdefault(qual, []).append(tuple(decision))
        return found

    first = by_function(traces[0])
    for name, trace in zip(domains[1:], traces[1:]):
        other = by_function(trace)
        for qual in first.keys() | other.keys():
            kind = ("same" if first[qual] == other[qual] else "differ") if qual in first and qual in other else "one only"
            functions[(f"{domains[0]}/{name}", kind)] += 1


if __name__ == "__main__":
    sys.exit(main())
