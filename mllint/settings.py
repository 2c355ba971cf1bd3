"""What the per-file analysis depends on besides the file itself (part of every cache key). Kept apart from the
pipeline so that a run that reads every result from the cache never imports the analysis (or libcst)."""
from __future__ import annotations

from dataclasses import dataclass

from .config import FamilyOptions


@dataclass(frozen=True)
class Settings:
    """Everything the per-file analysis depends on besides the file itself."""

    max_file_size: int
    options: FamilyOptions  # per-family options (config.FAMILY_KEYS)
    project_modules: frozenset[str]
    rule_codes: tuple[str, ...]
    extractors: tuple[str, ...]
