"""Reporters: turn sorted findings into text for a terminal, a file, or another tool.

Each format is `render(result, **options) -> str` in its own module, imported only when chosen.
"""
from __future__ import annotations

from importlib import import_module
from typing import Callable

# format -> (module, function)
_FORMATS: dict[str, tuple[str, str]] = {
    "text": ("text", "render"),
    "json": ("json_report", "render"),
    "json-full": ("json_report", "render_full"),
    "sarif": ("sarif", "render"),
    "github": ("github", "render"),
    "rdjson": ("rdjson", "render"),
    "junit": ("junit", "render"),
    "markdown": ("markdown", "render"),
}
NAMES = tuple(_FORMATS)
MACHINE = frozenset(NAMES) - {"text"}  # formats a program reads: no progress output, no colour


def renderer(name: str) -> Callable[..., str]:
    module, function = _FORMATS[name]
    return getattr(import_module(f"{__name__}.{module}"), function)


class _Formats(dict):
    """`FORMATS[name]` for older callers: the renderer, loaded on first use."""

    def __missing__(self, name: str) -> Callable[..., str]:
        if name not in _FORMATS:
            raise KeyError(name)
        self[name] = renderer(name)
        return self[name]


FORMATS: dict[str, Callable[..., str]] = _Formats()
