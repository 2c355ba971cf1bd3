"""Configuration: `[tool.mllint]` in pyproject.toml or a top-level mllint.toml, found by walking up.

Every key is validated here; an unknown key or a bad value is a ConfigError (exit 2 with a clear
message), never a traceback.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as _toml

from .findings import Severity

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", "__pycache__", "build", "dist",
    "node_modules", ".tox", ".nox", ".eggs", "*.egg-info", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".mllint_cache", "site-packages", ".ipynb_checkpoints", "__pypackages__",
)
DEFAULT_HELD_OUT_SPLITS = ("test", "testing", "heldout", "held_out", "holdout")

# Keys of the older, unrelated `mllint` project-quality grader (bvobart/mllint).
_LEGACY_KEYS = {"rules", "code-quality", "git", "testing", "dependencies", "ci", "template"}


class ConfigError(Exception):
    pass


# Keys that configure one family's analysis: key -> family. Analyses read them through one accessor,
# `ctx.options(family)` in a worker and `project.options(family)` in the project phase.
FAMILY_KEYS: dict[str, str] = {"held-out-splits": "LEAK", "hparam-modules": "HPARAM"}


@dataclass(frozen=True)
class FamilyOptions:
    """Per-family options, hashable (they are part of what the per-file analysis depends on)."""

    items: tuple = ()  # ((family, key, value), ...), values as tuples

    def __call__(self, family: str) -> dict[str, Any]:
        return {key: value for fam, key, value in self.items if fam == family}


@dataclass
class Config:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    fail_on: Severity = Severity.WARNING
    held_out_splits: list[str] = field(default_factory=lambda: list(DEFAULT_HELD_OUT_SPLITS))
    max_file_size: int = 2 * 1024 * 1024
    hparam_modules: list[str] = field(default_factory=list)  # HPARAM: modules whose named values are the config
    probe: dict[str, Any] = field(default_factory=dict)  # [tool.mllint.probe]: where `mllint probe` runs (PROBE_KEYS)
    source: str | None = None  # the file this configuration came from

    def fingerprint(self) -> str:
        """What the per-file analysis depends on (for the cache key)."""
        return repr((self.family_options().items, self.max_file_size))

    def family_options(self) -> FamilyOptions:
        items = []
        for key, family in sorted(FAMILY_KEYS.items()):
            value = getattr(self, _KEYS[key][0])
            items.append((family, key, tuple(value) if isinstance(value, list) else value))
        return FamilyOptions(tuple(items))


# key -> (attribute, kind)
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("select", "codes"),
    "ignore": ("ignore", "codes"),
    "extend-select": ("extend_select", "codes"),
    "per-file-ignores": ("per_file_ignores", "glob-codes"),
    "exclude": ("exclude", "strings"),
    "extend-exclude": ("extend_exclude", "strings"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "fail-on": ("fail_on", "severity"),
    "held-out-splits": ("held_out_splits", "strings"),
    "max-file-size": ("max_file_size", "positive-int"),
    "hparam-modules": ("hparam_modules", "strings"),
    "probe": ("probe", "probe-table"),
}

# [tool.mllint.probe]: the executor of `mllint probe` runs and the resources of each run (mllint/probe/executors.py)
PROBE_KEYS: dict[str, str] = {
    "executor": "executor", "ray-address": "string", "partition": "string", "time": "minutes", "gpus": "count",
    "cpus": "positive-int", "mem-gb": "positive-number", "log-folder": "string", "slurm-parameters": "table",
}
EXECUTORS = ("local", "ray", "slurm")


def slurm_minutes(value: Any) -> int:
    """Minutes from an int or SLURM's time formats (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS), rounded up."""
    import re

    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if not match:
        raise ValueError(f"{value!r} is not a time: minutes, or HH:MM:SS / D-HH:MM as SLURM writes it")
    days, first, second, third = (int(g) if g else None for g in match.groups())
    if days is not None:  # D-HH[:MM[:SS]]
        seconds = days * 86400 + first * 3600 + (second or 0) * 60 + (third or 0)
    elif third is not None:  # HH:MM:SS
        seconds = first * 3600 + second * 60 + third
    elif second is not None:  # MM:SS
        seconds = first * 60 + second
    else:
        seconds = first * 60
    if seconds <= 0:
        raise ValueError(f"{value!r} is not a positive time")
    return -(-seconds // 60)


def _probe_table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError("`probe` must be a table ([tool.mllint.probe])")
    out: dict[str, Any] = {}
    for key, item in value.items():
        kind = PROBE_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"unknown key `probe.{key}` (known keys: {', '.join(sorted(PROBE_KEYS))})")
        name = f"probe.{key}"
        if kind == "executor":
            if item not in EXECUTORS:
                raise ConfigError(f"`{name}` must be one of {', '.join(repr(e) for e in EXECUTORS)}")
        elif kind == "string":
            if not isinstance(item, str) or not item:
                raise ConfigError(f"`{name}` must be a non-empty string")
        elif kind == "minutes":
            try:
                item = slurm_minutes(item)
            except ValueError as exc:
                raise ConfigError(f"`{name}`: {exc}") from None
        elif kind == "count":
            if not isinstance(item, int) or isinstance(item, bool) or item < 0:
                raise ConfigError(f"`{name}` must be an integer >= 0")
        elif kind == "positive-number":
            if not isinstance(item, (int, float)) or isinstance(item, bool) or item <= 0:
                raise ConfigError(f"`{name}` must be a positive number")
        elif kind == "table":
            if not isinstance(item, dict) or not all(isinstance(v, (str, int, float, bool)) for v in item.values()):
                raise ConfigError(f"`{name}` must be a table of sbatch options, "
                                  f"e.g. {{ account = \"ml\", qos = \"high\" }}")
            item = dict(item)
        else:
            item = _coerce(name, kind, item)
        out[key] = item
    return out


def _check_codes(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of rule codes or prefixes, e.g. [\"SEED\", \"LEAK001\"]")
    for code in value:
        if not validate_selector(code):
            raise ConfigError(f"`{key}`: {code!r} is not a rule code or prefix (e.g. SEED, SEED001, ALL)")
    return [v.upper() for v in value]


def validate_selector(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"ALL|[A-Za-z]+[0-9]{0,3}", text))


def _coerce(key: str, kind: str, value: Any) -> Any:
    if kind == "codes":
        return _check_codes(key, value)
    if kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"`{key}` must be a list of strings")
        return list(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"`{key}` must be true or false")
        return value
    if kind == "severity":
        if not isinstance(value, str):
            raise ConfigError(f"`{key}` must be one of \"error\", \"warning\", \"info\"")
        try:
            return Severity.parse(value)
        except ValueError as exc:
            raise ConfigError(f"`{key}`: {exc}") from None
    if kind == "positive-int":
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"`{key}` must be a positive integer")
        return value
    if kind == "probe-table":
        return _probe_table(value)
    if kind == "glob-codes":
        if not isinstance(value, dict):
            raise ConfigError(f"`{key}` must be a table of glob = [codes]")
        return {str(glob): _check_codes(f"{key}.{glob}", codes) for glob, codes in value.items()}
    raise AssertionError(kind)


def from_table(table: dict, source: str) -> Config:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: the mllint configuration must be a table")
    legacy = sorted(set(table) & _LEGACY_KEYS)
    if legacy:
        raise ConfigError(
            f"{source}: [tool.mllint] has key(s) {', '.join(legacy)} of the older, unrelated `mllint` "
            "project-quality grader (bvobart/mllint). This mllint (mllint-redflags) lints ML training code; "
            "rename that table or move this tool's settings to mllint.toml."
        )
    config = Config(source=source)
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{source}: unknown key `{key}` in mllint configuration (known keys: {known})")
        attr, kind = _KEYS[key]
        setattr(config, attr, _coerce(key, kind, value))
    return config


def load_file(path: Path) -> Config:
    try:
        data = _toml.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc}") from None
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("mllint")
        if table is None:
            raise ConfigError(f"{path} has no [tool.mllint] table")
        return from_table(table, str(path))
    if "tool" in data and isinstance(data["tool"], dict) and "mllint" in data["tool"] and len(data) == 1:
        return from_table(data["tool"]["mllint"], str(path))
    return from_table(data, str(path))


def find_config(start: Path) -> Path | None:
    """The nearest mllint.toml, or pyproject.toml with a [tool.mllint] table, at or above start."""
    current = start if start.is_dir() else start.parent
    current = Path(os.path.abspath(current))
    for folder in (current, *current.parents):
        candidate = folder / "mllint.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if "[tool.mllint" in text:
                return candidate
    return None


def load_config(explicit: str | None, start: Path) -> Config:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"configuration file not found: {explicit}")
        return load_file(path)
    found = find_config(start)
    return load_file(found) if found else Config()
