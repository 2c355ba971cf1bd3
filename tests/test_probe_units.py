"""The probe's parts that need no subprocess: statistics, verdicts, command parsing, the extra's absence."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mllint.findings import Finding, Loc, Severity
from mllint.probe import stats
from mllint.probe.runner import CommandError, Outcome, parse_command
from mllint.probe.verdicts import merge

ROOT = Path(__file__).resolve().parent.parent

# Student-t quantiles from a printed table (two-sided 95 %: p = 0.975; 80 %: p = 0.8)
T_TABLE = {(0.975, 1): 12.706, (0.975, 2): 4.303, (0.975, 4): 2.776, (0.975, 9): 2.262, (0.975, 30): 2.042,
           (0.8, 4): 0.941, (0.8, 10): 0.879, (0.995, 5): 4.032}


@pytest.mark.parametrize("p,df", sorted(T_TABLE))
def test_t_quantile_matches_the_table(p, df):
    assert stats.t_quantile(p, df) == pytest.approx(T_TABLE[(p, df)], abs=1e-3)
    assert stats.t_quantile(1 - p, df) == pytest.approx(-T_TABLE[(p, df)], abs=1e-3)


def test_summary_of_three_seeds():
    s = stats.summarise([1.0, 1.2, 0.9])
    assert s.mean == pytest.approx(31 / 30)
    assert s.std == pytest.approx(0.152753, abs=1e-6)
    half = 4.302653 * 0.152753 / 3 ** 0.5
    assert (s.low, s.high) == (pytest.approx(31 / 30 - half, abs=1e-5), pytest.approx(31 / 30 + half, abs=1e-5))
    # two methods, 3 seeds each: (t(0.975, 4) + t(0.8, 4)) * std * sqrt(2/3)
    assert s.min_detectable == pytest.approx((2.776445 + 0.940965) * 0.152753 * (2 / 3) ** 0.5, abs=1e-4)
    with pytest.raises(ValueError):
        stats.summarise([1.0])


def _static(code: str, path: str, line: int) -> Finding:
    return Finding(code, "x", Severity.WARNING, Loc(line, 1, line, 2, path), "static message")


def _outcome(script: str, evidence: list, checked: dict, seeds: list | None = None) -> Outcome:
    record = {"steps": 5, "evidence": evidence, "checked": checked, "seeds": seeds or [], "loaders": []}
    return Outcome(None, "steps", record=record, script=script)


def test_merge_marks_static_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = str(tmp_path / "train.py")
    other = "other.py"
    static = [
        _static("LEAK001", "train.py", 20),  # confirmed by the overlap
        _static("EVAL004", "train.py", 30),  # checked, nothing seen: not reproduced
        _static("PREP001", "train.py", 5),  # not checked in this run
        _static("LEAK001", other, 3),  # a file the run never went through
        _static("HPARAM001", "train.py", 9),  # the probe has no question for it
        _static("SEED001", "train.py", 2),
    ]
    evidence = [{"code": "LEAK001", "site": [script, 10, 5], "message": "64 of the 64 samples ...",
                 "related": [{"site": [script, 11, 5], "message": "evaluation loader built here"}]},
                {"code": "EVAL001", "site": [script, 40, 9], "message": "the module evaluated ...", "related": []}]
    checked = {"LEAK001": True, "EVAL004": True, "PREP001": False}
    seeds = [{"api": "torch.manual_seed", "value": 3, "site": [script, 2, 1], "count": 1}]
    out = merge(static, [_outcome(script, evidence, checked, seeds)])
    got = {(f.code, f.loc.path, f.loc.line): f.status for f in out}
    assert got == {
        ("LEAK001", "train.py", 20): "confirmed",
        ("EVAL004", "train.py", 30): "not reproduced",
        ("PREP001", "train.py", 5): "not checkable",
        ("LEAK001", "other.py", 3): "not checkable",
        ("HPARAM001", "train.py", 9): "not checkable",
        ("SEED001", "train.py", 2): "confirmed",
        ("EVAL001", "train.py", 40): "confirmed",  # no static finding carries it: reported on its own
    }
    leak = next(f for f in out if f.code == "LEAK001" and f.loc.line == 20)
    assert [r.message for r in leak.related] == ["probe: 64 of the 64 samples ..."]
    assert leak.to_json()["status"] == "confirmed"


def test_selection_evidence_alone_is_not_a_finding(tmp_path, monkeypatch):
    """A checkpoint after evaluating *some* loader may be validation: LEAK002 needs the static side."""
    monkeypatch.chdir(tmp_path)
    script = str(tmp_path / "train.py")
    evidence = [{"code": "LEAK002", "site": [script, 10, 5], "message": "a checkpoint ...", "related": []}]
    assert merge([], [_outcome(script, evidence, {"LEAK002": True})]) == []


def test_parse_command(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("pass\n")
    (tmp_path / "pyproject.toml").write_text("")
    python, argv, project = parse_command(["python", "-u", str(script), "--lr", "1"], None)
    assert (python, argv, project) == (sys.executable, [str(script), "--lr", "1"], str(tmp_path))
    assert parse_command(["python3", "-m", "pkg.train"], str(tmp_path))[1] == ["-m", "pkg.train"]
    assert parse_command([str(script)], None)[1] == [str(script)]
    for bad in ([], ["bash", "x.sh"], ["python"], ["python", "-m"], ["python", str(tmp_path / "nope.py")]):
        with pytest.raises(CommandError):
            parse_command(bad, None)


def test_importing_the_command_does_not_import_torch():
    code = "import sys, mllint.probe.cli; print('torch' in sys.modules, 'libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_without_torch_the_command_says_how_to_install_it(monkeypatch):
    import importlib.util

    from mllint.probe import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = CliRunner().invoke(cli.probe, ["--", "python", str(ROOT / "fixtures/probe/clean/train.py")])
    assert result.exit_code == 2
    assert "pip install 'mllint-redflags[probe]'" in result.output
    assert "Traceback" not in result.output


def test_an_interpreter_without_torch_is_reported(tmp_path):
    """`-- /path/to/python` without torch: the bootstrap says so, the probe prints the install line."""
    base = getattr(sys, "_base_executable", None)
    if not base or subprocess.run([base, "-c", "import torch"], capture_output=True).returncode == 0:
        pytest.skip("no interpreter without torch at hand")
    if subprocess.run([base, "-c", "import json"], capture_output=True).returncode != 0:
        pytest.skip("base interpreter unusable")
    proc = subprocess.run(
        [sys.executable, "-m", "mllint.probe", "--no-static", "--", base, str(ROOT / "fixtures/probe/clean/train.py")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'mllint-redflags[probe]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_run_is_offline_and_its_caches_are_temporary(tmp_path):
    from mllint.probe.runner import PACKAGE_PARENT, Spec, environment

    env = environment(Spec(sys.executable, ["train.py"], str(tmp_path), device="cpu"), str(tmp_path), "cfg.json")
    assert env["HF_HUB_OFFLINE"] == "1" and env["HF_DATASETS_OFFLINE"] == "1"
    assert env["TORCH_HOME"].startswith(str(tmp_path))
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # --device cpu
    assert env["PYTHONPATH"].split(os.pathsep)[0] == PACKAGE_PARENT
    assert "CUDA_VISIBLE_DEVICES" not in environment(
        Spec(sys.executable, ["train.py"], str(tmp_path), device="auto"), str(tmp_path), "cfg.json"
    ) or os.environ.get("CUDA_VISIBLE_DEVICES") is not None


def test_a_run_interrupted_while_it_starts_leaves_no_folder(tmp_path, monkeypatch):
    """Ctrl-C (or any failure other than OSError) while the script's process starts: the run's folder goes too."""
    import glob
    import tempfile

    from mllint.probe import runner

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.subprocess, "Popen", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(runner.Spec(sys.executable, ["train.py"], str(tmp_path), device="cpu"))
    assert glob.glob(str(tmp_path / "mllint-probe-*")) == []
