"""What a project-relative path says about its module: its dotted module name and whether it is a unit test (from
the path, and for a file only named like one, from its text). Kept free of libcst: the engine asks these on runs
that read every result from the cache."""
from __future__ import annotations

import fnmatch
import re

TEST_DIRS = {"tests", "test", "testing", "unittests", "unit_tests"}
TEST_FILES = ("test_*.py", "*_test.py", "conftest.py", "test_*.ipynb")


def is_test_path(rel: str) -> bool:
    """Unit tests, not evaluation scripts: `tests/x.py` and `test_x.py` are tests, `test.py` is not."""
    parts = rel.split("/")
    if any(p in TEST_DIRS for p in parts[:-1]):
        return True
    return any(fnmatch.fnmatch(parts[-1], pattern) for pattern in TEST_FILES)


# What a unit test module is made of: a test framework imported, or test functions/classes that are collected rather
# than run from a command line (an evaluation script parses its arguments).
_FRAMEWORK = re.compile(r"^[ \t]*(?:import|from)[ \t]+(?:pytest|unittest|nose|nose2|hypothesis|torch\.testing)\b", re.M)
_TEST_DEF = re.compile(r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+test_\w+[ \t]*\(|class[ \t]+Test\w*\b)", re.M)
_COMMAND_LINE = re.compile(r"\b(?:argparse|sys\.argv|click\.command|fire\.Fire|absl\.flags|absl\.app|docopt)\b")


def is_unit_test(rel: str, text: str | None) -> bool:
    """A unit test by its folder (`tests/`) or `conftest.py`; a file only *named* like one (`test_x.py`) is one when
    its text is: research repositories name their evaluation scripts `test_model.py` too, and those are linted."""
    if not is_test_path(rel):
        return False
    parts = rel.split("/")
    if any(p in TEST_DIRS for p in parts[:-1]) or parts[-1] == "conftest.py" or text is None:
        return True
    return bool(_FRAMEWORK.search(text)) or bool(_TEST_DEF.search(text)) and not _COMMAND_LINE.search(text)


def module_dotted_name(rel_path: str) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg`."""
    stem = rel_path.rsplit(".", 1)[0] if rel_path.endswith((".py", ".ipynb")) else rel_path
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
