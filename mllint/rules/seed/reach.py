"""Which runs does a seed seed, and do they train? A call graph over the project, from SEED facts.

Nodes are scopes: qualified definitions (`pkg.train.main`, `pkg.engine.Trainer.fit`), and per file
`rel:<module>` (import-time code) and `rel:<main>` (the `if __name__ == "__main__":` block). The entry
points are the `<module>` and `<main>` nodes. Edges: calls and callbacks of project code, a class to its
methods and a function to its nested functions, a module to the project modules it imports, and a
file's `<main>` to its `<module>` (a script's import-time seed seeds the run of its main block).
A node trains when it reaches a scope that calls `backward()`, an optimiser step, `.fit`, a `Trainer`.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from ...project import Project
from ...core.calls import library_demos, target as project_target
from .facts import SeedFacts


def node_of(rel: str, scope: str) -> str:
    return f"{rel}:{scope}" if scope.startswith("<") else scope


def is_entry(node: str) -> bool:
    return node.endswith((":<module>", ":<main>"))


class CallGraph:
    def __init__(self, project: Project, facts: dict[str, SeedFacts]) -> None:
        self.project = project
        self.edges: dict[str, set[str]] = defaultdict(set)
        self.back: dict[str, set[str]] = defaultdict(set)
        children: dict[str, set[str]] = defaultdict(set)
        direct: set[str] = set()
        self.busy: set[str] = set()
        self.writers: set[str] = set()  # scopes that write files
        self.file_of: dict[str, str] = {}  # node -> the file that defines it
        self.training_files: set[str] = {rel for rel, f in facts.items() if f.trains}
        for rel, f in facts.items():
            self._add(f"{rel}:<main>", f"{rel}:<module>")
            for top in ("<module>", "<main>"):
                self.file_of[f"{rel}:{top}"] = rel
            for name in f.defs:
                children[name.rsplit(".", 1)[0]].add(name)
                self.file_of[name] = rel
            for scope, names in f.refs.items():
                source = node_of(rel, scope)
                for name in names:
                    target = self.target(rel, name)
                    if target is not None and target != source:
                        self._add(source, target)
            for name in f.imports:
                found = project_target(project, rel, name)
                if found is not None and found[0] != rel:
                    self._add(f"{rel}:<module>", f"{found[0]}:<module>")
            direct |= {node_of(rel, scope) for scope in f.trains}
            for scope, callees in f.named_trains.items():  # `train(args)`: a project function's body decides
                if any(not (found := project_target(project, rel, name)) or not found[1] for name in callees):
                    direct.add(node_of(rel, scope))
            self.busy |= {node_of(rel, scope) for scope in f.busy}
            self.writers |= {node_of(rel, scope) for scope in f.writes}
        for parent, kids in children.items():
            for kid in kids:
                self._add(parent, kid)
        self.trainers = self._closure(direct, self.back)  # every node that reaches training
        # the `__main__` self-tests of library modules on synthetic inputs: no run of the project
        self.selftests = {f"{rel}:<main>" for rel in library_demos(
            project, [rel for rel, f in facts.items() if f.synthetic_main], [rel for rel, f in facts.items() if f.library])}
        self._entries: dict[str, frozenset[str]] = {}
        self._forward: dict[str, frozenset[str]] = {}

    def _add(self, source: str, target: str) -> None:
        self.edges[source].add(target)
        self.back[target].add(source)

    def target(self, rel: str, name: str) -> str | None:
        """The node a dotted name used in `rel` stands for (a function, a class, or a module)."""
        found = project_target(self.project, rel, name)
        if found is None:
            return None
        node = found[1] or f"{found[0]}:<module>"
        self.file_of.setdefault(node, found[0])
        return node

    @staticmethod
    def _closure(starts: Iterable[str], edges: dict[str, set[str]]) -> frozenset[str]:
        seen = set(starts)
        stack = list(seen)
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def entries(self, node: str) -> frozenset[str]:
        """The entry points whose run reaches `node` (itself, when it is one)."""
        if node not in self._entries:
            self._entries[node] = frozenset(n for n in self._closure([node], self.back) if is_entry(n))
        return self._entries[node]

    def forward(self, node: str) -> frozenset[str]:
        """Everything the run of `node` reaches."""
        if node not in self._forward:
            self._forward[node] = self._closure([node], self.edges)
        return self._forward[node]

    def run_of(self, node: str) -> frozenset[str]:
        """The code of every run that reaches `node`: what its entry points reach."""
        found: set[str] = set(self.forward(node))
        for entry in self.entries(node):
            found |= self.forward(entry)
        return frozenset(found)

    def trains(self, node: str) -> bool | None:
        """Does a run through `node` train? Not when only the `__main__` self-test of a library module (one
        another project module imports, on synthetic inputs) runs it, nor when no entry point reaches it and it
        writes data out (a split, samples) without reaching code or a module that trains. None (undecided) when no entry point of the project reaches it
        (a function called from outside the project, by a registry or a framework), when its runs do
        nothing but seed (a snippet, a prelude that something outside the project runs), or when they
        call into a module that trains without a call that leads to the training code (a class picked
        from a registry: `get_algorithm_class(name)(...).update(batch)`, `ALGORITHMS[name](...)`)."""
        entries = self.entries(node)
        if entries and entries <= self.selftests:
            return False  # only a library module's self-test on synthetic inputs runs it
        if node in self.trainers:
            return True
        if any(e in self.trainers for e in entries):
            return True
        run = self.run_of(node)
        if not entries and run & self.writers and not any(self.file_of.get(n) in self.training_files for n in run):
            return False  # no entry point reaches it, and it writes data out (draws a split, writes it), training none
        if not entries or not run & self.busy:
            return None
        if any(self.file_of.get(n) in self.training_files for n in run if not is_entry(n)):
            return None  # it calls into a module that trains (not only imports it)
        return False
