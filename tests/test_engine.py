"""The parallel engine: same output for any --jobs, a per-file time limit, crash isolation, and a
failing project rule that does not take the run down."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from mllint import engine, pipeline, workers
from mllint.config import Config, FamilyOptions
from mllint.findings import Severity
from mllint.rules import all_rules
from mllint.rules.base import Rule


def make_project(root: Path, files: int = 12) -> Path:
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    for index in range(files):
        (root / f"train_{index}.py").write_text(
            "import torch\nimport random\n\n\ndef main():\n"
            f"    torch.manual_seed({index})\n    random.seed({index})\n" + "    x = [1, 2, 3]\n" * 50
        )
    (root / "broken.py").write_text("def f(:\n")
    return root


def lint(root: Path, jobs: int) -> list[dict]:
    return [f.to_json() for f in engine.run([str(root)], Config(), ["ALL"], [], jobs=jobs).findings]


def test_the_report_is_the_same_for_any_number_of_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "POOL_MIN_BYTES", 0)  # use the pool even for a small project
    root = make_project(tmp_path)
    single = lint(root, 1)
    assert single == lint(root, 2) == lint(root, 3)
    assert {f["code"] for f in single} >= {"SEED001", "FILE002"}


def test_chunks_cover_every_file_once_largest_first():
    items = [(f"f{i}.py", f"f{i}.py", f"f{i}.py") for i in range(50)]
    sizes = [(i * 7919) % 1000 for i in range(50)]
    chunks = workers._chunks(items, sizes, jobs=2)
    flat = [i for chunk in chunks for i in chunk]
    assert sorted(flat) == list(range(50))
    assert sizes[flat[0]] == max(sizes)


def test_chunks_shrink_towards_the_end_so_that_workers_finish_together():
    items = [(f"f{i}.py", f"f{i}.py", f"f{i}.py") for i in range(300)]
    sizes = [1000 + (i * 7919) % 5000 for i in range(300)]
    weights = [sum(sizes[i] for i in chunk) for chunk in workers._chunks(items, sizes, jobs=2)]
    assert weights[0] <= sum(sizes) / 4 + max(sizes)  # half a worker's share, at most one file more
    assert weights[-1] < weights[0] / 4
    assert len(weights) < 60  # not one file per chunk either


def test_a_file_that_takes_too_long_is_stopped_and_reported(tmp_path, monkeypatch):
    path = tmp_path / "slow.py"
    path.write_text("x = 1\n")
    real = pipeline.analyze

    def slow(*args):
        time.sleep(5)
        return real(*args)

    monkeypatch.setattr(pipeline, "analyze", slow)
    settings = engine.Settings(1 << 20, FamilyOptions(), frozenset(), tuple(all_rules()), ())
    result, probes = workers.analyze_one((str(path), "slow.py", "slow.py"), settings, timeout=0.2)
    # FILE009 shows the sleep was interrupted (a finished sleep would analyse the file cleanly)
    assert [f.code for f in result.findings] == ["FILE009"] and probes is None  # reported, and never cached


def misbehave_on(name: str, action, monkeypatch) -> None:
    """Make the per-file analysis of files called `name` run `action` first (forked workers see the patch)."""
    real = pipeline.analyze

    def patched(path, *args):
        if path.endswith(name):
            action()
        return real(path, *args)

    monkeypatch.setattr(pipeline, "analyze", patched)


def test_a_file_that_kills_its_worker_is_reported_and_the_others_are_analysed(tmp_path, monkeypatch):
    monkeypatch.setattr(workers, "POOL_MIN_BYTES", 0)
    root = make_project(tmp_path, files=6)
    (root / "killer.py").write_text("x = 1\n")
    misbehave_on("killer.py", lambda: os._exit(1), monkeypatch)  # as libcst's parser does on a stack overflow
    if workers._context() is None:
        pytest.skip("needs the fork start method")
    findings = lint(root, 2)
    killer = [f for f in findings if f["path"].endswith("killer.py")]
    assert [f["code"] for f in killer] == ["FILE008"]
    assert len([f for f in findings if f["code"] == "SEED001"]) == 6


def test_a_worker_stuck_in_native_code_is_ended_and_the_file_reported(tmp_path, monkeypatch):
    """The Python-level alarm cannot interrupt native code (here: sum over a range, which never checks
    for signals, standing in for libcst's parser); the worker's CPU-time limit ends it."""
    if workers._context() is None or not hasattr(signal, "SIGPROF"):
        pytest.skip("needs fork and SIGPROF")
    monkeypatch.setattr(workers, "HARD_LIMIT_GRACE", 0.5)
    root = make_project(tmp_path, files=3)
    (root / "stuck.py").write_text("x = 1\n")
    misbehave_on("stuck.py", lambda: sum(range(10**13)), monkeypatch)  # minutes of C code
    items = [(str(p), p.name, p.name) for p in sorted(root.glob("*.py"))]
    settings = engine.Settings(1 << 20, FamilyOptions(), frozenset(), tuple(all_rules()), ("seed",))
    # The wall-clock limit is generous so that the small files finish under any load (1 s failed under a load of
    # 10-16); the stuck file outlives it in native code, and only the CPU-time limit (5.5 s of CPU) can end it.
    outcomes = workers.analyze_many(items, settings, jobs=2, timeout=5.0, warm=workers.WarmPool(2))
    by_name = {result.display: result for result, _ in outcomes}
    assert [f.code for f in by_name["stuck.py"].findings] == ["FILE009"]
    assert "native code" in by_name["stuck.py"].findings[0].message
    assert all(result.parsed for name, result in by_name.items() if name.startswith("train_"))


class ExplodingRule(Rule):
    code, name, severity = "TEST901", "exploding", Severity.WARNING
    summary = "Fails in check_project."

    def check_project(self, project):
        raise RecursionError("maximum recursion depth exceeded")


def test_a_failing_project_rule_loses_its_findings_only(tmp_path, monkeypatch, capsys):
    rules = dict(all_rules())
    rules["TEST901"] = ExplodingRule
    monkeypatch.setattr("mllint.rules._CACHE", rules)
    root = make_project(tmp_path, files=2)
    findings = lint(root, 1)
    assert {f["code"] for f in findings} >= {"SEED001", "FILE002"}
    assert "rule TEST901 failed" in capsys.readouterr().err


class EndlessRule(ExplodingRule):
    code = "TEST902"

    def check_project(self, project):
        while True:
            time.sleep(0.01)


def test_a_project_rule_that_runs_too_long_is_stopped(tmp_path, monkeypatch, capsys):
    rules = dict(all_rules())
    rules["TEST902"] = EndlessRule
    monkeypatch.setattr("mllint.rules._CACHE", rules)
    monkeypatch.setattr(engine, "PROJECT_RULE_TIMEOUT", 0.3)
    findings = lint(make_project(tmp_path, files=2), 1)
    assert "SEED001" in {f["code"] for f in findings}
    assert "rule TEST902 failed" in capsys.readouterr().err


def test_a_fully_cached_run_never_loads_libcst(tmp_path):
    """libcst's imports cost 0.2 s: a warm run (and the rules' modules) must not need them."""
    import subprocess
    import sys

    root = tmp_path / "p"
    root.mkdir()
    make_project(root, files=3)
    script = (
        "import sys\nfrom mllint.engine import run\nfrom mllint.config import Config\n"
        f"run([{str(root)!r}], Config(), ['ALL'], [], jobs=1, cache_dir={str(tmp_path / 'c')!r}, use_cache=True)\n"
        "print(type(sys.modules['libcst']).__name__)\n"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert first.stdout.strip() == "module", first.stderr  # the cold run parsed
    assert second.stdout.strip() == "_LazyLibcst", second.stderr


def test_project_analyses_are_not_shared_between_projects(tmp_path):
    """Shared per-project analyses live on the Project: a new project never sees an old one's result
    (an id()-keyed memo would, as soon as the new Project reuses a freed one's address)."""
    from mllint.rules.seed.extract import SeedFacts, SeedSite
    from mllint.findings import Loc
    from mllint.project import FileResult, Project
    from mllint.rules import seed

    for _ in range(20):
        seeded = FileResult("a.py", "a.py", facts={"seed": SeedFacts(sites=[SeedSite(Loc(1, 1), "torch.manual_seed", 3, "<module>")])})
        clean = {"a.py": FileResult("a.py", "a.py")}
        first = Project(str(tmp_path), {"a.py": seeded})
        assert [u.value for u in seed.analyse(first).uses] == [3]
        del first
        second = Project(str(tmp_path), clean)  # typically at the address `first` had
        assert seed.analyse(second).uses == []
        del second


def test_a_pool_started_for_one_file_does_not_take_a_large_workload(tmp_path, monkeypatch):
    """A pre-commit run starts one worker for the one file it was given; if far more files turn out to need
    analysis (a branch switch), they get a full pool, and the results are the same."""
    if workers._context() is None:
        pytest.skip("needs the fork start method")
    monkeypatch.setattr(workers, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "spare_core", lambda: True)  # on a busy machine one file is analysed in-process
    root = make_project(tmp_path, files=6)
    items = [(str(p), p.name, p.name) for p in sorted(root.glob("*.py"))]
    settings = engine.Settings(1 << 20, FamilyOptions(), frozenset(), tuple(all_rules()), ("seed",))
    warm = workers.WarmPool(2)
    warm.start(1)
    pools = []
    real_pool = workers._pool
    monkeypatch.setattr(workers, "_pool", lambda jobs, *args: pools.append(jobs) or real_pool(jobs, *args))
    try:
        outcomes = workers.analyze_many(items, settings, jobs=2, warm=warm)
    finally:
        warm.close()
    assert warm.size == 1 and pools == [2]
    expected = workers.analyze_many(items, settings, jobs=1)
    assert [r.facts.get("seed") is not None for r, _ in outcomes] == [r.facts.get("seed") is not None for r, _ in expected]
    assert [[f.code for f in r.findings] for r, _ in outcomes] == [[f.code for f in r.findings] for r, _ in expected]
