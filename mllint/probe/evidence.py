"""What the instrumentation saw, turned into evidence records (runs in the user's interpreter, at the end).

An evidence record is `{"code", "site", "message", "related": [{"site", "message"}]}`; the parent process turns
records into `Finding`s (verdicts.py). `checked[code]` says whether the run reached the point where the code's
question could be answered (an evaluation pass for LEAK, an evaluation forward for EVAL, ...), which separates
"not reproduced" from "not checkable".
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

# Means (RGB order) of the normalisation constants in wide use, with their usual std; values on a 0-1 scale.
KNOWN_CONSTANTS = {
    "ImageNet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "CIFAR-10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "CIFAR-100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
MIN_SAMPLES = 32


def _site_text(site: list | None) -> str:
    """As the parent prints paths: relative to the working folder (the probe runs the script in it), with `/`."""
    if not site:
        return "?"
    try:
        path = os.path.relpath(site[0])
    except ValueError:
        path = site[0]
    return f"{path.replace(os.sep, '/')}:{site[1]}"


def note_constants(state: Any, data: Any, site_of: Callable) -> None:
    """`torch.tensor([..3 numbers..])`: keep it when it is a well-known normalisation mean (either order)."""
    try:
        values = [float(v) for v in data]
    except (TypeError, ValueError):
        return
    scale = 255.0 if max(values) > 1.5 else 1.0
    for name, (mean, std) in KNOWN_CONSTANTS.items():
        for order in (mean, mean[::-1]):
            if all(abs(v / scale - m) < 2e-3 for v, m in zip(values, order)):
                stds = std if order is mean else std[::-1]
                if not any(c["mean"] == values for c in state.constants):
                    state.constants.append({
                        "name": name, "mean": values, "std": [s * scale for s in stds], "site": site_of(),
                    })
                return


def channel_order(raw: list[float], mean: list[float]) -> tuple[bool, float, float]:
    """Whether raw channel means match the normalisation means in reverse order much better than in order."""
    same = math.dist(raw, mean)
    swapped = math.dist(raw, mean[::-1])
    spread = max(mean) - min(mean)
    return (swapped < 0.5 * same and same - swapped > 0.25 * spread and spread > 0), same, swapped


def _prep(state: Any, out: list[dict], checked: dict) -> None:
    synthetic = bool(state.synthetic)
    candidates = []  # (raw channel means, constants, site, how)
    for (mean, std), acc in state.normalize_inputs.items():
        if acc["count"] >= MIN_SAMPLES:
            raw = [s / acc["count"] for s in acc["sums"]]
            candidates.append((raw, list(mean), acc.get("site"), "the inputs of Normalize"))
    if state.channel_count >= MIN_SAMPLES:
        mu = [s / state.channel_count for s in state.channel_sums]
        for const in state.constants:
            mean, std = const["mean"], const["std"]
            scale = 255.0 if max(mean) > 1.5 else 1.0
            if state.batch_min < -0.01:  # the loader yields normalised batches: undo the normalisation
                raw = [m * s + c for m, s, c in zip(mu, std, mean)]
            else:
                raw = [m * (scale if state.batch_max <= 1.5 else scale / 255.0) for m in mu]
            candidates.append((raw, mean, const["site"], "the loaders' batches"))
    if not candidates:
        return
    if synthetic:
        return  # synthetic images have no channel order to check
    checked["PREP001"] = True
    for raw, mean, site, how in candidates:
        swapped, _, _ = channel_order(raw, mean)
        if swapped:
            shown = ", ".join(f"{v:.3f}" for v in raw)
            const = ", ".join(f"{v:g}" for v in mean)
            out.append({
                "code": "PREP001", "site": site,
                "message": f"channel order mismatch: the mean of each input channel ({shown}, from {how}) matches "
                           f"the normalisation means ({const}) in reverse order: the images are BGR, the constants RGB",
                "related": [],
            })
            return


def _leak(state: Any, out: list[dict], checked: dict) -> None:
    loaders = {info.number: info for info in state.loaders}
    trained_loaders = [info for info in state.loaders if info.trained_batches]
    trained, evaluated_all = state.sample_sets()
    evaluated = {n: seen for n, seen in evaluated_all.items() if seen}
    if trained_loaders and evaluated:
        checked["LEAK001"] = True
    for number, seen in sorted(evaluated.items()):
        evaluator = loaders[number]
        if evaluator.trained_batches:  # a training loader's batch used by a forward under no_grad: not evaluation
            continue
        by_trainer: dict[int, int] = {}
        for keys in seen.values():
            owner = next((trained[k] for k in keys if k in trained), None)
            if owner is not None:
                by_trainer[owner] = by_trainer.get(owner, 0) + 1
        for trainer in trained_loaders:
            count = by_trainer.get(trainer.number, 0)
            same = same_data(trainer.dataset, evaluator.dataset)
            if not count and not same:
                continue
            if count:
                message = (f"{count} of the {len(seen)} samples evaluated by the loader at "
                           f"{_site_text(evaluator.site)} ({evaluator.dataset_name}) reached backward() through "
                           f"this loader ({trainer.dataset_name}) within {state.steps} optimiser steps")
            else:
                message = (f"the evaluation loader at {_site_text(evaluator.site)} iterates {same} "
                           f"({evaluator.dataset_name}) as this training loader")
            if count and same:
                message += f"; both iterate {same}"
            out.append({
                "code": "LEAK001", "site": trainer.site, "message": message, "overlap": count,
                "evaluated": len(seen),
                "related": [{"site": evaluator.site, "message": "evaluation loader built here"}],
            })
    if evaluated and state.saves:
        checked["LEAK002"] = True
    for save in state.saves:
        number = save["after_evaluation"]
        if number is None:
            continue
        evaluator = loaders[number]
        out.append({
            "code": "LEAK002", "site": save["site"],
            "message": f"a checkpoint is written right after an evaluation pass over the loader at "
                       f"{_site_text(evaluator.site)} ({evaluator.dataset_name}), before training goes on: "
                       f"that data selects the checkpoint",
            "related": [{"site": evaluator.site, "message": "evaluation loader built here"}],
        })
        break


def _param_shapes(module: Any) -> list[tuple]:
    return sorted(tuple(p.shape) for p in module.parameters())


def _eval(state: Any, out: list[dict], checked: dict) -> None:
    if state.eval_modules:
        checked["EVAL004"] = True
    for entry in state.train_mode_evals.values():
        out.append({
            "code": "EVAL004", "site": entry["site"],
            "message": f"a forward pass under no_grad/inference_mode during evaluation runs {entry['class']} in "
                       f"training mode (model.eval() was not called)",
            "related": [],
        })
        break
    if not (state.eval_modules and state.optimised):
        return
    checked["EVAL001"] = True
    for entry in state.eval_modules.values():
        module = entry["module"]
        params = list(module.parameters())
        if not params or any(id(p) in state.optimised for p in params):
            continue
        if _param_shapes(module) in state.optimised_shapes.values():
            out.append({
                "code": "EVAL001", "site": entry["site"],
                "message": f"the module evaluated here ({entry['class']}) is not the one the optimiser trains but a "
                           f"copy with the same parameter shapes (EMA/SWA/averaged weights)",
                "related": [],
            })
            break


def same_data(a: Any, b: Any) -> str | None:
    """Whether two datasets are the same data: the same object, or the same files (class, root and split) or
    tensors. Two folders of one class with different roots are different data, whatever their class."""
    from .fingerprints import dataset_key

    if a is b:
        return "the same dataset object"
    key = dataset_key(a)
    if key[0] != "obj" and key == dataset_key(b):
        return "the same files" if key[0] == "ds" else "the same tensors"
    return None


def loss_quantity(micro: list[int], manual: bool) -> str:
    """What the per-step training loss is, in words."""
    per = max(set(micro), key=micro.count) if micro else 1
    if per > 1:
        return (f"the sum over the step's {per} micro-batches of the loss passed to backward() (with the loss "
                f"divided by {per} for accumulation, the mean micro-batch loss)")
    return "the loss passed to backward()" + (" (one backward pass per update by hand)" if manual else "")


def _why_not(state: Any, code: str) -> str:
    """Why a check could not run in this run."""
    trained = any(info.trained_batches for info in state.loaders)
    stopped = ""
    if state.evaluated_records or state.eval_modules:
        pass  # the script evaluated: the stop is not the reason
    elif state.stopped_at_budget_without_drain:
        stopped = (" (the training loop does not iterate a DataLoader, so the probe could not end its epoch early to "
                   "let the script evaluate: it stopped the script at the step budget)")
    elif state.draining:
        stopped = " (the probe ended the training epoch, and the script trained on without evaluating)"
    no_eval = "no evaluation pass over a DataLoader ran" + stopped
    if not state.loaders:
        no_eval = "no DataLoader was built: what an evaluation reads cannot be told apart from training data"
    no_forward = "no forward pass under no_grad/inference_mode ran after training started" + stopped
    if code == "LEAK001":
        if not state.loaders:
            return "no DataLoader was built: samples could not be fingerprinted"
        return no_eval if trained else "no DataLoader batch reached backward()"
    if code == "LEAK002":
        return "no checkpoint was written" + stopped if not state.saves else no_eval
    if code in ("EVAL001", "EVAL004"):
        if code == "EVAL001" and state.eval_modules and not state.optimised:
            return "no optimiser: the trained parameters are unknown"
        return no_forward
    if code == "PREP001":
        if state.synthetic:
            return "synthetic images have no channel order"
        return "no known normalisation constants were met with 3-channel image batches"
    return "not reached"


def collect(state: Any) -> tuple[list[dict], dict, dict]:
    out: list[dict] = []
    checked = {"LEAK001": False, "LEAK002": False, "EVAL004": False, "EVAL001": False, "PREP001": False,
               "SEED001": bool(state.seeds)}
    for part in (_leak, _eval, _prep):
        try:
            part(state, out, checked)
        except Exception as exc:  # noqa: BLE001 - one check failing must not lose the others
            state.notes.append(f"{part.__name__[1:]} check failed: {type(exc).__name__}: {exc}")
    for item in out:
        item.setdefault("related", [])
    unchecked = {}
    for code, ok in checked.items():
        if not ok and code != "SEED001":
            try:
                unchecked[code] = _why_not(state, code)
            except Exception as exc:  # noqa: BLE001
                unchecked[code] = f"unknown ({type(exc).__name__})"
    return out, checked, unchecked
