"""A corpus of bad inputs linted together with one good file: each bad file gets its FILE code,
nothing crashes, and the good file's finding is still reported."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = "import torch\n\ntorch.manual_seed(3407)\n"
SEEDED = "import torch\ntorch.manual_seed(1)\n"


def notebook(cells, **extra) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **extra})


def code_cell(source) -> dict:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


# name -> (content, expected codes for that file). Text is written as UTF-8; bytes as they are.
CORPUS: dict[str, tuple[str | bytes, list[str]]] = {
    "undecodable.py": (b"x = '\xff\xfe\xfa'\n", ["FILE001"]),
    "bad_cookie.py": (b"# -*- coding: klingon -*-\nx = 1\n", ["FILE001"]),
    "latin1_cookie.py": (b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n" + SEEDED.encode(), ["SEED001"]),
    "binary.py": (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), ["FILE005"]),
    "nul_in_text.py": (b"x = 1\n\x00\ny = 2\n", ["FILE005"]),
    "unparseable.py": ("def f(:\n    return\n", ["FILE002"]),
    "python2.py": ('print "hello"\nexec "x = 1"\nraise ValueError, "old"\n', ["FILE002"]),
    "unterminated_string.py": ('x = "abc\ny = 2\n', ["FILE002"]),
    "unterminated_triple.py": ('x = """abc\ny = 2\n', ["FILE002"]),
    "inconsistent_tabs.py": ("if True:\n\tx = 1\n        y = 2\n", ["FILE002"]),
    "huge.py": ("x = 1\n" * (10 * 1024 * 1024 // 6 + 1), ["FILE006"]),
    "deep_brackets.py": ("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n", ["FILE004"]),
    "deep_unbalanced.py": ("x = " + "(" * 5000 + "]\n", ["FILE004"]),
    "long_sum.py": ("x = " + "+".join(["1"] * 10000) + "\n", ["FILE004"]),
    "mixed_endings.py": (b"import os\r\nimport torch\rx = 1\ntorch.manual_seed(1)\r\n", ["SEED001"]),
    "tabs.py": ("import torch\nif True:\n\ttorch.manual_seed(1)\n", ["SEED001"]),
    "form_feeds.py": ("\x0cimport torch\n\x0c\ndef f():\n    pass\n\x0c\ntorch.manual_seed(1)\n", ["SEED001"]),
    "empty.py": ("", []),
    "only_comment.py": ("# nothing here", []),
    "no_trailing_newline.py": ("import torch\ntorch.manual_seed(1)", ["SEED001"]),
    "bom.py": (b"\xef\xbb\xbf" + SEEDED.encode(), ["SEED001"]),
    "nb_invalid_json.ipynb": ('{"cells": [', ["FILE003"]),
    "nb_not_object.ipynb": ("[1, 2, 3]", ["FILE003"]),
    "nb_missing_cells.ipynb": (json.dumps({"metadata": {}, "nbformat": 4}), ["FILE003"]),
    "nb_cells_not_list.ipynb": (json.dumps({"cells": {"a": 1}, "nbformat": 4}), ["FILE003"]),
    "nb_odd_cells.ipynb": (
        notebook([
            {"cell_type": "raw", "source": "import torch"},
            {"cell_type": "markdown", "source": ["# title"]},
            {"cell_type": "mystery"},
            "not a cell",
            {"cell_type": "code"},  # no source
            code_cell(["import torch\n", "torch.manual_seed(1)\n"]),
        ]),
        ["FILE003", "SEED001"],
    ),
    "nb_non_string_source.ipynb": (notebook([code_cell(42), code_cell([1, 2]), code_cell(None)]), ["FILE003"] * 3),
    "nb_bad_cell_syntax.ipynb": (
        notebook([code_cell("def broken(:\n"), code_cell("import torch\ntorch.manual_seed(1)\n")]),
        ["FILE002", "SEED001"],
    ),
    "nb_magics.ipynb": (
        notebook([code_cell("%matplotlib inline\n!pip install x\nimport torch\ntorch.manual_seed(1)\n")]), ["SEED001"],
    ),
    "nb_v3.ipynb": (
        json.dumps({"nbformat": 3, "worksheets": [{"cells": [
            {"cell_type": "code", "input": ["import torch\n", "torch.manual_seed(1)\n"], "language": "python"},
        ]}]}),
        ["SEED001"],
    ),
    "nb_undecodable.ipynb": (b'{"cells": ["\xff\xfe"]}', ["FILE001"]),
}


def build_corpus(root: Path) -> dict[str, list[str]]:
    (root / "pyproject.toml").write_text("[project]\nname = 'torture'\n")
    (root / "good.py").write_text(GOOD)
    expected = {"good.py": ["SEED001"]}
    for name, (content, codes) in CORPUS.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        expected[name] = codes
    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    os.symlink("does_not_exist.py", root / "broken_link.py")
    expected.update({"loop_a.py": ["FILE007"], "loop_b.py": ["FILE007"], "broken_link.py": ["FILE007"]})
    if os.geteuid() != 0:  # root reads anything: the permission case only means something for other users
        unreadable = root / "unreadable.py"
        unreadable.write_text("x = 1\n")
        unreadable.chmod(0)
        expected["unreadable.py"] = ["FILE007"]
    return expected


def lint(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mllint", "--format", "json", "--jobs", "2", *args, str(root)],
        capture_output=True, text=True, cwd=root, timeout=300,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    root = tmp_path_factory.mktemp("torture")
    return root, build_corpus(root)


def codes_by_file(findings: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in findings:
        found.setdefault(finding["path"], []).append(finding["code"])
    return {path: sorted(codes) for path, codes in found.items()}


@pytest.mark.parametrize("cache", [["--no-cache"], []], ids=["no-cache", "cache"])
def test_every_bad_input_gets_its_code_and_the_good_file_is_still_linted(corpus, cache):
    root, expected = corpus
    proc = lint(root, *cache)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    found = codes_by_file(json.loads(proc.stdout))
    assert found.get("good.py") == ["SEED001"]
    for name, codes in expected.items():
        assert found.get(name, []) == sorted(codes), name
    assert not any("FILE008" in codes or "FILE009" in codes for codes in found.values())


def test_the_corpus_gives_the_same_report_from_a_warm_cache_and_with_one_job(corpus, tmp_path):
    root, _ = corpus
    cache_dir = str(tmp_path / "cache")
    cold = lint(root, "--cache-dir", cache_dir)
    warm = lint(root, "--cache-dir", cache_dir)
    single = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", "--jobs", "1", "--no-cache", str(root)],
                            capture_output=True, text=True, cwd=root, timeout=300)
    assert cold.stdout == warm.stdout == single.stdout
    assert cold.returncode == warm.returncode == single.returncode == 1
