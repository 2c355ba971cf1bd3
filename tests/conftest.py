import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


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
