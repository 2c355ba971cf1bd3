"""Value origins (mllint/core/origins.py) on small sources, in-process."""
import textwrap

import libcst as cst
import pytest

from mllint.core import origins as o
from mllint.core.origins import OptionKind, OriginKind, Origins
from mllint.context import ModuleContext


def context(source: str, rel: str = "train.py", project=frozenset()) -> ModuleContext:
    text = textwrap.dedent(source).lstrip("\n")
    return ModuleContext(cst.parse_module(text), rel, text, project)


def expr(text: str) -> cst.BaseExpression:
    return cst.parse_expression(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3), ("0x10", 16), ("1_000", 1000), ("0.137", 0.137), ("5e-4", 5e-4), ("1E3", 1000.0), ("-0.5", -0.5),
        ("+2", 2), ("(0.9, 0.999)", (0.9, 0.999)), ("[30, 60, 90]", (30, 60, 90)), ("1 / 3", 1 / 3),
        ("2 ** -4", 2**-4), ("0.1 * 3", 0.1 * 3), ("10 // 3", 3), ("-(1e-3)", -1e-3),
    ],
)
def test_number_of_literals(text, value):
    assert o.number(expr(text)) == pytest.approx(value)


@pytest.mark.parametrize("text", ["x", "'0.1'", "True", "None", "f(1)", "[1, x]", "1 / 0", "10 ** 1000", "()"])
def test_number_of_non_literals(text):
    assert o.number(expr(text)) is None


def test_show_and_same_value():
    assert o.show(5e-4) == "5e-4" and o.show(0.137) == "0.137" and o.show((0.9, 0.98)) == "(0.9, 0.98)"
    assert o.same_value(1e-3, 0.001) and o.same_value((0.9, 0.999), (0.9, 0.999))
    assert not o.same_value(0.9, (0.9,)) and not o.same_value(0.1, "<required>") and not o.same_value(None, None)


def origin_of(source: str, name: str, function: str | None = None, project=frozenset()):
    ctx = context(source, project=project)
    scope = ctx.module_scope
    if function is not None:
        scope = ctx.scope_of(ctx.names.functions[function])
    return Origins(ctx).of(cst.parse_expression(name), scope)


SOURCE = """
import argparse
import math

import yaml

from conf import settings

LR = 0.1  # Goyal et al.: 0.1 per 256 images
BARE = 3e-4
parser = argparse.ArgumentParser()
parser.add_argument("--wd", type=float, default=5e-4)
ns = parser.parse_args()
hyp = yaml.safe_load(open("hyp.yaml"))


def train(model, lr):
    momentum = 0.85
    for epoch in range(10):
        pass
    return momentum
"""


@pytest.mark.parametrize(
    "text, function, kind, name, value",
    [
        ("0.137", None, OriginKind.LITERAL, "", 0.137),
        ("LR", None, OriginKind.CONSTANT, "LR", 0.1),
        ("BARE", None, OriginKind.CONSTANT, "BARE", 3e-4),
        ("momentum", "train", OriginKind.CONSTANT, "momentum", 0.85),
        ("lr", "train", OriginKind.PARAM, "lr", None),
        ("epoch", "train", OriginKind.DERIVED, "epoch", None),
        ("ns.wd", None, OriginKind.OPTION, "wd", None),
        ("args.lr", None, OriginKind.OPTION, "lr", None),
        ("cfg.optim.lr", None, OriginKind.FIELD, "lr", None),
        ('hyp["lr0"]', None, OriginKind.CONFIG_KEY, "lr0", None),
        ('cfg.get("lr", 0.1)', None, OriginKind.CONFIG_KEY, "lr", None),
        ("float(LR)", None, OriginKind.CONSTANT, "LR", 0.1),
        ("math.pi", None, OriginKind.DERIVED, "math.pi", None),
        ("settings.MILESTONES", None, OriginKind.CONSTANT, "conf.settings.MILESTONES", None),
    ],
)
def test_origins(text, function, kind, name, value):
    origin = origin_of(SOURCE, text, function, project=frozenset({"conf"}))
    assert origin.kind == kind
    assert origin.name == name
    if value is not None:
        assert origin.value == pytest.approx(value) and origin.is_number
    else:
        assert not origin.is_number


def test_constant_keeps_its_comment_and_level():
    origin = origin_of(SOURCE, "LR")
    assert origin.module_level and "Goyal" in origin.comment
    assert origin_of(SOURCE, "BARE").comment == ""
    assert not origin_of(SOURCE, "momentum", "train").module_level


def test_rebound_name_is_not_one_constant():
    assert origin_of("lr = 0.1\nlr = 0.2\n", "lr").kind == OriginKind.DERIVED


def test_configurator_globals_are_options():
    source = "learning_rate = 6e-4\nexec(open('configurator.py').read())\n"
    origin = origin_of(source, "learning_rate")
    assert origin.kind == OriginKind.OPTION and origin.name == "learning_rate"


def test_parse_options_of_every_kind():
    ctx = context(
        """
        import argparse
        from dataclasses import dataclass, field

        import click
        import typer
        from absl import flags

        parser = argparse.ArgumentParser()
        parser.add_argument("--learning-rate", "--lr", type=float, default=0.1, dest="lr")
        parser.add_argument("--milestones", nargs="+", type=int, default=[30, 60])
        flags.DEFINE_float("momentum", 0.9, "SGD momentum")


        @click.command()
        @click.option("--wd", default=5e-4)
        def main(wd):
            pass


        def cli(eps: float = typer.Option(1e-8, "--eps")):
            pass


        @dataclass
        class TrainConfig:
            gamma: float = 0.1
            steps: list = field(default=(3, 6))
            _private: int = 0
        """
    )
    options = {opt.dest: opt for opt in o.parse_options(ctx)}
    assert options["lr"].kind == OptionKind.ARGPARSE and options["lr"].default == 0.1
    assert set(options["lr"].aliases) == {"learning_rate", "lr"} and options["lr"].name == "--learning-rate"
    assert options["milestones"].multiple and options["milestones"].default == (30, 60)
    assert options["momentum"].kind == OptionKind.ABSL and options["momentum"].default == 0.9
    assert options["wd"].kind == OptionKind.CLICK and options["wd"].default == 5e-4
    assert options["eps"].kind == OptionKind.TYPER and options["eps"].default == 1e-8
    assert options["gamma"].kind == OptionKind.FIELD and options["gamma"].name == "TrainConfig.gamma"
    assert options["steps"].default == (3, 6)
    assert "_private" not in options


def first_statement(source: str, index: int = 0) -> cst.CSTNode:
    module = cst.parse_module(textwrap.dedent(source).lstrip("\n"))
    return list(o.statements(module))[index]


def test_comments_of_a_statement():
    stmt = first_statement(
        """
        x = 1

        # from the paper
        # (Table 3)
        opt = SGD(
            params,
            lr=0.1,  # tuned
        )  # trailing
        """,
        1,
    )
    assert o.comments_of(stmt) == ["# from the paper", "# (Table 3)", "# tuned", "# trailing"]


def test_comment_above_a_blank_line_is_not_the_statements():
    stmt = first_statement("# header of the file\n\nopt = SGD(params, lr=0.1)\n")
    assert o.comments_of(stmt) == []


def test_compound_statement_comments_are_its_header():
    stmt = first_statement("x = 1\n# drop at 137\nif epoch == 137:  # paper\n    lr = 0.1  # inner\n", 1)
    assert o.comments_of(stmt) == ["# drop at 137", "# paper"]


def test_comments_above_the_first_statement_are_the_modules_header():
    module = cst.parse_module("# Goyal et al.\nLR = 0.1\n")
    assert o.comments_of(module.body[0]) == []
    assert o.comments_of(module.body[0], module) == ["# Goyal et al."]


def test_docstrings_and_string_above():
    module = cst.parse_module('def f():\n    """Decay by 10 every 30 epochs."""\n    "why"\n    x = 1\n')
    function = module.body[0]
    assert o.docstring_of(function) == "Decay by 10 every 30 epochs."
    body = list(function.body.body)
    assert o.string_above(body, body[2]) == "why"
    assert o.string_above(body, body[1]) == "Decay by 10 every 30 epochs."
    assert o.string_above(body, body[1], docstring=True) == ""
    assert o.string_above(body, body[2], docstring=True) == "why"
    assert o.docstring_of(None) == ""


@pytest.mark.parametrize(
    "comment, why",
    [
        ("# clip gradients", False), ("# learning rate decay", False), ("# set the momentum", False),
        ("# Create an optimizer for the parallelized module.", False), ("# noqa: E501", False), ("#", False),
        ("# from the paper", True), ("# Goyal et al.", True), ("# tuned on the validation split", True),
        ("# see https://arxiv.org/abs/1706.02677", True), ("# otherwise the loss diverges", True),
        ("# smaller: this dataset overfits quickly", True),
    ],
)
def test_says_why(comment, why):
    assert o.says_why(comment, ["lr", "learning", "rate"]) is why


def test_spelling_makes_option_destinations_one_setting():
    assert len({o.spelling(n) for n in ("--manualSeed", "manual_seed", "--manual-seed", "MANUAL_SEED")}) == 1
    assert o.spelling("--seed") != o.spelling("--seeds")


def test_config_read_keeps_its_default():
    origin = origin_of("import yaml\ncfg = yaml.safe_load(open('c.yaml'))\n", "cfg.get('clip', 5.0)")
    assert origin.kind == OriginKind.CONFIG_KEY and origin.name == "clip"
    assert o.number(origin.fallback) == 5.0


def _trace_of(source: str, name: str, function: str | None = None):
    """The trace of the value assigned to `name` (in `function`, or at module level)."""
    ctx = context(textwrap.dedent(source))
    scope = ctx.module_scope
    if function is not None:
        node = ctx.names.functions[function] if hasattr(ctx.names, "functions") else None
        node = node or next(n for n in ctx.module.body if isinstance(n, cst.FunctionDef) and n.name.value == function)
        scope = ctx.scopes[id(node)]
    binding = scope.lookup(name)[-1]
    return o.trace(Origins(ctx), binding.node, scope)


def _leaves(t):
    return [(leaf.kind.value, leaf.name, leaf.root) for leaf in t.leaves()]


def test_trace_through_names_arithmetic_and_choices():
    source = """
    import os

    def main(args, rank, cfg):
        base = 1337
        for trial in range(3):
            pass
        if args.debug:
            base = args.seed
        value = base + rank
        env = int(os.environ.get("SEED", 0)) % 2**32
        chosen = cfg.get("seed", 1) if cfg else getattr(args, "rng_seed", 0)
        looped = trial
        keyed = cfg["seed"]
    """
    value = _trace_of(source, "value", "main")
    assert value.how == o.ARITH and value.parts[0].how == o.CHOICE
    assert _leaves(value) == [("literal", "", ""), ("option", "seed", ""), ("param", "rank", "")]
    env = _trace_of(source, "env", "main")
    assert env.how == o.REDUCE and _leaves(env) == [("option", "SEED", "os.environ")]
    chosen = _trace_of(source, "chosen", "main")
    assert chosen.how == o.CHOICE and _leaves(chosen) == [("config-key", "seed", "call"), ("config-key", "rng_seed", "call")]
    looped = _trace_of(source, "looped", "main")
    assert _leaves(looped) == [("loop", "trial", "")] and looped.node is not None
    assert _leaves(_trace_of(source, "keyed", "main")) == [("config-key", "seed", "cfg")]


def test_trace_configurator_globals_are_options():
    source = "seed = 1337\nseed_offset = 0\nexec(open('configurator.py').read())\nx = seed + seed_offset\n"
    ctx = context(source)
    binding = ctx.module_scope.lookup("x")[-1]
    t = o.trace(Origins(ctx), binding.node, ctx.module_scope, lambda name: name != "seed_offset")
    assert _leaves(t) == [("option", "seed", ""), ("literal", "", "")]


def test_trace_of_a_name_rebound_from_itself_stays_small():
    """`size = size * 2` eight times: each binding is traced once per path, not n**depth times (a 300-line data
    module of this shape took over a minute, FILE009), and the leaves still hold the literal it starts from."""
    rebinds = "\n".join(f"    if flag{i}:\n        size = size * 2 + {i}" for i in range(8))
    source = f"def build(flags):\n    size = 32\n{rebinds}\n    out = size\n"
    t = _trace_of(source, "out", "build")

    def count(node) -> int:
        return 1 + sum(count(part) for part in node.parts)

    assert count(t) < 200
    kinds = {kind for kind, _, _ in _leaves(t)}
    assert "literal" in kinds and kinds <= {"literal", "derived"}


FIXED = textwrap.dedent("""
    N_TEST = 0x3e8
    DROP = True
    CFG = {"eval_samples": 500, "drop_last": True}
    WRITTEN = {"drop_last": True}
    WRITTEN["drop_last"] = False
    COUNT = 10
    LOOSE = 5


    def bump():
        global COUNT
        COUNT += 1


    def cut(test_set, size):
        n = 2048
        return N_TEST, DROP, CFG["eval_samples"], CFG["drop_last"], WRITTEN["drop_last"], COUNT, size, n, LOOSE


    class Evaluator:
        def __init__(self, sub_sample=1):
            self.sub_sample = sub_sample


    def shadow():
        LOOSE = len([])
        return LOOSE


    cut(None, 100)
    cut(None, 100)
    Evaluator(sub_sample=20)
""")


def test_fixed_literals_read_through_the_scopes():
    module = cst.parse_module(FIXED)
    ctx = ModuleContext(module, "m.py", FIXED)
    fixed = o.FixedLiterals(ctx)
    cut = next(s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "cut")
    scope = ctx.scope_of(cut)
    returned = cut.body.body[-1].body[0].value.elements
    values = [fixed.of(e.value, scope) for e in returned]
    # a constant in any base, a bool, a never-written dict's entries; a written dict, a name some function declares
    # global, a parameter every call passes as 100, a local bound once, a module name another function shadows
    assert values == [1000, True, 500, True, None, None, 100, 2048, 5]
    init = next(s for s in module.body if isinstance(s, cst.ClassDef)).body.body[0]
    assert fixed.parameters(init) == {"sub_sample": 20}
    shadow = next(s for s in module.body if isinstance(s, cst.FunctionDef) and s.name.value == "shadow")
    assert fixed.of(cst.Name("LOOSE"), ctx.scope_of(shadow)) is None  # bound there to no literal


def test_literals_at_layer_a_walk_over_the_module():
    module = cst.parse_module(FIXED)
    ctx = ModuleContext(module, "m.py", FIXED)
    here = o.LiteralsAt(o.FixedLiterals(ctx), ctx.module_scope)
    assert here.of(cst.Name("N_TEST")) == 1000
    here.bind("N_TEST", 7)
    assert here.of(cst.Name("N_TEST")) == 7
    here.forget("N_TEST")
    assert here.of(cst.Name("N_TEST")) is None
