"""`eval(...)` of a name as a run-time lookup (dataflow/dispatch.py): only a literal dotted prefix and one name are
read, never the string as code; the lookup is the one `getattr(pkg, name)` takes (`Resolver.targets`)."""
import libcst as cst
import pytest

from mllint.dataflow.dispatch import dynamic_callee, evaluated_name

from test_leak import codes, lint, src


def call(text: str) -> cst.Call:
    return cst.parse_expression(text)


@pytest.mark.parametrize("text, prefix, key", [
    ("eval('datasets.' + name)", "datasets", "name"),
    ("eval('lib.datasets.' + cfg.DATASET.NAME)", "lib.datasets", "cfg.DATASET.NAME"),
    ("eval(f'datasets.{args.dataset}')", "datasets", "args.dataset"),
    ("eval('CocoSet')", "", "'CocoSet'"),
    ("eval('datasets.CocoSet')", "datasets", "'CocoSet'"),
])
def test_the_forms_read_as_a_namespace_and_a_key(text, prefix, key):
    found = evaluated_name(call(text))
    assert found is not None and found[0] == prefix
    shown = repr(found[1]) if isinstance(found[1], str) else cst.Module([]).code_for_node(found[1])
    assert shown == key


@pytest.mark.parametrize("text", [
    "eval('models.' + name + '.get_net')",  # a suffix after the name
    "eval(name)", "eval('datasets' + name)", "eval('1 + 2')", "eval('f(x)')", "eval('a.' + 'b')",
    "eval(f'{root}.{name}')", "eval(f'datasets.{name!r}')", "eval('datasets.' + name, scope)",
    "eval(source='x')",
])
def test_other_strings_are_not_a_lookup(text):
    assert evaluated_name(call(text)) is None


def test_the_namespace_as_written():
    assert dynamic_callee(call("eval('datasets.' + name)")) == "datasets"
    assert dynamic_callee(call("eval('CocoSet')")) == "globals"
    assert dynamic_callee(call("eval(name)")) == ""


HEADER = "from torch.utils.data import DataLoader\n"
FIT = """
def fit(model, loader, optimizer):
    for x, y in loader:
        model(x).sum().backward()
        optimizer.step()
"""
SPLITS = """from torchvision import datasets


class Held:
    def __init__(self, root):
        self.data = datasets.MNIST(root, train=False)


def fresh(root):
    return datasets.MNIST(root, train=True)


def held(root):
    return datasets.MNIST(root, train=False)
"""


def test_eval_runs_every_candidate_of_a_module(tmp_path):
    """LEAK: `eval("splits." + name)(...)` with an unknown name: `held` returns the test split."""
    found = lint(tmp_path, {
        "splits.py": SPLITS,
        "train.py": src("import sys\nimport splits\n", HEADER, FIT,
                        "fit(None, DataLoader(eval('splits.' + sys.argv[1])('.')), None)\n"),
    })
    assert codes(found) == ["LEAK001"]


def test_a_literal_name_narrows_to_one_candidate(tmp_path):
    def script(form: str) -> dict:
        return {"splits.py": SPLITS,
                "train.py": src("import splits\n", HEADER, FIT, f"fit(None, DataLoader({form}('.')), None)\n")}
    assert codes(lint(tmp_path / "held", script("eval('splits.held')"))) == ["LEAK001"]
    assert not lint(tmp_path / "fresh2", script("eval('splits.fresh')"))


def test_a_local_name_and_a_rebound_eval(tmp_path):
    local = SPLITS.replace("from torchvision", "import sys\nfrom torch.utils.data import DataLoader\nfrom torchvision")
    assert codes(lint(tmp_path / "own", {"splits.py": local + FIT + "fit(None, DataLoader(eval('held')('.')), None)\n"})) \
        == ["LEAK001"]
    assert not lint(tmp_path / "rebound", {"splits.py": local + FIT + "\ndef run(eval):\n"
                                           "    fit(None, DataLoader(eval('held')('.')), None)\n"})


# --- what the lookup may run: a package's classes and re-exports, a base class through super() -------------
TRAINER = """
import torch


class Trainer:
    def __init__(self, model, loader):
        for x, y in loader:
            model(x).sum().backward()
            torch.optim.SGD(model.parameters(), lr=0.1).step()
"""
SUBCLASS = """
from .base import Trainer


class {name}(Trainer):
    def __init__(self, model, loader):
        {call}
"""


def test_package_classes_re_exported_and_super_init(tmp_path):
    """LEAK: `getattr(trainers, name)(model, test_loader)` over a package that re-exports its classes under short
    names; each subclass hands the loader to the project base class with `super().__init__`, which trains on it."""
    files = {
        "trainers/__init__.py": "from .plain import PlainTrainer as plain\n",
        "trainers/base.py": TRAINER,
        "trainers/plain.py": SUBCLASS.format(name="PlainTrainer", call="super().__init__(model, loader)"),
    }
    script = src("import sys\nimport trainers\n", HEADER, "from torchvision import datasets\n",
                 "test = DataLoader(datasets.MNIST('.', train=False))\n",
                 "getattr(trainers, sys.argv[1])(None, test)\n")
    assert codes(lint(tmp_path / "super", {**files, "main.py": script})) == ["LEAK001"]
    explicit = dict(files, **{"trainers/plain.py": SUBCLASS.format(name="PlainTrainer",
                                                                    call="Trainer.__init__(self, model, loader)")})
    assert codes(lint(tmp_path / "explicit", {**explicit, "main.py": script})) == ["LEAK001"]
    library = dict(files, **{"trainers/plain.py": "import torch\n\n\nclass PlainTrainer(torch.nn.Module):\n"
                                                  "    def __init__(self, model, loader):\n"
                                                  "        super().__init__()\n"})
    assert not lint(tmp_path / "library", {**library, "main.py": script})
