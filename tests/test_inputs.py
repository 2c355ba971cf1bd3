"""Bad inputs become FILE findings, and every other file is still linted (no traceback, exit 1 not 2)."""
import json
import os
import subprocess
import sys

import pytest

GOOD = "import torch\n\ntorch.manual_seed(3407)\n"


def lint(folder):
    proc = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", "."], cwd=folder,
                          capture_output=True, text=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    findings = json.loads(proc.stdout)
    assert any(f["code"] == "SEED001" and f["path"] == "good.py" for f in findings), "the good file was not linted"
    return findings


def notebook(cells, **extra):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **extra})


def code_cell(source):
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


CASES = {
    "undecodable": ("bad.py", b"x = '\xff\xfe\xfa'\n", "FILE001"),
    "bad_cookie": ("bad.py", b"# -*- coding: klingon -*-\nx = 1\n", "FILE001"),
    "latin1_cookie_wrong_bytes": ("bad.py", b"# -*- coding: ascii -*-\nx = '\xe9'\n", "FILE001"),
    "binary": ("bad.py", b"\x7fELF\x00\x00\x01binary", "FILE005"),
    "syntax": ("bad.py", b"def f(:\n    pass\n", "FILE002"),
    "python2": ("bad.py", b"print 'hello'\nexec code in ns\n", "FILE002"),
    "unterminated": ("bad.py", b"s = '''never closed\n", "FILE002"),
    "deep_brackets": ("bad.py", b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n", "FILE004"),
    "long_sum": ("bad.py", b"x = " + b"+".join([b"1"] * 12000) + b"\n", "FILE004"),
    "huge": ("bad.py", b"x = 1\n" * (2 * 1024 * 1024 // 6 + 10), "FILE006"),
    "nb_invalid_json": ("bad.ipynb", b"{not json", "FILE003"),
    "nb_no_cells": ("bad.ipynb", b'{"nbformat": 4, "metadata": {}}', "FILE003"),
    "nb_not_utf8": ("bad.ipynb", b'{"cells": ["\xff"]}', "FILE001"),
    "nb_bad_cell_source": ("bad.ipynb", notebook([code_cell(42)]).encode(), "FILE003"),
    "nb_cell_not_object": ("bad.ipynb", notebook(["just a string"]).encode(), "FILE003"),
    "nb_syntax_cell": ("bad.ipynb", notebook([code_cell("x = 1\n"), code_cell("def (:\n")]).encode(), "FILE002"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_a_diagnostic(tmp_path, case):
    name, content, code = CASES[case]
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / name).write_bytes(content)
    findings = lint(tmp_path)
    bad = [f for f in findings if f["path"] == name]
    assert [f["code"] for f in bad] == [code], bad
    assert bad[0]["line"] >= 1 and bad[0]["column"] >= 1 and bad[0]["message"]


def test_syntax_error_position(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text("x = 1\ny = (\n")
    (finding,) = [f for f in lint(tmp_path) if f["path"] == "bad.py"]
    assert finding["code"] == "FILE002" and finding["line"] >= 2


def test_broken_notebook_cell_is_skipped_and_other_cells_linted(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    nb = notebook([code_cell("import numpy as np\n"), code_cell("def (:\n"), code_cell("np.random.seed(7)\n")])
    (tmp_path / "nb.ipynb").write_text(nb)
    found = {(f["code"], f.get("cell")) for f in lint(tmp_path) if f["path"] == "nb.ipynb"}
    assert found == {("FILE002", 2), ("SEED001", 3)}


def test_notebook_magics_and_odd_cells(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    cells = [
        {"cell_type": "raw", "metadata": {}, "source": "def (:"},
        {"cell_type": "markdown", "metadata": {}, "source": ["np.random.seed(1)"]},
        code_cell(["%load_ext autoreload\n", "!pip install torch\n", "import numpy as np\n", "files = !ls\n"]),
        code_cell("%%bash\necho $((1+\n"),
        code_cell("%%time\nnp.random.seed(5)\n"),
    ]
    (tmp_path / "nb.ipynb").write_text(notebook(cells))
    found = [(f["code"], f.get("cell"), f["line"]) for f in lint(tmp_path) if f["path"] == "nb.ipynb"]
    assert found == [("SEED001", 5, 2)]


def test_nbformat3_notebook(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    nb = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": ["import random\n", "random.seed(9)\n"]}]}]}
    (tmp_path / "old.ipynb").write_text(json.dumps(nb))
    found = [(f["code"], f.get("cell"), f["line"]) for f in lint(tmp_path) if f["path"] == "old.ipynb"]
    assert found == [("SEED001", 1, 2)]


def test_mixed_line_endings_tabs_form_feeds(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "odd.py").write_bytes(b"import torch\r\n\x0c\nif True:\r\n\ttorch.manual_seed(11)\rx = 1\n")
    found = [(f["code"], f["line"]) for f in lint(tmp_path) if f["path"] == "odd.py"]
    assert found == [("SEED001", 4)]


def test_utf8_bom_and_latin1_cookie(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfimport random\nrandom.seed(4)\n")
    (tmp_path / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport random\nname = '\xe9'\nrandom.seed(5)\n")
    found = sorted((f["path"], f["line"]) for f in lint(tmp_path) if f["code"] == "SEED001" and f["path"] != "good.py")
    assert found == [("bom.py", 2), ("latin.py", 4)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_loops_and_broken_links(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path, tmp_path / "sub" / "loop")  # a folder loop: followed once
    os.symlink(tmp_path / "a.py", tmp_path / "b.py")
    os.symlink(tmp_path / "b.py", tmp_path / "a.py")  # a file loop
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    findings = lint(tmp_path)
    bad = sorted((f["path"], f["code"]) for f in findings if f["code"].startswith("FILE"))
    assert bad == [("a.py", "FILE007"), ("b.py", "FILE007"), ("dangling.py", "FILE007")]
    assert [f["path"] for f in findings if f["code"] == "SEED001"] == ["good.py"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads everything")
def test_unreadable_file(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    secret = tmp_path / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    found = [f["code"] for f in lint(tmp_path) if f["path"] == "secret.py"]
    assert found == ["FILE007"]


def test_notebook_size_limit_applies_to_code_not_outputs(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    big_output = {"output_type": "display_data", "data": {"image/png": "A" * (3 * 1024 * 1024)}, "metadata": {}}
    cell = code_cell("import random\nrandom.seed(8)\n")
    cell["outputs"] = [big_output]
    (tmp_path / "plots.ipynb").write_text(notebook([cell]))
    found = [(f["code"], f.get("cell"), f["line"]) for f in lint(tmp_path) if f["path"] == "plots.ipynb"]
    assert found == [("SEED001", 1, 2)]


def test_ipython_cell_magics_with_shell_commands_and_continued_commands(tmp_path):
    """Valid IPython is not a syntax error: `!` commands in the body of `%%capture`/`%%time`, and a `!` or
    `%` command continued with a backslash."""
    (tmp_path / "good.py").write_text(GOOD)
    cells = [
        code_cell("%%capture\n!pip install timm\n!pip install -q \\\n    lightning torchmetrics\nimport torch\n"),
        code_cell("!wget https://example.com/data.zip \\\n  -O data.zip\n%cd data\nx = 1\n"),
        code_cell("%%time\nfor i in range(2):\n    !echo $i\n    %ls\n"),
        code_cell("torch.manual_seed(3)\nmodel = torch.nn.Linear(2, 1)\nmodel(torch.randn(2, 2)).sum().backward()\n"),
    ]
    (tmp_path / "nb.ipynb").write_text(notebook(cells))
    found = [(f["code"], f.get("cell"), f["line"]) for f in lint(tmp_path) if f["path"] == "nb.ipynb"]
    assert found == [("SEED001", 4, 1)]


# -- code that only an older grammar accepts (issue 24) --------------------------------------------------

OLD_LEAK = """import torch
import torchvision

test_set = torchvision.datasets.CIFAR10("data", train=False)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=100)


def train(loader, model, optimizer):
    for inputs, targets in loader:
        inputs, targets = inputs.cuda(async=True), targets.cuda(async=True)
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


model = torchvision.models.resnet18()
train(test_loader, model, torch.optim.SGD(model.parameters(), lr=0.1))  # lr: from the paper
"""


def _codes(findings, path):
    return sorted((f["code"], f["line"], f.get("cell")) for f in findings if f["path"] == path)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_async_as_a_name_is_parsed_with_the_older_grammar_and_analysed(tmp_path, jobs):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "old.py").write_text(OLD_LEAK)
    for run in ("cold", "cached"):  # the second run reads the cache
        proc = subprocess.run([sys.executable, "-m", "mllint", "-j", jobs, "--format", "json", "."], cwd=tmp_path,
                              capture_output=True, text=True)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, (run, proc.stderr)
        findings = json.loads(proc.stdout)
        old = [f for f in findings if f["path"] == "old.py"]
        assert _codes(findings, "old.py") == [("FILE012", 10, None), ("LEAK001", 13, None)], (run, old)
        note = next(f for f in old if f["code"] == "FILE012")
        assert note["severity"] == "info" and "Python 3.6 grammar" in note["message"] and note["column"] == 39  # at `async`
        leak = next(f for f in old if f["code"] == "LEAK001")
        assert (leak["column"], leak["end_column"]) == (9, 24)  # positions located in the older grammar's tree


def test_older_grammar_in_a_notebook_cell(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    cells = [code_cell("import torch\nmodel = torch.nn.Linear(2, 2)\n"),
             code_cell("x = torch.zeros(1).cuda(async=True)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.37)\n"
                       "for _ in range(3):\n    model(x).sum().backward()\n    optimizer.step()\n")]
    (tmp_path / "nb.ipynb").write_text(notebook(cells))
    assert _codes(lint(tmp_path), "nb.ipynb") == [("FILE012", 1, 2), ("HPARAM001", 2, 2)]


@pytest.mark.parametrize("text", [
    "print 'async'\n",  # Python 2: no Python 3 grammar parses it
    "async = 1\ndef f(:\n    pass\n",  # a real syntax error beside an old name
])
def test_files_no_supported_grammar_parses_stay_file002(tmp_path, text):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(text)
    assert [code for code, _, _ in _codes(lint(tmp_path), "bad.py")] == ["FILE002"]


def test_markdown_cells_come_in_as_prose_comments_and_keep_cell_numbers(tmp_path):
    """Markdown cells are read as marked comments between the code cells: cells keep their numbers, odd
    line breaks in prose (form feed, U+2028) stay inside one comment line, and a notebook whose code fits
    max-file-size while its prose does not still loads, without the prose."""
    from mllint.core.prose import PROSE_MARK
    from mllint.source import load

    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "\n", "page\u2028break\x0cfeed"]},
        code_cell("import random\n"),
        {"cell_type": "markdown", "metadata": {}, "source": "x" * 5000},
        code_cell("random.seed(8)\n"),
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(cells))
    src = load(str(path), 1 << 20)
    lines = src.text.split("\n")
    assert lines[:3] == [f"{PROSE_MARK} # Title", PROSE_MARK, f"{PROSE_MARK} page break feed"]
    assert len(src.text.splitlines()) == len(lines) - 1  # no line break hides in the prose
    assert src.to_cell(lines.index("random.seed(8)") + 1) == (4, 1)
    small = load(str(path), 1000)
    assert PROSE_MARK not in small.text and small.to_cell(small.text.split("\n").index("random.seed(8)") + 1) == (4, 1)
    (tmp_path / "good.py").write_text(GOOD)
    found = [(f["code"], f.get("cell"), f["line"]) for f in lint(tmp_path) if f["path"] == "nb.ipynb"]
    assert found == [("SEED001", 4, 1)]
