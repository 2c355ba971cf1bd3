"""What the instrumentation records while the script runs, and the step budget (runs in the user's interpreter)."""
from __future__ import annotations

import os
import sys
import time
from typing import Any

import torch

from . import evidence
from .fingerprints import content_hashes, dataset_key, first_input, root_index

_PROBE_DIR = os.path.dirname(os.path.abspath(__file__))


class ProbeStop(BaseException):
    """Ends the user's script (a BaseException, so that `except Exception` in user code does not swallow it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason



def frame_site(frame) -> list:
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
                return frame_site(frame)
            if fallback is None and not path.startswith(STATE.stdlib_prefix):
                fallback = frame
        frame = frame.f_back
    return frame_site(fallback) if fallback is not None else None


class LoaderInfo:
    def __init__(self, number: int, loader: Any, site: list | None):
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
