"""Adoption in an existing repository: baselines that survive line shifts, --changed-since, --show-suppressed."""
import json
import os
import subprocess
import sys

import pytest

TRAIN = "import torch\n\n\ndef main():\n    torch.manual_seed(3407)\n    return 1\n"


def mllint(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mllint", "--no-cache", *args], cwd=cwd, capture_output=True,
                          text=True)


def found(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return [(f["path"], f["line"], f["code"]) for f in json.loads(proc.stdout)]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "other.py").write_text("import numpy as np\nnp.random.seed(0)\n")
    return tmp_path


def test_baseline_survives_line_shifts_and_reports_only_new_findings(project):
    written = mllint("--write-baseline", "mllint-baseline.json", ".", cwd=project)
    assert written.returncode == 0 and "wrote 2 findings" in written.stderr
    data = json.loads((project / "mllint-baseline.json").read_text())
    assert data["format"] == "mllint-baseline" and len(data["findings"]) == 2
    assert all("line" in e and "fingerprint" in e and "context" in e for e in data["findings"])
    # code moves down, an unrelated edit lands next to the finding, and a new finding appears
    (project / "train.py").write_text(
        '"""Training."""\nimport os\nimport torch\n\n\ndef main():\n    torch.manual_seed(3407)\n    return 2\n\n\n'
        "def again():\n    torch.manual_seed(7)\n")
    proc = mllint("--format", "json", "--baseline", "mllint-baseline.json", ".", cwd=project)
    assert proc.returncode == 1
    assert found(proc) == [("train.py", 12, "SEED001")]
    text = mllint("--baseline", "mllint-baseline.json", ".", cwd=project).stdout
    assert "2 already known (baseline or unchanged lines) not shown." in text
    # fixing the new one: nothing new, exit 0
    (project / "train.py").write_text(TRAIN.replace("    return 1\n", "    return 3\n"))
    assert mllint("--baseline", "mllint-baseline.json", ".", cwd=project).returncode == 0


def test_a_second_copy_of_a_baselined_line_is_new(project):
    stale = "x = 1  # noqa: LEAK001 stale\n"
    (project / "util.py").write_text(stale)
    mllint("--write-baseline", "b.json", ".", cwd=project)
    (project / "util.py").write_text(stale + "\n\ny = 2\n\n" + stale)
    assert found(mllint("--format", "json", "--baseline", "b.json", ".", cwd=project)) == [("util.py", 6, "FILE011")]


def test_baseline_works_from_another_working_folder(project):
    mllint("--write-baseline", "b.json", ".", cwd=project)
    proc = mllint("--format", "json", "--baseline", f"{project.name}/b.json", project.name, cwd=project.parent)
    assert found(proc) == []


@pytest.mark.parametrize("content, message", [
    ("{", "invalid JSON"), ('{"findings": []}', "not an mllint baseline"),
    ('{"format": "mllint-baseline", "version": 99, "findings": []}', "version 99"),
])
def test_bad_baseline_is_a_usage_error(project, content, message):
    (project / "b.json").write_text(content)
    proc = mllint("--baseline", "b.json", ".", cwd=project)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    proc = mllint("--baseline", "missing.json", ".", cwd=project)
    assert proc.returncode == 2 and "cannot read baseline" in proc.stderr


def git(*args, cwd):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_changed_since_reports_findings_on_changed_lines_only(project):
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-qm", "start", cwd=project)
    (project / "train.py").write_text(TRAIN + "\n\ndef again():\n    torch.manual_seed(7)\n")
    (project / "new.py").write_text("import random\nrandom.seed(5)\n")  # untracked: every line is new
    proc = mllint("--format", "json", "--changed-since", "HEAD", ".", cwd=project)
    assert found(proc) == [("new.py", 2, "SEED001"), ("train.py", 10, "SEED001")]
    git("add", "-A", cwd=project)
    git("commit", "-qm", "more", cwd=project)
    assert found(mllint("--format", "json", "--changed-since", "HEAD", ".", cwd=project)) == []
    assert found(mllint("--format", "json", "--changed-since", "HEAD~1", ".", cwd=project)) == [
        ("new.py", 2, "SEED001"), ("train.py", 10, "SEED001")]
    proc = mllint("--changed-since", "no-such-rev", ".", cwd=project)
    assert proc.returncode == 2 and "unknown revision 'no-such-rev'" in proc.stderr


def test_changed_since_outside_git_is_a_usage_error(project):
    proc = mllint("--changed-since", "HEAD", ".", cwd=project)
    assert proc.returncode == 2 and "--changed-since" in proc.stderr and "Traceback" not in proc.stderr


def test_show_suppressed_lists_reasons(project):
    (project / "train.py").write_text(TRAIN.replace("(3407)", "(3407)  # mllint: ignore[SEED001] fixed split"))
    plain = mllint(".", cwd=project).stdout
    assert "1 suppressed (--show-suppressed lists them)." in plain and "fixed split" not in plain
    shown = mllint("--show-suppressed", ".", cwd=project).stdout
    assert "[suppressed: fixed split]" in shown
