"""The instrumentation, installed in the user's interpreter before the script runs (imports torch).

What it patches, and why each patch is cheap on the hot path:
- `DataLoader.__init__` (records where a loader is built, forces `num_workers=0` so every batch and index is seen
  in this process) and `DataLoader.__iter__` (a thin iterator that fingerprints each batch, ends a training epoch
  once the step budget is spent and caps evaluation passes);
- `_BaseDataLoaderIter._next_index` (the sampler's indices of the batch, mapped through `Subset`/`ConcatDataset`
  to the dataset they index);
- `Tensor.backward` (the batches since the last backward were trained on; the loss value);
- the optimiser step post-hook (steps, effective batch, time per step, the step budget);
- global module forward hooks, which only do work under `no_grad`/`inference_mode` (evaluation forwards);
- the seeding APIs (recorded; overridden with --seeds), `torch.save`/`torch.load`/`open` (writes redirected to a
  temporary folder), `torch.hub` downloads (refused), `torch.tensor` (well-known normalisation constants).
"""
from __future__ import annotations

import builtins
import io
import os
import random
import sys
import time
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.data import ConcatDataset, DataLoader, Subset, TensorDataset
from torch.utils.data.dataloader import _BaseDataLoaderIter

from . import evidence

_PROBE_DIR = os.path.dirname(os.path.abspath(__file__))
_HASH_SEED = 0x6D6C6C696E74


class ProbeStop(BaseException):
    """Ends the user's script (a BaseException, so that `except Exception` in user code does not swallow it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- sites
def _frame_site(frame) -> list:
    code = frame.f_code
    line, col = frame.f_lineno, 1
    try:
        positions = list(code.co_positions())[frame.f_lasti // 2]
        if positions[2] is not None:
            line, col = positions[0] or line, positions[2] + 1
    except (AttributeError, IndexError):  # Python 3.10: no column
        pass
    return [os.path.abspath(code.co_filename), line, col]


def user_site(skip: int = 1) -> list | None:
    """The innermost frame of the user's project (not torch, not mllint, not an installed package)."""
    frame = sys._getframe(skip)
    fallback = None
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<") and not name.startswith(_PROBE_DIR) and "site-packages" not in name \
                and "dist-packages" not in name:
            path = os.path.abspath(name)
            if path.startswith(STATE.project_prefix):
                return _frame_site(frame)
            if fallback is None and not path.startswith(STATE.stdlib_prefix):
                fallback = frame
        frame = frame.f_back
    return _frame_site(fallback) if fallback is not None else None


# ---------------------------------------------------------------- fingerprints
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


# ---------------------------------------------------------------- state
class LoaderInfo:
    def __init__(self, number: int, loader: DataLoader, site: list | None):
        self.number = number
        self.dataset = loader.dataset
        self.site = site
        self.dataset_name = type(loader.dataset).__name__
        self.batch_size = loader.batch_size
        self.batches = 0
        self.samples = 0
        self.trained_batches = 0
        self.trained_samples = 0
        self.passes = 0
        self.eval_passes = 0
        self.key_cache: dict[int, tuple] = {}

    def to_json(self) -> dict:
        return {
            "number": self.number, "site": self.site, "dataset": self.dataset_name, "batch_size": self.batch_size,
            "batches": self.batches, "samples": self.samples, "trained_batches": self.trained_batches,
            "trained_samples": self.trained_samples, "passes": self.passes, "eval_passes": self.eval_passes,
            "role": "train" if self.trained_batches else ("evaluation" if self.batches else "unused"),
        }


class BatchRecord:
    """A yielded batch: its per-sample content hashes and sampler indices (sample keys are built at the end, off
    the training loop's clock)."""

    __slots__ = ("loader", "hashes", "indices", "size", "trained")

    def __init__(self, loader: LoaderInfo, hashes: list[int], indices: Any, size: int):
        self.loader, self.hashes, self.indices, self.size, self.trained = loader, hashes, indices, size, False


class State:
    def __init__(self, config: dict):
        self.config = config
        self.steps_budget = int(config["steps"])
        self.eval_batches = int(config["eval_batches"])
        self.seed = config.get("seed")
        self.project = os.path.abspath(config["project"])
        self.project_prefix = self.project.rstrip(os.sep) + os.sep
        self.cwd_prefix = os.getcwd().rstrip(os.sep) + os.sep
        self.stdlib_prefix = os.path.dirname(os.__file__) + os.sep
        self.tmpdir = os.path.abspath(config["tmpdir"])
        self.started = time.perf_counter()
        self.loaders: list[LoaderInfo] = []
        self.pending: list[BatchRecord] = []
        self.current_loader: LoaderInfo | None = None
        self.trained_records: list[BatchRecord] = []
        self.evaluated_records: list[BatchRecord] = []
        self.last_eval: LoaderInfo | None = None  # an evaluation pass ended and no backward followed yet
        self.steps = 0
        self.backwards = 0
        self.samples_trained = 0
        self.draining = False
        self.step_losses: list[float | None] = []
        self.step_samples: list[int] = []
        self.step_micro: list[int] = []
        self.step_times: list[float] = []
        self._loss_acc: list[float] = []
        self._samples_acc = 0
        self._micro_acc = 0
        self._last_step_time = None
        self.step_cpu: list[float] = []  # CPU time of the main thread per step: steadier than wall on a busy machine
        self._last_step_cpu = None
        self.device: str | None = None
        self.optimised: set[int] = set()
        self.optimised_shapes: dict[int, list[tuple]] = {}  # optimiser -> sorted parameter shapes
        self._optimisers: dict[int, int] = {}
        self.seeds: dict[tuple, dict] = {}
        self._seeding = False
        self.saves: list[dict] = []
        self.redirects: dict[str, dict] = {}
        self.created_dirs: list[str] = []
        self.nograd_depth = 0
        self.eval_modules: dict[int, dict] = {}
        self.train_mode_evals: dict[tuple, dict] = {}
        self.channel_sums = [0.0, 0.0, 0.0]
        self.channel_count = 0
        self.batch_min = float("inf")
        self.batch_max = float("-inf")
        self.constants: list[dict] = []  # normalisation constants seen (torch.tensor or torchvision Normalize)
        self.normalize_sites: dict[tuple, list] = {}
        self.normalize_inputs: dict[tuple, dict] = {}  # (mean, std) -> raw channel sums of Normalize inputs
        self.synthetic: set[str] = set()
        self.notes: list[str] = []

    # -- loaders
    def record_batch(self, info: LoaderInfo, batch: Any, indices: Any) -> BatchRecord:
        tensor = first_input(batch)
        size = int(tensor.shape[0]) if tensor is not None else 0
        hashes: list[int] = []
        if tensor is not None:
            try:
                hashes = content_hashes(tensor)
                if self.channel_count < 256 and tensor.dim() == 4 and tensor.shape[1] == 3 \
                        and tensor.is_floating_point():
                    self._channel_stats(tensor)
            except Exception as exc:  # noqa: BLE001 - a tensor layout the hash cannot read (sparse, nested)
                note = f"batches not fingerprinted: {type(exc).__name__}: {exc}"
                if note not in self.notes:
                    self.notes.append(note)
        info.batches += 1
        info.samples += size
        if self._last_step_time is None:
            self._last_step_time = time.perf_counter()  # step times start at the first batch, not at start-up
            self._last_step_cpu = time.thread_time()
        record = BatchRecord(info, hashes, indices if isinstance(indices, (list, tuple)) else None, size)
        self.pending.append(record)
        self.current_loader = info
        return record

    def sample_keys(self, record: BatchRecord) -> list[tuple]:
        """Per sample: its content hash and, when the sampler's indices are known, (dataset, index)."""
        if record.indices is not None and len(record.indices) == len(record.hashes):
            return [(("h", h), self._index_key(record.loader, index)) for h, index in zip(record.hashes, record.indices)]
        return [(("h", h),) for h in record.hashes]

    def sample_sets(self) -> tuple[dict[Any, int], dict[int, dict[Any, tuple]]]:
        """Trained sample key -> the loader that trained it; per evaluation loader, first key -> all keys."""
        trained: dict[Any, int] = {}
        for record in self.trained_records:
            for keys in self.sample_keys(record):
                for key in keys:
                    trained.setdefault(key, record.loader.number)
        evaluated: dict[int, dict[Any, tuple]] = {}
        for record in self.evaluated_records:
            seen = evaluated.setdefault(record.loader.number, {})
            for keys in self.sample_keys(record):
                seen.setdefault(keys[-1], keys)
        return trained, evaluated

    def _index_key(self, info: LoaderInfo, index: Any) -> tuple:
        if isinstance(index, int):
            cached = info.key_cache.get(index)
            if cached is not None:
                return cached
        try:
            dataset, inner = root_index(info.dataset, index)
            key = ("i", dataset_key(dataset), inner)
        except Exception:  # noqa: BLE001 - an exotic dataset: content hashes still apply
            key = ("i", ("obj", id(info.dataset)), repr(index))
        if isinstance(index, int):
            info.key_cache[index] = key
        return key

    def _channel_stats(self, tensor: torch.Tensor) -> None:
        data = tensor.detach().float()
        self.channel_sums = [s + v for s, v in zip(self.channel_sums, data.mean(dim=(2, 3)).sum(dim=0).tolist())]
        self.channel_count += int(data.shape[0])
        self.batch_min = min(self.batch_min, float(data.min()))
        self.batch_max = max(self.batch_max, float(data.max()))

    def retire(self, record: BatchRecord) -> None:
        """A batch is done (its iterator moved on or ended): without a backward, it was an evaluation batch."""
        if record in self.pending:
            self.pending.remove(record)
        if record.trained or record.loader.trained_batches:
            return
        self.evaluated_records.append(record)
        self.last_eval = record.loader

    # -- training
    def on_backward(self, loss: torch.Tensor) -> None:
        self.backwards += 1
        self._micro_acc += 1
        if loss.numel() == 1:
            try:
                self._loss_acc.append(float(loss.detach()))
            except Exception:  # noqa: BLE001 - a loss that cannot be read is still a backward
                pass
        for record in self.pending:
            if not record.trained:
                record.trained = True
                info = record.loader
                info.trained_batches += 1
                info.trained_samples += record.size
                self.samples_trained += record.size
                self._samples_acc += record.size
                self.trained_records.append(record)
        self.pending.clear()
        self.last_eval = None

    def on_step(self, optimizer: torch.optim.Optimizer) -> None:
        now = time.perf_counter()
        self.steps += 1
        self._learn_optimiser(optimizer)
        self.step_losses.append(sum(self._loss_acc) / len(self._loss_acc) if self._loss_acc else None)
        self.step_samples.append(self._samples_acc)
        self.step_micro.append(self._micro_acc)
        self.step_times.append(now - (self._last_step_time or self.started))
        self._last_step_time = now
        cpu = time.thread_time()
        self.step_cpu.append(cpu - (self._last_step_cpu or 0.0))
        self._last_step_cpu = cpu
        self._loss_acc, self._samples_acc, self._micro_acc = [], 0, 0
        if self.steps >= self.steps_budget:
            if self.draining or not any(info.trained_batches for info in self.loaders):
                raise ProbeStop("steps")
            self.draining = True  # end the training epoch: the script evaluates, then is stopped
        if self.steps > 2 * self.steps_budget + 10:
            raise ProbeStop("steps")

    def _learn_optimiser(self, optimizer: torch.optim.Optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if self._optimisers.get(id(optimizer)) == len(params):
            return
        self._optimisers[id(optimizer)] = len(params)
        self.optimised.update(id(p) for p in params)
        self.optimised_shapes[id(optimizer)] = sorted(tuple(p.shape) for p in params)
        if self.device is None and params:
            self.device = str(params[0].device)

    # -- evaluation forwards
    def in_evaluation(self) -> bool:
        loader = self.current_loader
        return loader is None or loader.trained_batches == 0

    def on_eval_forward(self, module: torch.nn.Module) -> None:
        if id(module) in self.eval_modules or not self.in_evaluation():
            return
        self.eval_modules[id(module)] = {"module": module, "site": user_site(), "class": type(module).__name__}

    def on_train_mode_module(self, module: torch.nn.Module) -> None:
        if not self.in_evaluation():
            return
        key = type(module).__name__
        if key not in self.train_mode_evals:
            self.train_mode_evals[key] = {"site": user_site(), "class": key}

    # -- seeds
    def on_seed(self, api: str, value: Any) -> None:
        site = user_site()
        shown = value if isinstance(value, (int, float, str, type(None))) else repr(value)
        key = (api, repr(shown), tuple(site) if site else None)
        entry = self.seeds.setdefault(key, {"api": api, "value": shown, "site": site, "count": 0})
        entry["count"] += 1
        if self.seed is not None:
            entry["overridden_to"] = self.seed

    # -- writes
    def redirect(self, path: Any, kind: str, always: bool) -> Any:
        try:
            text = os.fsdecode(path)
        except TypeError:
            return path
        absolute = os.path.abspath(text)
        if absolute.startswith(self.tmpdir + os.sep) or text.startswith("/dev/"):
            return path
        inside = absolute.startswith(self.project_prefix) or absolute.startswith(self.cwd_prefix)
        if not inside and not always:
            return path
        known = self.redirects.get(absolute)
        if known is None:
            if absolute.startswith(self.project_prefix):
                relative = os.path.relpath(absolute, self.project)
            elif absolute.startswith(self.cwd_prefix):
                relative = os.path.relpath(absolute, self.cwd_prefix)
            else:
                relative = absolute.lstrip(os.sep)
            target = os.path.join(self.tmpdir, "writes", relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            known = {"path": absolute, "to": target, "kind": kind, "site": user_site()}
            self.redirects[absolute] = known
        return known["to"]

    def on_mkdir(self, path: Any) -> None:
        """A folder the script creates in the project (for checkpoints, logs): removed at the end if still empty,
        which it is, since writes into it were redirected."""
        try:
            absolute = os.path.abspath(os.fsdecode(path))
        except TypeError:
            return
        if absolute.startswith(self.project_prefix) or absolute.startswith(self.cwd_prefix):
            self.created_dirs.append(absolute)

    def remove_created_dirs(self) -> None:
        for folder in reversed(self.created_dirs):
            try:
                os.rmdir(folder)
            except OSError:  # not empty (something else wrote there) or already gone: leave it
                self.notes.append(f"folder created by the script left in place: {folder}")

    def redirected_read(self, path: Any) -> Any:
        if not self.redirects:
            return path
        try:
            known = self.redirects.get(os.path.abspath(os.fsdecode(path)))
        except TypeError:
            return path
        return known["to"] if known else path

    def on_save(self, path: Any) -> None:
        target = None
        if isinstance(path, (str, bytes, os.PathLike)):
            target = os.path.abspath(os.fsdecode(path))
        after = self.last_eval
        self.saves.append({
            "site": user_site(), "path": target, "step": self.steps,
            "after_evaluation": after.number if after is not None else None,
        })

    # -- the record
    def to_json(self) -> dict:
        findings, checked = evidence.collect(self)
        return {
            "steps": self.steps, "backwards": self.backwards, "samples_trained": self.samples_trained,
            "step_losses": self.step_losses, "step_samples": self.step_samples, "step_micro": self.step_micro,
            "step_times": self.step_times, "step_cpu": self.step_cpu, "device": self.device, "wall": time.perf_counter() - self.started,
            "loaders": [info.to_json() for info in self.loaders],
            "seeds": list(self.seeds.values()),
            "saves": self.saves,
            "redirects": list(self.redirects.values()),
            "created_dirs": self.created_dirs,
            "synthetic": sorted(self.synthetic),
            "evidence": findings, "checked": checked, "notes": self.notes,
        }


STATE: State = None  # type: ignore[assignment]


# ---------------------------------------------------------------- patches
class _ProbeIter:
    """Wraps a DataLoader iterator: fingerprints each batch, ends epochs and evaluation passes early."""

    def __init__(self, info: LoaderInfo, inner: Any):
        self._info, self._inner, self._current, self._count, self._done = info, inner, None, 0, False
        self._trained_at_start = info.trained_batches

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _finish(self) -> None:
        if self._current is not None:
            STATE.retire(self._current)
            self._current = None
        if not self._done:
            self._done = True
            info = self._info
            if self._count and info.trained_batches == self._trained_at_start and not info.trained_batches:
                info.eval_passes += 1

    def __next__(self):
        st, info = STATE, self._info
        if self._current is not None:
            st.retire(self._current)
            self._current = None
        if self._done:
            raise StopIteration
        if (st.draining and info.trained_batches) or (not info.trained_batches and self._count >= st.eval_batches):
            self._finish()
            raise StopIteration
        try:
            batch = next(self._inner)
        except StopIteration:
            self._finish()
            raise
        self._count += 1
        self._current = st.record_batch(info, batch, getattr(self._inner, "_mllint_indices", None))
        return batch


def _patch_dataloader() -> None:
    original_init = DataLoader.__init__
    original_iter = DataLoader.__iter__
    original_next_index = _BaseDataLoaderIter._next_index

    def __init__(self, *args, **kwargs):
        if len(args) <= 5:  # num_workers passed by keyword (or not at all): run every batch in this process
            note = "DataLoader workers turned off (num_workers=0) to see every batch"
            if kwargs.get("num_workers") and note not in STATE.notes:
                STATE.notes.append(note)
            kwargs["num_workers"] = 0
            kwargs["persistent_workers"] = False
            kwargs.pop("prefetch_factor", None)
            kwargs.pop("multiprocessing_context", None)
        original_init(self, *args, **kwargs)
        info = LoaderInfo(len(STATE.loaders) + 1, self, user_site())
        STATE.loaders.append(info)
        self.__dict__["_mllint_info"] = info

    def __iter__(self):
        info = self.__dict__.get("_mllint_info")
        if info is None:
            return original_iter(self)
        if STATE.draining and info.trained_batches:
            raise ProbeStop("steps")
        info.passes += 1
        return _ProbeIter(info, original_iter(self))

    def _next_index(self):
        indices = original_next_index(self)
        self._mllint_indices = indices
        return indices

    DataLoader.__init__ = __init__
    DataLoader.__iter__ = __iter__
    _BaseDataLoaderIter._next_index = _next_index


def _patch_training() -> None:
    original_backward = torch.Tensor.backward

    def backward(self, *args, **kwargs):
        STATE.on_backward(self)
        return original_backward(self, *args, **kwargs)

    torch.Tensor.backward = backward
    from torch.optim.optimizer import register_optimizer_step_post_hook

    register_optimizer_step_post_hook(lambda optimizer, args, kwargs: STATE.on_step(optimizer))


_NORM_DROPOUT = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.dropout._DropoutNd)


def _patch_forwards() -> None:
    """Module forward hooks, registered only while a no_grad/inference_mode block is open: training forwards
    (grad enabled) run without any hook."""
    from torch.autograd import grad_mode
    from torch.nn.modules import module as module_mod

    grad_enabled = torch.is_grad_enabled
    handles: list = []
    depth = [0]

    def pre_hook(module, args):
        if grad_enabled():
            return None
        st = STATE
        st.nograd_depth += 1
        if st.nograd_depth == 1:
            st.on_eval_forward(module)
        if module.training and isinstance(module, _NORM_DROPOUT):
            st.on_train_mode_module(module)
        return None

    def post_hook(module, args, output):
        if not grad_enabled() and STATE.nograd_depth > 0:
            STATE.nograd_depth -= 1
        return None

    def opened() -> None:
        depth[0] += 1
        if depth[0] == 1 and not handles:
            handles.append(module_mod.register_module_forward_pre_hook(pre_hook))
            try:
                handles.append(module_mod.register_module_forward_hook(post_hook, always_call=True))
            except TypeError:  # older torch
                handles.append(module_mod.register_module_forward_hook(post_hook))

    def closed() -> None:
        depth[0] = max(0, depth[0] - 1)
        if depth[0] == 0:
            while handles:
                handles.pop().remove()
            STATE.nograd_depth = 0

    for cls in (grad_mode.no_grad, grad_mode.inference_mode):
        enter, leave = cls.__enter__, cls.__exit__

        def __enter__(self, _enter=enter):
            result = _enter(self)
            opened()
            return result

        def __exit__(self, *exc, _leave=leave):
            closed()
            return _leave(self, *exc)

        cls.__enter__, cls.__exit__ = __enter__, __exit__


def _wrap_seed(owner: Any, name: str, api: str, keyword: str = "seed") -> None:
    original = getattr(owner, name, None)
    if original is None:
        return

    def seeded(*args, **kwargs):
        st = STATE
        if st._seeding:
            return original(*args, **kwargs)
        value = args[0] if args else kwargs.get(keyword, kwargs.get("a"))
        st.on_seed(api, value)
        if st.seed is not None:
            if args:
                args = (st.seed, *args[1:])
            else:
                kwargs = {k: v for k, v in kwargs.items() if k not in (keyword, "a")}
                kwargs[keyword if api != "random.seed" else "a"] = st.seed
        st._seeding = True
        try:
            return original(*args, **kwargs)
        finally:
            st._seeding = False

    seeded.__wrapped__ = original
    setattr(owner, name, seeded)


def _patch_seeds() -> None:
    seed = STATE.seed
    if seed is not None:  # the run's own seed, before the script seeds (or does not)
        torch.manual_seed(seed)
        random.seed(seed)
    _wrap_seed(torch, "manual_seed", "torch.manual_seed")
    _wrap_seed(torch.random, "manual_seed", "torch.manual_seed")
    _wrap_seed(torch.cuda, "manual_seed", "torch.cuda.manual_seed")
    _wrap_seed(torch.cuda, "manual_seed_all", "torch.cuda.manual_seed_all")
    _wrap_seed(random, "seed", "random.seed", keyword="a")
    try:
        import numpy.random as np_random
    except ImportError:
        return
    if seed is not None:
        np_random.seed(seed)
    _wrap_seed(np_random, "seed", "numpy.random.seed")


def _patch_io() -> None:
    original_save, original_load, original_open = torch.save, torch.load, builtins.open

    def save(obj, f, *args, **kwargs):
        STATE.on_save(f)
        if isinstance(f, (str, bytes, os.PathLike)):
            f = STATE.redirect(f, "torch.save", always=True)
        return original_save(obj, f, *args, **kwargs)

    def load(f, *args, **kwargs):
        if isinstance(f, (str, bytes, os.PathLike)):
            f = STATE.redirected_read(f)
        return original_load(f, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            if any(flag in mode for flag in "wax+"):
                file = STATE.redirect(file, "open", always=False)
            else:
                file = STATE.redirected_read(file)
        return original_open(file, mode, *args, **kwargs)

    original_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        result = original_mkdir(path, *args, **kwargs)
        STATE.on_mkdir(path)
        return result

    torch.save, torch.load = save, load
    builtins.open = io.open = open_
    os.mkdir = mkdir


def _refuse_download(*args, **kwargs):
    url = args[0] if args else kwargs.get("url", "?")
    raise RuntimeError(f"mllint probe: downloads are turned off (asked for {url})")


def _patch_downloads() -> None:
    import torch.hub

    torch.hub.load_state_dict_from_url = _refuse_download
    torch.hub.download_url_to_file = _refuse_download


def _patch_constants() -> None:
    original_tensor = torch.tensor

    def tensor(data, *args, **kwargs):
        if type(data) in (list, tuple) and len(data) == 3:
            evidence.note_constants(STATE, data, user_site)
        return original_tensor(data, *args, **kwargs)

    torch.tensor = tensor


def install(config: dict) -> State:
    global STATE
    STATE = State(config)
    _patch_dataloader()
    _patch_training()
    _patch_forwards()
    _patch_seeds()
    _patch_io()
    _patch_downloads()
    _patch_constants()
    return STATE
