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
    no ASCII letter). In ASCII text the only other character of an identifier is the underscore."""
    lower = text.lower()
    if any(key in lower for key in _SMALL_KEYS):
        return True
    squeezed = lower.replace("_", "") if text.isascii() else _NOT_ALNUM.sub("", lower)
    return any(key in squeezed for key in _SMALL_KEYS)


def binds_small_statistics(module: cst.Module, index) -> bool:
    """Is a name bound, outside every function and class, to a tuple or list of numbers that `statistics.match`
    takes for a small dataset's statistics? `extract.exported_statistics` keeps only the statistics uses whose
    owner is the module (the scan's owner changes at every top-level `def` and `class`), whose statement is a
    single-target assignment and whose node is the assigned value itself: that value is a `Tuple`/`List` whose
    `numbers` `match` one of the small datasets. This asks the same of every assignment outside definitions
    (an assignment stands in a statement line or a one-line suite; no statement stands in an expression)."""
    from .extract import _SMALL
    from .statistics import match, numbers

    order, end = index.order, index.end
    skip = (cst.FunctionDef, cst.ClassDef)  # their statements have another owner
    lines = (cst.SimpleStatementLine, cst.SimpleStatementSuite)  # where an assignment stands
    i, stop = 0, len(order)
    while i < stop:
        node = order[i]
        kind = type(node)
        if kind in lines:
            for small in node.body:
                if type(small) is cst.Assign and type(small.value) in (cst.Tuple, cst.List):
                    values = numbers(small.value)
                    matched = match(values) if values is not None else None
                    if matched is not None and matched.stats.dataset in _SMALL:
                        return True
            i = end[i]  # a statement line holds no further statement
        elif kind in skip:
            i = end[i]
        else:
            i += 1
    return False


def binds_pipeline(module: cst.Module) -> bool:
    """Is a name bound, in a top-level statement, to a `Normalize(...)` or `Compose(...)` call, or to a dict display
    (a table of pipelines, `data_transform = {"train": Compose([...]), ...}`)? `extract.exported_pipelines` reads
    only the module's own statements, and only those of these shapes."""
    for stmt in module.body:
        if type(stmt) is not cst.SimpleStatementLine or type(stmt.body[0]) is not cst.Assign:
            continue
        assign = stmt.body[0]
        if len(assign.targets) != 1 or type(assign.targets[0].target) is not cst.Name:
            continue
        value = assign.value
        if type(value) is cst.Dict:
            return True
        if type(value) is not cst.Call:
            continue
        func = value.func
        short = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if short in ("Normalize", "Compose"):
            return True
    return False
