"""The README's CI examples do what the README says: its `mllint` commands are run as written, on a copy of
fixtures/ with a baseline, before and after a new finding."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parent.parent


def yaml_blocks():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def workflow():
    (found,) = [b for b in yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    return found


def run_step(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """A `run:` line: `mllint ...` (with an optional `>> "$GITHUB_STEP_SUMMARY"`), run with this interpreter."""
    command = command.strip()
    append = None
    if '>> "$GITHUB_STEP_SUMMARY"' in command:
        command, _, _ = command.partition(">>")
        append = env["GITHUB_STEP_SUMMARY"]
    words = shlex.split(command)
    assert words[0] == "mllint", command
    proc = subprocess.run([sys.executable, "-m", "mllint", "--no-cache", *words[1:]], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **env})
    if append:
        with open(append, "a", encoding="utf-8") as out:
            out.write(proc.stdout)
    return proc


def test_github_actions_example(tmp_path):
    steps = workflow()["jobs"]["mllint"]["steps"]
    assert workflow()["permissions"]["security-events"] == "write"
    uploads = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert uploads and uploads[0]["with"]["sarif_file"] == "mllint.sarif"
    commands = [s["run"] for s in steps if "run" in s and s["run"].strip().startswith("mllint")]
    assert len(commands) == 3

    project = tmp_path / "repo"
    shutil.copytree(REPO / "fixtures", project)
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    recorded = run_step("mllint --write-baseline mllint-baseline.json .", project, env)
    assert recorded.returncode == 0

    sarif, summary, annotate = (run_step(c, project, env) for c in commands)
    assert sarif.returncode == 0 and json.loads((project / "mllint.sarif").read_text())["version"] == "2.1.0"
    results = json.loads((project / "mllint.sarif").read_text())["runs"][0]["results"]
    assert len(results) > 20  # code scanning gets every finding, baselined or not
    assert summary.returncode == 0 and (tmp_path / "summary.md").read_text().startswith("## mllint\n")
    assert annotate.returncode == 0 and not [l for l in annotate.stdout.splitlines() if l.startswith("::")]
    assert "already known" in (tmp_path / "summary.md").read_text()

    # a pull request adds a new red flag: one annotation, a failing step, the finding in the summary
    (project / "seed_pos_direct" / "extra.py").write_text("import torch\ntorch.manual_seed(1234)\n")
    annotate = run_step(commands[2], project, env)
    assert annotate.returncode == 1
    (line,) = [l for l in annotate.stdout.splitlines() if l.startswith("::")]
    assert line.startswith("::warning file=seed_pos_direct/extra.py,line=2,col=1,")
    run_step(commands[1], project, env)
    assert "`seed_pos_direct/extra.py`" in (tmp_path / "summary.md").read_text()


def test_gitlab_example(tmp_path):
    (job,) = [b["mllint"] for b in yaml_blocks() if isinstance(b, dict) and "mllint" in b and "script" in b["mllint"]]
    (command,) = [c for c in job["script"] if c.startswith("mllint")]
    assert job["artifacts"]["reports"]["junit"] == "mllint-junit.xml"
    project = tmp_path / "repo"
    shutil.copytree(REPO / "fixtures", project)
    run_step("mllint --write-baseline mllint-baseline.json .", project, {})
    assert run_step(command, project, {}).returncode == 0
    assert "<testsuites" in (project / "mllint-junit.xml").read_text()


def test_pre_commit_snippet_names_the_hook():
    (config,) = [b for b in yaml_blocks() if isinstance(b, dict) and "repos" in b]
    assert config["repos"][0]["hooks"][0]["id"] == "mllint"
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["mllint"]


def _github_if(expression: str, event_name: str, head_repo: str | None) -> bool:
    """The upload step's `if:` evaluated as GitHub would for one event (the few operators it uses)."""
    from types import SimpleNamespace as NS

    pull_request = NS(head=NS(repo=NS(full_name=head_repo))) if head_repo else None
    github = NS(event_name=event_name, repository="owner/repo", event=NS(pull_request=pull_request))
    python = expression.replace("&&", " and ").replace("||", " or ").replace("always()", "True")
    return bool(eval(python, {"__builtins__": {}}, {"github": github}))  # noqa: S307 - our own README's text


def test_github_actions_example_permissions_and_fork_pull_requests():
    flow = workflow()
    # upload-sarif: security-events to write, actions to read in a private repository; contents for the checkout
    assert flow["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    steps = flow["jobs"]["mllint"]["steps"]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert _github_if(upload["if"], "push", None)
    assert _github_if(upload["if"], "pull_request", "owner/repo")  # a branch of this repository
    assert not _github_if(upload["if"], "pull_request", "someone/fork")  # read-only token: skipped, not failed
    # what a fork's pull request still gets needs no write permission and is never skipped for forks
    reporting = [s for s in steps if "run" in s and s["run"].strip().startswith("mllint")]
    assert all("pull_request" not in str(s.get("if", "")) for s in reporting)
    assert any("--format github" in s["run"] for s in reporting)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "actions: read" in text and "Pull requests from forks" in text and "pull_request_target" in text
