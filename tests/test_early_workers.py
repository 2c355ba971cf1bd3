"""The pre-commit path's head start (workers.start_early): workers forked before the command line is parsed, which
load libcst, the analysis modules (rules.ANALYSIS_MODULES) and the one file's parse while the parent starts up;
and, on a busy machine, one changed file analysed in the parent. The report is the same either way."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mllint import parsing, pipeline, workers
from mllint.config import Config
from mllint.rules import ANALYSIS_MODULES, all_rules
from mllint.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def _settings() -> Settings:
    rules = all_rules()
    config = Config()
    return Settings(config.max_file_size, config.family_options(), frozenset({"models", "data"}), tuple(rules),
                    tuple(sorted({need for rule in rules.values() for need in rule.needs})))


def test_the_analysis_modules_are_the_ones_the_analysis_imports():
    """Every mllint module that analysing the fixtures imports after the pipeline and the rules is in the list, and
    every module in the list exists (a stale name only loses the head start, but should not stay)."""
    code = (
        "import sys, json\n"
        "import libcst; libcst.parse_module\n"
        "from mllint import pipeline\n"
        "from mllint.rules import all_rules\n"
        "from tests.test_early_workers import _settings\n"
        "settings = _settings()\n"
        "before = set(sys.modules)\n"
        "for path in sys.argv[1:]:\n"
        "    pipeline.analyze(path, path, path.rsplit('/', 1)[-1], settings)\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith('mllint.'))))\n"
    )
    files = sorted(str(p) for p in FIXTURES.rglob("*.py"))
    assert files
    proc = subprocess.run([sys.executable, "-c", code, *files], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = set(json.loads(proc.stdout.splitlines()[-1]))
    assert imported - {"mllint.rules.eval.project", "mllint.rules.prep.project"} <= set(ANALYSIS_MODULES), \
        sorted(imported - set(ANALYSIS_MODULES))
    for name in ANALYSIS_MODULES:
        assert (ROOT / (name.replace(".", "/") + ".py")).is_file(), name


def test_the_options_that_take_a_value_are_the_check_commands():
    from mllint.cli import cli

    check = cli.commands["check"]
    taking = {opt for param in check.params if param.param_type_name == "option" and not param.is_flag
              for opt in (*param.opts, *param.secondary_opts)}
    assert taking == set(workers.VALUE_OPTIONS)


@pytest.mark.parametrize("args, started", [
    (["train.py"], (["train.py"], 4)),
    (["check", "-q", "--jobs", "2", "--cache-dir", "cache", "train.py"], (["train.py"], 2)),
    (["--jobs=3", "--select", "SEED", "train.py", "model.py"], (["train.py", "model.py"], 3)),
    (["-j2", "--output", "report.txt", "train.py", "notes.txt"], (["train.py"], 2)),
    (["--cache-dir", "train.py", "model.py"], (["model.py"], 4)),  # an option's value is not a file to lint
    (["--no-cache", "train.py"], None),
    (["--show-files", "train.py"], None),
    (["--stdin-filename", "train.py", "-"], None),
    (["rules"], None),
    (["--jobs", "x", "train.py"], None),
    ([".", "train.py"], None),  # a folder: the run decides what to analyse
    (["missing.py"], ([], 4)),
])
def test_the_command_line_says_which_files_to_start_workers_for(tmp_path, monkeypatch, args, started):
    for name in ("train.py", "model.py", "notes.txt"):
        (tmp_path / name).write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    calls = []
    monkeypatch.setattr(workers, "start_early", lambda paths, jobs: calls.append((paths, jobs)))
    workers.start_for_command_line(["/usr/bin/mllint", *args])
    assert calls == ([started] if started is not None else [])
    calls.clear()
    workers.start_for_command_line(["/usr/bin/pytest", *args])  # only mllint's own program starts workers
    workers.start_for_command_line([str(ROOT / "mllint" / "__main__.py"), *args])
    assert calls == ([started] if started is not None else [])


def _facts(outcome) -> tuple:
    """What a result says, by value (the cache memo's comparison of facts: a pickle of the same facts may differ)."""
    result, probes = outcome
    return (result.display, result.rel, result.is_test, result.parsed, _Same(result.facts),
            [(str(f), f.loc, f.related) for f in result.findings], [vars(s) for s in result.suppressions], probes)


class _Same:
    def __init__(self, facts) -> None:
        self.facts = facts

    def __eq__(self, other) -> bool:
        from mllint.engine import _same

        return _same(self.facts, other.facts)


def test_an_early_parse_is_the_parse_of_the_same_text(tmp_path):
    """The result of a file parsed early equals the result of a file parsed by the analysis; a file edited since
    its early parse is parsed again."""
    settings = _settings()
    files = sorted(FIXTURES.rglob("*.py"))[:60]
    for path in files:
        plain = pipeline.analyze(str(path), path.name, path.name, settings)
        parsing.preparse(str(path), settings.max_file_size)
        early = pipeline.analyze(str(path), path.name, path.name, settings)
        assert not parsing._PREPARSED
        assert _facts(early) == _facts(plain), path
    edited = tmp_path / "train.py"
    edited.write_text("import torch\ntorch.manual_seed(0)\n")
    parsing.preparse(str(edited), 1 << 20)
    edited.write_text("x = (\n")
    result, _ = pipeline.analyze(str(edited), "train.py", "train.py", settings)
    assert [f.code for f in result.findings] == ["FILE002"] and not parsing._PREPARSED


RUN = ("import sys, runpy\n"
       "sys.argv = ['mllint', *sys.argv[1:]]\n"
       "from mllint import workers\n"
       "workers.spare_core = lambda: {spare}\n"
       "take = workers.take_early\n"
       "def taken():\n"
       "    early = take()\n"
       "    if early is not None:\n"
       "        print('early workers taken', file=sys.stderr)\n"
       "    return early\n"
       "workers.take_early = taken\n"
       "runpy.run_module('mllint', run_name='__main__')\n")


@pytest.mark.skipif(sys.platform != "linux", reason="workers start early with fork only")
def test_one_changed_file_gives_the_same_report_early_in_a_worker_and_in_the_parent(tmp_path):
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    for path in [*sorted(FIXTURES.glob("*_neg_*/*.py"))[:30], *sorted(FIXTURES.glob("seed_pos_*/*.py"))[:10]]:
        (project / path.parent.name).mkdir(exist_ok=True)
        (project / path.parent.name / path.name).write_bytes(path.read_bytes())
    changed = sorted(project.glob("seed_pos_*/*.py"), key=lambda p: p.stat().st_size)[-1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def lint(spare: bool, cache: str, *extra: str, filling: bool = False) -> dict:
        proc = subprocess.run([sys.executable, "-c", RUN.format(spare=spare), "--format", "json", "--jobs", "2",
                               "--cache-dir", str(tmp_path / cache), *extra, str(changed)],
                              capture_output=True, text=True, cwd=project, env=env)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
        if not filling:  # (the run that fills the cache takes them too)
            assert ("early workers taken" in proc.stderr) == (spare and "--no-cache" not in extra)
        return json.loads(proc.stdout)

    reports = []
    for spare, cache in ((True, "early"), (False, "inline")):
        lint(spare, cache, filling=True)  # fills the cache (the project's other files)
        changed.write_text(changed.read_text() + f"\n# edited {cache}\n")
        reports.append(lint(spare, cache))
    reports.append(lint(False, "none", "--no-cache"))
    assert reports[0] == reports[1] == reports[2] and reports[0]
