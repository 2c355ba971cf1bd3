"""The click command line as a new user meets it: commands, completion, usage errors that are errors, and
mistakes that are not silent (unknown codes, unused suppressions, missing or non-Python paths, stdin)."""
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = "import torch\n\ntorch.manual_seed(3407)\n"


def mllint(*args, cwd=None, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "mllint", "--no-cache", *args] if args[:1] not in (
        ("rules",), ("rule",), ("probe",), ("recipe",), ("--help",), ("--version",)) else
        [sys.executable, "-m", "mllint", *args], cwd=cwd, capture_output=True, text=True, input=input,
        env={**os.environ, **(env or {})})


def no_traceback(proc):
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(SEED)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


# -- commands ------------------------------------------------------------------------------------------


def test_rule_by_name_and_all():
    by_name = mllint("rule", "single-fixed-seed")
    assert by_name.returncode == 0 and by_name.stdout.startswith("# SEED001: single-fixed-seed")
    every = mllint("rule", "--all")
    assert every.returncode == 0
    assert every.stdout.count("\n# ") + 1 >= 15 and "# LEAK001: " in every.stdout and "# FILE011: " in every.stdout


def test_unknown_rule_suggests():
    proc = no_traceback(mllint("rule", "SEED01"))
    assert proc.returncode == 2 and "did you mean SEED001" in proc.stderr
    proc = no_traceback(mllint("rule", "single-fixed-sed"))
    assert proc.returncode == 2 and "did you mean single-fixed-seed" in proc.stderr


def test_rules_json_has_urls():
    data = json.loads(mllint("rules", "--format", "json").stdout)
    assert all({"code", "name", "severity", "summary", "url"} <= set(d) for d in data)


def test_subcommand_help_and_unknown_options():
    for command in ("check", "rules", "rule"):
        proc = mllint(command, "--help")
        assert proc.returncode == 0 and "Usage: mllint " + command in proc.stdout
    proc = no_traceback(mllint("rules", "--frobnicate"))
    assert proc.returncode == 2 and "--frobnicate" in proc.stderr


def _without_probe(tmp_path):
    """A sitecustomize that makes mllint.probe and mllint.recipe unimportable, whether or not they exist."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['mllint.probe'] = None\nsys.modules['mllint.recipe'] = None\n")
    return {"PYTHONPATH": str(tmp_path)}


def test_lazy_commands_absent_without_traceback(tmp_path):
    env = _without_probe(tmp_path)
    helped = mllint("--help", env=env)
    assert helped.returncode == 0 and " probe " not in helped.stdout and " recipe " not in helped.stdout
    proc = no_traceback(mllint("probe", "--", "python", "train.py", env=env))
    assert proc.returncode == 2 and "`probe` command is not available" in proc.stderr


def test_lazy_command_loaded_from_its_module(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import sys, types, importlib.machinery, click\n"
        "for name in ('mllint.probe', 'mllint.probe.cli'):\n"
        "    module = types.ModuleType(name)\n"
        "    module.__spec__ = importlib.machinery.ModuleSpec(name, None)\n"
        "    module.__path__ = []\n"
        "    sys.modules[name] = module\n"
        "@click.command()\n@click.argument('args', nargs=-1)\n"
        "def probe(args):\n    'Run a training command under the runtime probe.'\n    click.echo('probed ' + ' '.join(args))\n"
        "sys.modules['mllint.probe.cli'].probe = probe\n")
    env = {"PYTHONPATH": str(tmp_path)}
    assert "probe" in mllint("--help", env=env).stdout
    proc = mllint("probe", "--", "python", "train.py", env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "probed python train.py"


def test_shell_completion():
    def complete(words, index):
        env = {"_MLLINT_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        proc = subprocess.run([sys.executable, "-m", "mllint"], capture_output=True, text=True,
                              env={**os.environ, **env})
        return proc.stdout.splitlines()

    assert {"plain,rules", "plain,rule"} <= set(complete("mllint ru", 1))
    assert "plain,single-fixed-seed" in complete("mllint rule single", 2)
    assert "plain,--format" in complete("mllint --form", 1)  # the default command's options
    assert "plain,sarif" in complete("mllint --format sa", 2)


# -- selectors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, suggestion", [
    ("--select", "LAEK", "LEAK"), ("--ignore", "SEED01", "SEED001"), ("--extend-select", "SED", "SEED"),
])
def test_unknown_selector_is_a_usage_error_with_a_suggestion(project, option, value, suggestion):
    proc = no_traceback(mllint(option, value, ".", cwd=project))
    assert proc.returncode == 2 and f"did you mean {suggestion}" in proc.stderr and proc.stdout == ""


def test_unknown_selector_in_the_config(project):
    (project / "mllint.toml").write_text('ignore = ["SEED01"]\n')
    proc = no_traceback(mllint(".", cwd=project))
    assert proc.returncode == 2 and "mllint.toml" in proc.stderr and "did you mean SEED001" in proc.stderr


# -- suppressions -----------------------------------------------------------------------------------------


def test_uppercase_noqa_with_reason(project):
    (project / "train.py").write_text("import torch\ntorch.manual_seed(3407)  # NOQA:SEED001 fixed split\n")
    assert mllint("-q", ".", cwd=project).stdout == ""


def test_unknown_and_unused_suppressions_are_reported(project):
    (project / "train.py").write_text(
        "import torch\n"
        "torch.manual_seed(3407)  # mllint: ignore[SEED01] typo\n"
        "x = 1  # noqa: LEAK001 stale\n"
        "y = 2  # noqa: E501 another tool's code is left alone\n")
    findings = json.loads(mllint("--format", "json", ".", cwd=project).stdout)
    got = [(f["line"], f["code"], f["message"]) for f in findings]
    assert (2, "SEED001", got[0][2]) == got[0]
    assert got[1] == (2, "FILE011", "suppression names unknown code SEED01 (did you mean SEED001 or SEED?)")
    assert got[2] == (3, "FILE011", "suppression of LEAK001 silenced nothing in this run")
    assert len(got) == 3
    # not selected in this run: it could not have matched, so it is not reported
    assert mllint("--select", "SEED,FILE", "-q", ".", cwd=project).stdout.count("FILE011") == 1


def test_suppression_on_a_related_line_says_where_it_belongs(tmp_path):
    shutil.copytree(REPO / "fixtures" / "leak_pos_tuple_return", tmp_path / "p")
    loaders = tmp_path / "p" / "loaders.py"
    lines = loaders.read_text().splitlines()
    lines[9] += "  # mllint: ignore[LEAK001] the test set is meant here"
    loaders.write_text("\n".join(lines) + "\n")
    findings = json.loads(mllint("--format", "json", "--select", "LEAK,FILE", ".", cwd=tmp_path / "p").stdout)
    (unused,) = [f for f in findings if f["code"] == "FILE011"]
    assert unused["path"] == "loaders.py" and unused["line"] == 10
    assert "reported at main.py:22: put the suppression there" in unused["message"]
    assert any(f["code"] == "LEAK001" and f["path"] == "main.py" for f in findings)


# -- paths --------------------------------------------------------------------------------------------------


def test_missing_path_among_several_is_a_finding(project):
    proc = no_traceback(mllint("--format", "json", "train.py", "nope.py", cwd=project))
    assert proc.returncode == 1
    assert [(f["path"], f["code"]) for f in json.loads(proc.stdout)] == [("nope.py", "FILE007"), ("train.py", "SEED001")]
    proc = no_traceback(mllint("nope.py", "gone/", cwd=project))
    assert proc.returncode == 2 and "none of the paths exist" in proc.stderr


def test_folder_without_python_files_says_so(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    proc = mllint("docs", cwd=tmp_path)
    assert proc.returncode == 0 and "no Python files (.py, .ipynb) found in docs" in proc.stderr


def test_explicit_non_python_file_is_skipped_not_a_syntax_error(project):
    (project / "notes.txt").write_text("print 'python 2?'\n")
    (project / "run").write_text("#!/usr/bin/env python3\nimport torch\ntorch.manual_seed(1)\n")
    proc = mllint("--format", "json", "notes.txt", "run", cwd=project)
    assert "notes.txt is not a Python file or notebook: skipped" in proc.stderr
    assert [(f["path"], f["code"]) for f in json.loads(proc.stdout)] == [("run", "SEED001")]


def test_file007_hint_matches_the_cause(tmp_path):
    from mllint.discovery import _describe

    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "absent.py")
    message, hint = _describe(OSError(errno.EACCES, "Permission denied"), str(tmp_path))
    assert message == "folder cannot be read: permission denied" and "permission" in hint
    findings = json.loads(mllint("--format", "json", ".", cwd=tmp_path).stdout)
    got = {f["path"]: (f["message"], f["hint"]) for f in findings}
    assert got["dangling.py"][0] == "broken symlink: its target does not exist" and "link" in got["dangling.py"][1]
    assert got["loop.py"][0] == "symlink loop: cannot be read" and "loop" in got["loop.py"][1]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder_is_not_counted_as_a_file(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.py").write_text("x = 1\n")
    locked.chmod(0)
    try:
        proc = mllint(".", cwd=tmp_path)
    finally:
        locked.chmod(0o755)
    assert "locked:1:1: FILE007 [warning] folder cannot be read: permission denied" in proc.stdout
    assert "in 1 file." in proc.stdout


def test_max_file_size_on_the_command_line(project):
    proc = mllint("--format", "json", "--max-file-size", "10", "train.py", cwd=project)
    assert [f["code"] for f in json.loads(proc.stdout)] == ["FILE006"]


# -- stdin ---------------------------------------------------------------------------------------------------


def test_stdin_is_linted_as_the_named_file_in_its_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "utils.py").write_text("import torch\ndef set_seed(s):\n    torch.manual_seed(s)\n")
    (tmp_path / "train.py").write_text("print('on disk: clean')\n")
    edited = "from utils import set_seed\n\nset_seed(42)\n"
    proc = mllint("--format", "json", "-", "--stdin-filename", "train.py", cwd=tmp_path, input=edited)
    findings = json.loads(proc.stdout)
    assert [(f["path"], f["line"], f["code"]) for f in findings] == [("train.py", 3, "SEED001")]
    assert findings[0]["related"][0]["path"] == "utils.py"  # the helper came from the project on disk
    text = mllint("-", "--stdin-filename", "train.py", cwd=tmp_path, input=edited).stdout
    assert "3 | set_seed(42)" in text  # the excerpt is stdin's, not the file on disk
    assert not list(tmp_path.glob("mllint-stdin-*"))


def test_stdin_usage_errors(project):
    proc = no_traceback(mllint("-", "train.py", cwd=project, input=""))
    assert proc.returncode == 2 and "stdin" in proc.stderr


# -- settings, files, excludes ----------------------------------------------------------------------------


def test_show_settings_and_show_files(project):
    (project / "mllint.toml").write_text('ignore = ["SEED002"]\n')
    (project / "vendor").mkdir()
    (project / "vendor" / "lib.py").write_text("x = 1\n")
    settings = mllint("--show-settings", "--extend-exclude", "vendor", ".", cwd=project).stdout
    assert f"# configuration file: {project / 'mllint.toml'}" in settings
    assert 'ignore = ["SEED002"]' in settings and 'extend-exclude = ["vendor"]' in settings
    files = mllint("--show-files", ".", cwd=project).stdout.split()
    assert files == ["clean.py", "train.py", "vendor/lib.py"]
    assert mllint("--show-files", "--extend-exclude", "vendor", ".", cwd=project).stdout.split() == ["clean.py", "train.py"]


def test_exclude_and_per_file_ignores_options(project):
    assert mllint("--extend-exclude", "train.py", ".", cwd=project).returncode == 0
    assert mllint("--exclude", "train.py", ".", cwd=project).returncode == 0
    assert mllint("--per-file-ignores", "train.py:SEED", ".", cwd=project).returncode == 0
    assert mllint("--per-file-ignores", "other.py:SEED", ".", cwd=project).returncode == 1
    proc = no_traceback(mllint("--per-file-ignores", "train.py", ".", cwd=project))
    assert proc.returncode == 2 and "GLOB:CODES" in proc.stderr


# -- text output -----------------------------------------------------------------------------------------------


def test_colour_choice_and_environment(project):
    def coloured(*args, env=None):
        return "\x1b[" in mllint(*args, ".", cwd=project, env=env).stdout

    assert not coloured()
    assert coloured("--color", "always") and coloured("--color=always") and coloured("--color")
    assert coloured(env={"FORCE_COLOR": "1"}) and not coloured(env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not coloured("--color", "never", env={"FORCE_COLOR": "1"})
    assert not coloured("--format", "json", "--color", "always")


def test_summary_per_family_and_quiet_when_clean(project, tmp_path_factory):
    proc = mllint(".", cwd=project)
    assert "By family: SEED 1 warning." in proc.stdout
    assert "= rule: single-fixed-seed: " in proc.stdout
    clean = tmp_path_factory.mktemp("clean")
    (clean / "ok.py").write_text("x = 1\n")
    quiet = mllint("-q", ".", cwd=clean)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_progress_indicator_draws_and_clears(monkeypatch, capsys):
    import time

    from mllint import lint

    monkeypatch.setattr(lint, "PROGRESS_AFTER_S", 0.0)
    with lint.Progress(True):
        time.sleep(0.3)
    err = capsys.readouterr().err
    assert "\rmllint: analysing" in err and err.endswith("\r\x1b[K")
    with lint.Progress(False):
        time.sleep(0.05)
    assert capsys.readouterr().err == ""


def test_unreadable_folder_in_process(tmp_path, monkeypatch):
    """The same as above for any user (root reads every folder): scandir refused on one folder."""
    from mllint import discovery
    from mllint.config import Config
    from mllint.engine import run

    (tmp_path / "ok.py").write_text("x = 1\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.py").write_text("x = 1\n")
    real = discovery.os.scandir

    def scandir(path):
        if os.path.basename(path) == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    result = run(["."], Config(), ["ALL"], [], jobs=1)
    assert result.files == 1 and result.scanned == ["ok.py"]
    (finding,) = result.findings
    assert (finding.code, finding.loc.path, finding.message) == ("FILE007", "locked", "folder cannot be read: permission denied")
    assert "permission" in finding.hint and "link" not in finding.hint


def test_a_warm_run_does_not_load_libcst(project):
    """The pre-commit path: with the cache warm, nothing is parsed, so libcst (0.2 s of imports) stays unloaded
    in the main process (the engine defers it; the rule modules must not load it first)."""
    code = ("import atexit, runpy, sys\n"
            "atexit.register(lambda: print('libcst:', type(sys.modules.get('libcst')).__name__, file=sys.stderr))\n"
            "sys.argv = ['mllint', '--jobs', '1', '--select', 'SEED,FILE,LEAK', 'train.py']\n"
            "runpy.run_module('mllint', run_name='__main__')\n")
    for _ in range(2):  # the first run fills the cache
        proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1 and "libcst: _LazyLibcst" in proc.stderr, proc.stderr[-500:]


# -- small inconsistencies a new user met (issue 24) -----------------------------------------------------


def test_rule_with_a_code_and_all_is_a_usage_error():
    proc = no_traceback(mllint("rule", "SEED001", "--all"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "not both" in proc.stderr and "SEED001" in proc.stderr


def test_files_count_is_the_linted_python_files_not_the_configs_read(tmp_path):
    (tmp_path / "train.py").write_text(SEED + "model = torch.nn.Linear(2, 2)\nmodel(torch.ones(2)).sum().backward()\n")
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    (tmp_path / "baseline.json").write_text("[]\n")
    shown = mllint("--show-files", ".", cwd=tmp_path).stdout.split()
    assert shown == ["train.py"]
    text = mllint(".", cwd=tmp_path)
    assert text.returncode == 1 and "in 1 file." in text.stderr + text.stdout
    data = json.loads(mllint("--format", "json-full", ".", cwd=tmp_path).stdout)
    assert (data["files_scanned"], data["files"]) == (1, shown)


def test_a_broken_notebooks_json_error_is_at_the_file_not_a_cell(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    (finding,) = json.loads(mllint("--format", "json", ".", cwd=tmp_path).stdout)
    assert finding["code"] == "FILE003" and finding.get("cell") is None
    text = mllint(".", cwd=tmp_path).stdout
    assert "broken.ipynb:1:1: FILE003" in text and "cell" not in text.split("FILE003")[0]


def test_input_diagnostics_survive_a_narrow_select(project):
    """`--select EVAL` still says which files were not analysed (a syntax error), unless `--ignore` names it."""
    (project / "bad.py").write_text("def f(:\n    pass\n")

    def codes(*options):
        proc = no_traceback(mllint(*options, "--format", "json", str(project), cwd=project))
        return sorted(f["code"] for f in json.loads(proc.stdout))

    assert codes("--select", "EVAL") == ["FILE002"]
    assert codes("--select", "EVAL", "--ignore", "FILE002") == []
    assert codes("--select", "EVAL", "--ignore", "FILE") == []
    assert codes("--select", "SEED001") == ["FILE002", "SEED001"]
