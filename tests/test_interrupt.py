"""Ctrl-C during a run with worker processes: exit code 130, no worker left behind, whether SIGINT comes once
or twice. A terminal sends SIGINT to the whole foreground process group, so the tests do the same. The bound
on the wait is a hang check (the run used to wait for its workers' chunks, or for ever after a second Ctrl-C),
not a timing assertion."""
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self") or not hasattr(os, "killpg"),
                                reason="reads child processes from /proc")

MODULE = '''import torch
import torch.nn as nn


class Net{i}_{k}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)

    def forward(self, x):
        return self.fc(x)


def train_{i}_{k}(loader, epochs=3):
    model = Net{i}_{k}()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y) + 0.37 * x.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
'''
HANG_LIMIT = 20.0  # seconds: a hang check; the whole run takes about a minute on 2 cores


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("big")
    for i in range(1800):  # a full run takes ~60 s on 2 cores, far longer than HANG_LIMIT
        (root / f"module_{i}.py").write_text("\n\n".join(MODULE.format(i=i, k=k) for k in range(8)))
    return root


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _interruptible() -> None:
    """Ctrl-C as a terminal delivers it, whatever the test runner inherited: a shell that runs the suite as a
    background job (`bash .ci/run &`) starts it with SIGINT ignored, and a program started so ignores it too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_with_workers(tree) -> subprocess.Popen:
    """`mllint -j 2 TREE` in its own process group, once its two workers exist and are busy."""
    proc = subprocess.Popen([sys.executable, "-m", "mllint", "--no-cache", "-j", "2", "-q", str(tree)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints where it hangs
                            preexec_fn=_interruptible)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_children(proc.pid)) >= 2 and proc.poll() is None, "the run should have started its two workers"
    time.sleep(0.5)  # the workers are busy with their first chunks
    assert proc.poll() is None, "the tree is too small: the run ended before Ctrl-C"
    return proc


def _ends_130_without_survivors(proc: subprocess.Popen, what: str) -> None:
    try:
        code = proc.wait(timeout=HANG_LIMIT)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGABRT)  # faulthandler: every thread's stack, for the failure message
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _clean_up(proc)  # the workers hold the stderr pipe open
        stacks = proc.stderr.read()
        pytest.fail(f"mllint still running {HANG_LIMIT:g} s after {what}; its threads:\n{stacks[-6000:]}")
    assert code == 130
    assert "mllint: interrupted" in proc.stderr.read()
    deadline = time.monotonic() + HANG_LIMIT  # orphans reparented to init are reaped quickly, survivors are not
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "worker processes outlived the run"


def _clean_up(proc: subprocess.Popen) -> None:
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_with_workers_exits_130_and_leaves_no_worker(big_tree, presses):
    proc = _start_with_workers(big_tree)
    try:
        for _ in range(presses):
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole group
            time.sleep(0.05)
        _ends_130_without_survivors(proc, f"Ctrl-C x{presses}")
    finally:
        _clean_up(proc)


def test_sigint_to_the_parent_alone(big_tree):
    """`kill -INT PID` (not the group): the workers never see it, and the parent still ends them."""
    proc = _start_with_workers(big_tree)
    try:
        proc.send_signal(signal.SIGINT)
        _ends_130_without_survivors(proc, "SIGINT to the parent")
    finally:
        _clean_up(proc)
