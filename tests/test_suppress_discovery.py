"""Suppression comments, excludes, .gitignore, and reporting only the files asked for."""
import json
import subprocess
import sys

SEED = "import torch\n\ntorch.manual_seed(3407)\n"


def lint(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", *args], cwd=cwd,
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def codes(findings):
    return sorted((f["path"], f["line"], f["code"]) for f in findings)


def test_suppression_with_reason_on_the_line_and_the_line_before(tmp_path):
    (tmp_path / "a.py").write_text(
        "import torch\n"
        "torch.manual_seed(1)  # mllint: ignore[SEED001] fixed split, not training\n"
        "# mllint: ignore[SEED] deliberate: shared by all methods\n"
        "def f():\n    torch.manual_seed(2)\n"
    )
    # the comment covers line 4 only, where it silenced nothing (FILE011)
    assert codes(lint(".", cwd=tmp_path)) == [("a.py", 3, "FILE011"), ("a.py", 5, "SEED001")]


def test_noqa_with_our_code_and_foreign_noqa(tmp_path):
    (tmp_path / "a.py").write_text(
        "import torch\n"
        "torch.manual_seed(1)  # noqa: E501\n"
        "def f():\n"
        "    torch.manual_seed(2)  # noqa: SEED001 seeds a synthetic benchmark only\n"
        "def g():\n"
        "    torch.manual_seed(3)  # noqa\n"
    )
    assert codes(lint(".", cwd=tmp_path)) == [("a.py", 2, "SEED001"), ("a.py", 6, "SEED001")]


def test_suppression_without_reason_is_reported_and_show_suppressed(tmp_path):
    (tmp_path / "a.py").write_text("import torch\ntorch.manual_seed(1)  # mllint: ignore[SEED001]\n")
    findings = lint(".", cwd=tmp_path)
    assert codes(findings) == [("a.py", 2, "FILE010")]
    shown = lint("--show-suppressed", ".", cwd=tmp_path)
    silenced = [f for f in shown if "suppressed" in f]
    assert [(f["code"], f["suppressed"]["reason"]) for f in silenced] == [("SEED001", None)]


def test_suppression_in_a_string_does_not_count_for_other_codes(tmp_path):
    (tmp_path / "a.py").write_text("import torch\ntorch.manual_seed(1)  # mllint: ignore[LEAK001] wrong code\n")
    assert codes(lint(".", cwd=tmp_path)) == [("a.py", 2, "FILE011"), ("a.py", 2, "SEED001")]


def test_default_excludes_and_gitignore(tmp_path):
    for folder in (".venv/lib", "build", "node_modules/x", "generated", "src", ".git"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "m.py").write_text(SEED)
    (tmp_path / ".gitignore").write_text("# generated code\ngenerated/\n*.tmp.py\n!keep.tmp.py\n")
    (tmp_path / "src" / "x.tmp.py").write_text(SEED)
    (tmp_path / "src" / "keep.tmp.py").write_text(SEED)
    paths = sorted(f["path"] for f in lint(".", cwd=tmp_path))
    assert paths == ["src/keep.tmp.py", "src/m.py"]


def test_extend_exclude_config(tmp_path):
    (tmp_path / "mllint.toml").write_text('extend-exclude = ["legacy", "scripts/old_*.py"]\n')
    for rel in ("legacy/a.py", "scripts/old_run.py", "scripts/run.py"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(SEED)
    assert [f["path"] for f in lint(".", cwd=tmp_path)] == ["scripts/run.py"]


def test_given_files_are_reported_with_project_facts(tmp_path):
    """pre-commit passes changed files: facts come from the whole project, findings only for those files."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "utils.py").write_text("import torch\ndef set_seed(s):\n    torch.manual_seed(s)\n")
    (tmp_path / "train.py").write_text("from utils import set_seed\nset_seed(42)\n")
    (tmp_path / "other.py").write_text(SEED)
    assert codes(lint("train.py", cwd=tmp_path)) == [("train.py", 2, "SEED001")]
    (tmp_path / "sweep.sh").write_text("for seed in 1 2 3; do bash launch.sh --seed $seed; done\n")
    assert lint("train.py", cwd=tmp_path) == []
