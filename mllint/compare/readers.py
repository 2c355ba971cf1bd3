"""Per-seed results from files: CSV/TSV, JSON, JSON lines, `mllint probe --format json` reports, folders of them,
and TensorBoard event folders (through tensorboard's own EventAccumulator, an optional dependency).

A table whose rows are runs gives one run per row; a table with a step column (`step`, `epoch`, ...) is a training
log: one run (or one per `seed`/`run` value), each metric reduced over its steps (`last` by default). A folder
gives the runs of every result file below it, or, when it holds none, one run per folder of event files.
"""
from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

RUN_KEYS = {"seed", "run", "run_id", "runid", "trial", "replicate", "repeat", "fold", "id", "name", "run_name"}
STEP_KEYS = {"step", "steps", "global_step", "epoch", "epochs", "iteration", "iterations", "iter", "it", "batch",
             "wall_time", "walltime", "time", "timestamp", "_step", "_runtime", "_timestamp", "relative", "date"}
METRIC_KEYS = {"metric", "tag", "key", "name"}  # long format: one row per (run, metric) with a `value` column
TABLES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson")
EVENTS = "events.out.tfevents"
REDUCERS = {"last": lambda v: v[-1], "min": min, "max": max, "mean": lambda v: sum(v) / len(v)}
TENSORBOARD_HINT = ("reading TensorBoard event files needs tensorboard: pip install tensorboard "
                    "(or 'mllint-redflags[stats]')")


class ReadError(Exception):
    """A file that cannot be read as per-seed results; the message says why."""


@dataclass
class Run:
    name: str  # where it came from: file, file:row, file[seed=3], event folder
    metrics: dict[str, float]


@dataclass
class Results:
    path: str
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values left out (NaN, inf), files skipped
    logs: bool = False  # some run was a series over steps, reduced to one value

    def values(self, metric: str) -> list[float]:
        return [run.metrics[metric] for run in self.runs if metric in run.metrics]

    def metrics(self) -> list[str]:
        return list(dict.fromkeys(m for run in self.runs for m in run.metrics))


def read(path: str, reduce: str = "last") -> Results:
    """Every run under `path` (a file or a folder)."""
    results = Results(path)
    target = Path(path)
    if target.is_dir():
        tables = sorted(p for p in _files(target) if p.suffix.lower() in TABLES)
        if tables:
            for table in tables:
                _read_file(table, results, reduce, label=os.path.relpath(table, target))
        else:
            folders = sorted({p.parent for p in _files(target) if p.name.startswith(EVENTS)})
            if not folders:
                raise ReadError(f"{path}: no CSV, JSON or TensorBoard event files in this folder")
            _read_events(folders, target, results, reduce)
    elif target.is_file():
        if target.name.startswith(EVENTS):
            _read_events([target.parent], target.parent, results, reduce, only=target)
        else:
            _read_file(target, results, reduce, label=target.name)
    else:
        raise ReadError(f"{path}: no such file or folder")
    if not results.runs:
        raise ReadError(f"{path}: no numeric results found")
    return results


def _files(folder: Path) -> Iterable[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if not name.startswith("."):
                yield Path(root) / name


def _read_file(path: Path, results: Results, reduce: str, label: str) -> None:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"{path}: cannot read: {exc}") from None
    if suffix in (".jsonl", ".ndjson"):
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ReadError(f"{path}:{number}: not JSON: {exc}") from None
        _read_rows([r for r in rows if isinstance(r, dict)], label, results, reduce)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ReadError(f"{path}: not JSON: {exc}") from None
        _read_json(data, label, results, reduce)
    else:
        _read_csv(text, path, label, results, reduce)


def _number(value: Any) -> float | None:
    """A float from a cell or a JSON value; None for text, booleans, empty cells."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "/"))
        else:
            out[name] = value
    return out


def _read_csv(text: str, path: Path, label: str, results: Results, reduce: str) -> None:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if path.suffix.lower() != ".tsv":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            pass
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    if not reader.fieldnames:
        raise ReadError(f"{path}: an empty table")
    _read_rows(list(reader), label, results, reduce)


def _key(row_keys: Iterable[str], names: set[str]) -> str | None:
    return next((k for k in row_keys if k is not None and k.strip().lower() in names), None)


def _read_rows(rows: list[dict], label: str, results: Results, reduce: str) -> None:
    """Rows of a table: runs (one per row), a training log (step column), or the long format (metric, value)."""
    rows = [_flatten(row) for row in rows]
    keys = list(dict.fromkeys(k for row in rows for k in row if k is not None))
    run_key, step_key = _key(keys, RUN_KEYS - {"name"}), _key(keys, STEP_KEYS)
    metric_key, value_key = _key(keys, METRIC_KEYS), _key(keys, {"value", "val"})
    if metric_key and value_key:  # long format: (run?, step?, metric, value)
        rows = _widen(rows, metric_key, value_key, run_key, step_key)
        keys = list(dict.fromkeys(k for row in rows for k in row))
        if run_key is None and step_key is None:
            run_key = "#"
    if run_key is None:
        run_key = _key(keys, {"name"})
    skip = {k for k in (run_key, step_key) if k} | {k for k in keys if k.strip().lower() in STEP_KEYS | RUN_KEYS}
    metrics = [k for k in keys if k not in skip and _numeric_column(rows, k)]
    if step_key is None:
        for index, row in enumerate(rows):
            run = row.get(run_key) if run_key else None
            name = f"{label}[{run_key}={run}]" if run not in (None, "") and run_key != "#" else f"{label}:{index + 1}"
            _add(results, name, {m: row.get(m) for m in metrics})
        return
    results.logs = True
    groups: dict[Any, list[dict]] = {}
    for row in rows:
        groups.setdefault(row.get(run_key) if run_key else None, []).append(row)
    for run, members in groups.items():
        members.sort(key=lambda r: _number(r.get(step_key)) if _number(r.get(step_key)) is not None else math.inf)
        series = {m: [v for r in members if (v := _number(r.get(m))) is not None and math.isfinite(v)]
                  for m in metrics}
        name = f"{label}[{run_key}={run}]" if run not in (None, "") else label
        _add(results, name, {m: REDUCERS[reduce](v) for m, v in series.items() if v})


def _widen(rows: list[dict], metric_key: str, value_key: str, run_key: str | None, step_key: str | None) -> list[dict]:
    wide: dict[tuple, dict] = {}
    counts: dict[tuple, int] = {}
    for row in rows:
        metric = row.get(metric_key)
        if metric in (None, ""):
            continue
        run = row.get(run_key) if run_key else None
        step = row.get(step_key) if step_key else None
        if run_key is None and step_key is None:  # (metric, value) rows: the k-th value of a metric is run k
            counts[(metric,)] = counts.get((metric,), 0) + 1
            base = (counts[(metric,)],)
            target = wide.setdefault(base, {"#": base[0]})
        else:
            target = wide.setdefault((run, step), {k: v for k, v in ((run_key, run), (step_key, step)) if k})
        target[str(metric)] = row.get(value_key)
    return list(wide.values())


def _numeric_column(rows: list[dict], key: str) -> bool:
    values = [row.get(key) for row in rows if row.get(key) not in (None, "")]
    return bool(values) and all(_number(v) is not None for v in values)


def _add(results: Results, name: str, raw: dict[str, Any]) -> None:
    metrics = {}
    for metric, value in raw.items():
        number = _number(value)
        if number is None:
            continue
        if not math.isfinite(number):
            results.notes.append(f"{name}: {metric} is {value}, left out")
            continue
        metrics[metric] = number
    if metrics:
        results.runs.append(Run(name, metrics))


def _read_json(data: Any, label: str, results: Results, reduce: str) -> None:
    if isinstance(data, dict) and isinstance(data.get("runs"), list) and "settings" in data:
        _read_probe_report(data, label, results)
    elif isinstance(data, list) and data and all(_number(v) is not None for v in data):
        for index, value in enumerate(data):  # a bare list: one value per run
            _add(results, f"{label}:{index + 1}", {"value": value})
    elif isinstance(data, list):
        _read_rows([row for row in data if isinstance(row, dict)], label, results, reduce)
    elif isinstance(data, dict):
        flat = _flatten(data)
        lists = {k: v for k, v in flat.items() if isinstance(v, list)}
        if lists and all(all(_number(x) is not None for x in v) for v in lists.values()):
            longest = max(len(v) for v in lists.values())  # {"metric": [one value per run], ...}
            for index in range(longest):
                _add(results, f"{label}:{index + 1}", {k: v[index] for k, v in lists.items() if index < len(v)})
        else:  # one run's results
            _add(results, label, {k: v for k, v in flat.items() if k.strip().lower() not in RUN_KEYS | STEP_KEYS})
    else:
        raise ReadError(f"{label}: JSON of per-seed results is a list of runs, a table of metric lists, or one run")


def _read_probe_report(data: dict, label: str, results: Results) -> None:
    """`mllint probe --seeds K --format json`: the training loss at the last step of each run."""
    for run in data["runs"]:
        losses = [v for v in run.get("step_losses") or [] if v is not None]
        if losses:
            _add(results, f"{label}[seed={run.get('seed')}]", {"train_loss": losses[-1]})
        else:
            results.notes.append(f"{label}[seed={run.get('seed')}]: no training loss recorded ({run.get('status')})")


def _read_events(folders: list[Path], base: Path, results: Results, reduce: str, only: Path | None = None) -> None:
    """One run per folder of event files: every scalar (and scalar tensor, as TF2 writes them) reduced over steps."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise ReadError(TENSORBOARD_HINT) from None
    results.logs = True
    for folder in folders:
        accumulator = EventAccumulator(str(only or folder), size_guidance={"scalars": 0, "tensors": 0})
        try:
            accumulator.Reload()
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: say which
            raise ReadError(f"{folder}: cannot read the event files: {type(exc).__name__}: {exc}") from None
        tags = accumulator.Tags()
        series: dict[str, list[tuple[int, float]]] = {}
        for tag in tags.get("scalars", []):
            series[tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
        for tag in tags.get("tensors", []):
            if tag not in series:
                values = [(event.step, _scalar_tensor(event.tensor_proto)) for event in accumulator.Tensors(tag)]
                if values and all(v is not None for _, v in values):
                    series[tag] = values
        name = os.path.relpath(folder, base) if folder != base else folder.name
        reduced = {}
        for tag, points in series.items():
            points = sorted(points, key=lambda point: point[0])  # steps; a restarted run's later write wins ties
            values = [v for _, v in points if math.isfinite(v)]
            if len(values) < len(points):
                results.notes.append(f"{name}: {tag} has {len(points) - len(values)} non-finite values, left out")
            if values:
                reduced[tag] = REDUCERS[reduce](values)
        _add(results, name, reduced)


def _scalar_tensor(proto: Any) -> float | None:
    from tensorboard.util import tensor_util

    try:
        array = tensor_util.make_ndarray(proto)
    except Exception:  # noqa: BLE001 - not a numeric tensor
        return None
    return float(array.reshape(-1)[0]) if array.size == 1 and array.dtype.kind in "fiu" else None
