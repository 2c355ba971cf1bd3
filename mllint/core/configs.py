"""Config files a card reads: the YAML/JSON a `--config` option points at (timm's `parser.set_defaults(**cfg)`),
and nanoGPT-style Python configs (`batch_size = 12` lines the configurator executes). Read as data, never run."""
from __future__ import annotations

import ast
import json
import os


class ConfigFileError(Exception):
    pass


def load(path: str) -> dict[str, object]:
    """A flat view of a config: top-level keys, and nested keys both as `a.b` and as their last part `b`
    (when that part is unique), so that `optim.lr` and an option `--lr` both find `lr`."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read config {path}: {exc}") from exc
    if path.endswith(".py"):
        data = _python(text, path)
    elif path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigFileError(f"{path} is not valid JSON: {exc}") from exc
    elif path.endswith(".toml"):
        try:
            import tomllib  # type: ignore[import-not-found]
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(text)
        except Exception as exc:  # noqa: BLE001 - a broken file is a message
            raise ConfigFileError(f"{path} is not valid TOML: {exc}") from exc
    else:
        data = _yaml(text, path)
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: the config is not a mapping of keys to values")
    return flatten(data)


def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    leaves: dict[str, list[object]] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            for inner_key, inner in flatten(value, name + ".").items():
                flat[inner_key] = inner
                leaves.setdefault(inner_key.rsplit(".", 1)[-1], []).append(inner)
        else:
            flat[name] = tuple(value) if isinstance(value, list) else value
    for leaf, values in leaves.items():
        if len(values) == 1 and leaf not in flat:
            flat[leaf] = values[0]
    return flat


def _yaml(text: str, path: str) -> object:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        return _flat_yaml(text)
    try:
        return yaml.safe_load(text) or {}
    except Exception as exc:  # noqa: BLE001
        raise ConfigFileError(f"{path} is not valid YAML: {exc}") from exc


def _flat_yaml(text: str) -> dict[str, object]:
    """Without PyYAML: `key: scalar` lines at the top level (what timm's configs are)."""
    found: dict[str, object] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, raw = line.partition(":")
        raw = raw.split(" #", 1)[0].strip()
        try:
            found[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            lowered = raw.lower()
            found[key.strip()] = {"true": True, "false": False, "null": None, "~": None}.get(lowered, raw.strip("'\""))
    return found


def _python(text: str, path: str) -> dict[str, object]:
    """`name = literal` statements at the top level; anything else is not read."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise ConfigFileError(f"{path}: {exc}") from exc
    found: dict[str, object] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, SyntaxError, TypeError):
                value = _arith(stmt.value, found)
                if value is None:
                    continue
            found[stmt.targets[0].id] = value
    return found


def _arith(node: ast.AST, known: dict[str, object]) -> object:
    """`5 * 8` and `gradient_accumulation_steps = 5 * 8`, names bound above included."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name) and isinstance(known.get(node.id), (int, float)):
        return known[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub, ast.Div, ast.FloorDiv)):
        left, right = _arith(node.left, known), _arith(node.right, known)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            try:
                return {ast.Mult: left * right, ast.Add: left + right, ast.Sub: left - right,
                        ast.Div: left / right if right else None,
                        ast.FloorDiv: left // right if right else None}[type(node.op)]
            except (OverflowError, ZeroDivisionError):
                return None
    return None


def data_config_text(path: str, *words: str, limit: int = 200_000) -> str | None:
    """The head of a YAML/JSON/TOML config that mentions one of `words` (an aux reader's cheap gate), else None."""
    if not path.endswith((".yml", ".yaml", ".json", ".toml")):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(limit)
    except OSError:
        return None
    return text if any(word in text for word in words) else None


def is_config_file(path: str) -> bool:
    """A file that is a config rather than a script: YAML/JSON/TOML, or Python with only assignments."""
    if path.endswith((".yaml", ".yml", ".json", ".toml")):
        return True
    if not path.endswith(".py") or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return bool(body) and all(isinstance(s, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom)) for s in body)


def load_hydra(folder: str, name: str) -> tuple[dict[str, object], list[str], dict[str, str]]:
    """A Hydra/OmegaConf config as the app starts with it: the primary file, its defaults list (`- optim: adamw`
    reads `optim/adamw.yaml` under the key `optim`; `_self_` and `override` entries are followed in order), no
    command-line overrides. Returns the flat config, the files read, and the file that set each key;
    interpolations stay as written."""
    read: list[str] = []
    set_by: dict[str, str] = {}

    def compose(path: str, depth: int, prefix: str = "") -> dict:
        if depth > 8 or not os.path.isfile(path):
            return {}
        read.append(path)
        with open(path, encoding="utf-8") as handle:
            data = _yaml(handle.read(), path)
        if not isinstance(data, dict):
            return {}
        merged: dict = {}
        own = {k: v for k, v in data.items() if k != "defaults"}
        for key in flatten(own):
            set_by[prefix + key] = path
        defaults = data.get("defaults") or []
        if "_self_" not in defaults:
            defaults = [*defaults, "_self_"]
        for entry in defaults:
            if entry == "_self_":
                _merge(merged, own)
            elif isinstance(entry, str):
                _merge(merged, compose(os.path.join(folder, entry + ".yaml"), depth + 1, prefix))
            elif isinstance(entry, dict) and len(entry) == 1:
                group, option = next(iter(entry.items()))
                group = str(group).replace("override ", "").strip().lstrip("/")
                if option is None:
                    continue
                inner = compose(os.path.join(folder, group, f"{option}.yaml"), depth + 1,
                                prefix + group.replace("/", ".") + ".")
                target = merged
                for part in group.split("/"):
                    target = target.setdefault(part, {})
                _merge(target, inner)
        return merged

    composed = compose(os.path.join(folder, name if name.endswith(".yaml") else name + ".yaml"), 0)
    flat = flatten(composed)
    for key in flat:  # leaves (`lr` for `optim.lr`) come from the file of their dotted key
        if key not in set_by:
            dotted_key = next((k for k in set_by if k.endswith("." + key)), None)
            if dotted_key is not None:
                set_by[key] = set_by[dotted_key]
    return flat, read, set_by


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
