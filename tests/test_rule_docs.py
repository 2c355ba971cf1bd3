"""Every rule has a page in rules/, and the pages' Bad/Good examples really behave as documented."""
import re
from pathlib import Path

import pytest

from mllint.config import Config
from mllint.engine import run
from mllint.rules import all_rules

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
FENCE = re.compile(r"```(\w+)([^\n]*)\n(.*?)```", re.S)


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def example_files(section: str) -> dict[str, str]:
    files = {}
    for lang, info, body in FENCE.findall(section):
        title = re.search(r'title="([^"]+)"', info)
        name = title.group(1) if title else ("train.py" if lang == "python" else None)
        assert name, f"a non-Python example needs a title: {info!r}"
        files[name] = body
    return files


def lint_example(tmp_path: Path, files: dict[str, str], code: str) -> list[str]:
    (tmp_path / "README.md").write_text("example\n")
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    result = run([str(tmp_path)], Config(), [code], [], jobs=1)
    return [f.code for f in result.findings]


PAGES = sorted(all_rules())


@pytest.mark.parametrize("code", PAGES)
def test_every_rule_has_a_page(code):
    page = RULES_DIR / f"{code}.md"
    assert page.is_file(), f"rules/{code}.md is missing"
    text = page.read_text(encoding="utf-8")
    rule = all_rules()[code]
    assert text.startswith(f"# {code}: {rule.name}\n")
    assert f"**Severity:** {rule.severity}" in text
    assert {"What it flags", "Why it matters"} <= set(sections(text))


@pytest.mark.parametrize("code", [c for c in PAGES if "Bad" in sections((RULES_DIR / f"{c}.md").read_text())])
def test_bad_example_is_flagged_and_good_example_is_not(code, tmp_path):
    parts = sections((RULES_DIR / f"{code}.md").read_text(encoding="utf-8"))
    assert "Good" in parts, "a page with a Bad example needs a Good one"
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    assert code in lint_example(bad, example_files(parts["Bad"]), code)
    assert code not in lint_example(good, example_files(parts["Good"]), code)


def test_family_rules_have_examples():
    for code in PAGES:
        if not code.startswith("FILE"):
            assert "Bad" in sections((RULES_DIR / f"{code}.md").read_text()), code
