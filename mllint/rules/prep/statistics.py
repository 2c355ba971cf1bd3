"""Published normalisation statistics of well-known datasets, and widely copied wrong ones (PREP).

Every entry says where it comes from; rules/PREP003.md shows the same table. Values are per channel in RGB
order on a [0, 1] scale; `match` also recognises them scaled to [0, 255] and in BGR order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ...core.configs import data_config_text


@dataclass(frozen=True)
class Stats:
    dataset: str  # display name
    kind: str  # "mean" or "std"
    values: tuple[float, ...]
    source: str
    wrong: str = ""  # for a known wrong copy: the published values it replaces, and why


PUBLISHED = (
    Stats("ImageNet", "mean", (0.485, 0.456, 0.406), "torchvision models documentation"),
    Stats("ImageNet", "std", (0.229, 0.224, 0.225), "torchvision models documentation"),
    # the same images measured by Caffe and Detectron, whose weights (VGG, SSD, Faster R-CNN) take BGR on 0-255:
    # written as (104, 117, 123) and (102.9801, 115.9465, 122.7717) in BGR order
    Stats("ImageNet", "mean", (122.67891434 / 255, 116.66876762 / 255, 104.00698793 / 255),
          "Caffe's ILSVRC-2012 mean image, per channel (VGG, SSD: (104, 117, 123) in BGR)"),
    Stats("ImageNet", "mean", (122.7717 / 255, 115.9465 / 255, 102.9801 / 255),
          "Detectron's PIXEL_MEANS for its Caffe2 ImageNet weights, (102.9801, 115.9465, 122.7717) in BGR"),
    Stats("CIFAR-10", "mean", (0.4914, 0.4822, 0.4465), "per-channel mean of the 50,000 training images"),
    Stats("CIFAR-10", "std", (0.2470, 0.2435, 0.2616), "per-channel std of the 50,000 training images"),
    Stats("CIFAR-100", "mean", (0.5071, 0.4865, 0.4409), "per-channel mean of the 50,000 training images"),
    Stats("CIFAR-100", "std", (0.2673, 0.2564, 0.2762), "per-channel std of the 50,000 training images"),
    Stats("SVHN", "mean", (0.4377, 0.4438, 0.4728), "per-channel mean of the 73,257 training images"),
    Stats("SVHN", "std", (0.1980, 0.2010, 0.1970), "per-channel std of the 73,257 training images"),
    Stats("MNIST", "mean", (0.1307,), "mean of the 60,000 training images"),
    Stats("MNIST", "std", (0.3081,), "std of the 60,000 training images"),
    Stats("Fashion-MNIST", "mean", (0.2860,), "mean of the 60,000 training images"),
    Stats("Fashion-MNIST", "std", (0.3530,), "std of the 60,000 training images"),
)
KNOWN_WRONG = (
    Stats("CIFAR-10", "std", (0.2023, 0.1994, 0.2010),
          "kuangliu/pytorch-cifar, issue #19 (copied into many CIFAR repositories)",
          "the mean of per-image standard deviations, not the dataset's per-channel std (0.2470, 0.2435, 0.2616)"),
)
# dataset constructors and option values -> display name
DATASET_NAMES = {
    "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "svhn": "SVHN", "mnist": "MNIST",
    "fashionmnist": "Fashion-MNIST", "imagenet": "ImageNet",
}


def dataset_of(text: str) -> str | None:
    """`CIFAR100`, `'cifar-100'`, `"svhn"` -> the display name of a known dataset."""
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    return DATASET_NAMES.get(key)


def numbers(expr: cst.BaseExpression) -> tuple[float, ...] | None:
    """A tuple/list display of 1 or 3 numeric literals, possibly wrapped in np.array/torch.tensor/..."""
    if isinstance(expr, cst.Call) and expr.args and expr.args[0].keyword is None:
        expr = expr.args[0].value
    if not isinstance(expr, (cst.Tuple, cst.List)) or len(expr.elements) not in (1, 3):
        return None
    out = []
    for element in expr.elements:
        value = _number(element.value)
        if value is None:
            return None
        out.append(value)
    return tuple(out)


def _number(expr: cst.BaseExpression) -> float | None:
    if isinstance(expr, (cst.Float, cst.Integer)):
        try:
            return float(expr.value.replace("_", "")) if isinstance(expr, cst.Float) else float(int(expr.value, 0))
        except ValueError:
            return None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        left, right = _number(expr.left), _number(expr.right)
        return left / right if left is not None and right else None
    return None


@dataclass(frozen=True)
class Matched:
    stats: Stats
    bgr: bool  # written in BGR order
    scale: float  # 1 or 255
    typo: bool = False  # a published 3-decimal constant with a digit changed (0.228 for ImageNet's 0.229)


def match(values: tuple[float, ...]) -> Matched | None:
    """The known statistics these values are (within rounding), in either channel order and scale."""
    for table in (KNOWN_WRONG, PUBLISHED):
        for stats in table:
            if len(stats.values) != len(values):
                continue
            for scale in (1.0, 255.0):
                for bgr in (False, True) if len(values) == 3 else (False,):
                    expected = stats.values[::-1] if bgr else stats.values
                    if all(abs(v - e * scale) <= 0.0025 * scale for v, e in zip(values, expected)):
                        return Matched(stats, bgr, scale, table is PUBLISHED and _mistyped(values, expected, scale))
    return None


def _mistyped(values: tuple, expected: tuple, scale: float) -> bool:
    """Published constants with three decimals (ImageNet's) are copied, not recomputed: a value written with the
    same precision that differs in a digit is a typo. Four-decimal constants (CIFAR) have rounding variants."""
    if scale != 1.0 or any(round(e, 3) != e for e in expected):
        return False
    return any(round(v, 3) == v and abs(v - e) > 1e-9 for v, e in zip(values, expected))


def is_symmetric(values: tuple[float, ...]) -> bool:
    """(0.5, 0.5, 0.5): the same whatever the channel order."""
    return len(values) == 3 and abs(values[0] - values[2]) < 1e-6


def shown(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


# --- statistics written in config files -------------------------------------------------------------
_NUM = r"\s*(-?\d*\.?\d+(?:[eE]-?\d+)?)\s*"
# `std: [0.2023, 0.1994, 0.2010]`, `"std": [...]`, `std = [...]` (TOML), `{mean: [...], std: [...]}` (flow style)
_CONFIG_STATS = re.compile(r"""(?i)["']?(\w*(?:mean|std)\w*)["']?\s*[:=]\s*[\[(]""" + ",".join([_NUM] * 3) + r"[\])]")


_SMALL_NAMES = ("CIFAR-10", "CIFAR-100", "SVHN", "MNIST", "Fashion-MNIST")
_CONFIG_DATASET = re.compile(r"""(?im)^\s*["']?(?:dataset|dataset_name|data_name|data)["']?\s*[:=]\s*["']?([\w-]+)""")


def _config_datasets(path: str, text: str) -> set:
    """The small datasets a config is for: named by its file name (`cifar100_resnet18.yaml`) or by a `dataset:` key;
    its statistics are for them. A config naming none or several says nothing."""
    import os

    stem = os.path.basename(path).rsplit(".", 1)[0]
    names = {dataset_of(part) for part in re.split(r"[^0-9A-Za-z]+|(?<=[a-z])_", stem) if part}
    names |= {dataset_of(m.group(1)) for m in _CONFIG_DATASET.finditer(text)}
    # a config that also writes the statistics of a dataset it names is that dataset's (own values, checked above)
    return {n for n in names if n in _SMALL_NAMES}


def config_statistics(path: str) -> list | None:
    """Widely copied wrong statistics and mistyped published ones written in a YAML/JSON/TOML config (the
    transforms a script builds from it): [(line, column, end column, message)], one per file and value (a second
    copy in the same file: (line, column, end column, None))."""
    text = data_config_text(path, "mean", "std", "MEAN", "STD")
    if text is None:
        return None
    found, seen = [], set()
    named = _config_datasets(path, text)
    if named:  # a config that writes the statistics of the dataset it names too: a table of per-dataset values
        for m in _CONFIG_STATS.finditer(text):
            try:
                own = match(tuple(float(m.group(i)) for i in (2, 3, 4)))
            except ValueError:
                continue
            if own is not None and own.stats.dataset in named:
                named = set()
                break
    for number, line in enumerate(text.splitlines(), 1):
        if "std" not in line.lower() and "mean" not in line.lower():
            continue
        for m in _CONFIG_STATS.finditer(line):
            try:
                values = tuple(float(m.group(i)) for i in (2, 3, 4))
            except ValueError:
                continue
            matched = match(values)
            if matched is not None and not (matched.stats.wrong or matched.typo) and len(named) == 1 and \
                    matched.stats.dataset in _SMALL_NAMES and matched.stats.kind in m.group(1).lower() and \
                    next(iter(named)) != matched.stats.dataset and (matched.stats.dataset, "other") not in seen:
                # `configs/cifar100.yaml` (or `dataset: cifar100`) normalising with CIFAR-10's statistics
                seen.add((matched.stats.dataset, "other"))
                found.append((number, m.start(1) + 1, m.end() + 1,
                              f"{matched.stats.dataset} {matched.stats.kind} {shown(values)} in a config for "
                              f"{next(iter(named))}, whose own statistics it does not set: the normalisation of "
                              f"another dataset (source: {matched.stats.source})"))
                continue
            if matched is None or not (matched.stats.wrong or matched.typo):
                continue
            if matched.stats.kind not in m.group(1).lower():
                continue  # a std written under a mean key: not this table's fact
            key = (matched.stats, tuple(round(v, 4) for v in values))
            stats = matched.stats
            written = f"{stats.dataset} {stats.kind}" + (" (BGR order)" if matched.bgr else "")
            if key in seen:
                found.append((number, m.start(1) + 1, m.end() + 1, None))
                continue
            seen.add(key)
            if stats.wrong:
                message = (f"{written} {shown(values)} is a widely copied wrong value: {stats.wrong} "
                           f"(source: {stats.source})")
            else:
                message = (f"{written} {shown(values)} differs in a digit from the published {stats.dataset} "
                           f"{stats.kind} {shown(stats.values)} (source: {stats.source}): a mistyped copy")
            found.append((number, m.start(1) + 1, m.end() + 1, message))
    return found or None
