"""What the instrumentation records while the script runs, and the step budget (runs in the user's interpreter)."""
from __future__ import annotations

import os
import sys
import time
from typing import Any

import torch

from . import evidence
from .fingerprints import content_hashes, dataset_key, first_input, root_index
from .redirect import Redirects

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


def _is_library(name: str) -> bool:
    return name.startswith("<") or name.startswith(_PROBE_DIR) or "site-packages" in name \
        or "dist-packages" in name


def script_site(skip: int = 1) -> list | None:
    """The innermost frame of the probed script itself (where a library helper was called from), else the
    innermost frame of the user's project: findings point at the line the author wrote."""
    script = STATE.script
    if script:
        frame = sys._getframe(skip)
        while frame is not None:
            if frame.f_code.co_filename == script or os.path.abspath(frame.f_code.co_filename) == script:
                return frame_site(frame)
            frame = frame.f_back
    return user_site(skip + 1)


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
        self.built_at = user_site(3)  # the library line, when a project helper built it
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
            "number": self.number, "site": self.site, "built_at": self.built_at if self.built_at != self.site else None,
            "dataset": self.dataset_name, "batch_size": self.batch_size,
            "batches": self.batches, "samples": self.samples, "trained_batches": self.trained_batches,
            "trained_samples": self.trained_samples, "passes": self.passes, "eval_passes": self.eval_passes,
            "role": "train" if self.trained_batches else ("evaluation" if self.batches else "unused"),
        }


class BatchRecord:
    """A yielded batch: its per-sample content hashes and sampler indices (sample keys are built at the end, off
    the training loop's clock)."""

    __slots__ = ("loader", "hashes", "indices", "size", "trained", "evaluated")

    def __init__(self, loader: LoaderInfo, hashes: list[int], indices: Any, size: int):
        self.loader, self.hashes, self.indices, self.size, self.trained = loader, hashes, indices, size, False
        self.evaluated = False  # a forward under no_grad ran while it was pending


class State:
    def __init__(self, config: dict):
        self.config = config
        self.steps_budget = int(config["steps"])
        self.eval_batches = int(config["eval_batches"])
        self.seed = config.get("seed")
        self.project = os.path.abspath(config["project"])
        self.project_prefix = self.project.rstrip(os.sep) + os.sep
        self.cwd_prefix = os.getcwd().rstrip(os.sep) + os.sep
        argv = config.get("argv") or [""]
        self.script = os.path.abspath(argv[0]) if argv[0] and argv[0] != "-m" else None
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
        self.optimisers_built = 0
        self.manual: bool | None = None  # no optimiser: weights updated by hand (None: not decided yet)
        self._manual_sum: float | None = None
        self.roots: dict[int, Any] = {}
        self.after_first_backward: Any = None
        self._weighted: dict[int, bool] = {}  # modules called outermost in training forwards (samples without a loader)
        self._root_batch = 0  # the largest batch dimension among them since the last backward
        self.root_shapes: dict[tuple, int] = {}
        self.stopped_at_budget_without_drain = False
        self.fetching = False  # inside a DataLoader's fetch: a seeding call there seeds per sample
        self.printed: list[list] = []  # [step, value, line] of the training loss the script printed
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
        self.files = Redirects(self.tmpdir, [self.project, os.getcwd()], lambda: user_site(3))
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
        """A batch is done (its iterator ended, or a forward under no_grad used it): without a backward, it was
        an evaluation batch. A batch stays pending while its iterator moves on, since loaders that prefetch
        (timm's PrefetchLoader) yield batch k+1 before batch k's backward."""
        if record in self.pending:
            self.pending.remove(record)
        if record.trained or record.loader.trained_batches:
            return
        self.evaluated_records.append(record)
        self.last_eval = record.loader

    # -- training
    def on_backward(self, loss: torch.Tensor) -> None:
        if self.manual is None and not self.optimisers_built and not self.steps:
            self._check_manual()
        if self.manual and self._micro_acc:  # updated by hand: the previous backward pass was a step
            self._close_step()
        self.backwards += 1
        self._micro_acc += 1
        if loss.numel() == 1:
            try:
                self._loss_acc.append(float(loss.detach()))
            except Exception:  # noqa: BLE001 - a loss that cannot be read is still a backward
                pass
        from_loader = False
        for record in list(self.pending):
            if record.evaluated:  # used by an evaluation forward, not by this backward
                self.retire(record)
            elif not record.trained:
                record.trained = from_loader = True
                info = record.loader
                info.trained_batches += 1
                info.trained_samples += record.size
                self.samples_trained += record.size
                self._samples_acc += record.size
                self.trained_records.append(record)
        self.pending.clear()
        if not from_loader and self._root_batch and not any(info.trained_batches for info in self.loaders):
            # no DataLoader feeds training: the batch dimension of the model's inputs
            self.samples_trained += self._root_batch
            self._samples_acc += self._root_batch
        self._root_batch = 0
        self.last_eval = None
        if self.after_first_backward is not None:
            learned, self.after_first_backward = self.after_first_backward, None
            learned()

    def _check_manual(self) -> None:
        """No optimiser: when the weights change between the first two backward passes (`p.data.add_(-lr *
        p.grad)`), each backward pass is a step; when they do not, none is (a forgotten optimizer.step())."""
        params = [p for module in self.roots.values() for p in module.parameters() if p.requires_grad]
        if not params:
            return
        with torch.no_grad():
            total = float(sum(p.detach().double().sum() for p in params))
        if self._manual_sum is None:
            self._manual_sum = total
            return
        self.manual = total != self._manual_sum
        if self.manual:
            self.notes.append("no optimiser: the weights changed between backward passes (updated by hand), so "
                              "each backward pass counts as a step")

    def on_step(self, optimizer: torch.optim.Optimizer) -> None:
        self._learn_optimiser(optimizer)
        self._close_step()

    def _close_step(self, final: bool = False) -> None:
        """One optimiser step (or one update by hand) done: its loss is the sum, over its micro-batches, of the
        losses passed to backward() (with accumulation, the script's loss/N summed back to the batch's loss)."""
        now = time.perf_counter()
        self.steps += 1
        losses = self._loss_acc
        self.step_losses.append(sum(losses) if losses else None)
        self.step_samples.append(self._samples_acc)
        self.step_micro.append(self._micro_acc)
        self.step_times.append(now - (self._last_step_time or self.started))
        self._last_step_time = now
        cpu = time.thread_time()
        self.step_cpu.append(cpu - (self._last_step_cpu or 0.0))
        self._last_step_cpu = cpu
        self._loss_acc, self._samples_acc, self._micro_acc = [], 0, 0
        if final:
            return
        if self.steps >= self.steps_budget:
            # while draining, a loader that prefetches (timm) still yields a batch or two before the epoch ends
            if self.draining and self.steps >= self.steps_budget + 2 or not self.draining and not any(
                    info.trained_batches for info in self.loaders):
                self.stopped_at_budget_without_drain = not self.draining
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
        for record in self.pending:
            record.evaluated = True
        if id(module) in self.eval_modules or not self.in_evaluation():
            return
        self.eval_modules[id(module)] = {"module": module, "site": script_site(2), "class": type(module).__name__}

    # -- training forwards without a DataLoader
    def on_root_forward(self, module: torch.nn.Module, args: tuple, kwargs: dict | None) -> None:
        """An outermost training forward: a module with parameters (the model, not a loss module whose inputs are
        flattened outputs) counts the batch dimension of its input."""
        weighted = self._weighted.get(id(module))
        if weighted is None:
            weighted = self._weighted[id(module)] = next(module.parameters(), None) is not None
        if not weighted:
            return
        tensor = first_input(args) if args else None
        if tensor is None and kwargs:
            tensor = first_input(kwargs)
        if tensor is not None:
            self.roots.setdefault(id(module), module)
            if self.device is None:
                self.device = str(tensor.device)
            self._root_batch = max(self._root_batch, int(tensor.shape[0]))
            shape = tuple(tensor.shape)
            if len(self.root_shapes) < 20 or shape in self.root_shapes:
                self.root_shapes[shape] = self.root_shapes.get(shape, 0) + 1

    def on_train_mode_module(self, module: torch.nn.Module) -> None:
        if not self.in_evaluation():
            return
        key = type(module).__name__
        if key not in self.train_mode_evals:
            self.train_mode_evals[key] = {"site": script_site(2), "class": key}

    # -- seeds
    def seed_kind(self, caller) -> str:
        """`script`: the run's own seeding; `per-sample`: a seeding call while a DataLoader fetches a batch (a
        dataset that seeds each sample); `library`: a call from an installed package or outside the project."""
        name = os.path.abspath(caller.f_code.co_filename) if caller is not None else "<?>"
        if _is_library(name) or not name.startswith(self.project_prefix):
            return "library"
        return "per-sample" if self.fetching else "script"

    def on_seed(self, api: str, value: Any, caller, kind: str) -> None:
        """Seeding calls grouped by call site: a dataset that seeds per sample is one line, not one per sample."""
        site = frame_site(caller) if caller is not None else None
        shown = value if isinstance(value, (int, float, str, type(None))) else repr(value)
        key = (kind, api, tuple(site[:2]) if site else None)
        entry = self.seeds.get(key)
        if entry is None:
            entry = self.seeds[key] = {"api": api, "value": shown, "site": site, "count": 0, "kind": kind,
                                       "values": []}
            entry["from"] = script_site(3)  # the script's line, when a helper or a library made the call
        entry["count"] += 1
        if len(entry["values"]) < 50 and shown not in entry["values"]:
            entry["values"].append(shown)
        if self.seed is not None and kind == "script":
            entry["overridden_to"] = self.seed

    # -- what the script prints
    def training_phase(self) -> bool:
        loader = self.current_loader
        return self.backwards > 0 and torch.is_grad_enabled() and not (loader is not None and not loader.trained_batches)

    def on_printed_loss(self, value: float, line: str) -> None:
        self.printed.append([self.steps, value, line[:200]])
        if len(self.printed) > 400:
            del self.printed[:200]

    # -- writes
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

    def on_save(self, path: Any) -> None:
        target = None
        if isinstance(path, (str, bytes, os.PathLike)):
            target = os.path.abspath(os.fsdecode(path))
        after = self.last_eval
        self.saves.append({
            "site": script_site(2), "path": target, "step": self.steps,
            "after_evaluation": after.number if after is not None else None,
        })

    # -- the record
    def to_json(self) -> dict:
        if self.manual and self._micro_acc:
            self._close_step(final=True)
        findings, checked, unchecked = evidence.collect(self)
        files = self.files.to_json()
        micro = [m for m in self.step_micro if m]
        return {
            "loss_quantity": evidence.loss_quantity(micro, bool(self.manual)),
            "printed_losses": self.printed[-50:], "manual_steps": bool(self.manual),
            "root_inputs": [list(shape) for shape, _ in sorted(self.root_shapes.items(), key=lambda kv: -kv[1])[:3]]
            if not any(info.trained_batches for info in self.loaders) else [],
            "hidden": files["hidden"], "skipped_removals": files["skipped_removals"], "unchecked": unchecked,
            "steps": self.steps, "backwards": self.backwards, "samples_trained": self.samples_trained,
            "step_losses": self.step_losses, "step_samples": self.step_samples, "step_micro": self.step_micro,
            "step_times": self.step_times, "step_cpu": self.step_cpu, "device": self.device, "wall": time.perf_counter() - self.started,
            "loaders": [info.to_json() for info in self.loaders],
            "seeds": list(self.seeds.values()),
            "saves": self.saves,
            "redirects": files["redirects"],
            "created_dirs": self.created_dirs,
            "synthetic": sorted(self.synthetic),
            "evidence": findings, "checked": checked, "notes": self.notes,
        }


STATE: State = None  # type: ignore[assignment]
