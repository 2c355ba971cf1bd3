"""Cheap questions about a module's raw text, asked before a family walks its tree.

Each gate answers exactly what a regular expression would (the tests compare them with those expressions
on real code and on random text), but faster: Python's `re` tries every alternative of a pattern that has
no literal prefix at every position of the text, so an alternation with `\\b` or `(?i)` scans a 200 KB model
file at about 10 MB/s, while `str.find` and `in` run at memory speed and leave the regex only the few
places where a word occurs.
"""
from __future__ import annotations

import re

_TAIL_CALL = re.compile(r"\w*\(")


def _is_word(char: str) -> bool:
    """`\\w` of Python's `re` on str patterns: alphanumeric (Unicode) or underscore."""
    return char == "_" or char.isalnum()


# Letters outside ASCII that re.IGNORECASE matches to an ASCII letter: the long s, the Kelvin sign, the dotless
# and the dotted i. A text without them holds a word in any case exactly when its str.lower() holds the word.
_FOLDS_TO_ASCII = ("\u017f", "\u212a", "\u0131", "\u0130")


def _lowered(text: str) -> str | None:
    """text.lower() with the same length and the same matches as re.IGNORECASE has on the ASCII words asked
    about, or None when the text holds a letter that folds otherwise (then the regex decides)."""
    if not text.isascii() and any(char in text for char in _FOLDS_TO_ASCII):
        return None
    return text.lower()


def _occurrences(lower: str, word: str):
    i = lower.find(word)
    while i != -1:
        yield i
        i = lower.find(word, i + 1)


def _separated(text: str, lower: str, words: tuple[str, ...], open_ended: tuple[str, ...] = ()) -> bool:
    r"""`(?:^|_|\b)(?i:word)(?:_|$|\b)` for each word, and `(?:^|_|\b)(?i:word)\w*` for the open-ended ones."""
    for word in (*words, *open_ended):
        for i in _occurrences(lower, word):
            if i and text[i - 1] != "_" and _is_word(text[i - 1]):
                continue
            end = i + len(word)
            if word in open_ended or end == len(text) or text[end] == "_" or not _is_word(text[end]):
                return True
    return False


# --- EVAL: is a module worth a walk of every function? ---------------------------------------------------
_EVAL_LITERALS = ("_step(", "no_grad", "inference_mode", "flip", "rot90", "::-1", "ensemble", ".eval()",
                  ".train(", "volatile", "set_grad_enabled", "EMA", "SWA")
_EVAL_DEF = re.compile(r"def (?:_*(?:eval|val|test|benchmark|infer)\w*|\w+_(?:eval|evaluate|validate|val|test|inference))\(")
_AVERAGING_WORD = re.compile(r"(?:^|_|\b)(?i:ema|swa|averag\w*|polyak|shadow)(?:_|$|\b)")


def _evaluation_call(text: str) -> bool:
    """`(?<![\\w.])(?:evaluate|validate|test|val|eval)\\w*\\(`: a call of an evaluation-like name."""
    for word in ("val", "test"):
        i = text.find(word)
        while i != -1:
            start = i - 1 if word == "val" and i and text[i - 1] == "e" else i  # `eval...` and `evaluate...`
            if (start == 0 or text[start - 1] != "." and not _is_word(text[start - 1])) and \
                    _TAIL_CALL.match(text, start):
                return True
            i = text.find(word, i + 1)
    return False


def _capitalised(text: str, word: str) -> bool:
    """`Ema(?![a-z])`: the word not followed by a lower-case ASCII letter."""
    i = text.find(word)
    while i != -1:
        end = i + len(word)
        if end >= len(text) or not "a" <= text[end] <= "z":
            return True
        i = text.find(word, end)
    return False


def worth_reading_for_eval(text: str) -> bool:
    """Evaluation-like definitions or calls, gradient or mode switches, flips, ensembles, averaged weights:
    the text of `def _*(eval|validate|test|...)\\w*(`, `_step(`, `no_grad`, `flip`, `.eval()`, `ema_`, `EMA`..."""
    if any(word in text for word in _EVAL_LITERALS):
        return True
    if _EVAL_DEF.search(text) or _evaluation_call(text):
        return True
    if _capitalised(text, "Ema") or _capitalised(text, "Swa"):
        return True
    lower = _lowered(text)
    if lower is None:
        return bool(_AVERAGING_WORD.search(text))
    return _separated(text, lower, ("ema", "swa", "polyak", "shadow"), ("averag",))


# --- EVAL: may averaged weights be built or handed on here (the full data flow runs there)? ---------------
# Stricter than the walk's gate: `AverageMeter` and `average_precision` are everywhere in training code.
_AVERAGED_LITERALS = ("EMA", "SWA", "AveragedModel", "ExponentialMovingAverage", "Shadow", "shadow", "Polyak",
                      "polyak", ".lerp_(")
_MUL_ADD = re.compile(r"\.mul_\([^)]*\)\s*\.add_\(")
_AVERAGED_WORD = re.compile(r"(?i:\bema\b|_ema\b|\bema_|\bswa\b|_swa\b|\bswa_)")


def averaged_text(text: str) -> bool:
    """`\\bema\\b`, `_ema`, `ema_`, `swa` in any case, `EmaX`, `EMA`, `SWA`, `AveragedModel`, `shadow`, `polyak`,
    `.lerp_(`, `.mul_(d).add_(`: averaged weights may be built or handed on in this module."""
    if any(word in text for word in _AVERAGED_LITERALS):
        return True
    i = text.find("Ema")
    while i != -1:  # `Ema[A-Z]`
        if i + 3 < len(text) and "A" <= text[i + 3] <= "Z":
            return True
        i = text.find("Ema", i + 3)
    if ".mul_(" in text and _MUL_ADD.search(text):
        return True
    lower = _lowered(text)
    if lower is None:
        return bool(_AVERAGED_WORD.search(text))
    for word in ("ema", "swa"):  # `\bema\b`, `_ema\b`, `\bema_`: a word or a part of a snake_case name
        for i in _occurrences(lower, word):
            before = "_" if i and text[i - 1] == "_" else "" if i == 0 or not _is_word(text[i - 1]) else "w"
            after = "" if i + 3 == len(text) or not _is_word(text[i + 3]) else "_" if text[i + 3] == "_" else "w"
            if before != "w" and after != "w" and (before, after) != ("_", "_"):
                return True
    return False


# --- PREP: a metric of image restoration -------------------------------------------------------------------
_METRIC_NAME = re.compile(r"psnr|ssim", re.I)


def mentions_restoration_metric(text: str) -> bool:
    """`psnr` or `ssim` in any case."""
    lower = _lowered(text)
    if lower is None:
        return bool(_METRIC_NAME.search(text))
    return "psnr" in lower or "ssim" in lower


# --- a keyword regex searched only where a match can start ----------------------------------------------------
def search_at_words(pattern: re.Pattern, text: str, words: tuple[str, ...], starts: tuple[str, ...] = ()) -> bool:
    """`pattern.search(text) is not None`, for a case-insensitive pattern each of whose alternatives starts with
    `\\.`, a quote, `^\\s*` (multi-line), or `\\b` right before a run of word characters that holds one of
    `words` (lower case), or starts at one of `starts` (lower case): `\\.\\w*batch\\w*\\s*=`, `^\\s*\\w*flip\\w*\\s*=`,
    `dict\\(`. Each run of word characters around an occurrence of a word can begin a match only right after the
    character before it (`.` or a quote: the match starts there), at its own start (`\\b`), or after the blanks
    that open its line (the match starts at the line's start; an earlier line's start gives the same match
    from there on). The pattern is tried with `match` at those places only: Python's `re` otherwise tries every
    alternative at every position of the text."""
    lower = _lowered(text)
    if lower is None:
        return pattern.search(text) is not None
    match = pattern.match
    tried: set[int] = set()
    for word in words:
        for i in _occurrences(lower, word):
            w = i
            while w and _is_word(text[w - 1]):
                w -= 1
            if w in tried:
                continue
            tried.add(w)
            if w and match(text, w - 1) or match(text, w):
                return True
            line = text.rfind("\n", 0, w) + 1
            if line < w and text[line:w].isspace() and match(text, line):
                return True
    for start in starts:
        for i in _occurrences(lower, start):
            if match(text, i):
                return True
    return False


# --- PREP: may a script only predict with the project's own weights (prep.extract.infers)? --------------------
def may_infer(text: str) -> bool:
    """A necessary condition of `prep.extract.infers`, which needs a match of `_LOADS_CHECKPOINT`
    (`\\bload_state_dict\\(|\\btorch\\.load\\(|\\.load_from_checkpoint\\(`) and of `_PREDICTS_TEXT`
    (`\\.eval\\(\\)|no_grad|inference_mode`): each match holds one of these literals. `_LOADS_CHECKPOINT`'s
    leading `\\b` leaves `re` no literal to look for first, so it scans a model file at a few MB/s."""
    return ("load_state_dict(" in text or "torch.load(" in text or ".load_from_checkpoint(" in text) and \
        (".eval()" in text or "no_grad" in text or "inference_mode" in text)


# --- PREP: may a module name a loader (prep.loaders._LOADERISH)? --------------------------------------------
_LOADER_PARTS = ("dl", "gen", "iter", "iterator", "batches")


def names_loader(text: str) -> bool:
    """Could an identifier of the text match `(?i)loader|(?:^|_)(?:dl|gen|iter|iterator|batches)(?:_|$|\\d)`
    (`test_loader`, `val_dl`, `batches`, `data_iter2`)? `prep.loaders.loader_uses` gives a fact only for such a
    name. In the text, an identifier's start or end borders on a character that is no word character; so the
    part is bordered by `_`, a non-word character or the text's edge, and followed by `_` or a digit as well."""
    lower = _lowered(text)
    if lower is None:
        return True  # letters that fold otherwise: the extractor decides
    if "loader" in lower:
        return True
    for part in _LOADER_PARTS:
        for i in _occurrences(lower, part):
            if i and text[i - 1] != "_" and _is_word(text[i - 1]):
                continue
            end = i + len(part)
            if end == len(text) or text[end] == "_" or text[end].isdecimal() or not _is_word(text[end]):
                return True
    return False
