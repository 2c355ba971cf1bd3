"""The hook works under the real pre-commit tool, installed from this repository."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit is not installed")
def test_pre_commit_hook_reports_changed_files_only(tmp_path):
    # pre-commit clones the hook repository at a revision: snapshot the working tree as one commit.
    hook_repo = tmp_path / "hook"
    shutil.copytree(REPO, hook_repo, ignore=shutil.ignore_patterns(".git", ".ci-venv", "*.egg-info", "__pycache__",
                                                                  ".mllint_cache", ".pytest_cache", "fixtures"))
    git("init", "-q", cwd=hook_repo)
    git("add", "-A", cwd=hook_repo)
    git("commit", "-qm", "snapshot", cwd=hook_repo)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True).stdout.strip()

    project = tmp_path / "project"
    project.mkdir()
    git("init", "-q", cwd=project)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: mllint\n"
    )
    (project / "utils.py").write_text("import torch\ndef set_seed(s):\n    torch.manual_seed(s)\n")
    (project / "train.py").write_text("from utils import set_seed\nset_seed(42)\n")
    (project / "notes.txt").write_text("not python\n")
    git("add", "-A", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    proc = subprocess.run([PRE_COMMIT, "run", "--files", "train.py", "notes.txt"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "train.py:2:1: SEED001" in proc.stdout  # helper resolved across files it was not given
    assert "utils.py" not in proc.stdout.split("SEED001", 1)[0]

    (project / "sweep.sh").write_text("for seed in 0 1 2; do bash launch.sh --seed $seed; done\n")
    proc = subprocess.run([PRE_COMMIT, "run", "--files", "train.py"], cwd=project, capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
