"""Project rules' findings kept between runs (engine._ProjectMemo): a rule runs again only when what it read
changed (its facts in a changed file, a file it opened, a non-Python file of the project, the set of files)."""
from __future__ import annotations

from pathlib import Path

import pytest

from mllint import engine
from mllint.config import Config
from mllint.rules.seed import FixedSeedLiteral

TRAIN = ("import torch\nfrom helpers import set_seed\n\n"
         "set_seed(0)\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
         "for _ in range(3):\n    model(torch.randn(4, 2)).sum().backward()\n    opt.step()\n")
HELPERS = "import random\nimport torch\n\n\ndef set_seed(seed):\n    random.seed(seed)\n    torch.manual_seed(seed)\n"


@pytest.fixture
def runs(monkeypatch):
    """How many times SEED001's check_project ran."""
    count = [0]
    original = FixedSeedLiteral.check_project

    def counted(self, project):
        count[0] += 1
        return original(self, project)

    monkeypatch.setattr(FixedSeedLiteral, "check_project", counted)
    return count


def lint(paths: list[str], cache: Path, use_cache: bool = True) -> list[tuple]:
    result = engine.run(paths, Config(), ["SEED", "HPARAM"], [], jobs=1, cache_dir=str(cache), use_cache=use_cache)
    return [(f.code, f.loc.path, f.loc.line, f.message) for f in result.findings]


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "train.py").write_text(TRAIN)
    (root / "helpers.py").write_text(HELPERS)
    (root / "README.md").write_text("# demo\n")
    return root


def test_an_edit_that_changes_no_fact_reuses_the_project_rules(tmp_path, runs):
    root = project(tmp_path)
    first = lint([str(root / "train.py"), str(root / "helpers.py")], tmp_path / "c")
    assert any(code == "SEED001" for code, *_ in first) and runs[0] == 1
    (root / "helpers.py").write_text(HELPERS + "# a comment\n")
    assert lint([str(root / "train.py"), str(root / "helpers.py")], tmp_path / "c") == first
    assert runs[0] == 1  # kept: the facts of the changed file are equal to its previous entry's


def test_an_edit_that_changes_facts_runs_the_project_rules_again(tmp_path, runs):
    root = project(tmp_path)
    lint([str(root)], tmp_path / "c")
    (root / "train.py").write_text(TRAIN.replace("set_seed(0)", "set_seed(7)"))
    again = lint([str(root)], tmp_path / "c")
    assert runs[0] == 2
    assert again == lint([str(root)], tmp_path / "none", use_cache=False)
    assert any("fixed to 7" in message for code, _, _, message in again if code == "SEED001")


def test_a_changed_readme_or_a_new_file_runs_them_again(tmp_path, runs):
    root = project(tmp_path)
    assert lint([str(root / "train.py")], tmp_path / "c")
    (root / "README.md").write_text("# demo\n\nAccuracy is the mean of 5 runs of `train.py` with different seeds.\n")
    (root / "train.py").write_text(TRAIN + "\n")
    swept = lint([str(root / "train.py")], tmp_path / "c")
    assert runs[0] == 2
    assert swept == lint([str(root / "train.py")], tmp_path / "none", use_cache=False)
    (root / "other.py").write_text("x = 1\n")
    lint([str(root / "train.py")], tmp_path / "c")
    assert runs[0] == 4  # (the third: the run without a cache)


def test_a_file_a_rule_opened_is_a_dependency(tmp_path, monkeypatch):
    """A rule that reads a file (here a config outside the project's discovered files) is run again when it changes."""
    from mllint.rules.seed import FixedSeedLiteral

    root = project(tmp_path)
    outside = tmp_path / "notes.txt"
    outside.write_text("one\n")
    seen: list[str] = []
    original = FixedSeedLiteral.check_project

    def reading(self, project):
        seen.append(outside.read_text())
        return original(self, project)

    monkeypatch.setattr(FixedSeedLiteral, "check_project", reading)
    lint([str(root / "train.py")], tmp_path / "c")
    (root / "train.py").write_text(TRAIN + "# edit\n")
    lint([str(root / "train.py")], tmp_path / "c")
    assert seen == ["one\n"]
    outside.write_text("two, longer\n")
    (root / "train.py").write_text(TRAIN + "# edit 2\n")
    lint([str(root / "train.py")], tmp_path / "c")
    assert seen == ["one\n", "two, longer\n"]


def test_equal_facts_by_value():
    class Sealed:  # no __eq__ of its own: compared by its attributes
        def __init__(self, x):
            self.x = x

    assert engine._same({"a": [Sealed(1), (2, "x")]}, {"a": [Sealed(1), (2, "x")]})
    assert not engine._same({"a": [Sealed(1)]}, {"a": [Sealed(2)]})
    assert not engine._same({"a": 1, "b": 2}, {"b": 2, "a": 1})  # order may matter to a rule
    assert not engine._same(1, 1.0) and not engine._same(None, [])


SEAL = """
import pickle, sys
sys.path.insert(0, sys.argv[1])
from mllint import engine, pipeline
from mllint.config import FamilyOptions
from mllint.rules import all_rules
settings = engine.Settings(1 << 20, FamilyOptions(), frozenset(), tuple(all_rules()), ("leak", "imports"))
result = pipeline.analyze_file(sys.argv[2], "train.py", "train.py", settings)
sys.stdout.buffer.write(pickle.dumps(result.facts["leak"]))
"""
LEAKY = ("import torch\nfrom torchvision import datasets\n\n"
         "train = datasets.CIFAR10('data', train=True)\ntest = datasets.CIFAR10('data', train=False)\n"
         "splits = {'train': train, 'test': test, 'extra': train, 'other': test}\n"
         "model = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
         "for x, y in torch.utils.data.DataLoader(splits['test']):\n"
         "    model(x).sum().backward()\n    opt.step()\n\n\n"
         "class Trainer:\n    def __init__(self, data, model):\n        self.data, self.model = data, model\n\n"
         "    def fit(self, epochs):\n        for x, y in self.data:\n            self.model(x).sum().backward()\n\n\n"
         "def build(kind, root):\n    if kind == 'test':\n        return datasets.CIFAR10(root, train=False)\n"
         "    return datasets.CIFAR10(root, train=True)\n\n\nTrainer(build('test', 'data'), model).fit(3)\n")


def test_sealed_data_flow_facts_compare_by_value_across_processes(tmp_path):
    """A LEAK entry sealed in two processes holds the same facts while its blobs' bytes may differ (sets pickle
    in hash order, which Python draws per process): the kept project findings compare by value."""
    import pickle
    import subprocess
    import sys

    (tmp_path / "train.py").write_text(LEAKY)
    root = str(Path(__file__).resolve().parents[1])
    sealed = []
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run([sys.executable, "-c", SEAL, root, str(tmp_path / "train.py")], check=True,
                             capture_output=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}).stdout
        sealed.append(pickle.loads(out))
    first, *others = sealed
    assert any(other._functions_blob != first._functions_blob for other in others)  # the case this is about
    assert first.sinks and all(first.same_facts(other) and engine._same(first, other) for other in others)
    (tmp_path / "train.py").write_text(LEAKY.replace("splits['test']", "splits['train']"))
    out = subprocess.run([sys.executable, "-c", SEAL, root, str(tmp_path / "train.py")], check=True,
                         capture_output=True).stdout
    assert not first.same_facts(pickle.loads(out))


def test_a_kept_data_flow_result_names_files_as_this_run_shows_them(tmp_path, monkeypatch):
    """PREP001's message names the file the BGR image comes from by its display path, which depends on the working
    folder: a run from another folder must not reuse the kept result's text (it read `(p/io_utils.py:3)` there)."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "io_utils.py").write_text("import cv2\n\n\ndef load(path):\n    return cv2.imread(path)\n")
    (root / "train.py").write_text(
        "from PIL import Image\nfrom io_utils import load\n\nimage = Image.fromarray(load('a.png'))\n")
    cache = tmp_path / "cache"

    def messages() -> list[str]:
        result = engine.run([str(root)], Config(), ["PREP001"], [], jobs=1, cache_dir=str(cache), use_cache=True)
        return [f.message for f in result.findings]

    monkeypatch.chdir(tmp_path)
    [first] = messages()
    assert "(p/io_utils.py:5)" in first
    deeper = tmp_path / "a" / "b"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    [second] = messages()
    assert "(../../p/io_utils.py:5)" in second
