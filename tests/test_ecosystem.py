"""The ecosystem check (bench/ecosystem.py) on a tiny corpus of git repositories made here: labels, the
scorer, stale labels, notebook places and the diff between two mllint revisions. No network."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("ecosystem", ROOT / "bench" / "ecosystem.py")
ecosystem = importlib.util.module_from_spec(SPEC)
sys.modules["ecosystem"] = ecosystem
SPEC.loader.exec_module(ecosystem)

TRAIN = textwrap.dedent("""\
    import argparse
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()

    torch.manual_seed(1234)
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    for step in range(10):
        loss = model(torch.randn(4, 2)).sum()
        loss.backward()
        optimizer.step()
    """)


def git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def make_repo(corpus: Path, name: str, files: dict[str, str]) -> str:
    work = corpus / name.replace("/", "+") / "repo"
    work.mkdir(parents=True)
    git(work, "init", "-q")
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "init")
    return git(work, "rev-parse", "HEAD")


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    corpus_dir = tmp_path / "corpus"
    commit = make_repo(corpus_dir, "acme/tiny", {"train.py": TRAIN, "README.md": "# tiny\n"})
    other = make_repo(corpus_dir, "acme/other", {"train.py": TRAIN.replace("1234", "args.seed")})
    (tmp_path / "corpus.json").write_text(json.dumps({"repositories": [
        {"repo": "acme/tiny", "commit": commit, "domain": "classification", "half": "check"},
        {"repo": "acme/other", "commit": other, "domain": "classification", "half": "tune"}]}))
    return corpus_dir


def label(corpus: Path, labels: Path, repo: str, line: int, code: str, polarity: str, *extra: str) -> None:
    code_ = ecosystem.main(["label", str(corpus), "--corpus", str(corpus.parent / "corpus.json"), "--repo", repo,
                           "--path", "train.py", "--line", str(line), "--code", code, "--polarity", polarity,
                           "--confidence", "certain", "--reason", "test", "--out", str(labels), *extra])
    assert code_ == 0


def test_label_records_commit_and_line_hash(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    label(corpus, labels, "acme/tiny", 8, "SEED001", "positive")
    (record,) = ecosystem.load_labels(labels)
    assert record["line_hash"] == ecosystem.line_hash("torch.manual_seed(1234)")
    assert record["blind"] is True and len(record["commit"]) == 40
    # a blank line or a line past the end cannot be labelled
    assert ecosystem.main(["label", str(corpus), "--repo", "acme/tiny", "--path", "train.py", "--line", "7",
                           "--code", "SEED", "--polarity", "positive", "--confidence", "certain", "--reason", "x",
                           "--out", str(labels)]) == 2


def run_check(corpus: Path, tmp_path: Path, *extra: str) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "ecosystem.py"), str(corpus), "--corpus",
                           str(tmp_path / "corpus.json"), "--labels", str(tmp_path / "labels.jsonl"), "--cache-dir",
                           str(tmp_path / "cache"), "--jobs", "1", "--quiet", *extra], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_scores_recall_false_alarms_and_stale_labels(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    label(corpus, labels, "acme/tiny", 8, "SEED001", "positive")        # found
    label(corpus, labels, "acme/tiny", 5, "HPARAM", "negative")         # an option's default: silent
    label(corpus, labels, "acme/tiny", 10, "HPARAM", "negative")        # lr from the option: silent
    label(corpus, labels, "acme/tiny", 13, "LEAK", "positive")          # a wrong claim: missed
    label(corpus, labels, "acme/other", 8, "SEED", "negative")          # seed from an option without a default
    stale = json.loads(labels.read_text().splitlines()[0])
    stale.update(line=9, reason="stale one")                             # its hash is the seed line's
    with labels.open("a") as handle:
        handle.write(json.dumps(stale) + "\n")
        handle.write(json.dumps({**stale, "line": 8, "blind": False, "reason": "not blind"}) + "\n")
    out = run_check(corpus, tmp_path, "--show-check")
    check = out.split("## Half `check`")[1].split("## Half `tune`")[0]
    assert "| **SEED** | 1/1 = 1.00 | 1/1 = 1.00 | - |" in check
    assert "| SEED001 | 1/1 = 1.00 | 1/1 = 1.00 | - |" in check
    assert "| **HPARAM** | - | - | 0/2 = 0.00 |" in check
    assert "| **LEAK** | 0/1 = 0.00 | 0/1 = 0.00 | - |" in check
    assert "## Stale labels" in out and "stale one" in out
    assert "acme/tiny `train.py:13` LEAK" in out                        # listed as missed (--show-check)
    tune = out.split("## Half `tune`")[1]
    assert "| **SEED** | - | - | 0/1 = 0.00 |" in tune


def test_check_half_details_hidden_unless_asked(corpus: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    label(corpus, labels, "acme/tiny", 13, "LEAK", "positive")
    assert "train.py:13" not in run_check(corpus, tmp_path)
    assert "train.py:13" in run_check(corpus, tmp_path, "--show-check")


def test_matching_rules() -> None:
    positive = {"code": "LEAK002", "path": "a.py", "line": 10, "also": [{"path": "b.py", "line": 3}]}
    assert ecosystem.finds({"code": "LEAK001", "path": "a.py", "line": 12, "end_line": 12}, positive)
    assert not ecosystem.finds({"code": "SEED001", "path": "a.py", "line": 10}, positive)
    assert not ecosystem.finds({"code": "LEAK002", "path": "a.py", "line": 13, "end_line": 14}, positive)
    assert ecosystem.finds({"code": "LEAK002", "path": "c.py", "line": 1, "related": [{"path": "b.py", "line": 4}]},
                           positive)
    negative = {"code": "HPARAM", "path": "a.py", "line": 10}
    assert ecosystem.flags({"code": "HPARAM001", "path": "a.py", "line": 9, "end_line": 11}, negative)
    assert not ecosystem.flags({"code": "HPARAM001", "path": "a.py", "line": 11, "end_line": 11}, negative)
    coded = {"code": "EVAL004", "path": "a.py", "line": 10}          # a claim about EVAL004 only
    assert ecosystem.flags({"code": "EVAL004", "path": "a.py", "line": 10}, coded)
    assert not ecosystem.flags({"code": "EVAL005", "path": "a.py", "line": 10}, coded)


def test_notebook_labels_map_to_cells(tmp_path: Path) -> None:
    nb = {"cells": [{"cell_type": "markdown", "source": ["# title\n"]},
                    {"cell_type": "code", "source": ["import torch\n", "torch.manual_seed(0)\n"]},
                    {"cell_type": "code", "source": ["x = 1\n", "torch.manual_seed(0)"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb, indent=1))
    raw = (tmp_path / "nb.ipynb").read_text().splitlines()
    seeds = [number for number, text in enumerate(raw, 1) if "manual_seed" in text]
    assert ecosystem.notebook_place(tmp_path, "nb.ipynb", seeds[0]) == (2, 2)
    assert ecosystem.notebook_place(tmp_path, "nb.ipynb", seeds[1]) == (3, 2)
    label = ecosystem.located({"code": "SEED", "path": "nb.ipynb", "line": seeds[1]}, tmp_path)
    assert ecosystem.finds({"code": "SEED001", "path": "nb.ipynb", "cell": 3, "line": 2}, label)
    assert not ecosystem.finds({"code": "SEED001", "path": "nb.ipynb", "cell": 2, "line": 2}, label)


FAKE_MAIN = textwrap.dedent("""\
    import json, sys
    print(json.dumps(FINDINGS))
    """)


def test_diff_between_two_revisions(corpus: Path, tmp_path: Path) -> None:
    """--head/--base export mllint at two revisions of its own repository: the diff lists what changed."""
    fake = tmp_path / "fake-mllint"
    (fake / "mllint").mkdir(parents=True)
    git(fake, "init", "-q")
    one = {"code": "SEED001", "path": "train.py", "line": 8, "column": 1, "message": "seed"}
    two = {"code": "LEAK001", "path": "train.py", "line": 13, "column": 9, "message": "leak"}
    for name, findings in (("base", [one]), ("head", [one, two])):
        (fake / "mllint" / "__init__.py").write_text("")
        (fake / "mllint" / "__main__.py").write_text(FAKE_MAIN.replace("FINDINGS", repr(findings)))
        git(fake, "add", "-A")
        git(fake, "commit", "-q", "-m", name)
        git(fake, "tag", name)
    (tmp_path / "labels.jsonl").write_text("")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "ecosystem.py"), str(corpus), "--corpus",
                           str(tmp_path / "corpus.json"), "--labels", str(tmp_path / "labels.jsonl"), "--cache-dir",
                           str(tmp_path / "cache"), "--mllint-repo", str(fake), "--head", "head", "--base", "base",
                           "--quiet", "--markdown", str(tmp_path / "report.md")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "report.md").read_text()
    assert "2 findings appeared and 0 disappeared in 2 repositories." in report
    assert "+ train.py:13:9: LEAK001 leak" in report                     # tune half: listed
    assert "acme/tiny (check): +1 -0 (details hidden" in report          # check half: counted only


def test_pin_adds_and_refuses_duplicates(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "new-corpus.json"
    args = ["pin", str(corpus), "--corpus", str(path), "--repo", "acme/tiny", "--half", "check", "--domain", "nlp"]
    assert ecosystem.main(args) == 0
    (entry,) = ecosystem.load_corpus(path)
    assert entry.half == "check" and len(entry.commit) == 40
    assert ecosystem.main(args) == 2
    assert ecosystem.main([*args, "--replace"]) == 0
