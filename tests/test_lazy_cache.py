"""Cached results are unpickled only when read (cache.Entry, project.Stored): a pre-commit run whose project rules
are all kept reads the changed file's previous entry and nothing else of the other files; a run whose rules run again
reads them all, and reports what a run without the cache reports."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mllint import cache as cache_mod
from mllint import engine
from mllint.config import Config
from mllint.findings import Finding, Loc, Severity
from mllint.project import FileResult

TRAIN = ("import torch\nfrom helpers import set_seed\n\n"
         "set_seed(0)\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
         "for _ in range(3):\n    model(torch.randn(4, 2)).sum().backward()\n    opt.step()\n")
HELPERS = "import random\nimport torch\n\n\ndef set_seed(seed):\n    random.seed(seed)\n    torch.manual_seed(seed)\n"


@pytest.fixture
def unpickled(monkeypatch):
    """The display paths of the cached results unpickled (Entry.result read for the first time)."""
    seen: list[str] = []
    original = cache_mod.Entry.result

    def counting(entry):
        fresh = entry._result is cache_mod._UNREAD
        result = original.fget(entry)
        if fresh:
            seen.append(result.rel)
        return result

    monkeypatch.setattr(cache_mod.Entry, "result", property(counting))
    return seen


def lint(paths: list[str], cache: Path, use_cache: bool = True) -> list[tuple]:
    result = engine.run(paths, Config(), ["ALL"], [], jobs=1, cache_dir=str(cache), use_cache=use_cache)
    return [(f.code, f.loc.path, f.loc.line, f.message, [(r.loc.path, r.loc.line) for r in f.related])
            for f in result.findings]


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "train.py").write_text(TRAIN)
    (root / "helpers.py").write_text(HELPERS)
    return root


def test_an_entry_is_checked_without_unpickling_its_result():
    loc = Loc(3, 1, 3, 5, "train.py")
    result = FileResult("train.py", "train.py", findings=[Finding("SEED001", "fixed-seed", Severity.WARNING, loc, "fixed")], facts={"seed": [1, 2]})
    entry = pickle.loads(pickle.dumps(cache_mod.Entry(result, {"helpers": True})))
    assert entry.probes == {"helpers": True} and entry.codes == {"SEED001"}
    assert entry._result is cache_mod._UNREAD and entry.holds(frozenset({"helpers"}), "")
    assert entry.result.facts == {"seed": [1, 2]} and entry.result.findings[0].loc.line == 3
    again = pickle.loads(pickle.dumps(entry))  # an entry read and written again keeps its result
    assert again.result.rel == "train.py"


def test_a_comment_edit_reads_only_the_changed_files_previous_entry(tmp_path, unpickled):
    root = project(tmp_path)
    whole = lint([str(root)], tmp_path / "c")
    (root / "train.py").write_text(TRAIN + "# a comment\n")
    unpickled.clear()
    one = lint([str(root / "train.py")], tmp_path / "c")
    assert one == [f for f in whole if f[1].endswith("train.py")]
    assert unpickled == ["train.py"]  # its previous entry, to compare its facts: helpers.py stays pickled


def test_an_edit_that_changes_facts_reads_every_file_and_reports_as_without_the_cache(tmp_path, unpickled):
    root = project(tmp_path)
    lint([str(root)], tmp_path / "c")
    (root / "train.py").write_text(TRAIN.replace("set_seed(0)", "set_seed(7)"))
    unpickled.clear()
    one = lint([str(root / "train.py")], tmp_path / "c")
    assert "helpers.py" in unpickled
    assert one == lint([str(root / "train.py")], tmp_path / "c2", use_cache=False)
    assert any(code == "SEED001" and line == 4 for code, _, line, *_ in one)


def test_while_a_worker_analyses_the_changed_file_its_previous_entry_is_read(tmp_path, monkeypatch):
    """The pre-commit path with workers (--jobs 2): the parent reads the changed file's previous entry while the worker
    analyses it (_ProjectMemo.preread), and the memo compares the new result with that entry."""
    read: list = []
    original = engine._ProjectMemo.preread

    def recording(cache, kept, rels, into):
        original(cache, kept, rels, into)
        read.append((list(rels), sorted(into)))

    monkeypatch.setattr(engine._ProjectMemo, "preread", staticmethod(recording))
    root = project(tmp_path)

    def run(paths, jobs):
        result = engine.run(paths, Config(), ["ALL"], [], jobs=jobs, cache_dir=str(tmp_path / "c"), use_cache=True)
        return [(f.code, f.loc.path, f.loc.line, f.message) for f in result.findings]

    whole = run([str(root)], 2)
    (root / "train.py").write_text(TRAIN + "# a comment\n")
    one = run([str(root / "train.py")], 2)
    assert one == [f for f in whole if f[1].endswith("train.py")] and any(f[0] == "SEED001" for f in one)
    assert read[-1] == (["train.py"], ["train.py"])
