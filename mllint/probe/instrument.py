"""The instrumentation, installed in the user's interpreter before the script runs (imports torch).

What it patches, and why each patch is cheap on the hot path:
- `DataLoader.__init__` (records where a loader is built, forces `num_workers=0` so every batch and index is seen
  in this process) and `DataLoader.__iter__` (a thin iterator that fingerprints each batch, ends a training epoch
  once the step budget is spent and caps evaluation passes);
- `_BaseDataLoaderIter._next_index` (the sampler's indices of the batch, mapped through `Subset`/`ConcatDataset`
  to the dataset they index);
- `Tensor.backward` (the batches since the last backward were trained on; the loss value);
- the optimiser step post-hook (steps, effective batch, time per step, the step budget);
- `no_grad`/`inference_mode` (`__enter__`/`__exit__`): global module forward hooks exist only inside those
  blocks (evaluation forwards), so training forwards run without hooks;
- training forwards: global hooks until the first backward, to learn the modules called outermost; then one
  hook on each of those (the batch dimension of their inputs counts samples when no DataLoader feeds them);
- `Optimizer.__init__` (whether the script has an optimiser at all: without one, updates by hand are steps);
- the seeding APIs (grouped by call site; the script's own overridden with --seeds), `torch.save`/`torch.load`
  and the file operations of redirect.py (writes redirected to a temporary folder), `torch.hub` downloads
  (refused), `torch.tensor` (well-known normalisation constants).
"""
from __future__ import annotations

import os
import random
import sys
from typing import Any

import torch
from torch.utils.data import DataLoader
from torch.utils.data.dataloader import _BaseDataLoaderIter

from . import evidence, state as state_module
from .redirect import install as install_redirects
from .state import LoaderInfo, ProbeStop, State, script_site, user_site

STATE: State = None  # type: ignore[assignment]


class _ProbeIter:
    """Wraps a DataLoader iterator: fingerprints each batch, ends epochs and evaluation passes early."""

    def __init__(self, info: LoaderInfo, inner: Any):
        self._info, self._inner, self._count, self._done = info, inner, 0, False
        self._records: list = []  # batches yielded and not yet resolved (trained, or evaluated at the end)
        self._trained_at_start = info.trained_batches

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _finish(self) -> None:
        for record in self._records:
            if record in STATE.pending:
                STATE.retire(record)
        self._records = []
        if not self._done:
            self._done = True
            info = self._info
            if self._count and info.trained_batches == self._trained_at_start and not info.trained_batches:
                info.eval_passes += 1

    def __next__(self):
        st, info = STATE, self._info
        if self._records:
            self._records = [r for r in self._records if r in st.pending]
        if self._done:
            raise StopIteration
        if (st.draining and info.trained_batches) or (not info.trained_batches and self._count >= st.eval_batches):
            self._finish()
            raise StopIteration
        st.fetching = True
        try:
            batch = next(self._inner)
        except StopIteration:
            self._finish()
            raise
        finally:
            st.fetching = False
        self._count += 1
        self._records.append(st.record_batch(info, batch, getattr(self._inner, "_mllint_indices", None)))
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
        info = LoaderInfo(len(STATE.loaders) + 1, self, script_site())
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
    original_init = torch.optim.Optimizer.__init__

    def optimiser_init(self, *args, **kwargs):
        STATE.optimisers_built += 1
        return original_init(self, *args, **kwargs)

    torch.optim.Optimizer.__init__ = optimiser_init
    _learn_roots()


def _learn_roots() -> None:
    """Which modules the training loop calls outermost (the model, a loss module): global forward hooks while
    gradients are on, removed at the first backward and replaced by one hook on each such module."""
    from torch.nn.modules import module as module_mod

    grad_enabled = torch.is_grad_enabled
    depth = [0]
    handles: list = []
    seen: dict[int, Any] = {}

    def pre_hook(module, args, kwargs):
        if grad_enabled():
            if depth[0] == 0:
                seen.setdefault(id(module), module)
                STATE.on_root_forward(module, args, kwargs)
            depth[0] += 1
        return None

    def post_hook(module, args, kwargs, output):
        if depth[0] > 0 and grad_enabled():
            depth[0] -= 1
        return None

    def root_hook(module, args, kwargs):
        if grad_enabled():
            STATE.on_root_forward(module, args, kwargs)
        return None

    def learned() -> None:
        while handles:
            handles.pop().remove()
        for module in seen.values():
            try:
                module.register_forward_pre_hook(root_hook, with_kwargs=True)
            except (TypeError, RuntimeError):  # older torch, or a scripted module
                pass

    try:
        handles.append(module_mod.register_module_forward_pre_hook(
            lambda m, a: pre_hook(m, a, None)))
        handles.append(module_mod.register_module_forward_hook(
            lambda m, a, o: post_hook(m, a, None, o), always_call=True))
    except TypeError:  # older torch: no always_call; samples without a loader are not counted
        while handles:
            handles.pop().remove()
        return
    STATE.after_first_backward = learned


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
        caller = sys._getframe(1)
        kind = st.seed_kind(caller)
        st.on_seed(api, value, caller, kind)
        if st.seed is not None and kind == "script":  # a dataset's per-sample seeds stay as they are
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
    original_save, original_load = torch.save, torch.load
    files = STATE.files

    def save(obj, f, *args, **kwargs):
        STATE.on_save(f)
        if isinstance(f, (str, bytes, os.PathLike)):
            f = files.write(f, "torch.save", always=True)
        return original_save(obj, f, *args, **kwargs)

    def load(f, *args, **kwargs):
        if isinstance(f, (str, bytes, os.PathLike)):
            f = files.read(f)
        return original_load(f, *args, **kwargs)

    install_redirects(files)
    original_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        result = original_mkdir(path, *args, **kwargs)
        STATE.on_mkdir(path)
        return result

    torch.save, torch.load = save, load
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
    STATE = state_module.STATE = State(config)
    _patch_dataloader()
    _patch_training()
    _patch_forwards()
    _patch_seeds()
    _patch_io()
    _patch_downloads()
    _patch_constants()
    return STATE
