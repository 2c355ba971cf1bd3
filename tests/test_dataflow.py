"""The data-flow engine at the level of the layer: the interpreter on small sources in-process, the
value lattice, the project resolution, and a new family declared on top of it (TOY001 below)."""
from __future__ import annotations

import dataclasses
import pickle
import textwrap

import libcst as cst

from mllint import rules as registry
from mllint.core import calls as core_calls
from mllint.dataflow import terms as flow
from mllint.dataflow.terms import CLEAN, ParamTerm, ReturnTerm, SourceTerm, Val, derive, index, iterate, union
from mllint.dataflow.terms import tag as flow_tag
from mllint.dataflow.interpreter import Call, Domain, Found, Interpreter
from mllint.config import Config
from mllint.context import ModuleContext
from mllint.engine import run

# --- a whole family in under 40 lines: secret() -> publish(), across modules -------------------------
from mllint.dataflow.families import family, interpretation
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


# a lane of each module's one interpretation, where a secret may be made or published
family("toy")(lambda ctx: SecretDomain() if "secret(" in ctx.text or "publish(" in ctx.text else None)


@extractor("toy")
def toy_facts(ctx):
    return (interpretation(ctx, "toy") or (None,))[0]


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
    assert isinstance(site_term, ReturnTerm) and facts.calls[site_term.site].dotted == "m.make"


def test_a_call_site_is_the_call_record_plus_the_engines_annotations():
    """core/calls.py's record: the callee as written and qualified through the module's names; `dotted`, the name
    the project index resolves, may be the engine's own (`self.step()` in a class of the module)."""
    text = textwrap.dedent('''
        from pkg.data import load as loading

        class Trainer:
            def fit(self, n):
                return self.step(loading(n, split=None))
    ''')
    facts = Interpreter(ModuleContext(cst.parse_module(text), "m.py", text, frozenset({"pkg", "pkg.data"})), Recorder()).run()
    load, step = sorted(facts.calls.values(), key=lambda site: site.name)
    assert isinstance(step, core_calls.Call) and isinstance(load, core_calls.Call)
    assert (load.name, load.short, load.callee, load.dotted, load.scope) == \
        ("loading", "loading", "pkg.data.load", "pkg.data.load", "m.Trainer.fit")
    assert (load.positional, load.keywords, load.falsy, [p for p, _ in load.args]) == (1, ("split",), ("split",), [0, "split"])
    assert (step.name, step.callee, step.dotted, step.offset, step.attribute) == ("step", "", "m.Trainer.step", 1, True)
    assert step.loc is None  # no data in the module: its sites are not located
    assert pickle.loads(pickle.dumps(step)) == step


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


# --- one interpretation for several domains (lanes) ----------------------------------------------------


class Skeptic(Recorder):
    """Decides otherwise than Recorder wherever a domain can: forgets the literal or the keys bound to names
    starting `c_` (a test on them is no longer decided, a dict comprehension over them has no known keys), takes
    only `src("s...")` for a source (loops run their second pass for other lanes), skips classes named `Skip...`
    and methods named `hidden`, and makes sources under `if param == "lit":` conditional."""
    conditional_branches = True

    def call_sources(self, flow, call):
        found = super().call_sources(flow, call)
        return found if call.short != "src" or str(call.args[0][1].const).startswith("s") else Found()

    def named(self, flow, node, name, value, source):
        return Val(value.flat()) if name.startswith("c_") else value

    def skips_class(self, node):
        return node.name.value.startswith("Skip")

    def skips(self, node):
        return node.name.value == "hidden"


class Arbitrary(Domain):
    """Answers that follow the spelling alone, unlike any family's, so that on real code its lane decides otherwise
    than the others: a call whose name has an odd length is a source, one whose length is a multiple of 3 a sink;
    names of even length forget their literal and their parts; classes of even length and methods whose length is
    a multiple of 4 are skipped; keys of odd length tag what they select; sources under a parameter's test are
    conditional."""
    conditional_branches = True

    def call_sources(self, flow, call):
        return Found(frozenset({flow.source(call.node, call.short)})) if len(call.short) % 2 else Found()

    def call_sinks(self, flow, call):
        if len(call.short) % 3 == 0 and call.args:
            flow.sink("A", call.node, union(*call.values.values()), call.short)

    def named(self, flow, node, name, value, source):
        return Val(value.flat()) if len(name) % 2 == 0 else value

    def skips_class(self, node):
        return len(node.name.value) % 2 == 0

    def skips(self, node):
        return len(node.name.value) % 4 == 0

    def branch(self, flow, node, test):
        return "guard" if test.tainted() else None

    def subscript(self, flow, node, owner, key):
        return flow_tag(owner, "odd") if isinstance(key, str) and len(key) % 2 else None


def canonical(facts, ctx) -> str:
    """Facts as text, sets sorted and locations named by their node (equal facts, equal text)."""
    nodes = {id(loc): f"{type(node).__name__}@{id(node)}" for node, loc in ctx._positions}

    def text(x) -> str:
        if isinstance(x, (set, frozenset)):
            return "{" + ",".join(sorted(map(text, x))) + "}"
        if isinstance(x, dict):
            return "{" + ",".join(sorted(f"{text(k)}:{text(v)}" for k, v in x.items())) + "}"
        if isinstance(x, (list, tuple)):
            return "[" + ",".join(map(text, x)) + "]"
        if id(x) in nodes:
            return nodes[id(x)]
        if dataclasses.is_dataclass(x):
            return type(x).__name__ + "(" + ",".join(text(getattr(x, f.name)) for f in dataclasses.fields(x)) + ")"
        return repr(x)
    return text(facts)


def assert_lanes_alone(text: str, rel: str, make_domains) -> list:
    """Each lane of one interpretation has exactly the facts of its domain interpreted alone."""
    ctx = ModuleContext(cst.parse_module(text), rel, text)
    together = Interpreter(ctx, make_domains(ctx)).run_all()
    alone = [Interpreter(ctx, domain).run() for domain in make_domains(ctx)]
    for lane, single in zip(together, alone):
        assert canonical(lane, ctx) == canonical(single, ctx)
    return together


DIVERGING = '''
    c_phase = "b"
    if c_phase == "a":
        only = src("s1")
    c_sets = {"x": src("s2"), "y": src("r")}
    loaders = {k: load(c_sets[k]) for k in c_sets}

    def outer(flag, items):
        prev = None
        for item in items:
            sink(prev)
            prev = src("r2")
        if flag == "test":
            data = src("s3")
        else:
            data = None
        def inner():
            sink(only, data, prev)
        return inner

    def nest():
        local = src("s6")
        def middle():
            c_mode = "b"
            if c_mode == "a":
                local = src("s7")
            def inner():
                sink(local)
            return inner
        return middle

    def spin(items):
        prev = None
        while items:
            sink(prev)
            prev = wrap(src("r3"))
            outer(items, items)

    class SkipModel:
        def __init__(self, data):
            self.data = src("s4")
        def hidden(self):
            sink(self.data)

    class Kept:
        def hidden(self):
            sink(src("s5"))
'''


def test_lanes_that_decide_differently_keep_the_facts_of_their_domain_alone():
    recorder, skeptic = assert_lanes_alone(textwrap.dedent(DIVERGING), "m.py", lambda ctx: [Recorder(), Skeptic()])
    assert {s.what for s in recorder.sources} == {"s2", "r", "r2", "r3", "s3", "s4", "s5", "s6"}  # c_ decides
    assert "m.SkipModel.__init__" in recorder.functions and "m.SkipModel.__init__" not in skeptic.functions
    assert "m.Kept.hidden" in recorder.functions and "m.Kept.hidden" not in skeptic.functions
    assert any(isinstance(t, flow.CondTerm) for f in skeptic.functions.values() for t in f.returns.flat()) or \
        any(isinstance(t, flow.CondTerm) for s in skeptic.sinks for t in s.val.flat())


def test_every_fixture_module_interpreted_by_all_families_at_once_as_each_alone():
    """LEAK, EVAL, PREP and two toy domains that decide otherwise as lanes of one interpretation, on every fixture
    module."""
    from pathlib import Path

    from mllint.config import DEFAULT_HELD_OUT_SPLITS
    from mllint.rules.eval.domain import eval_domain
    from mllint.rules.leak.domain import LeakDomain
    from mllint.rules.prep.domain import PrepDomain

    def domains(ctx):
        found = [LeakDomain(DEFAULT_HELD_OUT_SPLITS), PrepDomain(), Arbitrary(), Skeptic()]
        averaged = eval_domain(ctx)
        return found + [averaged] if averaged is not None else found

    root = Path(__file__).resolve().parents[1] / "fixtures"
    paths = sorted(root.rglob("*.py"))
    assert len(paths) > 100
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            cst.parse_module(text)
        except Exception:  # noqa: BLE001 - fixtures of input diagnostics do not parse on purpose
            continue
        assert_lanes_alone(text, path.relative_to(root).as_posix(), domains)


def test_a_family_that_fails_fails_alone(monkeypatch):
    from mllint.dataflow import families

    class Broken(Recorder):
        def call_sinks(self, flow, call):
            raise ValueError("broken")

    monkeypatch.setattr(families, "FAMILIES", {"a": lambda ctx: Recorder(), "b": lambda ctx: Broken()})
    text = 'sink(src("a"))\n'
    ctx = ModuleContext(cst.parse_module(text), "m.py", text)
    facts, domain = families.interpretation(ctx, "a")
    assert isinstance(domain, Recorder) and [s.what for s in facts.sinks] == ["guards=0"]
    try:
        families.interpretation(ctx, "b")
    except ValueError as exc:
        assert str(exc) == "broken"
    else:
        raise AssertionError("b's failure is b's")
    assert families.interpretation(ctx, "c") is None


def test_canonical_text_ignores_set_order():
    """The resolver orders terms and atoms by `canonical`, which must not depend on the hash order of their sets."""
    from mllint.dataflow.terms import ParamTerm, SourceTerm, canonical

    tags = frozenset({f"tag{i}" for i in range(20)})
    shuffled = frozenset(sorted(tags, reverse=True))
    a, b = SourceTerm("train.py", 3, tags=tags), SourceTerm("train.py", 3, tags=shuffled)
    assert canonical(a) == canonical(b) == canonical(SourceTerm("train.py", 3, tags=frozenset(sorted(tags))))
    assert canonical(a) != canonical(SourceTerm("train.py", 4, tags=tags))
    assert canonical(ParamTerm("m.f", 0, "x", path=("a", 1))).startswith("ParamTerm(")


def test_findings_do_not_depend_on_the_hash_seed(tmp_path):
    """Three runs under different PYTHONHASHSEEDs give the same findings (the resolver's memo keeps what a term
    resolved to while a cycle through it was cut: the order it visits terms in must be fixed)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "mllint", "--no-cache", "--format", "json",
                               "--select", "LEAK,EVAL001,PREP001", str(fixtures)],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
