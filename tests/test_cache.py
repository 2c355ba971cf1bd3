"""The per-file result cache: hits, invalidation, damaged entries, concurrent runs, the CLI options."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mllint import cache as cache_mod
from mllint import engine
from mllint.config import Config

TRAIN = "import torch\nfrom helpers import prepare\n\nprepare()\ntorch.manual_seed(3407)\n"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (root / "train.py").write_text(TRAIN)
    (root / "helpers.py").write_text("def prepare():\n    return 1\n")
    (root / "other.py").write_text("import numpy as np\nnp.random.seed(0)\n")
    return root


class CountingCache(cache_mod.Cache):
    instances: list["CountingCache"] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        CountingCache.instances.append(self)


@pytest.fixture
def counting(monkeypatch):
    CountingCache.instances = []
    monkeypatch.setattr(engine, "Cache", CountingCache)
    return CountingCache.instances


def lint(paths: list[str], cache_dir: Path) -> list[dict]:
    result = engine.run(paths, Config(), ["ALL"], [], jobs=1, cache_dir=str(cache_dir), use_cache=True)
    return [f.to_json() for f in result.findings]


def test_a_warm_run_reads_every_file_from_the_cache_and_reports_the_same(tmp_path, counting):
    root = make_project(tmp_path / "p")
    cold = lint([str(root)], tmp_path / "c")
    (root / "NOTES.txt").write_text("a file the run may read changed: the run's kept result is not replayed\n")
    warm = lint([str(root)], tmp_path / "c")
    assert cold == warm and cold
    assert (counting[0].hits, counting[0].misses) == (0, 3)
    assert (counting[1].hits, counting[1].misses) == (3, 0)


def test_an_unchanged_project_replays_its_kept_result(tmp_path, counting, monkeypatch):
    root = make_project(tmp_path / "p")
    cold = lint([str(root)], tmp_path / "c")
    monkeypatch.setattr(engine, "analyze_cached", lambda *a, **k: pytest.fail("the project was analysed again"))
    assert lint([str(root)], tmp_path / "c") == cold
    assert (counting[1].hits, counting[1].misses) == (0, 0)  # no per-file entry read: nothing unpickled


def test_a_changed_readme_is_seen_by_the_next_run(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "train.py").write_text(
        "import argparse\nimport torch\n\n"
        "parser = argparse.ArgumentParser()\nparser.add_argument('--seed', type=int, default=3)\n"
        "args = parser.parse_args()\ntorch.manual_seed(args.seed)\nmodel = torch.nn.Linear(2, 1)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=args.seed)\n"
        "for _ in range(3):\n    model(torch.randn(4, 2)).sum().backward()\n    opt.step()\n")
    (root / "README.md").write_text("# demo\n")
    assert [f["code"] for f in lint([str(root)], tmp_path / "c")] == ["SEED002"]
    (root / "README.md").write_text("# demo\n\nAccuracy is the mean of 5 runs of `train.py` with different seeds.\n")
    assert lint([str(root)], tmp_path / "c") == []


def test_an_edited_file_is_analysed_again_and_only_that_file(tmp_path, counting):
    root = make_project(tmp_path / "p")
    lint([str(root)], tmp_path / "c")
    (root / "other.py").write_text("import numpy as np\n\n\nnp.random.seed(1)\n")
    findings = lint([str(root)], tmp_path / "c")
    assert (counting[1].hits, counting[1].misses) == (2, 1)
    assert any(f["path"].endswith("other.py") and f["line"] == 4 for f in findings)


def test_a_new_module_invalidates_only_the_files_that_asked_about_its_name(tmp_path, counting):
    root = make_project(tmp_path / "p")
    lint([str(root)], tmp_path / "c")
    (root / "unrelated.py").write_text("x = 1\n")  # a new project module name nobody imports
    lint([str(root)], tmp_path / "c")
    assert (counting[1].hits, counting[1].misses) == (3, 1)


def test_the_answer_to_a_module_name_question_changing_invalidates_the_entry():
    names = cache_mod.ProbedNames({"helpers", "train"})
    assert "helpers" in names and "torch" not in names
    assert names.probes == {"helpers": True, "torch": False}
    assert cache_mod.probes_hold(names.probes, frozenset({"helpers", "other"}))
    assert not cache_mod.probes_hold(names.probes, frozenset({"train"}))  # helpers.py removed
    assert not cache_mod.probes_hold(names.probes, frozenset({"helpers", "torch"}))  # a local torch.py
    list(names)  # iterating needs the whole set: the entry then depends on all of it
    assert cache_mod.WHOLE_SET in names.probes
    digest = cache_mod.names_digest(frozenset({"helpers", "train"}))
    whole = cache_mod.Entry(None, {}, digest)
    assert whole.holds(frozenset({"train", "helpers"}), digest)
    assert not whole.holds(frozenset({"train", "helpers", "new"}), cache_mod.names_digest(frozenset({"train", "helpers", "new"})))


def test_a_pre_commit_run_on_one_file_reads_the_rest_of_the_project_from_the_cache(tmp_path, counting):
    root = make_project(tmp_path / "p")
    lint([str(root)], tmp_path / "c")
    (root / "train.py").write_text(TRAIN + "\n")
    findings = lint([str(root / "train.py")], tmp_path / "c")
    assert (counting[1].hits, counting[1].misses) == (2, 1)
    assert {Path(f["path"]).name for f in findings} == {"train.py"}


@pytest.mark.parametrize("damage", [b"", b"garbage", b"mllint-cache\n", "truncate", "foreign"])
def test_a_damaged_entry_is_a_miss_and_is_rebuilt(tmp_path, counting, damage):
    root = make_project(tmp_path / "p")
    expected = lint([str(root)], tmp_path / "c")
    entries = sorted((tmp_path / "c").glob("??/*.pickle"))
    assert len(entries) == 3
    for entry in entries:
        data = entry.read_bytes()
        if damage == "truncate":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "foreign":  # a valid entry of another key moved into place
            other = entries[(entries.index(entry) + 1) % len(entries)]
            entry.write_bytes(other.read_bytes())
        else:
            entry.write_bytes(damage)
    (root / "NOTES.txt").write_text("changed: no replay of the kept result, the entries are read\n")
    assert lint([str(root)], tmp_path / "c") == expected
    assert counting[1].misses == 3
    (root / "NOTES.txt").write_text("changed again\n")
    assert lint([str(root)], tmp_path / "c") == expected
    assert counting[2].hits == 3


def test_an_unwritable_cache_folder_only_disables_caching(tmp_path):
    root = make_project(tmp_path / "p")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be\n")
    assert lint([str(root)], blocker) == lint([str(root)], tmp_path / "fine")


def test_a_cached_result_is_shown_with_the_paths_of_the_current_working_folder(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    first = lint([str(root)], tmp_path / "c")
    monkeypatch.chdir(root)
    second = lint([str(root)], tmp_path / "c")
    assert {f["path"] for f in first} == {"p/train.py", "p/other.py"}
    assert {f["path"] for f in second} == {"train.py", "other.py"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mllint", "--format", "json", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_the_cli_caches_in_the_project_root_by_default_and_honours_no_cache_and_cache_dir(tmp_path):
    root = make_project(tmp_path / "p")
    default = cli(".", cwd=root)
    assert (root / ".mllint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    elsewhere = tmp_path / "elsewhere"
    chosen = cli("--cache-dir", str(elsewhere), ".", cwd=root)
    assert list(elsewhere.glob("??/*.pickle"))
    fresh = make_project(tmp_path / "q")
    uncached = cli("--no-cache", ".", cwd=fresh)
    assert not (fresh / ".mllint_cache").exists()
    assert default.stdout == chosen.stdout == uncached.stdout
    assert json.loads(default.stdout) and default.returncode == 1


def test_two_concurrent_runs_share_a_cache_folder_safely(tmp_path):
    root = make_project(tmp_path / "p")
    for index in range(30):
        (root / f"mod_{index}.py").write_text(f"import random\nrandom.seed({index})\n" + "x = [1, 2, 3]\n" * 200)
    command = [sys.executable, "-m", "mllint", "--format", "json", "--jobs", "2", "--cache-dir", str(tmp_path / "c"), "."]
    runs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 1 for run in runs), [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0]
    after = cli("--cache-dir", str(tmp_path / "c"), ".", cwd=root)
    assert after.stdout == outputs[0][0]
    assert not list((tmp_path / "c").glob("*/.tmp-*"))


def test_prune_keeps_the_most_recently_used_entries(tmp_path):
    import time

    from mllint.cache import Cache
    from mllint.project import FileResult

    cache = Cache(str(tmp_path / "c"), "settings")
    keys = [cache.key(f"f{i}.py", "digest") for i in range(6)]
    for i, key in enumerate(keys):
        cache.put(key, FileResult(f"f{i}.py", f"f{i}.py"), {}, "d")
        os.utime(cache._path(key), (time.time() - 1000 + i, time.time() - 1000 + i))
    assert cache.get(keys[0], frozenset(), "d") is not None  # a hit makes the oldest entry the newest
    stale_tmp = os.path.join(os.path.dirname(cache._path(keys[1])), ".tmp-leftover")
    open(stale_tmp, "w").close()
    os.utime(stale_tmp, (time.time() - 7200, time.time() - 7200))
    assert cache.prune(keep=3) == 4
    kept = [i for i, key in enumerate(keys) if cache.has(key)]
    assert kept == [0, 4, 5]
    assert not os.path.exists(stale_tmp)


def test_a_run_that_writes_prunes_the_cache(tmp_path, monkeypatch):
    from mllint import engine
    from mllint.config import Config

    monkeypatch.setattr(engine, "CACHE_MIN_ENTRIES", 3)
    monkeypatch.setattr(engine, "CACHE_ENTRIES_PER_FILE", 1)
    project = tmp_path / "p"
    project.mkdir()
    target = project / "train.py"
    for version in range(6):
        target.write_text(f"import torch\ntorch.manual_seed({version})\n")
        engine.run([str(project)], Config(), ["SEED"], [], jobs=1, use_cache=True)
    entries = list((project / ".mllint_cache").glob("*/*.pickle"))  # the runs' kept results count too
    assert len(entries) == 3
