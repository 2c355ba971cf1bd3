"""Static analysis never imports or executes the code it lints."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def payload(marker: Path, how: str) -> str:
    # Writes the marker however the code is run: imported, executed as a script, or its function called.
    return (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text({how!r})\n"
        "import torch\n"
        "torch.manual_seed(0)\n"
        "torch.zeros(1, requires_grad=True).sum().backward()\n"
    )


def test_linting_never_runs_the_linted_code(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    markers = {name: tmp_path / f"{name}.marker" for name in ("train", "helpers", "notebook", "conftest", "setup")}
    (project / "pyproject.toml").write_text("[project]\nname = 'victim'\n")
    (project / "train.py").write_text("import helpers\n" + payload(markers["train"], "train"))
    (project / "helpers.py").write_text(payload(markers["helpers"], "helpers"))
    (project / "conftest.py").write_text(payload(markers["conftest"], "conftest"))
    (project / "setup.py").write_text(payload(markers["setup"], "setup"))
    (project / "sitecustomize.py").write_text(payload(tmp_path / "site.marker", "site"))
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": payload(markers["notebook"], "notebook")}
    (project / "analysis.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                        "nbformat_minor": 5}))
    for extra in ([], ["--jobs", "1", "--no-cache"]):
        proc = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", *extra, "."], cwd=project,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        found = json.loads(proc.stdout)  # a finding's related locations count: one run's seeds are one finding
        linted = {Path(f["path"]).name for f in found} | {Path(r["path"]).name for f in found for r in f.get("related", [])}
        assert {"train.py", "helpers.py", "analysis.ipynb"} <= linted  # the files were analysed...
    assert not [m for m in [*markers.values(), tmp_path / "site.marker"] if m.exists()]  # ...and never run
