"""Third-party rules load through the `mllint.rules` entry point of an installed distribution."""
import json
import os
import subprocess
import sys
import textwrap

PLUGIN = textwrap.dedent(
    '''
    import libcst as cst
    from mllint.findings import Severity
    from mllint.rules import Rule
    from mllint.walk import walk


    class NoPrintInEval(Rule):
        code, name, severity = "EVAL900", "print-in-evaluate", Severity.INFO
        summary = "A demo plugin rule: print() inside evaluate()."
        hint = "Log metrics instead."

        def check_module(self, ctx):
            for node in walk(ctx.module):
                if isinstance(node, cst.FunctionDef) and node.name.value == "evaluate":
                    for inner in walk(node.body):
                        if isinstance(inner, cst.Call) and ctx.names.qualify(inner.func) is None \\
                                and getattr(inner.func, "value", None) == "print":
                            ctx.report(self, inner, "print() in evaluate()")


    RULES = [NoPrintInEval]
    '''
)


def test_entry_point_rules_are_loaded_and_run(tmp_path):
    site = tmp_path / "site"
    (site / "demo_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "demo_plugin.py").write_text(PLUGIN)
    (site / "demo_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 1.0\n")
    (site / "demo_plugin-1.0.dist-info" / "entry_points.txt").write_text("[mllint.rules]\ndemo = demo_plugin\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "eval.py").write_text("def evaluate(model):\n    print(model)\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = subprocess.run([sys.executable, "-m", "mllint", "rules"], capture_output=True, text=True, env=env)
    assert any(line.startswith("EVAL900 ") for line in listed.stdout.splitlines())
    proc = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", "--fail-on", "info", "."],
                          cwd=project, capture_output=True, text=True, env=env)
    assert proc.returncode == 1, proc.stderr
    assert [(f["code"], f["line"], f["column"]) for f in json.loads(proc.stdout)] == [("EVAL900", 2, 5)]


def test_broken_plugin_is_a_warning_not_a_crash(tmp_path):
    site = tmp_path / "site"
    (site / "bad_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "bad_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugin\nVersion: 1.0\n")
    (site / "bad_plugin-1.0.dist-info" / "entry_points.txt").write_text("[mllint.rules]\nbad = does_not_exist\n")
    (tmp_path / "ok.py").write_text("x = 1\n")
    proc = subprocess.run([sys.executable, "-m", "mllint", str(tmp_path / "ok.py")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(site)})
    assert proc.returncode == 0
    assert "cannot load rules from entry point 'bad'" in proc.stderr and "Traceback" not in proc.stderr
