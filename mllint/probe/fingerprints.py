"""Per-sample fingerprints of the batches a DataLoader yields (runs in the user's interpreter).

A sample is known by the hash of its bytes and, when the sampler's index is known, by (the dataset that holds
it, its index there), followed through Subset and ConcatDataset: two loaders over the same split meet even when
augmentation makes the tensors differ.
"""
from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import ConcatDataset, Subset, TensorDataset

_HASH_SEED = 0x6D6C6C696E74
_COEFFICIENTS: dict[int, torch.Tensor] = {}


def _coefficients(width: int) -> torch.Tensor:
    coef = _COEFFICIENTS.get(width)
    if coef is None:
        gen = torch.Generator().manual_seed(_HASH_SEED + width)
        coef = torch.randint(-(2**62), 2**62, (width,), generator=gen, dtype=torch.int64) | 1
        _COEFFICIENTS[width] = coef
    return coef


def content_hashes(tensor: torch.Tensor) -> list[int]:
    """One 64-bit hash per sample (first dimension) of the bytes of each sample. Integer arithmetic modulo 2**64 is
    associative, so the hash of a sample does not depend on the batch it came in or on the thread count."""
    flat = tensor.detach()
    if flat.device.type != "cpu":
        flat = flat.cpu()
    if flat.dim() == 0:
        flat = flat.reshape(1, 1)
    flat = flat.reshape(flat.shape[0], -1).contiguous()
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    raw = flat.view(torch.uint8) if flat.shape[1] else flat.to(torch.uint8)
    words = raw.view(torch.int32) if raw.shape[1] % 4 == 0 and raw.shape[1] else raw
    return (words.long() * _coefficients(words.shape[1])).sum(dim=1).tolist()


_INPUT_KEYS = ("pixel_values", "input_ids", "image", "images", "img", "input", "inputs", "x", "data")


def first_input(batch: Any) -> torch.Tensor | None:
    """The batch's input tensor: the batch itself, the first tensor of a tuple/list, or a dict's input entry."""
    if isinstance(batch, torch.Tensor):
        return batch if batch.dim() >= 1 else None
    if isinstance(batch, Mapping):  # dicts, and HF BatchEncoding (a UserDict)
        for key in _INPUT_KEYS:
            if isinstance(batch.get(key), torch.Tensor) and batch[key].dim() >= 1:
                return batch[key]
        batch = list(batch.values())
    if isinstance(batch, (list, tuple)):
        for item in batch:
            found = first_input(item) if isinstance(item, (torch.Tensor, list, tuple, Mapping)) else None
            if found is not None:
                return found
    return None


def dataset_key(dataset: Any) -> tuple:
    """What makes two dataset objects the same data: torchvision-like datasets by class, root and split."""
    root = getattr(dataset, "root", None)
    if isinstance(root, (str, os.PathLike)):
        split = getattr(dataset, "split", getattr(dataset, "train", None))
        return ("ds", type(dataset).__name__, os.path.abspath(os.fspath(root)), repr(split))
    if isinstance(dataset, TensorDataset) and dataset.tensors:
        first = dataset.tensors[0]
        return ("tensor", first.untyped_storage().data_ptr(), first.storage_offset(), tuple(first.shape))
    return ("obj", id(dataset))


def root_index(dataset: Any, index: Any) -> tuple[Any, Any]:
    """Follow Subset and ConcatDataset down to the dataset that holds the sample."""
    for _ in range(32):
        if isinstance(dataset, Subset):
            index = dataset.indices[index]
            dataset = dataset.dataset
        elif isinstance(dataset, ConcatDataset):
            if index < 0:
                index += len(dataset)
            which = bisect_right(dataset.cumulative_sizes, index)
            index -= dataset.cumulative_sizes[which - 1] if which else 0
            dataset = dataset.datasets[which]
        else:
            break
    if hasattr(index, "item"):
        index = index.item()
    return dataset, index
