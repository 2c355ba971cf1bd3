"""The project phase runs in the parent, which loads libcst only when it analyses a file itself (engine.py's
stand-in): the families' project modules must import without loading it (HPARAM's project.py loaded all of libcst,
~0.1 s, for one regular expression of syntax.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

MODULES = ("mllint.rules.hparam.project", "mllint.rules.seed.project", "mllint.rules.eval.project",
           "mllint.dataflow.solve", "mllint.dataflow.resolve")


@pytest.mark.parametrize("module", MODULES)
def test_a_project_module_imports_without_libcst(module):
    code = ("import importlib, sys\nimport mllint.engine\nfrom mllint.rules import all_rules\nall_rules()\n"
            f"importlib.import_module({module!r})\nprint('libcst._nodes' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert out.stdout.strip() == "False", out.stderr
