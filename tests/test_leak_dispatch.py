"""Dynamic dispatch in the data-flow engine (dataflow/dispatch.py, resolve.Resolver.targets): a call through a
run-time lookup runs the union of its candidates (bounded), narrowed where the key is decided; returns flow back
and arguments flow in. The fixtures `leak_{pos,neg}_dispatch_*` show each shape end to end."""
from mllint.dataflow.dispatch import MAX_CANDIDATES

from test_leak import codes, lint, src

GETTER = """
def get_{name}(root):
    return DataLoader(datasets.{cls}(root, train=True)), DataLoader(datasets.{cls}(root, train={held}))
"""
HEADER = "from torch.utils.data import DataLoader\nfrom torchvision import datasets\n"
FIT = """
def fit(model, loader, optimizer):
    for x, y in loader:
        model(x).sum().backward()
        optimizer.step()
"""


def getters(*specs: tuple[str, str, bool]) -> str:
    body = "".join(GETTER.format(name=n, cls=c, held=str(not held)) for n, c, held in specs)
    table = ", ".join(f'"{n}": get_{n}' for n, _, _ in specs)
    return HEADER + body + f"\nGETTERS = {{{table}}}\n"


def test_an_unknown_key_runs_every_candidate(tmp_path):
    """`GETTERS[name]` with a key known at run time only: one getter returns the test split second, the other
    returns two training splits; training on the second loader is flagged through the first."""
    found = lint(tmp_path, {
        "data.py": getters(("mnist", "MNIST", True), ("kmnist", "KMNIST", False)),
        "train.py": src("import sys\nfrom data import GETTERS\n", FIT,
                        "a, b = GETTERS[sys.argv[1]]('.')\nfit(None, b, None)\n"),
    })
    assert [f.code for f in found] == ["LEAK001"]
    related = [r.message for r in found[0].related]
    assert related[:2] == ["held-out data: MNIST(train=False)", "returned by get_mnist()"]


def test_a_literal_key_narrows_to_one_candidate(tmp_path):
    files = {"data.py": getters(("mnist", "MNIST", True), ("kmnist", "KMNIST", False))}
    assert lint(tmp_path / "held", {**files, "train.py": src(
        "from data import GETTERS\n", FIT, "a, b = GETTERS['mnist']('.')\nfit(None, b, None)\n")})
    assert not lint(tmp_path / "clean", {**files, "train.py": src(
        "from data import GETTERS\n", FIT, "a, b = GETTERS['kmnist']('.')\nfit(None, b, None)\n")})


def test_an_option_default_decides_the_key(tmp_path):
    files = {"data.py": getters(("mnist", "MNIST", True), ("kmnist", "KMNIST", False))}
    script = src("import argparse\nfrom data import GETTERS\n", FIT,
                 "parser = argparse.ArgumentParser()\nparser.add_argument('--data', default='{d}')\n"
                 "args = parser.parse_args()\na, b = GETTERS[args.data]('.')\nfit(None, b, None)\n")
    assert lint(tmp_path / "held", {**files, "train.py": script.format(d="mnist")})
    assert not lint(tmp_path / "clean", {**files, "train.py": script.format(d="kmnist")})


def test_arguments_flow_into_every_candidate_of_a_hook_list(tmp_path):
    """`for hook in HOOKS: hook(model, test_loader, opt)`: each hook that trains on its argument is reached."""
    steps = src("import torch\n", FIT.replace("def fit", "def plain"), FIT.replace("def fit", "def mixup"),
                "\nHOOKS = [plain, mixup]\n")
    found = lint(tmp_path, {
        "steps.py": steps,
        "main.py": src(HEADER, "import steps\n", "test = DataLoader(datasets.MNIST('.', train=False))\n"
                       "for hook in steps.HOOKS:\n    hook(None, test, None)\n"),
    })
    assert sorted(f.related[1].message for f in found) == ["passed to mixup() as `loader`",
                                                          "passed to plain() as `loader`"]


def test_a_registry_read_with_get_and_a_local_variable(tmp_path):
    registry = src(HEADER, "REGISTRY = {}\n\ndef register(name):\n    def wrap(fn):\n        REGISTRY[name] = fn\n"
                   "        return fn\n    return wrap\n\n@register('held')\ndef held(root):\n"
                   "    return datasets.MNIST(root, train=False)\n")
    found = lint(tmp_path, {
        "registry.py": registry,
        "main.py": src("import sys\nfrom registry import REGISTRY\n", FIT,
                       "build = REGISTRY.get(sys.argv[1])\nfit(None, build('.'), None)\n"),
    })
    assert [f.code for f in found] == ["LEAK001"]


def test_candidates_are_bounded(tmp_path):
    """A module with more functions than MAX_CANDIDATES behind `getattr`: the first ones, in name order, are
    followed; past the bound the call reads as a library call (what its arguments carry)."""
    def zoo(held: int) -> str:
        return HEADER + "".join(f"\ndef f{i:02d}(root):\n    return datasets.MNIST(root, train={i != held})\n"
                                for i in range(MAX_CANDIDATES + 4))
    script = src("import sys\nimport zoo\n", FIT, "fit(None, getattr(zoo, sys.argv[1])('.'), None)\n")
    assert codes(lint(tmp_path / "first", {"zoo.py": zoo(0), "main.py": script})) == ["LEAK001"]
    assert not lint(tmp_path / "past", {"zoo.py": zoo(MAX_CANDIDATES + 2), "main.py": script})


def test_a_module_namespace_narrowed_by_a_literal_name(tmp_path):
    """`steps.__dict__["plain"](...)` runs `plain` only; `vars(steps)[name]` with an unknown name runs both."""
    steps = src("import torch\n", FIT.replace("def fit", "def plain"), FIT.replace("def fit", "def mixup"))
    call = src(HEADER, "import sys\nimport steps\n", "test = DataLoader(datasets.MNIST('.', train=False))\n")
    one = lint(tmp_path / "one", {"steps.py": steps, "main.py": call + "steps.__dict__['plain'](None, test, None)\n"})
    assert [f.related[1].message for f in one] == ["passed to plain() as `loader`"]
    both = lint(tmp_path / "both", {"steps.py": steps, "main.py": call + "vars(steps)[sys.argv[1]](None, test, None)\n"})
    assert len(both) == 2


def test_a_library_namespace_is_no_dispatch(tmp_path):
    """`getattr(torchvision.datasets, name)(train=False)` stays a library call read by LEAK's recognisers."""
    found = lint(tmp_path, {
        "main.py": src("import sys\nimport torchvision\n", FIT,
                       "fit(None, getattr(torchvision.datasets, sys.argv[1])('.', train=False), None)\n"),
    })
    assert [f.code for f in found] == ["LEAK001"]
