"""A notebook's markdown cells, read as comments above the code cell that follows them.

source.py writes each markdown line as a comment marked with PROSE_MARK, so that positions and cells
keep their numbers and the prose sits where a reader sees it: above the code it explains. Prose is not
a code comment, though: a tutorial's markdown almost always has words beyond the code's ("This is
similar to the training described previously"), which would pass for a reason next to a literal. So
prose documents a value only when one of its sentences gives a reason, speaks of the recipe and of the
value ("I am using a small learning rate for Adam: this is based on some research into DCGAN
convergence"); otherwise it is not a comment at all.
"""
from __future__ import annotations

import re

PROSE_MARK = "#\u00b6"  # `#¶`: a markdown line, never written by hand in code

# Prose is looser than a code comment, and tutorials link documentation and invite tuning everywhere ("By
# adjusting the hyperparameters, you should get the loss below 0.4", "It's recommended that you leave
# content_weight = 1"): one sentence must give the reason, speak of the recipe, and speak of the value.
_REASON = re.compile(
    r"paper|arxiv|research|et al\b|based on|according to|original (?:paper|implementation|authors?|work)|"
    r"\bwe (?:found|tuned|chose|picked)\b|found (?:that|to)|works? best|worked best|diverg|unstable|stabili[sz]|"
    r"table \d|appendix",
    re.I,
)
_RECIPE = re.compile(
    r"learning[ -]rate|\blr\b|momentum|weight[ -]decay|\bbetas?\d?\b|adam|sgd|optimi[sz]er|hyper-?param|"
    r"schedul|warm-?up|epoch|batch[ -]size|dropout|clipp?|temperature|decay|\bema\b|smoothing|"
    r"loss weight|\blambda\b|\balpha\b|\bgamma\b|penalty|regulari[sz]",
    re.I,
)
_VALUE = re.compile(r"\d|\b(?:small|smaller|large|larger|low|lower|high|higher|value|values)\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LINK = re.compile(r"\]\([^)]*\)|https?://\S+")  # a link's address (its digits are no value)


def is_prose(comment: str) -> bool:
    return comment.startswith(PROSE_MARK)


def justifies(prose: str) -> bool:
    """Does prose (markdown lines, marked or not) give a reason for the recipe (see the module's docstring)?"""
    text = _LINK.sub("]", prose.replace(PROSE_MARK, " "))
    return any(_REASON.search(sentence) and _RECIPE.search(sentence) and _VALUE.search(sentence)
               for sentence in _SENTENCE_END.split(text))


def fold_prose(comments: list[str]) -> list[str]:
    """The comments above a statement with the markdown lines among them folded into one, kept only when
    that prose justifies the recipe."""
    prose = [c[len(PROSE_MARK):].strip() for c in comments if is_prose(c)]
    if not prose:
        return comments
    code = [c for c in comments if not is_prose(c)]
    text = " ".join(line for line in prose if line)
    return [f"{PROSE_MARK} {text}", *code] if justifies(text) else code
