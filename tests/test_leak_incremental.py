"""LEAK's project phase reads only the modules its resolution reaches, and a later run reuses its result
while nothing it depended on has changed; every change that could alter the findings recomputes them."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mllint.config import Config
from mllint.engine import run
from mllint.dataflow import resolve

DATA = """
import torchvision

def loader(train):
    return torchvision.datasets.MNIST("data", train=train)
"""

ENGINE = """
def train_one_epoch(model, optimizer, batches):
    for x, y in batches:
        loss = model(x).sum() + y.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

TRAIN = """
from data import loader
from engine import train_one_epoch
from models.net import Net

model = Net()
train_one_epoch(model, None, loader(train=False))
"""

NET = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.body(x)
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip("\n"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    write(root, {"README.md": "demo\n", "data.py": DATA, "engine.py": ENGINE, "train.py": TRAIN,
                 "models/__init__.py": "", "models/net.py": NET})
    return root


class Resolvers:
    """Every Resolver the LEAK rules build (none when a kept result is reused)."""

    def __init__(self, monkeypatch) -> None:
        self.made: list = []
        original = resolve.Resolver

        def make(*args, **kwargs):
            resolver = original(*args, **kwargs)
            self.made.append(resolver)
            return resolver

        monkeypatch.setattr(resolve, "Resolver", make)


def lint(paths: list[str], cache: Path | None, messages: bool = False) -> list[tuple]:
    result = run(paths, Config(), ["LEAK"], [], jobs=1, cache_dir=str(cache) if cache else None,
                 use_cache=cache is not None)
    return [(f.loc.path, f.loc.line, f.code) + ((f.message,) if messages else ()) for f in result.findings]


def test_the_resolution_reads_only_the_modules_it_reaches(project, monkeypatch):
    resolvers = Resolvers(monkeypatch)
    findings = lint([str(project)], None)
    assert [(Path(p).name, line, code) for p, line, code in findings] == [("engine.py", 5, "LEAK001")]
    [resolver] = resolvers.made
    assert resolver.read == {"engine.py", "train.py", "data.py"}  # not models/net.py


def test_a_module_calling_another_function_of_the_same_name_is_not_read(project, monkeypatch):
    (project / "other.py").write_text("def train_one_epoch(steps):\n    return steps\n\n\ntrain_one_epoch(3)\n")
    resolvers = Resolvers(monkeypatch)
    assert len(lint([str(project)], None)) == 1
    assert "other.py" not in resolvers.made[0].read


def test_a_renamed_re_export_still_finds_the_callers(tmp_path):
    """The caller index looks call sites up by the name they call: `fit` is `train_one_epoch`."""
    root = tmp_path / "p"
    write(root, {
        "README.md": "demo\n", "data.py": DATA, "pkg/__init__.py": "from .engine import train_one_epoch as fit\n",
        "pkg/engine.py": ENGINE,
        "train.py": "from data import loader\nimport pkg\n\npkg.fit(None, None, loader(train=False))\n",
    })
    assert [(Path(p).name, code) for p, _, code in lint([str(root)], None)] == [("engine.py", "LEAK001")]


def test_an_edit_no_sink_reaches_reuses_the_kept_result(project, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = lint([str(project)], cache)
    resolvers = Resolvers(monkeypatch)
    (project / "models/net.py").write_text(textwrap.dedent(NET) + "\n\ndef width():\n    return 4\n")
    assert lint([str(project)], cache) == first
    assert resolvers.made == []


def test_an_edit_to_a_module_the_resolution_read_recomputes(project, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    assert lint([str(project)], cache)
    resolvers = Resolvers(monkeypatch)
    (project / "train.py").write_text(textwrap.dedent(TRAIN).replace("train=False", "train=True"))
    assert lint([str(project)], cache) == []
    assert len(resolvers.made) == 1


def test_a_new_caller_in_an_unread_module_recomputes(project, tmp_path):
    """models/net.py was not read, but it now calls the training function: its open part changed."""
    cache = tmp_path / "cache"
    before = lint([str(project)], cache, messages=True)
    (project / "models/net.py").write_text(textwrap.dedent(NET) + textwrap.dedent("""

        def finetune(model, batches):
            from engine import train_one_epoch
            train_one_epoch(model, None, batches)

        finetune(Net(), torchvision.datasets.CIFAR10("d", train=False))
    """).replace("\n\n", "\nimport torchvision\n\n", 1))
    after = lint([str(project)], cache, messages=True)
    assert after == lint([str(project)], None, messages=True) and after != before
    assert after[0][3].endswith("(+1 more held-out source)")  # CIFAR10(train=False)


def test_a_new_sink_in_a_read_module_is_found(project, tmp_path):
    cache = tmp_path / "cache"
    before = lint([str(project)], cache)
    (project / "train.py").write_text(textwrap.dedent(TRAIN) + "for x, y in loader(train=False):\n    x.sum().backward()\n")
    after = lint([str(project)], cache)
    assert after == lint([str(project)], None) and len(after) == len(before) + 1


def test_a_kept_result_gets_this_runs_display_paths(project, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.chdir(project)
    here = lint(["."], cache)
    assert [p for p, _, _ in here] == ["engine.py"]
    monkeypatch.chdir(project.parent)
    resolvers = Resolvers(monkeypatch)
    assert [p for p, _, _ in lint(["p"], cache)] == ["p/engine.py"]
    assert resolvers.made == []  # the same result, kept, with the new paths


def test_a_damaged_kept_result_is_recomputed(project, tmp_path):
    cache = tmp_path / "cache"
    first = lint([str(project)], cache)
    for kept in (cache / "values").glob("*.pickle"):
        kept.write_bytes(kept.read_bytes()[:40])
    assert lint([str(project)], cache) == first


def test_a_pre_commit_run_on_one_file_reuses_the_folder_runs_result(project, tmp_path, monkeypatch):
    """`mllint FILE` analyses the same project as `mllint DIR` (tests included), so they share results."""
    (project / "tests").mkdir()
    (project / "tests/test_engine.py").write_text("from engine import train_one_epoch\n")
    cache = tmp_path / "cache"
    everything = lint([str(project)], cache)
    resolvers = Resolvers(monkeypatch)
    assert lint([str(project / "engine.py")], cache) == everything
    assert lint([str(project / "train.py")], cache) == []
    assert resolvers.made == []


def test_modules_read_from_the_cache_get_this_runs_display_paths(project, tmp_path, monkeypatch):
    """The bulk of a cached module carries the paths of the run that made it: related locations taken from
    it (sources, call sites) must show this run's paths."""
    cache = tmp_path / "cache"
    monkeypatch.chdir(project)
    lint(["."], cache)
    monkeypatch.chdir(project.parent)
    (project / "engine.py").write_text(textwrap.dedent(ENGINE) + "\n# edited: the result is computed again\n")
    result = run(["p"], Config(), ["LEAK"], [], jobs=1, cache_dir=str(cache), use_cache=True)
    [finding] = result.findings
    assert finding.loc.path == "p/engine.py"
    assert [r.loc.path for r in finding.related] == ["p/data.py", "p/train.py", "p/train.py"]
