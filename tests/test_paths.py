"""Unit tests told from evaluation scripts: by folder, by name, and for a file only named like a test, by its text."""
from __future__ import annotations

from pathlib import Path

import pytest

from mllint import engine
from mllint.config import Config
from mllint.core.paths import is_test_path, is_unit_test

SCRIPT = "import argparse\nparser = argparse.ArgumentParser()\n\ndef test_model(args):\n    pass\n"
PYTEST = "import torch\n\ndef test_shapes():\n    assert torch.zeros(2).shape == (2,)\n"


@pytest.mark.parametrize("rel, text, expected", [
    ("tests/helpers.py", "x = 1\n", True),  # a test folder decides by itself
    ("pkg/unit_tests/check.py", SCRIPT, True),
    ("conftest.py", "", True),
    ("test_shapes.py", PYTEST, True),  # pytest functions, no command line
    ("test_cases.py", "import unittest\n", True),
    ("shapes_test.py", "class TestShapes:\n    def check(self):\n        pass\n", True),
    ("test_eval.py", SCRIPT, False),  # test functions, but it parses a command line: a script
    ("test_IMDN.py", "import torch\nmodel = torch.load('m.pt')\nprint(model)\n", False),  # no test at all
    ("test.py", PYTEST, False),  # not named like a test: an evaluation script's usual name
    ("test_unreadable.py", None, True),  # no text to judge: the name decides, as before
])
def test_a_file_named_like_a_test_is_one_when_its_text_is(rel: str, text: str | None, expected: bool) -> None:
    assert is_unit_test(rel, text) is expected
    if expected:
        assert is_test_path(rel)


def _lint(root: Path, cache: Path) -> list[tuple[str, str]]:
    result = engine.run([str(root)], Config(), ["PREP003"], [], jobs=1, cache_dir=str(cache), use_cache=True)
    return sorted((Path(f.loc.path).name, f.code) for f in result.findings)


def test_findings_in_an_evaluation_script_named_test_are_reported_and_a_unit_tests_stay_hidden(tmp_path: Path,
                                                                                           monkeypatch):
    wrong_std = "Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))"
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (root / "test_eval.py").write_text(
        "import argparse\nimport torchvision.transforms as T\n"
        f"parser = argparse.ArgumentParser()\nnorm = T.{wrong_std}\n")
    (root / "test_norm.py").write_text(
        f"import torchvision.transforms as T\n\ndef test_norm():\n    assert T.{wrong_std}\n")
    expected = [("test_eval.py", "PREP003")]
    assert _lint(root, tmp_path / "c") == expected  # cold
    monkeypatch.setattr(engine, "analyze_cached", lambda *a, **k: pytest.fail("the project was analysed again"))
    assert _lint(root, tmp_path / "c") == expected  # the kept result replayed: the unit test stays hidden
