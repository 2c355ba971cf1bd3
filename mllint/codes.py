"""Rule codes as users type them: is a code or prefix known, and which known one did they mean?"""
from __future__ import annotations

from typing import Iterable


def is_known(selector: str, codes: Iterable[str]) -> bool:
    """ALL, a rule code, or a prefix of one (LEAK, SEED00)."""
    selector = selector.upper()
    return selector == "ALL" or any(code.startswith(selector) for code in codes)


def did_you_mean(selector: str, codes: Iterable[str]) -> str:
    """' (did you mean LEAK?)', or '' when nothing is close. Families and codes are both candidates."""
    import difflib

    codes = list(codes)
    candidates = sorted({*codes, *(c.rstrip("0123456789") for c in codes)})
    close = difflib.get_close_matches(selector.upper(), candidates, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def unknown_message(selector: str, codes: Iterable[str]) -> str:
    codes = list(codes)
    return f"unknown rule code or prefix {selector!r}{did_you_mean(selector, codes)}; `mllint rules` lists them"
