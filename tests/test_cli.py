"""The command line: exit codes, formats, selection, output, configuration, rule docs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SEED_FILE = "import torch\n\ntorch.manual_seed(3407)\n"


def mllint(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "mllint", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(SEED_FILE)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def test_findings_exit_1_and_text_format(project):
    proc = mllint(".", "--no-color", cwd=project)
    assert proc.returncode == 1
    assert "train.py:3:1: SEED001 [warning] seed fixed to 3407" in proc.stdout
    assert "3 | torch.manual_seed(3407)" in proc.stdout
    assert "^^^^" in proc.stdout and "= help:" in proc.stdout
    assert proc.stdout.rstrip().endswith("Found 1 finding (1 warning) in 2 files.")
    assert proc.stderr == ""


def test_clean_project_exits_0(tmp_path):
    (tmp_path / "ok.py").write_text("import torch\nprint(torch.__version__)\n")
    proc = mllint(str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    assert "No findings in 1 file." in proc.stdout


def test_json_contract(project):
    proc = mllint("--format", "json", ".", cwd=project)
    assert proc.returncode == 1
    (finding,) = json.loads(proc.stdout)
    assert set(finding) >= {"code", "name", "severity", "path", "line", "column", "end_line", "end_column",
                            "message", "hint", "related"}
    assert finding["code"] == "SEED001" and finding["name"] == "single-fixed-seed"
    assert finding["severity"] == "warning" and finding["path"] == "train.py"
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == (3, 1, 3, 24)
    assert finding["related"] == []


def test_paths_are_relative_to_the_working_directory(project):
    proc = mllint("--format", "json", project.name, cwd=project.parent)
    assert json.loads(proc.stdout)[0]["path"] == f"{project.name}/train.py"


def test_exit_zero_and_fail_on(project):
    assert mllint("--exit-zero", ".", cwd=project).returncode == 0
    assert mllint("--fail-on", "error", ".", cwd=project).returncode == 0
    assert mllint("--fail-on", "info", ".", cwd=project).returncode == 1


def test_select_ignore_extend_select(project):
    assert mllint("--select", "LEAK", ".", cwd=project).returncode == 0
    assert mllint("--ignore", "SEED001", ".", cwd=project).returncode == 0
    assert mllint("--ignore", "SEED", ".", cwd=project).returncode == 0
    assert mllint("--select", "LEAK", "--extend-select", "SEED001", ".", cwd=project).returncode == 1
    # the most specific selector wins
    assert mllint("--ignore", "SEED", "--select", "SEED001", ".", cwd=project).returncode == 1


def test_bad_selector_is_usage_error(project):
    proc = mllint("--select", "SEED-1", ".", cwd=project)
    assert proc.returncode == 2 and "not a rule code" in proc.stderr and "Traceback" not in proc.stderr


def test_output_file(project):
    proc = mllint("--format", "json", "--output", "report.json", ".", cwd=project)
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads((project / "report.json").read_text())[0]["code"] == "SEED001"


def test_statistics_and_quiet(project):
    proc = mllint("--statistics", ".", cwd=project)
    assert proc.stdout.split() == ["1", "SEED001", "single-fixed-seed"]
    proc = mllint("--quiet", ".", cwd=project)
    assert proc.stdout.splitlines() == [
        "train.py:3:1: SEED001 [warning] seed fixed to 3407 by torch.manual_seed, and the project shows no sweep over "
        "seeds: the result rests on one draw"
    ]


def test_missing_path_and_unknown_option_are_usage_errors(tmp_path):
    proc = mllint(str(tmp_path / "nope"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = mllint("--frobnicate", str(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--frobnicate" in proc.stderr
    for jobs in ("0", "two"):
        proc = mllint("--jobs", jobs, str(tmp_path))
        assert proc.returncode == 2 and "--jobs" in proc.stderr and "Traceback" not in proc.stderr
    proc = mllint("--format", "xml", str(tmp_path))
    assert proc.returncode == 2 and "'xml' is not one of" in proc.stderr and "Traceback" not in proc.stderr


def test_version_help_and_the_explicit_check_command(project):
    from mllint import __version__

    assert mllint("--version").stdout.strip() == f"mllint {__version__}"
    helped = mllint("--help")
    assert helped.returncode == 0 and "rule CODE|NAME" in helped.stdout and "--no-cache" in helped.stdout
    assert mllint("check", "-q", str(project)).stdout == mllint("-q", str(project)).stdout != ""


def test_colour_on_request_and_never_in_a_pipe_by_default(project):
    coloured = mllint("--color", str(project)).stdout
    assert "\x1b[33;1mSEED001\x1b[0m" in coloured  # a warning: yellow, bold
    assert "\x1b[" not in mllint(str(project)).stdout
    assert "\x1b[" not in mllint("--color", "--no-color", str(project)).stdout


def test_rules_listing_and_rule_page():
    proc = mllint("rules")
    assert proc.returncode == 0
    codes = [line.split()[0] for line in proc.stdout.splitlines()]
    assert "SEED001" in codes and "SEED002" in codes and "FILE002" in codes
    assert codes == sorted(codes)
    proc = mllint("rule", "seed001")
    assert proc.returncode == 0 and proc.stdout.startswith("# SEED001: single-fixed-seed")
    proc = mllint("rule", "NOPE999")
    assert proc.returncode == 2 and "unknown rule" in proc.stderr


def test_rules_json():
    data = json.loads(mllint("rules", "--format", "json").stdout)
    assert {"code": "SEED002", "name": "seed-option-single-default", "severity": "info"}.items() <= data[
        [d["code"] for d in data].index("SEED002")].items()


def test_config_in_pyproject_is_found_by_walking_up(project):
    (project / "pyproject.toml").write_text('[tool.mllint]\nignore = ["SEED001"]\n')
    sub = project / "sub"
    sub.mkdir()
    (sub / "t.py").write_text(SEED_FILE)
    assert mllint(".", cwd=sub).returncode == 0
    assert mllint(".", cwd=project).returncode == 0


def test_mllint_toml_and_explicit_config(project, tmp_path_factory):
    (project / "mllint.toml").write_text('fail-on = "error"\n')
    assert mllint(".", cwd=project).returncode == 0
    other = tmp_path_factory.mktemp("cfg") / "strict.toml"
    other.write_text('fail-on = "info"\n')
    assert mllint("--config", str(other), ".", cwd=project).returncode == 1


def test_per_file_ignores(project):
    (project / "mllint.toml").write_text('[per-file-ignores]\n"train.py" = ["SEED"]\n')
    assert mllint(".", cwd=project).returncode == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ('bogus = 1\n', "unknown key `bogus`"),
        ('select = "SEED"\n', "must be a list"),
        ('fail-on = "fatal"\n', "unknown severity"),
        ('max-file-size = -3\n', "positive integer"),
        ('select = [\n', "invalid TOML"),
        ('[tool.mllint]\nrules = { disabled = ["x"] }\n', "older, unrelated `mllint`"),
    ],
)
def test_config_errors_are_clear(project, content, message):
    name = "pyproject.toml" if content.startswith("[tool") else "mllint.toml"
    (project / name).write_text(content)
    proc = mllint(".", cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_legacy_code_quality_table(project):
    (project / "pyproject.toml").write_text('[tool.mllint.code-quality]\nlinters = ["pylint"]\n')
    proc = mllint(".", cwd=project)
    assert proc.returncode == 2 and "bvobart/mllint" in proc.stderr


def test_internal_failure_is_exit_2_without_traceback(project, monkeypatch):
    env = {"PYTHONPATH": str(project)}
    (project / "sitecustomize.py").write_text(
        "import mllint.engine as e\n"
        "def boom(*a, **k):\n    raise RuntimeError('synthetic failure')\n"
        "e.run = boom\n"
    )
    proc = mllint(".", cwd=project, env=env)
    assert proc.returncode == 2
    assert "internal error: RuntimeError: synthetic failure" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_stable_output_for_any_jobs(tmp_path):
    for i in range(12):
        (tmp_path / f"m{i:02d}.py").write_text(f"import torch\n\n\ndef f():\n    torch.manual_seed({i})\n")
    one = mllint("--format", "json", "--jobs", "1", str(tmp_path)).stdout
    two = mllint("--format", "json", "--jobs", "2", str(tmp_path)).stdout
    assert one == two and len(json.loads(one)) == 12


def test_static_linting_imports_no_ml_framework():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['mllint', '--quiet', '--no-cache', '--jobs', '1', 'fixtures']\n"
        "try:\n    runpy.run_module('mllint', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'tensorflow', 'jax') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout[-500:] + proc.stderr
