"""Each output format, checked against its real consumer or published schema, on the shipped fixtures."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def mllint(*args, cwd=REPO, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "mllint", "--no-cache", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, input=input)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every format on fixtures/ (with suppressed findings shown), written once. The families are pinned so that
    a new family's findings on the fixtures do not change what these tests count."""
    out = tmp_path_factory.mktemp("reports")
    made = {}
    for fmt in ("json", "json-full", "sarif", "github", "rdjson", "junit", "markdown"):
        proc = mllint("--select", "LEAK,SEED,FILE", "--format", fmt, "--show-suppressed", "--output", str(out / fmt),
                      "fixtures")
        assert proc.returncode == 1, proc.stderr
        made[fmt] = (out / fmt).read_text(encoding="utf-8")
    return made


@pytest.fixture(scope="module")
def findings(reports):
    return json.loads(reports["json"])


def test_sarif_is_valid_against_the_2_1_0_schema(reports):
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(json.loads(reports["sarif"])), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_sarif_content(reports, findings):
    run = json.loads(reports["sarif"])["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["LEAK001"]["name"] == "test-split-in-training"
    assert rules["LEAK001"]["defaultConfiguration"]["level"] == "error"
    assert rules["SEED001"]["help"]["markdown"].startswith("# SEED001: single-fixed-seed")
    assert rules["SEED001"]["fullDescription"]["text"] and rules["SEED001"]["shortDescription"]["text"]
    results = run["results"]
    assert len(results) == len(findings)
    for result in results:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert set(result["partialFingerprints"]) == {"mllintLineHash/v1", "mllintContextHash/v1"}
    # a cross-module LEAK finding: related locations and a code flow source -> hops -> sink
    (leak,) = [r for r in results if r["ruleId"] == "LEAK001"
               and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("leak_pos_tuple_return/main.py")]
    flow = leak["codeFlows"][0]["threadFlows"][0]["locations"]
    where = [(s["location"]["physicalLocation"]["artifactLocation"]["uri"].split("/")[-1],
              s["location"]["physicalLocation"]["region"]["startLine"]) for s in flow]
    assert where == [("loaders.py", 10), ("main.py", 6), ("main.py", 26), ("main.py", 22)]
    assert len(leak["relatedLocations"]) == 3
    region = leak["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 22 and region["endLine"] >= 22
    silenced = [r for r in results if "suppressions" in r]
    assert silenced and all(s["kind"] == "inSource" for r in silenced for s in r["suppressions"])
    reasons = [s.get("justification") for r in silenced for s in r["suppressions"]]
    assert any(reasons)


def test_sarif_is_read_back_by_sarif_tools(reports, tmp_path, findings):
    loader = pytest.importorskip("sarif.loader")
    path = tmp_path / "mllint.sarif"
    path.write_text(reports["sarif"])
    sarif = loader.load_sarif_file(str(path))
    assert sarif.get_distinct_tool_names() == ["mllint"]
    assert sarif.get_result_count() == len(findings)
    records = sarif.get_records()
    by_key = {(r["Location"], r["Line"], r["Code"]) for r in records}
    assert by_key == {(f["path"], f["line"], f["code"]) for f in findings if "cell" not in f} | {
        (f["path"], "1", f["code"]) for f in findings if "cell" in f}  # notebook results have no region
    assert {r["Severity"] for r in records} == {"error", "warning", "note"}  # notes: FILE012, SEED002 (info)


def test_github_annotations_and_escaping(reports, findings):
    lines = [line for line in reports["github"].splitlines() if line.startswith("::")]
    assert len(lines) == len(findings)
    first = next(line for line in lines if "leak_pos_best_checkpoint/main.py" in line and "LEAK" in line)
    assert first.startswith("::error file=fixtures/leak_pos_best_checkpoint/main.py,line=37,col=8,endLine=37,")
    assert ",title=LEAK002 test-split-selects-model::" in first
    assert "\n" not in first and "%0Ahelp: " in first
    assert reports["github"].splitlines()[-1].startswith("mllint: ")


def test_github_escaping_rules():
    from mllint.report.github import escape_data, escape_property

    assert escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert escape_property("dir,x/a:b%.py") == "dir%2Cx/a%3Ab%25.py"


def test_rdjson_against_the_reviewdog_format(reports, findings):
    data = json.loads(reports["rdjson"])
    jsonschema.Draft7Validator(json.loads((DATA / "rdjson.schema.json").read_text())).validate(data)
    assert len(data["diagnostics"]) == len(findings)
    leak = next(d for d in data["diagnostics"] if d["code"]["value"] == "LEAK001" and d.get("related_locations"))
    assert leak["severity"] == "ERROR" and leak["location"]["range"]["start"]["line"] >= 1
    assert all("message" in r and "path" in r["location"] for r in leak["related_locations"])


def test_rdjson_columns_are_utf8_bytes(tmp_path):
    (tmp_path / "t.py").write_text("import torch\nx = 'é'; torch.manual_seed(3407)\n", encoding="utf-8")
    data = json.loads(mllint("--format", "rdjson", ".", cwd=tmp_path).stdout)
    (diag,) = data["diagnostics"]
    assert diag["location"]["range"]["start"] == {"line": 2, "column": 11}  # 'é' is two bytes
    assert diag["location"]["range"]["end"]["column"] == 34


VALIDATOR = os.environ.get("RDFORMAT_VALIDATOR") or shutil.which("rdformat-validator")


@pytest.mark.skipif(not VALIDATOR, reason="reviewdog's rdformat-validator (npm @umbrelladocs/rdformat-validator) not installed;"
                                          " set RDFORMAT_VALIDATOR to its path")
def test_rdjson_with_the_rdformat_validator(reports, tmp_path):
    path = tmp_path / "report.rdjson"
    path.write_text(reports["rdjson"])
    proc = subprocess.run([VALIDATOR, "--strict", "--no-extra-fields", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_junit_is_valid_against_the_schema_and_read_by_junitparser(reports, findings, tmp_path):
    xmlschema = pytest.importorskip("xmlschema")
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "junit.xml"
    path.write_text(reports["junit"], encoding="utf-8")
    xmlschema.XMLSchema(str(DATA / "junit.xsd")).validate(str(path))
    xml = junitparser.JUnitXml.fromfile(str(path))
    unsuppressed = [f for f in findings if "suppressed" not in f]
    assert xml.failures == len(unsuppressed) and xml.errors == 0
    failed = [(case.classname, result.type) for suite in xml for case in suite for result in case.result
              if isinstance(result, junitparser.Failure)]
    assert sorted(failed) == sorted((f["path"], f["code"]) for f in unsuppressed)
    skipped = [case for suite in xml for case in suite if case.result and isinstance(case.result[0], junitparser.Skipped)]
    assert len(skipped) == len(findings) - len(unsuppressed)
    assert any(suite.name.endswith("leak_neg_final_eval/train.py") and suite.failures == 0 for suite in xml)


def test_markdown_summary(reports, findings):
    text = reports["markdown"]
    assert text.startswith("## mllint\n")
    assert "| family | error | warning | info |" in text and "| LEAK |" in text
    assert "### `fixtures/leak_pos_tuple_return/main.py`" in text
    rows = re.findall(r"^\| (?:cell \d+, )?\d+:\d+ \| (error|warning|info) \|", text, re.M)
    more = re.search(r"^\.\.\. and (\d+) more findings?", text, re.M)  # the fixtures' report is over the size cap
    assert len(rows) + (int(more.group(1)) if more else 0) == len(findings)
    assert len(text) < 65_536


def test_json_full_envelope(reports, findings):
    data = json.loads(reports["json-full"])
    assert data["tool"]["name"] == "mllint" and data["files_scanned"] == len(data["files"]) > 0
    assert data["findings"] == findings
    assert data["counts"]["suppressed"] >= 1 and data["counts"]["findings"] == len(
        [f for f in findings if "suppressed" not in f])
    assert set(data["rules"]) == {f["code"] for f in findings}
    assert data["rules"]["SEED001"]["name"] == "single-fixed-seed"
    assert {"code", "name", "severity", "count"} == set(data["statistics"][0])


def test_suppressed_without_reason_is_null_in_json(findings):
    reasons = [f["suppressed"]["reason"] for f in findings if "suppressed" in f]
    assert None in reasons or all(reasons)
    assert "(no reason given)" not in reasons


@pytest.mark.parametrize("fmt", ["text", "json", "json-full", "markdown", "sarif", "github", "rdjson", "junit"])
def test_statistics_in_every_format(fmt, tmp_path):
    (tmp_path / "a.py").write_text("import torch\ntorch.manual_seed(1)\n")
    (tmp_path / "b.py").write_text("import torch\ntorch.manual_seed(2)\n")
    proc = mllint("--statistics", "--format", fmt, ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    if fmt == "json":
        assert json.loads(proc.stdout) == [{"code": "SEED001", "name": "single-fixed-seed", "severity": "warning",
                                            "count": 2}]
    elif fmt == "json-full":
        assert json.loads(proc.stdout)["statistics"][0]["count"] == 2
    elif fmt == "markdown":
        assert "| 2 | `SEED001` | single-fixed-seed | warning |" in proc.stdout
    else:
        assert proc.stdout.split() == ["2", "SEED001", "single-fixed-seed"]


def test_output_format_alias_and_environment(tmp_path):
    (tmp_path / "t.py").write_text("import torch\ntorch.manual_seed(1)\n")
    assert json.loads(mllint("--output-format", "json", ".", cwd=tmp_path).stdout)[0]["code"] == "SEED001"
    assert json.loads(mllint(".", cwd=tmp_path, env={"MLLINT_OUTPUT_FORMAT": "json"}).stdout)[0]["line"] == 2
    assert mllint("--format", "text", ".", cwd=tmp_path, env={"MLLINT_OUTPUT_FORMAT": "json"}).stdout.startswith("t.py:2:1")


def test_sarif_lists_suppressed_and_baselined_results_with_their_state(tmp_path):
    (tmp_path / "a.py").write_text("import torch\ntorch.manual_seed(1)  # mllint: ignore[SEED001] fixed split\n")
    (tmp_path / "b.py").write_text("import numpy as np\nnp.random.seed(2)\n")
    assert mllint("--write-baseline", "base.json", ".", cwd=tmp_path).returncode == 0
    (tmp_path / "c.py").write_text("import random\nrandom.seed(3)\n")
    proc = mllint("--format", "sarif", "--baseline", "base.json", ".", cwd=tmp_path)
    assert proc.returncode == 1
    results = json.loads(proc.stdout)["runs"][0]["results"]
    got = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r.get("baselineState"),
            r["suppressions"][0]["justification"] if "suppressions" in r else None) for r in results}
    assert got == {("a.py", None, "fixed split"), ("b.py", "unchanged", None), ("c.py", "new", None)}
    plain = json.loads(mllint("--format", "sarif", ".", cwd=tmp_path).stdout)["runs"][0]["results"]
    assert all("baselineState" not in r for r in plain) and len(plain) == 3


def test_markdown_lists_at_most_max_rows(monkeypatch):
    from mllint.findings import Finding, Loc, Severity
    from mllint.report import markdown
    from mllint.results import RunResult

    monkeypatch.setattr(markdown, "MAX_ROWS", 3)
    findings = [Finding("SEED001", "single-fixed-seed", Severity.WARNING, Loc(i, 1, i, 2, "t.py"), "m|x") for i in range(1, 6)]
    text = markdown.render(RunResult(findings=findings, files=1, scanned=["t.py"]))
    assert text.count("| warning | `SEED001`") == 3 and "... and 2 more findings, not listed here: this summary lists at most 3 rows" in text
    assert "| m\\|x |" in text  # a pipe in a message does not break the table


def test_markdown_stays_under_githubs_comment_limit_and_keeps_the_counts():
    from mllint.findings import Finding, Loc, Related, Severity
    from mllint.report import markdown
    from mllint.results import RunResult

    findings = []
    for i in range(3000):  # 30 files, long messages, related locations: megabytes if all were listed
        loc = Loc(i % 100 + 1, 1, i % 100 + 1, 2, f"pkg/module_{i // 100:02d}.py")
        related = [Related(Loc(j + 1, 1, j + 1, 1, "pkg/data.py"), "held-out data " * 20) for j in range(5)]
        severity = Severity.ERROR if i % 3 == 0 else Severity.WARNING
        findings.append(Finding("LEAK001", "test-split-in-training", severity, loc, "m " * 400, related=related))
    text = markdown.render(RunResult(findings=findings, files=30, scanned=[]))
    assert len(text) <= markdown.MAX_CHARS < 65_536
    assert "**3000 findings** (1000 errors, 2000 warnings) in 30 files." in text
    assert "| LEAK | 1000 | 2000 | 0 |" in text  # the family counts cover every finding
    listed = len(re.findall(r"^\| \d+:\d+ \| ", text, re.M))
    assert 0 < listed < 3000
    assert f"... and {3000 - listed} more findings (in " in text and "the counts above include them" in text
    assert max(len(line) for line in text.splitlines()) < 2 * markdown.MAX_MESSAGE
