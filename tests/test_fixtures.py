"""Every fixture folder's findings are the ones its `# expect: CODE` markers announce, on those lines, and match
its snapshot (expected.txt: location, code, message, related locations) exactly; fixtures do not leak into each
other. `python tests/update_expected.py NAME` rewrites a snapshot and lists markers that disagree."""
import json
import subprocess
import sys

import pytest

import re

from fixture_support import FIXTURES, expected_lines, findings, fixture_dirs, in_scope, markable, marked, snapshot, \
    snapshot_lines

FOLDERS = fixture_dirs()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_fixture_matches_markers_and_snapshot(folder):
    lines = snapshot_lines(findings(folder))
    reported = sorted(re.sub(r":\d+: ([A-Z]+\d{3}) .*$", r": \1", line) for line in lines
                      if not line.startswith(" ") and markable(line))
    assert reported == marked(folder), "the findings are not on the lines that `# expect:` markers name"
    assert lines == snapshot(folder), "messages or related locations changed: review, then update_expected.py"


def test_negative_fixtures_are_clean_and_positive_ones_are_not():
    for folder in FOLDERS:
        if "_neg_" in folder.name:
            assert expected_lines(folder) == [], folder.name
        if "_pos_" in folder.name:
            assert expected_lines(folder), folder.name


def test_whole_fixtures_tree_equals_the_sum_of_its_folders():
    """Linting fixtures/ at once must give each folder's own findings: evidence stays in its unit."""
    proc = subprocess.run(
        [sys.executable, "-m", "mllint", "--no-cache", "--format", "json", "fixtures"],
        cwd=FIXTURES.parent, capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stderr
    got = sorted(
        f"{f['path']}:{'cell %d:' % f['cell'] if 'cell' in f else ''}{f['line']}:{f['column']}: {f['code']}"
        for f in json.loads(proc.stdout)
        if in_scope(f["code"], FIXTURES / f["path"].split("/")[1])
    )
    want = sorted(f"fixtures/{folder.name}/{line}" for folder in FOLDERS for line in expected_lines(folder))
    assert got == want
