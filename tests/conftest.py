import atexit
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The session's temporary files (pytest's tmp_path, and the folders of every probe run, subprocesses included)
# go to a folder of its own, so that the check below sees this session's probe folders only.
_SESSION_TMP = tempfile.mkdtemp(prefix="mllint-tests-")
os.environ["TMPDIR"] = _SESSION_TMP
os.environ["XDG_CACHE_HOME"] = os.path.join(_SESSION_TMP, "cache")  # the probe's lint cache for projects without one
tempfile.tempdir = None
atexit.register(shutil.rmtree, _SESSION_TMP, True)


def probe_folders_left() -> list[str]:
    return sorted(glob.glob(os.path.join(_SESSION_TMP, "mllint-probe-*")))


def pytest_sessionfinish(session, exitstatus):
    """No `mllint-probe-*` folder may outlive the test suite (issue 26): a run removes its own."""
    left = probe_folders_left()
    if left:
        sys.stderr.write(f"\nmllint probe left temporary folders behind: {', '.join(left)}\n")
        session.exitstatus = 1

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true",
                     help="the in-process tier only: a test that starts a process (the CLI, pre-commit, the probe, git) "
                          "is skipped where it would start it")


class _SubprocessTier(subprocess.Popen):
    def __init__(self, *args, **kwargs) -> None:  # noqa: D107
        pytest.skip("subprocess tier (run without --fast)")


@pytest.fixture(autouse=True)
def _in_process_tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.config.getoption("--fast"):
        monkeypatch.setattr(subprocess, "Popen", _SubprocessTier)
