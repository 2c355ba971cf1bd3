"""A card as Markdown (for a pull request or a paper's appendix) or JSON."""
from __future__ import annotations

import json

from .card import Card
from .facts import SECTIONS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(cards: list[Card]) -> str:
    out: list[str] = []
    for card in cards:
        title = f"# Recipe: `{card.entry}`" + (f" with `{card.config}`" if card.config else "")
        out += [title, ""]
        for key, heading in SECTIONS:
            rows = card.section(key)
            out.append(f"## {heading}")
            out.append("")
            if not rows:
                out += ["_not found_", ""]
                continue
            out += ["| Field | Value | Origin | Where |", "|---|---|---|---|"]
            out += [f"| {_cell(r.label)} | `{_cell(r.value)}` | {_cell(r.origin)} | {_cell(r.where)} |" for r in rows]
            out.append("")
        if card.notes:
            out += ["## Notes", ""] + [f"- {note}" for note in card.notes] + [""]
    return "\n".join(out).rstrip() + "\n"


def as_json(cards: list[Card]) -> str:
    return json.dumps({"cards": [card.as_dict() for card in cards]}, indent=2, default=str) + "\n"
