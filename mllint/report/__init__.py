"""Reporters: turn sorted findings into text for a terminal, a file, or another tool."""
from __future__ import annotations

from typing import Callable

from . import json_report, text

FORMATS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "json": json_report.render,
}
