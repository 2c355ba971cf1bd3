"""The data-flow engine at the level of the layer: the interpreter on small sources in-process, the
value lattice, the project resolution, and a new family declared on top of it (TOY001 below)."""
from __future__ import annotations

import textwrap

import libcst as cst

from mllint import rules as registry
from mllint.dataflow import terms as flow
from mllint.dataflow.terms import CLEAN, ParamTerm, ReturnTerm, SourceTerm, Val, derive, index, iterate, union
from mllint.dataflow.interpreter import Call, Domain, Found, Interpreter
from mllint.config import Config
from mllint.context import ModuleContext
from mllint.engine import run

# --- a whole family in under 40 lines: secret() -> publish(), across modules -------------------------
from mllint.dataflow.solve import chain_related, solve
from mllint.findings import Severity
from mllint.rules import Rule, extractor


class SecretDomain(Domain):
    def call_sources(self, flow: Interpreter, call: Call) -> Found:
        return Found(frozenset({flow.source(call.node, "secret()")})) if call.short == "secret" else Found()

    def call_sinks(self, flow: Interpreter, call: Call) -> None:
        arg = call.values.get(0)
        if call.short == "publish" and arg is not None and arg.tainted():
            flow.sink("TOY001", call.node, arg, "publish()")


@extractor("toy")
def toy_facts(ctx):
    return Interpreter(ctx, SecretDomain()).run()


class SecretPublished(Rule):
    code, name, severity = "TOY001", "secret-published", Severity.ERROR
    summary = "A secret reaches publish()."
    needs = ("toy", "imports")

    def check_project(self, project):
        files = {result.rel: facts for result, facts in project.facts("toy")}
        kept = [(rel, i) for rel, facts in files.items() for i in range(len(facts.sinks))]

        def report(found, resolver):
            return {self.code: [self.finding(sink.loc, f"{sink.what} publishes a secret",
                                             related=chain_related(atoms[0], resolver, "secret"))
                                for sink, atoms in found]}

        return solve(project, "toy", files, kept, SecretDomain().decide, None, report)[self.code]
# -----------------------------------------------------------------------------------------------------


def test_a_new_family_is_a_domain_an_extractor_and_a_rule(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_CACHE", {**registry.all_rules(), "TOY001": SecretPublished})
    (tmp_path / "README.md").write_text("toy\n")
    (tmp_path / "keys.py").write_text("def load():\n    key = secret()\n    return key.strip()\n")
    (tmp_path / "main.py").write_text(
        "from keys import load\n\ndef send(value):\n    publish(value)\n\nsend(load())\npublish('hello')\n")
    monkeypatch.chdir(tmp_path)
    result = run(["."], Config(), ["TOY"], [], jobs=1)
    assert [(f.code, f.loc.path, f.loc.line, f.message) for f in result.findings] == [
        ("TOY001", "main.py", 4, "publish() publishes a secret")]
    related = [(r.loc.path, r.loc.line, r.message) for r in result.findings[0].related]
    assert related == [("keys.py", 2, "secret: secret()"), ("main.py", 6, "returned by load()"),
                       ("main.py", 6, "passed to send() as `value`")]


# --- the interpreter, in-process ---------------------------------------------------------------------


class Recorder(Domain):
    """Sources: `src("name")`; sinks: `sink(x)`. Guards: branches on a tainted test."""

    def call_sources(self, flow, call):
        if call.short == "src":
            return Found(frozenset({flow.source(call.node, call.args[0][1].const)}))
        return Found()

    def call_sinks(self, flow, call):
        if call.short == "sink":
            flow.sink("T", call.node, union(*call.values.values()), f"guards={len(flow.guards)}")

    def branch(self, flow, node, test):
        return "guard" if test.tainted() else None


def interpret(source: str, rel: str = "m.py"):
    text = textwrap.dedent(source)
    ctx = ModuleContext(cst.parse_module(text), rel, text)
    return Interpreter(ctx, Recorder()).run()


def sources_of(facts, val: Val) -> set[str]:
    return {facts.sources[t.i].what for t in val.flat() if isinstance(t, SourceTerm)}


def test_statements_run_in_order_and_a_later_assignment_replaces_an_earlier_one():
    facts = interpret('x = src("a")\nx = 1\nsink(x)\ny = src("b")\nsink(y)\n')
    assert [sources_of(facts, s.val) for s in facts.sinks] == [set(), {"b"}]


def test_branches_merge_and_a_bound_literal_decides_the_test():
    facts = interpret('''
        x = src("a") if cond else None
        if flag:
            y = src("b")
        else:
            y = src("c")
        sink(x, y)
        phase = "train"
        if phase == "test":
            z = src("never")
        else:
            z = src("d")
        sink(z)
    ''')
    assert [sources_of(facts, s.val) for s in facts.sinks] == [{"a", "b", "c"}, {"d"}]


def test_loops_reach_a_fixpoint_and_literal_phases_run_once_each():
    facts = interpret('''
        prev = None
        for item in items:
            sink(prev)
            prev = src("a")
        for phase in ("train", "test"):
            if phase == "test":
                sink(src("t"))
    ''')
    assert [sources_of(facts, s.val) for s in facts.sinks] == [{"a"}, {"t"}]


def test_functions_summarise_parameters_and_returns_and_calls_become_sites():
    facts = interpret('''
        def make(kind, n=3):
            return wrap(kind)
        def use():
            return make("x")
    ''')
    make = facts.functions["m.make"]
    assert make.params == ("kind", "n")
    assert {type(t) for t in make.returns.flat()} == {ParamTerm}
    use = facts.functions["m.use"]
    (site_term,) = use.returns.flat()
    assert isinstance(site_term, ReturnTerm) and facts.calls[site_term.site].callee == "m.make"


def test_guards_are_pushed_while_a_tainted_branch_runs():
    facts = interpret('acc = src("a")\nif acc > best:\n    sink(1)\nsink(2)\n')
    assert [s.what for s in facts.sinks] == ["guards=1", "guards=0"]


def test_containers_keep_their_parts():
    facts = interpret('''
        pair = (src("a"), src("b"))
        d = {"train": src("c"), "test": src("d")}
        sink(pair[1])
        sink(d["train"])
        first, second = pair
        sink(first)
    ''')
    assert [sources_of(facts, s.val) for s in facts.sinks] == [{"b"}, {"c"}, {"a"}]


# --- the value lattice ---------------------------------------------------------------------------------


def test_union_keeps_marks_only_when_every_branch_has_them():
    a = flow.mark(Val(frozenset({SourceTerm("m.py", 0)})), "train")
    b = Val(frozenset({SourceTerm("m.py", 1)}))
    assert union(a, a).marks == frozenset({"train"})
    assert union(a, b).marks == frozenset()
    assert index(a, 0).marks == frozenset({"train"})


def test_derive_and_paths():
    param = ParamTerm("m.f", 0, "x")
    val = Val(frozenset({param}))
    (derived,) = derive(val).flat()
    assert derived.raw is False
    (element,) = iterate(index(val, ".data")).flat()
    assert element.path == (".data", flow.ITER)
    assert derive(CLEAN) is CLEAN


def test_tags_label_flows():
    val = flow.tag(Val(frozenset({SourceTerm("m.py", 0)})), "unlabelled")
    assert all(t.tags == frozenset({"unlabelled"}) for t in val.flat())
