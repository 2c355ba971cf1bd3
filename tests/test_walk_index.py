"""The module index (core.walk.Index): one expansion of the tree that every later walk reads."""
from __future__ import annotations

import libcst as cst

from mllint.core import walk as walk_module
from mllint.core.walk import Index, Visitor, children, indexed, walk

SOURCE = '''
import torch

def train(model, loader, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for x, y in loader:
        loss = model(x).sum() * 0.5
        loss.backward(); opt.step()
    return [m for m in model.modules() if m]

class Net(torch.nn.Module):
    def forward(self, x):
        return x if self.training else -x
'''


def _expanded_walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(walk_module._expand(current)))


def test_index_serves_the_same_tree_as_expansion():
    module = cst.parse_module(SOURCE)
    expected = [id(n) for n in _expanded_walk(module)]
    index = Index(module)
    assert len(index.order) == len(expected)
    with indexed(index):
        assert [id(n) for n in walk(module)] == expected
        assert [id(n) for n in walk(module)] == expected  # the cached children were not consumed or reversed
        function = module.body[1]
        assert [id(n) for n in children(function)] == [id(n) for n in walk_module._expand(function)]
    assert walk_module.active_index() is None


def test_a_walk_inside_the_index_expands_nothing(monkeypatch):
    module = cst.parse_module(SOURCE)
    index = Index(module)
    calls = []
    real = walk_module._expand
    monkeypatch.setattr(walk_module, "_expand", lambda node: calls.append(node) or real(node))

    class Calls(Visitor):
        def __init__(self):
            self.found = []

        def visit_Call(self, node):
            self.found.append(node)

    with indexed(index):
        visitor = Calls()
        visitor.visit(module)
        sum(1 for _ in walk(module))
        assert calls == []
        built = cst.parse_expression("f(x)")  # a node built during the analysis is expanded on demand
        assert [type(n).__name__ for n in walk(built)] == ["Call", "Name", "Arg", "Name"]
    assert len(visitor.found) == len(index.of_type(cst.Call)) == 7


def test_parents_and_nodes_by_type():
    module = cst.parse_module(SOURCE)
    index = Index(module)
    floats = index.of_type(cst.Float)
    assert [f.value for f in floats] == ["0.1", "0.5"]  # source order
    kinds = [type(a).__name__ for a in index.ancestors(floats[1])]
    assert kinds[:3] == ["BinaryOperation", "Assign", "SimpleStatementLine"]
    assert kinds[-1] == "Module" and "For" in kinds and "FunctionDef" in kinds
    assert index.parent(module) is None
    mixed = index.of_type(cst.FunctionDef, cst.ClassDef)
    assert [n.name.value for n in mixed] == ["train", "Net", "forward"]


def test_indexed_blocks_nest_and_restore():
    first, second = Index(cst.parse_module("a = 1\n")), Index(cst.parse_module("b = 2\n"))
    with indexed(first):
        with indexed(second):
            assert walk_module.active_index() is second
        assert walk_module.active_index() is first
    assert walk_module.active_index() is None


def test_each_thread_has_its_own_index():
    import threading

    mine = Index(cst.parse_module("a = 1\n"))
    seen = []
    with indexed(mine):
        worker = threading.Thread(target=lambda: seen.append(walk_module.active_index()))
        worker.start()
        worker.join()
        assert walk_module.active_index() is mine
    assert seen == [None]


def test_document_order_and_subtree_spans():
    module = cst.parse_module(SOURCE)
    index = Index(module)
    assert [id(n) for n in index.order] == [id(n) for n in _expanded_walk(module)]
    for at, node in enumerate(index.order):
        assert index.pos[id(node)] == at
        assert [id(n) for n in index.order[at:index.end[at]]] == [id(n) for n in _expanded_walk(node)]
        kids = walk_module._expand(node)
        assert [id(n) for n in index.children_at(at)] == [id(n) for n in kids]
        assert all(index.parent(kid) is node for kid in kids)


def test_a_visitor_on_the_spans_visits_as_the_recursive_one():
    """Skipping a subtree (False), visiting parts by hand in any order and nodes outside the index: the same
    calls in the same order with and without the index."""

    class Recorder(Visitor):
        def __init__(self):
            self.seen = []

        def visit_FunctionDef(self, node):
            self.seen.append(("def", node.name.value))
            self.visit(node.body)
            for param in node.params.params:  # after the body: out of document order
                self.visit(param)
            return False

        def visit_Name(self, node):
            self.seen.append(("name", node.value))

        def visit_ListComp(self, node):
            return False

        def visit_Lambda(self, node):
            self.visit(cst.parse_expression("outside + index"))

    source = SOURCE + "\nf = lambda q: [z for z in q]\n"
    module = cst.parse_module(source)
    plain = Recorder()
    plain.visit(module)
    index = Index(module)
    with indexed(index):
        served = Recorder()
        served.visit(module)
    assert served.seen == plain.seen
    assert ("name", "outside") in served.seen and ("name", "m") not in served.seen


HPARAM_READS = '''
import torch
lr = 0.1
opt = torch.optim.SGD(params, lr=lr)
opt.zero_grad()
opt.step()
print(f"lr {lr}")
for epoch in range(3):
    momentum = 0.9
    logger.info("momentum %s", momentum)
    scale = momentum * 2
    opt = make(opt)
    decay = 0.5
def train(model, decay=0.1):
    wd = 1e-4
    opt = torch.optim.Adam(model.parameters(), weight_decay=wd)
    for step in range(10):
        loss = model(step)
        opt.step()
        wd = wd * decay
    helper = lambda: wd
    opt = None
    return [opt for _ in range(2)]
class Config:
    lr = 0.3
    def use(self):
        return lr
if __name__ == "__main__":
    sched = build(opt)
    sched.step()
    x: int = lr
'''


def test_hparam_reads_of_a_name_agree_with_the_walking_versions():
    """HPARAM's read_past/acts/is_read decided from the index's name positions give what the walks gave, for
    every name bound at every statement, with the module and each function as the root."""
    from mllint.rules.hparam import syntax

    module = cst.parse_module(HPARAM_READS)
    index = Index(module)
    roots = [module, *index.of_type(cst.FunctionDef)]
    names = sorted({n.value for n in index.of_type(cst.Name)})
    checked = 0
    with indexed(index):
        for root in roots:
            statements = [n for n in walk(root) if isinstance(n, (cst.SimpleStatementLine, cst.For, cst.If))]
            for stmt in statements:
                for name in names:
                    assert syntax.read_past(root, stmt, name) == syntax._read_past_walking(root, stmt, name), (name,)
                    assert syntax.acts(root, stmt, name) == syntax._acts_walking(root, stmt, name), (name,)
                    checked += 1
            for name in names:
                assert syntax.is_read(root, name) == syntax._is_read_walking(root, name)
            for loop in index.of_type(cst.For):
                for stmt in statements:
                    for name in names:
                        assert (syntax._read_outside_log(loop, stmt, name)
                                == syntax._read_outside_log_walking(loop, stmt, name))
    assert checked > 1000
