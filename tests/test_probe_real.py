"""The probe on the shapes of real training scripts (issue 26): one fixture under fixtures/probe/ per shape.

timm-like loaders (a dataset class per root, a loader that prefetches), save-then-rename checkpoints, gradient
accumulation without a DataLoader (nanoGPT), updates by hand (word_language_model), a dataset that seeds per
sample (FakeData), and what the probe says when a check cannot run or when it caused a failure itself.
"""
from __future__ import annotations

import json
import os
import shutil
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from conftest import probe_folders_left  # noqa: E402
from test_probe import FIXTURES, ROOT, invoke  # noqa: E402


@lru_cache(maxsize=None)
def probe_json(name: str, *options: str) -> tuple[int, dict]:
    folder = FIXTURES / name
    result = invoke("--format", "json", "--no-static", "--project", str(folder.relative_to(ROOT)), *options,
                    "--", "python", str((folder / "train.py").relative_to(ROOT)))
    return result.exit_code, json.loads(result.output)


def test_two_folders_of_one_dataset_class_through_a_prefetching_loader_are_no_leak():
    code, report = probe_json("two_roots", "--steps", "5")
    assert code == 0 and report["findings"] == [], report["findings"]
    run = report["runs"][0]
    assert run["status"] == "steps" and run["problems"] == []
    loaders = {loader["site"][1]: loader for loader in run["loaders"]}
    # the script's lines, not the helper's; the helper's line is kept beside
    assert {line: loader["role"] for line, loader in loaders.items()} == {8: "train", 9: "evaluation"}
    assert all(loader["site"][0].endswith("two_roots/train.py") for loader in loaders.values())
    assert all(loader["built_at"][0].endswith("two_roots/folders.py") for loader in loaders.values())
    # the overlap was measured (an evaluation pass ran) and is zero
    assert "LEAK001" not in run["unchecked"]
    # a prefetched batch is trained, not taken for an evaluation batch of the training loader
    assert loaders[8]["trained_samples"] == loaders[8]["samples"]


def test_same_data_is_the_same_object_or_the_same_files():
    from torch.utils.data import Dataset

    from mllint.probe.evidence import same_data

    class Folder(Dataset):
        def __init__(self, root):
            self.root = root

    train, validation = Folder("data/train"), Folder("data/validation")
    assert same_data(train, validation) is None
    assert same_data(train, train) == "the same dataset object"
    assert same_data(train, Folder("data/train")) == "the same files"


def test_save_then_rename_checkpoints_follow_the_redirection_and_user_files_survive():
    folder = FIXTURES / "save_rename"
    user_file = folder / "checkpoints" / "user.txt"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    code, report = probe_json("save_rename", "--steps", "5", "--keep")
    run = report["runs"][0]
    kept = run["redirect_folder"]
    try:
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # nothing written or removed
        assert run["status"] == "steps" and run.get("error") is None, run.get("error")
        assert code == 0 and run["problems"] == []
        kinds = {os.path.basename(r["path"]): r["kind"] for r in run["redirects"]}
        assert kinds == {"user.old": "os.replace", "tmp.pt": "torch.save", "last.pt": "os.replace",
                         "best-0.pt": "os.link", "copy.pt": "shutil.copy", "moved.pt": "shutil.move",
                         "log.txt": "open"}
        assert [(os.path.basename(h["path"]), h["how"]) for h in run["hidden"]] == [("user.txt", "os.replace")]
        written = Path(next(r["to"] for r in run["redirects"] if r["path"].endswith("last.pt"))).parent
        assert str(written).startswith(kept)
        assert sorted(p.name for p in written.iterdir()) == ["best-0.pt", "last.pt", "log.txt", "moved.pt"]
        assert torch.load(written / "last.pt")["epoch"] == 0
        assert user_file.read_text().startswith("a file of the user")
    finally:
        shutil.rmtree(kept)


def test_a_failure_the_redirection_caused_is_said_plainly(tmp_path):
    (tmp_path / "train.py").write_text(textwrap.dedent("""
        import io
        import torch
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model(torch.ones(4, 2)).sum().backward()
        optimizer.step()
        with open("notes.txt", "w") as handle:
            handle.write("written by the script")
        io.FileIO("notes.txt").read()  # a reader the probe does not patch: it looks where nothing was written
    """))
    result = invoke("--no-static", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "failed because of the probe's own redirection of file writes" in result.output
    assert "problem: the probe caused this failure, not the script: " in result.output
    assert "notes.txt was redirected by the probe" in result.output
    assert not (tmp_path / "notes.txt").exists()


def test_gradient_accumulation_loss_is_per_step_in_the_scripts_units_and_samples_come_from_the_model_input():
    code, report = probe_json("accum_print", "--steps", "5")
    run = report["runs"][0]
    assert code == 0 and run["status"] == "steps" and run["steps"] == 5
    assert run["step_micro"] == [4] * 5 and run["backwards"] == 20
    assert "sum over the step's 4 micro-batches" in run["loss_quantity"]
    # the script prints the sum of its loss/4 over the micro-batches: the probe's loss of that step, to the digit
    printed = {step: value for step, value, _ in run["printed_losses"]}
    assert printed and all(abs(run["step_losses"][step - 1] - value) < 1e-5 for step, value in printed.items())
    assert all(0.3 < loss < 2.0 for loss in run["step_losses"])  # a cross-entropy of 2 classes, not divided by 4
    assert not any("val" in line for _, _, line in run["printed_losses"])
    # no DataLoader: samples from the batch dimension of what reaches the model
    assert run["samples_trained"] == 160 and run["step_samples"] == [32] * 5
    assert run["root_inputs"] == [[8, 16]]


def test_seed_statistics_also_cover_the_loss_the_script_prints():
    code, report = probe_json("accum_print", "--steps", "3", "--seeds", "2")
    assert code == 0
    assert report["seeds"]["values"] == [run["step_losses"][-1] for run in report["runs"]]
    assert report["seeds_printed_loss"]["values"] == [run["printed_losses"][-1][1] for run in report["runs"]]


def test_updates_by_hand_count_backward_passes_as_steps_and_the_run_stops():
    code, report = probe_json("manual_sgd", "--steps", "5")
    run = report["runs"][0]
    assert code == 0 and run["status"] == "steps" and run["problems"] == []
    assert run["manual_steps"] and run["steps"] == 5 and run["backwards"] == 5
    assert run["samples_trained"] == 40
    # the script's evaluation never ran: each check says so, and why
    assert "stopped the script at the step budget" in run["unchecked"]["EVAL004"]
    assert run["unchecked"]["LEAK001"].startswith("no DataLoader was built")
    assert any(limit.startswith("EVAL004 not checked: no forward pass under no_grad") for limit in report["limits"])


def test_backward_without_any_update_is_still_no_step():
    code, report = probe_json("no_step")
    run = report["runs"][0]
    assert run["steps"] == 0 and not run["manual_steps"]
    assert any("no optimiser step was taken" in p for p in report["problems"])


def test_seeding_calls_are_grouped_by_call_site_and_per_sample_seeds_kept_apart():
    code, report = probe_json("seed_per_sample", "--steps", "5")
    run = report["runs"][0]
    by_kind = {seed["kind"]: seed for seed in run["seeds"]}
    assert len(run["seeds"]) == 2
    assert (by_kind["script"]["value"], by_kind["script"]["site"][1], by_kind["script"]["count"]) == (7, 24, 1)
    per_sample = by_kind["per-sample"]
    assert per_sample["site"][1] == 17 and per_sample["count"] == run["loaders"][0]["samples"]
    from mllint.probe.runner import Outcome
    from mllint.probe.verdicts import evidence_of

    evidence, _, _ = evidence_of([Outcome(None, "steps", record=run)])
    assert evidence["SEED001"][0]["message"] == "the run seeds with fixed values: torch.manual_seed(7)"


def test_seeds_override_only_the_scripts_own_seeding():
    code, report = probe_json("seed_per_sample", "--steps", "2", "--seeds", "2")
    for run in report["runs"]:
        by_kind = {seed["kind"]: seed for seed in run["seeds"]}
        assert by_kind["script"]["overridden_to"] == run["seed"]
        assert "overridden_to" not in by_kind["per-sample"]  # the samples stay the same data


def test_temporary_folders_are_removed_unless_kept_and_the_kept_one_is_named():
    before = probe_folders_left()
    result = invoke("--no-static", "--steps", "2", "--", "python", "fixtures/probe/clean/train.py")
    assert result.exit_code == 0 and probe_folders_left() == before
    result = invoke("--no-static", "--steps", "2", "--keep", "--", "python", "fixtures/probe/clean/train.py")
    [kept] = [line.split()[1] for line in result.output.splitlines() if line.strip().startswith("kept: ")]
    try:
        assert os.path.isdir(kept) and os.path.basename(kept).startswith("mllint-probe-")
    finally:
        shutil.rmtree(kept)
    assert probe_folders_left() == before


PROJECT = {
    "README.md": "a project\n",
    "train.py": """
        import torch
        from helpers import make_optimizer

        model = torch.nn.Linear(4, 2)
        optimizer = make_optimizer(model)
        for _ in range(3):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(torch.ones(8, 4)), torch.zeros(8, dtype=torch.long)).backward()
            optimizer.step()
    """,
    "helpers.py": """
        import torch

        def make_optimizer(model):
            return torch.optim.SGD(model.parameters(), lr=0.0123, momentum=0.77)
    """,
    "other/unrelated.py": """
        import torch

        def make_optimizer(model):
            return torch.optim.SGD(model.parameters(), lr=0.0456, momentum=0.66)
    """,
}


def _write(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_static_pass_covers_the_script_and_its_imports_and_project_widens_it(tmp_path):
    _write(tmp_path, PROJECT)
    (tmp_path / "pyproject.toml").write_text("")
    result = invoke("--format", "json", "--", "python", "train.py", cwd=tmp_path)
    paths = {f["path"] for f in json.loads(result.output)["findings"]}
    assert "helpers.py" in paths and "other/unrelated.py" not in paths
    result = invoke("--format", "json", "--project", ".", "--", "python", "train.py", cwd=tmp_path)
    assert "other/unrelated.py" in {f["path"] for f in json.loads(result.output)["findings"]}


def test_the_default_unit_is_the_scripts_folder_or_the_nearest_with_a_readme(tmp_path):
    from mllint.probe.static import unit_of

    _write(tmp_path, {"README.md": "", "tools/train.py": "", "examples/mnist/README.md": "",
                      "examples/mnist/main.py": ""})
    _write(tmp_path / "bare", {"a/train.py": ""})
    assert unit_of(str(tmp_path / "tools/train.py"), str(tmp_path)) == str(tmp_path)
    assert unit_of(str(tmp_path / "examples/mnist/main.py"), str(tmp_path)) == str(tmp_path / "examples/mnist")
    assert unit_of(str(tmp_path / "bare/a/train.py"), str(tmp_path / "bare")) == str(tmp_path / "bare/a")


def test_appending_to_a_user_file_sees_its_content_and_leaves_it_unchanged(tmp_path):
    (tmp_path / "log.txt").write_text("old\n")
    (tmp_path / "train.py").write_text(textwrap.dedent("""
        import torch
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        with open("log.txt", "a") as log:
            log.write("new\\n")
        with open("log.txt") as log:
            assert log.read() == "old\\nnew\\n"
        model(torch.ones(4, 2)).sum().backward()
        optimizer.step()
    """))
    result = invoke("--no-static", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "log.txt").read_text() == "old\n"
