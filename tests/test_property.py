"""Property: any input, however broken, goes through the whole pipeline without an exception, an
internal-error finding (FILE008) or a timeout (FILE009)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mllint import engine, workers
from mllint.config import Config, FamilyOptions
from mllint.engine import Settings
from mllint.rules import all_rules

TRAINING_SCRIPT = '''\
import argparse
import random

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader

from helpers import set_seed, load_data


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lr", type=float, default=1e-3)
    return parser.parse_args()


class Net(torch.nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.fc = torch.nn.Linear(10, hidden)

    def forward(self, x):
        return self.fc(x)


def train(model, loader, optimizer, epochs=10):
    for epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(0)
    random.seed(1234)
    X, y = load_data()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    train(model, DataLoader(list(zip(X_test, y_test))), optimizer)  # mllint: ignore[LEAK001] demo
    with torch.no_grad():
        print(f"score {model(X_test).mean():.3f}")


if __name__ == "__main__":
    main()
'''
HELPERS = "import random\nimport torch\n\n\ndef set_seed(seed):\n    random.seed(seed)\n    torch.manual_seed(seed)\n"

# Fragments that stress tokenizer, parser and analyses when spliced in anywhere.
FRAGMENTS = [
    "(", ")", "[", "]", "{", "}", ":", ",", "\n", "    ", "\t", "\r", "\r\n", "\x0c", "\\\n", '"', "'", '"""', "'''",
    "#", "# mllint: ignore[SEED001]", "# noqa", "lambda x:", "async ", "await ", "yield ", "*", "**", "=", ":=", "@",
    "torch.manual_seed(", "train_test_split(", "model.fit(X_test, y_test)", "for seed in range(5):", "def f(", "class C:",
    "match x:\n    case 1:\n        pass\n", "f'{x!r:>{w}}'", "global seed", "nonlocal seed", "del ", "import ",
    "from . import ", "é", "\u2028", "\ufeff", "0x", "1_000", "...", "%matplotlib inline\n", "!pip install torch\n",
]


# Statements inserted at a line start with that line's indentation: the result usually still parses,
# so the analyses (not only the parser) see odd but valid code.
STATEMENTS = [
    "torch.manual_seed(7)", "X_train = X_test", "model.fit(X_test, y_test)", "seed = int(os.environ['SEED'])",
    "random.seed(seed)", "global seed", "del X", "x = [i for i in range(3) if i]", "yield X",
    "return train_test_split(X, y)", "print(f'{X!r}')", "with torch.no_grad(): pass", "lambda: None",
    "X_test = X_test[:10]", "for seed in [1, 2, 3]: set_seed(seed)", "np.random.seed(args.seed)",
    "train(model, X_test, optimizer)", "set_seed(0)", "async def g(): await h()", "a, *b = X_test",
    "if X_test: X_train, X_test = X_test, X_train", "torch.Generator().manual_seed(5)", "import os as torch",
    "from helpers import *", "class D(Net): seed = 3", "@decorator\ndef h(seed=1): return seed",
]
RENAMES = [("X_test", "X_train"), ("X_train", "X_test"), ("seed", "s"), ("torch", "np"), ("model", "X_test"),
           ("def ", "async def "), ("42", "args"), ("range", "enumerate")]


@st.composite
def mutated_sources(draw) -> str:
    text = draw(st.sampled_from([TRAINING_SCRIPT, HELPERS]))
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["statement", "statement", "rename", "duplicate", "break"]))
        lines = text.splitlines(keepends=True) or [""]
        index = draw(st.integers(0, len(lines) - 1))
        if action == "statement":
            indent = lines[index][: len(lines[index]) - len(lines[index].lstrip(" "))]
            statement = draw(st.sampled_from(STATEMENTS)).replace("\n", "\n" + indent)
            lines.insert(index, indent + statement + "\n")
            text = "".join(lines)
        elif action == "rename":
            old, new = draw(st.sampled_from(RENAMES))
            text = text.replace(old, new, draw(st.integers(1, 5)))
        elif action == "duplicate":
            lines.insert(index, lines[index] * draw(st.integers(1, 3)))
            text = "".join(lines)
        else:  # break it: splice in a fragment or random text, or cut a piece out
            position = draw(st.integers(0, len(text)))
            how = draw(st.sampled_from(["fragment", "text", "delete"]))
            if how == "fragment":
                text = text[:position] + draw(st.sampled_from(FRAGMENTS)) + text[position:]
            elif how == "text":
                text = text[:position] + draw(st.text(max_size=20)) + text[position:]
            else:
                text = text[:position] + text[position + draw(st.integers(1, 80)):]
    return text


def as_notebook(text: str, split_every: int) -> str:
    lines = text.splitlines(keepends=True)
    cells = [lines[i : i + split_every] for i in range(0, len(lines), split_every)] or [[]]
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


SETTINGS = Settings(
    max_file_size=2 * 1024 * 1024,
    options=FamilyOptions((("LEAK", "held-out-splits", ("test",)),)),
    project_modules=frozenset({"helpers", "train"}),
    rule_codes=tuple(all_rules()),
    extractors=tuple(sorted({need for rule in all_rules().values() for need in rule.needs})),
)
FAILURES = {"FILE008", "FILE009"}
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # as the engine does; hypothesis warns if it changes mid-test


def check_file(path: Path) -> None:
    result, _ = workers.analyze_one((str(path), path.name, path.name), SETTINGS, timeout=30)
    assert not [f.message for f in result.findings if f.code in FAILURES]
    for finding in result.findings:
        assert finding.code in all_rules()
        assert finding.loc.path == path.name
        assert finding.loc.line >= 1 and finding.loc.column >= 1, finding


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property")


common = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(source=mutated_sources())
def test_mutated_training_code_never_breaks_the_per_file_analysis(workdir, source):
    path = workdir / "train.py"
    path.write_text(source, encoding="utf-8", errors="surrogatepass")
    check_file(path)


@common
@given(source=mutated_sources(), split_every=st.integers(1, 12))
def test_mutated_notebooks_never_break_the_per_file_analysis(workdir, source, split_every):
    path = workdir / "analysis.ipynb"
    path.write_text(as_notebook(source, split_every), encoding="utf-8", errors="surrogatepass")
    check_file(path)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_never_break_the_per_file_analysis(workdir, data):
    path = workdir / "noise.py"
    path.write_bytes(data)
    check_file(path)


@settings(max_examples=15, deadline=None)
@given(sources=st.lists(mutated_sources(), min_size=1, max_size=3))
def test_a_project_of_mutated_files_goes_through_project_rules_and_suppression(tmp_path_factory, sources):
    root = tmp_path_factory.mktemp("project")
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "helpers.py").write_text(HELPERS)
    for index, source in enumerate(sources):
        (root / f"train_{index}.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    result = engine.run([str(root)], Config(), ["ALL"], [], jobs=1)
    assert not [f.message for f in result.findings if f.code in FAILURES]
    assert result.findings == sorted(result.findings, key=lambda f: f.sort_key())
