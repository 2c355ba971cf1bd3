"""Rewrite fixtures/*/expected.txt (the snapshots) from mllint's current output, and list the findings that
no `# expect:` marker announces (or markers no finding answers). Review the diff before committing.

usage: python tests/update_expected.py [FIXTURE_NAME ...]
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_support import findings, fixture_dirs, markable, marked, snapshot_lines  # noqa: E402

wanted = set(sys.argv[1:])
for folder in fixture_dirs():
    if wanted and folder.name not in wanted:
        continue
    found = findings(folder)
    lines = snapshot_lines(found)
    (folder / "expected.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    reported = sorted(re.sub(r":\d+: ([A-Z]+\d{3}) .*$", r": \1", line) for line in lines
                      if not line.startswith(" ") and markable(line))
    markers = marked(folder)
    print(f"{folder.name}: {len(found)} finding(s)")
    for line in sorted(set(reported) - set(markers)):
        print(f"  no marker for {line}: add `# expect: {line.rsplit(' ', 1)[1]}` to that line")
    for line in sorted(set(markers) - set(reported)):
        print(f"  marker without a finding: {line}")
