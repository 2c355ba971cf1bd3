import json
import subprocess
import sys


def test_cli_reports_seed_findings(tmp_path):
    (tmp_path / "train.py").write_text("import torch\ntorch.manual_seed(3407)\n")
    proc = subprocess.run([sys.executable, "-m", "mllint", "--format", "json", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)
    assert [f["code"] for f in findings] == ["SEED001"]
    assert findings[0]["line"] == 2 and findings[0]["column"] == 1
