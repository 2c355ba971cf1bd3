"""`mllint probe` end to end on the fixtures in fixtures/probe/ (CPU; the same checks on CUDA when present)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from click.testing import CliRunner  # noqa: E402

from mllint.probe.cli import probe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "probe"
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def invoke(*args: str, cwd: Path = ROOT):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(probe, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@lru_cache(maxsize=None)
def probe_json(name: str, *options: str) -> tuple[int, dict]:
    folder = FIXTURES / name
    result = invoke("--format", "json", "--project", str(folder.relative_to(ROOT)), *options,
                    "--", "python", str((folder / "train.py").relative_to(ROOT)))
    return result.exit_code, json.loads(result.output)


def codes(report: dict, status: str | None = None) -> list[str]:
    return sorted(f["code"] for f in report["findings"] if status is None or f.get("status") == status)


@pytest.mark.parametrize("device", DEVICES)
def test_leaky_overlap_is_confirmed_with_the_exact_count(device):
    code, report = probe_json("leaky", "--steps", "8", "--device", device)
    assert code == 1
    leak = [f for f in report["findings"] if f["code"] == "LEAK001"]
    assert len(leak) == 1 and leak[0]["status"] == "confirmed"
    # the static finding carries the run's evidence: all 64 test samples were trained on in one epoch
    evidence = [r["message"] for r in leak[0]["related"] if r["message"].startswith("probe:")]
    assert evidence and evidence[0].startswith("probe: 64 of the 64 samples evaluated by the loader at "
                                               "fixtures/probe/leaky/train.py:11")
    assert leak[0]["path"] == "fixtures/probe/leaky/train.py"
    run = report["runs"][0]
    assert run["steps"] == 8 and run["samples_trained"] == 256 and run["device"].startswith(device)
    roles = {loader["site"][1]: loader["role"] for loader in run["loaders"]}
    assert roles == {10: "train", 11: "evaluation"}


def test_leaky_without_static_analysis_reports_the_dynamic_finding():
    code, report = probe_json("leaky", "--no-static")
    assert code == 1
    [leak] = report["findings"]
    assert (leak["code"], leak["status"], leak["line"]) == ("LEAK001", "confirmed", 10)
    assert leak["message"].startswith("64 of the 64 samples evaluated")


@pytest.mark.parametrize("device", DEVICES)
def test_clean_script_has_no_findings(device):
    code, report = probe_json("clean", "--device", device)
    assert code == 0, report
    assert report["findings"] == [] and report["problems"] == []
    run = report["runs"][0]
    assert run["status"] == "steps" and run["steps"] == 20
    assert run["device"].startswith(device)


def test_ema_copy_evaluated_is_eval001():
    code, report = probe_json("ema_eval")
    assert code == 1
    [finding] = [f for f in report["findings"] if f["code"] == "EVAL001"]
    assert finding["status"] == "confirmed" and finding["line"] == 27


def test_evaluation_in_training_mode_is_eval004():
    code, report = probe_json("no_eval")
    assert code == 1
    [finding] = [f for f in report["findings"] if f["code"] == "EVAL004"]
    # the static EVAL004 finding, confirmed, or the probe's own when no static one carries it: either names
    # the module left in training mode
    said = [finding["message"], *(r["message"] for r in finding["related"])]
    assert finding["status"] == "confirmed" and any("BatchNorm1d" in text for text in said)


def test_bgr_images_with_rgb_constants_are_prep001():
    code, report = probe_json("bgr_swap")
    assert code == 1
    [finding] = [f for f in report["findings"] if f["code"] == "PREP001"]
    assert finding["status"] == "confirmed" and finding["line"] == 6
    assert "reverse order" in finding["message"]


def test_gradient_accumulation_gives_the_effective_batch_and_the_seed():
    code, report = probe_json("grad_accum")
    run = report["runs"][0]
    assert set(run["step_samples"]) == {32} and set(run["step_micro"]) == {4}
    assert run["backwards"] == 4 * run["steps"]
    assert [(s["api"], s["value"], s["site"][1]) for s in run["seeds"]] == [("torch.manual_seed", 0, 7)]
    seed = [f for f in report["findings"] if f["code"] == "SEED001" and f["line"] == 7]
    assert seed and seed[0]["status"] == "confirmed"


def test_checkpoint_after_test_evaluation_confirms_leak002_and_no_user_file_is_written():
    folder = FIXTURES / "select_on_test"
    before = sorted(p.name for p in folder.iterdir())
    code, report = probe_json("select_on_test", "--keep")
    assert sorted(p.name for p in folder.iterdir()) == before
    assert code == 1
    [leak2] = [f for f in report["findings"] if f["code"] == "LEAK002"]
    assert leak2["status"] == "confirmed"
    assert any("checkpoint is written right after an evaluation pass" in r["message"] for r in leak2["related"])
    run = report["runs"][0]
    written = {os.path.basename(r["path"]): r for r in run["redirects"]}
    assert set(written) == {"best.pt", "log.txt"}
    assert [os.path.basename(d) for d in run["created_dirs"]] == ["checkpoints"]  # created, then removed
    try:
        assert all(r["to"].startswith(run["redirect_folder"]) and os.path.isfile(r["to"]) for r in written.values())
    finally:
        shutil.rmtree(run["redirect_folder"])  # kept with --keep: the test removes it


def test_crash_is_reported_with_the_scripts_traceback():
    result = invoke("--no-static", "--", "python", "fixtures/probe/crash/train.py")
    assert result.exit_code == 2
    assert "crashed" in result.output
    assert "error: RuntimeError: mat1 and mat2 shapes cannot be multiplied" in result.output
    assert "at fixtures/probe/crash/train.py:18" in result.output
    assert "2 optimiser steps" in result.output
    assert "mllint/probe" not in result.output  # no traceback from the probe itself


def test_hang_is_killed_at_the_timeout_with_its_process_group():
    result = invoke("--no-static", "--timeout", "15", "--format", "json", "--", "python", "fixtures/probe/hang/train.py")
    assert result.exit_code == 2
    report = json.loads(result.output)
    run = report["runs"][0]
    assert run["status"] == "timeout" and run["steps"] == 1
    assert run["error"]["site"][1] in (20, 21)  # the waiting loop
    assert any("hung" in p for p in report["problems"])
    # the script's own child process went with the process group
    [pid] = [int(line.split()[-1]) for line in run["stderr_tail"] if line.startswith("helper pid")]
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


def test_no_optimiser_step_is_a_clear_problem():
    result = invoke("--no-static", "--", "python", "fixtures/probe/no_step/train.py")
    assert result.exit_code == 2
    assert "problem: no optimiser step was taken" in result.output


def test_no_dataloader_is_a_stated_limit():
    result = invoke("--no-static", "--", "python", "fixtures/probe/no_loader/train.py")
    assert result.exit_code == 0
    assert "limit: no DataLoader was built" in result.output
    assert "20 optimiser steps" in result.output


def test_seeds_statistics_jobs_and_plot(tmp_path):
    png = tmp_path / "loss.png"
    result = invoke("--no-static", "--seeds", "3", "--jobs", "2", "--steps", "6", "--plot", str(png),
                    "--format", "json", "--", "python", "fixtures/probe/grad_accum/train.py")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    finals = [[v for v in run["step_losses"] if v is not None][-1] for run in report["runs"]]
    assert [run["seed"] for run in report["runs"]] == [0, 1, 2]
    assert len(set(finals)) == 3  # the seed override changed the runs
    assert all(run["seeds"][0]["overridden_to"] == run["seed"] for run in report["runs"])
    stats = report["seeds"]
    assert stats["values"] == finals and stats["n"] == 3
    assert stats["ci95"][0] < stats["mean"] < stats["ci95"][1]
    assert abs(stats["t_quantile"] - 4.3027) < 1e-3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_fixed_seed_gives_the_same_run_twice():
    first = invoke("--no-static", "--seeds", "2", "--steps", "4", "--format", "json", "--",
                   "python", "fixtures/probe/clean/train.py")
    second = invoke("--no-static", "--seeds", "1", "--steps", "4", "--format", "json", "--",
                    "python", "fixtures/probe/clean/train.py")
    assert second.exit_code == 0 and json.loads(second.output)["seeds"] is None  # one seed: no statistics
    losses_a = json.loads(first.output)["runs"][0]["step_losses"]
    losses_b = json.loads(second.output)["runs"][0]["step_losses"]
    assert losses_a == losses_b


def test_other_formats_go_through_the_linters_reporters(monkeypatch):
    from mllint import report as reporters

    seen = {}

    def fake(result, **_):
        seen["findings"] = [(f.code, f.status) for f in result.findings]
        return "FAKE\n"

    monkeypatch.setitem(reporters.FORMATS, "fake", fake)
    result = CliRunner().invoke(probe, ["--format", "fake", "--no-static", "--", "python",
                                        "fixtures/probe/ema_eval/train.py"])
    assert result.stdout == "FAKE\n"
    assert seen["findings"] == [("EVAL001", "confirmed")]
    assert "mllint probe: python fixtures/probe/ema_eval/train.py" in result.stderr


def test_unknown_format_and_bad_command_are_usage_errors():
    result = CliRunner().invoke(probe, ["--format", "nope", "--", "python", "fixtures/probe/clean/train.py"])
    assert result.exit_code == 2 and "unknown format" in result.output
    result = CliRunner().invoke(probe, ["--", "ls", "-l"])
    assert result.exit_code == 2 and "runs Python scripts" in result.output
    result = CliRunner().invoke(probe, ["--", "python", "missing.py"])
    assert result.exit_code == 2 and "no such script" in result.output
    result = CliRunner().invoke(probe, [])
    assert result.exit_code == 2 and "after `--`" in result.output


def test_module_entry_point_runs_the_probe():
    proc = subprocess.run(
        [sys.executable, "-m", "mllint.probe", "--steps", "4", "--project", "fixtures/probe/leaky", "--", "python",
         "fixtures/probe/leaky/train.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "LEAK001 [confirmed]" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_sample_fingerprints_do_not_depend_on_the_batch():
    from collections import UserDict

    from torch.utils.data import ConcatDataset, Subset, TensorDataset

    from mllint.probe import fingerprints

    x = torch.randn(8, 3, 4, 4)
    whole = fingerprints.content_hashes(x)
    assert whole[5] == fingerprints.content_hashes(x[5:6])[0] == fingerprints.content_hashes(x[4:7])[1]
    assert len(set(whole)) == 8
    assert fingerprints.content_hashes(x.to(torch.float64))[0] != whole[0]  # the bytes, not the values
    inputs = torch.zeros(2, 3)
    assert fingerprints.first_input(UserDict({"labels": torch.zeros(2), "input_ids": inputs})) is inputs
    assert fingerprints.first_input((torch.tensor(1), [inputs])) is inputs

    train, test = TensorDataset(torch.zeros(6, 1)), TensorDataset(torch.ones(4, 1))
    joined = Subset(ConcatDataset([train, test]), [7, 0])
    assert fingerprints.root_index(joined, 0) == (test, 1)
    assert fingerprints.root_index(joined, 1) == (train, 0)
    # two dataset objects over the same tensors are the same data
    assert fingerprints.dataset_key(TensorDataset(test.tensors[0])) == fingerprints.dataset_key(test)
