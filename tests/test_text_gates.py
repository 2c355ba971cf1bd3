"""The text gates answer exactly what the regular expressions they replace answer (core/text_gates.py)."""
from __future__ import annotations

import pathlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllint.core.text_gates import averaged_text, mentions_restoration_metric, worth_reading_for_eval

# The expressions as they were written before the gates: the specification.
WORTH_READING = re.compile(
    r"def _*(?:eval|evaluate|evaluation|validate|validation|val|valid|test|testing|benchmark|infer|inference)\w*\(|"
    r"def \w+_(?:eval|evaluate|validate|val|test|inference)\(|_step\(|no_grad|inference_mode|flip|rot90|::-1|"
    r"ensemble|\.eval\(\)|\.train\(|volatile|set_grad_enabled|(?<![\w.])(?:evaluate|validate|test|val|eval)\w*\(|"
    r"(?:^|_|\b)(?i:ema|swa|averag\w*|polyak|shadow)(?:_|$|\b)|EMA|Ema(?![a-z])|SWA|Swa(?![a-z])")
AVERAGED = re.compile(r"(?i:\bema\b|_ema\b|\bema_|\bswa\b|_swa\b|\bswa_)|Ema[A-Z]|EMA|SWA|AveragedModel|"
                      r"ExponentialMovingAverage|[Ss]hadow|[Pp]olyak|\.lerp_\(|\.mul_\([^)]*\)\s*\.add_\(")
METRIC = re.compile(r"psnr|ssim", re.I)

GATES = [(worth_reading_for_eval, WORTH_READING), (averaged_text, AVERAGED), (mentions_restoration_metric, METRIC)]
ROOT = pathlib.Path(__file__).resolve().parent.parent

# Pieces that sit on the edges of the expressions: the words, their neighbours, letters that fold to ASCII
# under re.IGNORECASE (the long s, the Kelvin sign, the dotless and dotted i), other non-ASCII letters.
PIECES = ["ema", "Ema", "EMA", "eMa", "swa", "Swa", "SWA", "averag", "Averaged", "polyak", "shadow", "Shadow",
          "psnr", "PSNR", "ssim", "SsIm", "val", "eval", "test", "validate", "evaluate", "infer", "benchmark",
          "def ", "(", ")", ".", "_", " ", "\n", "x", "Z", "1", "é", "\u017f", "\u212a", "\u0131", "\u0130",
          "\u00e9ma", "step", "mul_(", ".add_(", "lerp_", "no_grad", "flip", "::-1", "m", "a", "s", "w", "i", "k"]


@pytest.mark.parametrize("gate,reference", GATES, ids=["worth", "averaged", "metric"])
def test_gates_agree_with_the_expressions_on_the_shipped_code(gate, reference):
    texts = [p.read_text(encoding="utf-8", errors="replace")
             for folder in ("fixtures", "mllint", "tests", "rules") for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(texts) > 100
    answers = [(gate(text), bool(reference.search(text))) for text in texts]
    assert all(mine == theirs for mine, theirs in answers)
    assert any(mine for mine, _ in answers) and not all(mine for mine, _ in answers)  # both answers occur


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_gates_agree_with_the_expressions_on_random_text(text):
    for gate, reference in GATES:
        assert gate(text) == bool(reference.search(text)), (gate.__name__, text)


@pytest.mark.parametrize("text,expected", [
    ("x = ema_model(x)", True), ("model_ema.update()", True), ("_ema_", False), ("schema = 1", False),
    ("remaining", False), ("EmaV2", True), ("Emacs", False), ("net.mul_(d).add_(p)", True), ("EMA", True),
])
def test_averaged_text_examples(text, expected):
    assert averaged_text(text) is expected
