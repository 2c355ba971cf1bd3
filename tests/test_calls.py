"""The one call-site model (core/calls.py): the record every family keeps, argument keys, the project resolution,
and the index by name."""
import pickle
import textwrap
from pathlib import Path

import libcst as cst

from mllint.context import ModuleContext
from mllint.core.calls import Call, CallIndex, argument_keys, calls_by_target, qualify, target
from mllint.core.walk import Index
from mllint.project import FileResult, Project
from mllint.rules.hparam import extract_hparam_facts
from mllint.rules.seed import extract_seed_facts
from mllint.rules.eval.extract import EvalCall


def _ctx(code: str, rel: str = "train.py", modules=frozenset({"utils", "train"})) -> ModuleContext:
    module = cst.parse_module(textwrap.dedent(code).lstrip("\n"))
    return ModuleContext(module, rel, module.code, modules, index=Index(module))


def _calls(ctx: ModuleContext) -> list[cst.Call]:
    return [n for n in ctx.index.order if type(n) is cst.Call]


def test_the_record_of_a_call():
    ctx = _ctx("""
        from utils import set_seed as seeding
        import utils

        seeding(1, 2, lr=0.1, *rest)
        utils.fit(model, epochs=3)
        """)
    first, second = _calls(ctx)
    one = ctx.calls.of(first, "<module>")
    assert (one.name, one.callee, one.function, one.positional, one.keywords, one.star) == \
        ("seeding", "utils.set_seed", "set_seed", 2, ("lr",), True)
    two = ctx.calls.of(second, "train.main")
    assert (two.name, two.callee, two.scope, two.positional, two.keywords, two.star) == \
        ("fit", "utils.fit", "train.main", 1, ("epochs",), False)
    again = ctx.calls.of(second, "<main>")
    assert again.loc is two.loc and again.callee == two.callee  # one position per node, whatever the scope
    assert ctx.calls.of(first, "train.f", located=False).loc is None
    assert len(ctx.position_requests()) == 2  # one per node located
    assert [k for k, _ in argument_keys(first)] == ["0", "1", "lr"]  # up to the star
    assert [k for k, _ in argument_keys(second)] == ["0", "epochs"]
    assert pickle.loads(pickle.dumps(two)) == two


def test_families_keep_the_same_record():
    ctx = _ctx("""
        from utils import make_optimizer

        def main():
            make_optimizer(model, lr=0.37, seed=3)
        """)
    seed = extract_seed_facts(ctx)
    hparam = extract_hparam_facts(ctx)
    assert seed.calls and hparam.calls
    assert isinstance(seed.calls[0], Call) and isinstance(hparam.calls[0], Call)
    assert seed.calls[0].loc is hparam.calls[0].loc and seed.calls[0].callee == hparam.calls[0].callee == "utils.make_optimizer"
    assert seed.calls[0].literals == {"seed": 3}
    assert [a.key for a in hparam.calls[0].args] == ["lr", "seed"]


def test_one_resolution_of_a_callee(tmp_path: Path):
    files = {"train.py": FileResult("train.py", "train.py"), "pkg/__init__.py": FileResult("pkg/__init__.py", "pkg/__init__.py"),
             "pkg/utils.py": FileResult("pkg/utils.py", "pkg/utils.py")}
    files["pkg/__init__.py"].facts["imports"] = {"set_seed": "pkg.utils.set_seed"}
    project = Project(str(tmp_path), files)
    assert target(project, "train.py", "pkg.utils.set_seed") == ("pkg/utils.py", "pkg.utils.set_seed")
    assert target(project, "train.py", "pkg.set_seed") == ("pkg/utils.py", "pkg.utils.set_seed")  # a re-export
    assert target(project, "train.py", "pkg.utils") == ("pkg/utils.py", "")  # a module
    assert qualify(project, "train.py", "pkg.utils") is None
    assert qualify(project, "train.py", "torch.manual_seed") is None
    calls = [("train.py", Call(callee="pkg.set_seed")), ("train.py", Call(callee="numpy.random.seed")),
             ("pkg/utils.py", Call(callee="pkg.utils.set_seed"))]
    assert {k: len(v) for k, v in calls_by_target(project, calls).items()} == {"pkg.utils.set_seed": 2}


def test_index_by_name():
    calls = [Call(name="g", callee="m.f"), Call(name="f"), Call(name="g")]
    assert CallIndex(calls).named("g") == [calls[0], calls[2]]
    assert CallIndex(calls, by_function=True).named("f") == [calls[0], calls[1]]
    assert CallIndex(calls).named("h") == []


def test_a_record_kept_unlocated_has_no_position():
    ctx = _ctx("f(1)\n")
    (node,) = _calls(ctx)
    first = ctx.calls.of(node, "m.<module>", EvalCall, located=False, grad_off=True)
    assert first.loc is None and not ctx.position_requests()
    second, third = ctx.calls.of(node, "<module>"), ctx.calls.of(node, "<main>")
    assert first.loc is None and second.loc is third.loc is not None and len(ctx.position_requests()) == 1
    assert pickle.loads(pickle.dumps(first)) == first and first.grad_off and first.target == ""
