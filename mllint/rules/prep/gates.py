"""Exact gates in front of PREP's extractors: cheap questions whose "no" proves that the extractor gives no fact.

Each gate is a necessary condition of the extractor's result, derived from the code it guards (the comment of
each says how); it never changes a fact, only skips the scan of a module that cannot give one.
"""
from __future__ import annotations

import re

import libcst as cst

_SMALL_KEYS = ("cifar10", "svhn", "mnist")  # the keys of statistics.DATASET_NAMES for the small datasets
# ("cifar100" holds "cifar10", "fashionmnist" holds "mnist")
_NOT_ALNUM = re.compile(r"[\W_]+")  # `re`'s \w on str is exactly str.isalnum() or "_"


def names_small_dataset(text: str) -> bool:
    """Could an identifier of this text be a small dataset's constructor for `statistics.dataset_of`
    (`CIFAR10`, `Cifar_100`, `SVHN`, `FashionMNIST`)? dataset_of lowers its text and keeps the alphanumeric
    characters; an identifier is a run of the module's text, so its key is a run of the text lowered and
    squeezed the same way (lowering maps each character on its own, but for the Greek final sigma, which is
    no ASCII letter)."""
    lower = text.lower()
    if any(key in lower for key in _SMALL_KEYS):
        return True
    return any(key in _NOT_ALNUM.sub("", lower) for key in _SMALL_KEYS)


def binds_small_statistics(module: cst.Module, index) -> bool:
    """Is a name bound, outside every function and class, to a tuple or list of numbers that `statistics.match`
    takes for a small dataset's statistics? `extract.exported_statistics` keeps only the statistics uses whose
    owner is the module (the scan's owner changes at every top-level `def` and `class`), whose statement is a
    single-target assignment and whose node is the assigned value itself: that value is a `Tuple`/`List` whose
    `numbers` `match` one of the small datasets. This asks the same of every assignment outside definitions."""
    from .extract import _SMALL
    from .statistics import match, numbers

    order, end = index.order, index.end
    skip = (cst.FunctionDef, cst.ClassDef)
    i, stop = 0, len(order)
    while i < stop:
        node = order[i]
        kind = type(node)
        if kind in skip:
            i = end[i]
            continue
        if kind is cst.Assign and type(node.value) in (cst.Tuple, cst.List):
            values = numbers(node.value)
            matched = match(values) if values is not None else None
            if matched is not None and matched.stats.dataset in _SMALL:
                return True
        i += 1
    return False
