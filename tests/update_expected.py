"""Rewrite fixtures/*/expected.txt from mllint's current output. Review the diff before committing.

usage: python tests/update_expected.py [FIXTURE_NAME ...]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_support import fixture_dirs, finding_lines  # noqa: E402

wanted = set(sys.argv[1:])
for folder in fixture_dirs():
    if wanted and folder.name not in wanted:
        continue
    lines = finding_lines(folder)
    (folder / "expected.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{folder.name}: {len(lines)} finding(s)")
