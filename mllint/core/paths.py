"""What a project-relative path says about its module, without reading it: its dotted module name and whether it
is a unit test. Kept free of libcst: the engine asks these on runs that read every result from the cache."""
from __future__ import annotations

import fnmatch

TEST_DIRS = {"tests", "test", "testing", "unittests", "unit_tests"}
TEST_FILES = ("test_*.py", "*_test.py", "conftest.py", "test_*.ipynb")


def is_test_path(rel: str) -> bool:
    """Unit tests, not evaluation scripts: `tests/x.py` and `test_x.py` are tests, `test.py` is not."""
    parts = rel.split("/")
    if any(p in TEST_DIRS for p in parts[:-1]):
        return True
    return any(fnmatch.fnmatch(parts[-1], pattern) for pattern in TEST_FILES)


def module_dotted_name(rel_path: str) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod`; `pkg/__init__.py` -> `pkg`."""
    stem = rel_path.rsplit(".", 1)[0] if rel_path.endswith((".py", ".ipynb")) else rel_path
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
