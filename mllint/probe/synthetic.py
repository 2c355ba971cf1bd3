"""torchvision datasets replaced by deterministic synthetic samples, and torchvision's Normalize observed
(runs in the user's interpreter).

An import hook patches `torchvision.datasets` and `torchvision.transforms` as they load, so the script's own
`from torchvision import datasets` sees the patched classes. A dataset runs as itself when its files are there and
`--synthetic-data` is off; otherwise (or when its files are missing) it yields synthetic PIL images and labels of
the real shape and length, keyed by dataset, split and index: the same index of the same split is the same image,
different splits never share one, so overlap between splits is still measured. Nothing is downloaded.
"""
from __future__ import annotations

import importlib.abc
import inspect
import os
import sys
import zlib
from typing import Any

# name -> (mode, height, width, classes, length per split)
SHAPES = {
    "MNIST": ("L", 28, 28, 10, {"train": 60000, "test": 10000}),
    "FashionMNIST": ("L", 28, 28, 10, {"train": 60000, "test": 10000}),
    "KMNIST": ("L", 28, 28, 10, {"train": 60000, "test": 10000}),
    "QMNIST": ("L", 28, 28, 10, {"train": 60000, "test": 60000}),
    "EMNIST": ("L", 28, 28, 47, {"train": 112800, "test": 18800}),
    "CIFAR10": ("RGB", 32, 32, 10, {"train": 50000, "test": 10000}),
    "CIFAR100": ("RGB", 32, 32, 100, {"train": 50000, "test": 10000}),
    "SVHN": ("RGB", 32, 32, 10, {"train": 73257, "test": 26032, "extra": 531131}),
    "STL10": ("RGB", 96, 96, 10, {"train": 5000, "test": 8000, "unlabeled": 100000}),
    "ImageFolder": ("RGB", 256, 256, 10, {}),
    "ImageNet": ("RGB", 256, 256, 1000, {"train": 1281167, "val": 50000}),
}
FOLDER_LENGTH = 2000


class SyntheticData:
    """The synthetic half of a replaced dataset class (mixed into a subclass of the real one)."""

    _synthetic_name = ""

    def _synthetic_init(self, bound: dict) -> None:
        mode, height, width, classes, lengths = SHAPES[self._synthetic_name]
        split = bound.get("split")
        if split is None and "train" in bound:
            split = "train" if bound["train"] else "test"
        if split is None:  # ImageFolder: the folder's name is the split
            split = os.path.basename(os.path.normpath(os.fspath(bound.get("root", "data"))))
        self._shape = (mode, height, width)
        self._length = lengths.get(split, FOLDER_LENGTH)
        self._classes = classes
        self._key = f"{self._synthetic_name}|{split}|"
        targets = [self._label(i) for i in range(self._length)] if self._length <= 200000 else []
        names = [str(i) for i in range(classes)]
        values = {
            "root": os.fspath(bound.get("root", "")), "split": split, "transform": bound.get("transform"),
            "target_transform": bound.get("target_transform"), "transforms": None, "classes": names,
            "class_to_idx": {c: i for i, c in enumerate(names)}, "targets": targets,
        }
        if "train" in bound:
            values["train"] = bool(bound["train"])
        if not lengths:  # ImageFolder
            values["samples"] = values["imgs"] = [(f"synthetic/{i}", t) for i, t in enumerate(targets)]
        for name, value in values.items():
            try:
                setattr(self, name, value)
            except AttributeError:  # a read-only property of the real class (MNIST.class_to_idx)
                pass

    def _label(self, index: int) -> int:
        return zlib.crc32(f"{self._key}{index}|label".encode()) % self._classes

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int):
        from PIL import Image

        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        mode, height, width = self._shape
        size = height * width * (3 if mode == "RGB" else 1)
        seed = zlib.crc32(f"{self._key}{index}".encode())
        pixels = _bytes(seed, size)
        image = Image.frombytes(mode, (width, height), pixels)
        target = self._label(index)
        transform = self.__dict__.get("transform")
        target_transform = self.__dict__.get("target_transform")
        if transform is not None:
            image = transform(image)
        if target_transform is not None:
            target = target_transform(target)
        return image, target


def _bytes(seed: int, size: int) -> bytes:
    import numpy  # torchvision needs it, so it is there whenever a torchvision dataset is

    return numpy.random.default_rng(seed).integers(0, 256, size, dtype=numpy.uint8).tobytes()


def _replace(original: type, name: str, forced: bool, state: Any) -> type:
    signature = inspect.signature(original.__init__)

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            bound = None
        if bound is not None and "download" in bound.arguments:
            bound.arguments["download"] = False
        if not forced and bound is not None:
            try:
                original.__init__(*bound.args, **bound.kwargs)
                return
            except (RuntimeError, FileNotFoundError, OSError):
                pass  # the files are not there: synthetic samples instead of a download
        arguments = dict(bound.arguments) if bound is not None else {"root": args[0] if args else "data"}
        self._synthetic_init(arguments)
        state.synthetic.add(f"{name}({self._key.split('|')[1]})")

    cls = type(name, (SyntheticData, original), {
        "__init__": __init__, "_synthetic_name": name, "__module__": original.__module__,
        "__qualname__": original.__qualname__,
    })
    return cls


def patch_datasets(module: Any, forced: bool, state: Any) -> None:
    for name in SHAPES:
        original = getattr(module, name, None)
        if isinstance(original, type):
            setattr(module, name, _replace(original, name, forced, state))


def patch_normalize(module: Any, state: Any, site_of: Any) -> None:
    """torchvision.transforms.functional.normalize: the raw channel means of its inputs, per constants."""
    original = getattr(module, "normalize", None)
    if original is None:
        return

    def normalize(tensor, mean, std, inplace=False):
        try:
            if tensor.dim() >= 3 and tensor.shape[-3] == 3 and len(mean) == 3:
                key = (tuple(float(m) for m in mean), tuple(float(s) for s in std))
                acc = state.normalize_inputs.get(key)
                if acc is None:
                    site = state.normalize_sites.get(key) or site_of()
                    acc = state.normalize_inputs[key] = {"sums": [0.0, 0.0, 0.0], "count": 0, "site": site}
                if acc["count"] < 256:
                    flat = tensor.detach().float().reshape(-1, 3, tensor.shape[-2] * tensor.shape[-1])
                    acc["sums"] = [a + b for a, b in zip(acc["sums"], flat.mean(dim=2).sum(dim=0).tolist())]
                    acc["count"] += int(flat.shape[0])
        except Exception:  # noqa: BLE001 - observing must never break the user's transform
            pass
        return original(tensor, mean, std, inplace)

    module.normalize = normalize


def patch_normalize_class(module: Any, state: Any, site_of: Any) -> None:
    """Where each Normalize is built: the site a channel-order finding points at."""
    cls = getattr(module, "Normalize", None)
    if not isinstance(cls, type):
        return
    original = cls.__init__

    def __init__(self, mean, std, *args, **kwargs):
        original(self, mean, std, *args, **kwargs)
        try:
            key = (tuple(float(m) for m in mean), tuple(float(s) for s in std))
            state.normalize_sites.setdefault(key, site_of())
        except (TypeError, ValueError):
            pass

    cls.__init__ = __init__


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs a patch right after a module's own code, whoever imports it first."""

    def __init__(self, patches: dict):
        self.patches = patches

    def find_spec(self, name, path, target=None):
        patch = self.patches.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                original_exec = spec.loader.exec_module

                def exec_module(module, _original=original_exec, _patch=patch):
                    _original(module)
                    _patch(module)

                spec.loader.exec_module = exec_module
                return spec
        return None


def install(state: Any, forced: bool, site_of: Any) -> None:
    sys.meta_path.insert(0, _PatchOnImport({
        "torchvision.datasets": lambda m: patch_datasets(m, forced, state),
        "torchvision.transforms.functional": lambda m: patch_normalize(m, state, site_of),
        "torchvision.transforms.transforms": lambda m: patch_normalize_class(m, state, site_of),
    }))
