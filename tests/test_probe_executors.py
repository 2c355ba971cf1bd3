"""`mllint probe --executor ray|slurm`: a seed sweep through a local Ray instance and submitit's local executor
gives the statistics of a local sweep; a lost task is reported and the other seeds kept; settings and extras."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click
import pytest

torch = pytest.importorskip("torch")

from test_probe import invoke  # noqa: E402  (the probe's CliRunner, in a given folder)

from mllint.probe import executors  # noqa: E402
from mllint.probe.runner import Spec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# CI installs the probe-ray and probe-slurm extras; without them these tests are skipped before any run starts
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed (probe-ray)")
needs_submitit = pytest.mark.skipif(importlib.util.find_spec("submitit") is None,
                                    reason="submitit is not installed (probe-slurm)")
SWEEP = ("--no-static", "--seeds", "3", "--steps", "6", "--format", "json")
SCRIPT = ("--", "python", "fixtures/probe/grad_accum/train.py")
# Kills the process that started the probe's subprocess (the Ray worker, the submitit job) for one seed, as a lost
# node would; only where the test asked for it, so that it never kills pytest.
LOST_TASK = '''import os, signal, torch
from torch import nn
torch.manual_seed(0)
if os.environ.get("KILL_PARENT_AT_SEED") == str(torch.initial_seed()) and os.environ.get("MLLINT_TEST_WORKER") == "1":
    os.kill(os.getppid(), signal.SIGKILL)
    os._exit(1)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.randn(64, 4)
for step in range(10):
    optimizer.zero_grad()
    loss = model(data).pow(2).mean()
    loss.backward()
    optimizer.step()
'''


def _ray_processes() -> set[int]:
    """Ray's daemons on this machine (raylet, gcs_server) and its workers, by /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"raylet" in cmdline or b"gcs_server" in cmdline or cmdline.startswith(b"ray::"):
                found.add(int(entry))
    return found


def _stats(report: dict) -> dict:
    return report["seeds"]


@pytest.fixture(scope="module")
def local_sweep() -> dict:
    result = invoke(*SWEEP, "--jobs", "2", *SCRIPT)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def no_ray_left():
    before = _ray_processes()
    yield
    deadline = time.monotonic() + 20
    while _ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_processes() - before, "Ray processes left running"


@needs_ray
def test_ray_sweep_gives_the_local_statistics(local_sweep, no_ray_left):
    import ray

    result = invoke(*SWEEP, "--executor", "ray", "--jobs", "2", *SCRIPT)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [run["seed"] for run in report["runs"]] == [0, 1, 2]
    assert _stats(report) == _stats(local_sweep)  # same seeds on the CPU: the same losses, bit for bit
    assert all(run["notes"][-1].endswith("(ray)") for run in report["runs"])
    assert "3 runs on Ray (a local instance): 0 queued, 0 running, 3 done, 0 failed" in result.stderr
    assert not ray.is_initialized()  # the instance the probe started is shut down


@needs_submitit
def test_submitit_sweep_gives_the_local_statistics(local_sweep, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    result = invoke(*SWEEP, "--executor", "slurm", "--slurm-cluster", "local", *SCRIPT)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert _stats(report) == _stats(local_sweep)
    assert all(run["notes"][-1].endswith("(slurm)") for run in report["runs"])
    assert "3 runs through submitit (local): 0 queued, 0 running, 3 done, 0 failed" in result.stderr
    assert os.listdir(tmp_path / "mllint" / "submitit") == []  # every job gave a result: the folder is removed


@pytest.mark.parametrize("executor", [pytest.param("ray", marks=needs_ray),
                                      pytest.param("slurm", marks=needs_submitit)])
def test_a_lost_task_is_reported_and_the_other_seeds_are_kept(executor, tmp_path, monkeypatch, no_ray_left):
    (tmp_path / "train.py").write_text(LOST_TASK)
    monkeypatch.setenv("KILL_PARENT_AT_SEED", "1")
    monkeypatch.setenv("MLLINT_TEST_WORKER", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cluster = ["--executor", "ray", "--jobs", "2"] if executor == "ray" else [
        "--executor", "slurm", "--slurm-cluster", "local"]
    result = invoke(*SWEEP, *cluster, "--", "python", "train.py", cwd=tmp_path)
    _remove_orphaned_folders(tmp_path)
    assert result.exit_code == 2, result.output  # a run that could not be checked
    report = json.loads(result.stdout)
    statuses = [run["status"] for run in report["runs"]]
    assert statuses == ["steps", "task-failed", "steps"]
    lost = report["runs"][1]
    assert lost["problems"] == ["gave no result: its cluster task failed"]
    where = "the Ray task failed: " if executor == "ray" else "the SLURM job failed: "
    assert lost["error"]["message"].startswith(where)
    assert any("run 2 (seed 1): gave no result" in problem for problem in report["problems"])
    assert report["seeds"]["n"] == 2  # seeds 0 and 2 still give their statistics
    assert "2 done, 1 failed" in result.stderr
    if executor == "slurm":
        assert "submitit's jobs and logs are in" in result.stderr
        assert "(logs: " in lost["error"]["message"]


def _remove_orphaned_folders(project: Path) -> None:
    """The killed task could not remove its run's temporary folder (a lost node keeps its /tmp too)."""
    for folder in Path(tempfile.gettempdir()).glob("mllint-probe-*"):
        try:
            if json.loads((folder / "config.json").read_text())["project"] == str(project):
                shutil.rmtree(folder)
        except (OSError, ValueError, KeyError):
            continue


def test_a_failed_task_keeps_the_executors_error():
    from mllint.probe.report import ProbeReport, render_text

    error = RuntimeError("Job 7 has not produced any output\n------\nsubmitit INFO - Starting\nmore")
    spec = Spec("python", ["train.py"], ".", seed=4)
    outcome = executors.failed_outcome(spec, error, "SLURM job", ["/logs/7_0_log.err"])
    assert (outcome.seed, outcome.status) == (4, "task-failed")
    assert outcome.record["error"] == {
        "type": "RuntimeError", "traceback": "", "site": None,
        "message": "the SLURM job failed: Job 7 has not produced any output submitit INFO - Starting "
                   "(logs: /logs/7_0_log.err)"}
    text = render_text(ProbeReport(spec, ["python", "train.py"], [outcome], []))
    assert "run 1/1 (seed 4): gave no result: its cluster task failed" in text
    assert "  error: RuntimeError: the SLURM job failed: Job 7 has not produced any output" in text
    assert "stderr" not in text


@pytest.mark.parametrize("executor,extra", [("ray", "probe-ray"), ("slurm", "probe-slurm")])
def test_without_the_extra_a_clear_message_and_exit_2(executor, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # find_spec then answers None, as when not installed
    monkeypatch.setitem(sys.modules, "submitit", None)
    result = invoke(*SWEEP, "--executor", executor, *SCRIPT)
    assert result.exit_code == 2
    assert f"pip install 'mllint-redflags[probe,{extra}]'" in result.stderr
    assert "Traceback" not in result.output


@needs_submitit
def test_slurm_without_sbatch_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = invoke(*SWEEP, "--executor", "slurm", *SCRIPT)
    assert result.exit_code == 2 and "sbatch is not on PATH" in result.stderr


def _settings(project: Path, *args: str) -> executors.Cluster:
    @click.command()
    @executors.cluster_options
    def command():
        click.get_current_context().obj = executors.settings(str(project))

    ctx = command.make_context("probe", list(args))
    with ctx:
        command.invoke(ctx)
        return ctx.obj


@needs_submitit  # settings() checks that the chosen executor's engine is installed
def test_settings_from_the_table_and_the_command_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mllint.probe]\nexecutor = "slurm"\npartition = "gpu"\ntime = "1:30:00"\ngpus = 2\ncpus = 8\n'
        'mem-gb = 32\nslurm-parameters = { account = "ml", qos = "high" }\n')
    cluster = _settings(tmp_path, "--partition", "debug", "--time", "20")
    chosen = (cluster.executor, cluster.partition, cluster.time, cluster.gpus, cluster.cpus)
    assert chosen == ("slurm", "debug", 20, 2, 8)
    params = executors.slurm_parameters(cluster, Spec("python", ["train.py"], ".", device="cuda"), 3)
    assert params == {"name": "mllint-probe", "nodes": 1, "tasks_per_node": 1, "cpus_per_task": 8,
                      "timeout_min": 20, "slurm_array_parallelism": 3, "gpus_per_node": 2, "mem_gb": 32,
                      "slurm_partition": "debug", "slurm_additional_parameters": {"account": "ml", "qos": "high"}}
    default = executors.slurm_parameters(executors.Cluster(executor="slurm"), Spec("python", ["train.py"], "."), 2)
    assert (default["timeout_min"], default["cpus_per_task"]) == (15, 1) and "gpus_per_node" not in default


def test_the_table_is_validated(tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    (tmp_path / "pyproject.toml").write_text('[tool.mllint.probe]\nexecuter = "ray"\n')
    result = invoke("--no-static", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 2 and "unknown key `probe.executer`" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.mllint.probe]\ntime = "soon"\n')
    result = invoke("--no-static", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 2 and "`probe.time`" in result.output
    result = invoke("--no-static", "--time", "1:2:3:4", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 2 and "--time" in result.output


def test_the_linter_accepts_the_probe_table(tmp_path):
    from mllint.config import load_config

    (tmp_path / "mllint.toml").write_text('select = ["SEED"]\n[probe]\nexecutor = "ray"\nray-address = "auto"\n')
    config = load_config(None, tmp_path)
    assert config.select == ["SEED"] and config.probe == {"executor": "ray", "ray-address": "auto"}


def test_progress_lines_when_not_a_terminal():
    import io

    stream = io.StringIO()
    progress = executors.Progress(2, "on Ray (x)", show=True, stream=stream)
    progress.start()
    progress.set(0, "running")
    progress.set(0, "running")  # no change, no line
    progress.set(1, "failed", "run 2 (seed 1): crash")
    progress.set(0, "done")
    progress.set(0, "running")  # a finished task stays finished
    assert stream.getvalue().splitlines() == [
        "mllint probe: 2 runs on Ray (x): 2 queued, 0 running, 0 done, 0 failed",
        "mllint probe: 2 runs on Ray (x): 1 queued, 1 running, 0 done, 0 failed",
        "mllint probe: run 2 (seed 1): crash",
        "mllint probe: 2 runs on Ray (x): 0 queued, 1 running, 0 done, 1 failed",
        "mllint probe: 2 runs on Ray (x): 0 queued, 0 running, 1 done, 1 failed",
    ]


@needs_ray
def test_an_unreachable_ray_cluster_is_an_error_at_once(no_ray_left):
    result = invoke(*SWEEP, "--executor", "ray", "--ray-address", "127.0.0.1:1", *SCRIPT)
    assert result.exit_code == 2 and "no Ray cluster answers at 127.0.0.1:1" in result.stderr
    result = invoke(*SWEEP, "--executor", "ray", "--ray-address", "auto", *SCRIPT)
    assert result.exit_code == 2 and "Ray did not start: ConnectionError" in result.stderr
    assert "Traceback" not in result.output


@needs_submitit
def test_slurm_job_array_carries_the_resources_and_a_refusal_is_reported(tmp_path, monkeypatch):
    """A stand-in `sbatch` keeps the job script submitit wrote and refuses it, as SLURM does for a bad partition."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(f'#!/bin/sh\ncp "$1" {tmp_path / "job.sh"}\n'
                      'echo "sbatch: error: invalid partition specified: gpu" >&2\nexit 1\n')
    sbatch.chmod(0o755)
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text('[tool.mllint.probe]\nslurm-parameters = { account = "ml" }\n')
    (tmp_path / "train.py").write_text("print(1)\n")
    result = invoke("--no-static", "--seeds", "3", "--executor", "slurm", "--partition", "gpu", "--time", "0:20:00",
                    "--gpus", "1", "--cpus", "8", "--mem-gb", "16", "--", "python", "train.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "the SLURM jobs were not submitted" in result.stderr and "invalid partition specified" in result.stderr
    script = (tmp_path / "job.sh").read_text()
    assert os.listdir(tmp_path / "cache" / "mllint" / "submitit") == []
    for line in ("#SBATCH --partition=gpu", "#SBATCH --time=20", "#SBATCH --gpus-per-node=1",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=16GB", "#SBATCH --array=0-2%3", "#SBATCH --account=ml",
                 "#SBATCH --job-name=mllint-probe"):
        assert line in script, (line, script)


# A stand-in for SLURM on this machine: `sbatch` starts each task of the array as SLURM would (the job script's
# srun line, with the SLURM_* variables submitit reads), `sacct` says RUNNING; submitit sees the results appear.
FAKE_SBATCH = '''#!{python}
import os, re, subprocess, sys
text = open(sys.argv[1]).read()
first, last = map(int, re.search(r"--array=(\\d+)-(\\d+)", text).groups())
folder = re.search(r"submitit.core._submit (\\S+)", text).group(1)
pattern = re.search(r"#SBATCH --output=(\\S+)", text).group(1)
with open(os.path.join(os.path.dirname(sys.argv[0]), "sbatch.log"), "a") as log:
    log.write(text)
for task in range(first, last + 1):
    out = pattern.replace("%A", "4242").replace("%a", str(task))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = dict(os.environ, SUBMITIT_EXECUTOR="slurm", SLURM_JOB_ID=str(5000 + task), SLURM_ARRAY_JOB_ID="4242",
               SLURM_ARRAY_TASK_ID=str(task), SLURM_NTASKS="1", SLURM_JOB_NUM_NODES="1", SLURM_NODEID="0",
               SLURM_JOB_NODELIST="localhost", SLURM_PROCID="0", SLURM_LOCALID="0")
    subprocess.Popen([{python!r}, "-u", "-m", "submitit.core._submit", folder], env=env, stdout=open(out, "w"),
                     stderr=subprocess.STDOUT, start_new_session=True)
print("Submitted batch job 4242")
'''
FAKE_SACCT = '''#!/bin/sh
echo "JobID|State|NodeList"
for task in 0 1 2; do echo "4242_$task|RUNNING|localhost"; done
'''


@needs_submitit
def test_a_sweep_through_slurm_job_arrays(local_sweep, tmp_path, monkeypatch):
    from mllint.probe.cli import _seed_summary

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH.format(python=sys.executable)), ("sacct", FAKE_SACCT),
                       ("srun", "#!/bin/sh\nexit 1\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(ROOT)
    specs = [Spec(sys.executable, ["fixtures/probe/grad_accum/train.py"], str(ROOT), steps=6, seed=seed)
             for seed in range(3)]
    cluster = executors.Cluster(executor="slurm", partition="debug", log_folder=str(tmp_path / "logs"))
    outcomes = executors.run_slurm(specs, cluster, poll=0.2)
    assert [o.status for o in outcomes] == ["steps"] * 3
    assert _seed_summary(outcomes, []).to_json() == local_sweep["seeds"]
    assert "#SBATCH --array=0-2%3" in (bin_dir / "sbatch.log").read_text()
