"""Config values that decide a held-out split (LEAK): the YAML/JSON/TOML configs a project's code loads, and
whether a key that code reads (`cfg.data.test.root`, `opt["test_dir"]`) names held-out data in them.

Workers note two things per module (leak_domain.py): the config files its text names (`"configs/train.yaml"`,
an option's default, Hydra's `config_path`/`config_name`), and the config keys it reads where data or a split is
chosen, each as a source that holds only if a config says so. The project phase (`confirm`) reads each config
that some module names, once per run, and decides those sources: the key must exist in a config loaded in the
same project unit and give a held-out value there (a path such as `data/test`, a split name under a split key,
a data location under a held-out key such as `test_dataset.dataroot`). The config line is kept for the report.
No libcst here: this runs on warm runs too.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import patterns as P

if TYPE_CHECKING:
    from ...project import Project

CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_LITERAL = re.compile(r"""["']([^"'\s]{1,200}?\.(?:ya?ml|json|toml))["']""")
_TEMPLATE = re.compile(r"""[fF]?["']([^"'\s]{1,200}?\.(?:ya?ml|json|toml))["']""")
_CONFIG_NAME = re.compile(r"""config_name\s*=\s*["']([^"'\n]+)["']""")
_CONFIG_PATH = re.compile(r"""config_path\s*=\s*["']([^"'\n]*)["']""")
_TRAIN_WORDS = frozenset({"train", "training", "trainval", "val", "valid", "validation", "dev", "unlabeled",
                          "unlabelled", "labeled", "labelled", "lb", "ulb"})
_OTHER_SPLITS = ("train", "training", "trainval", "val", "valid", "validation", "dev")
_NOT_CONFIGS = ("package.json", "package-lock.json", "tsconfig.json", ".pre-commit-config.yaml")


def config_names(text: str) -> tuple:
    """The config files a module's text names: string literals ending in .yaml/.yml/.json/.toml, and Hydra's
    `config_path=..., config_name=...` as ("hydra", path, name). Empty for most modules (a substring test)."""
    if not any(ext in text for ext in (".yaml", ".yml", ".json", ".toml", "config_name")):
        return ()
    found: list = sorted({name for name in _LITERAL.findall(text)
                          if not name.endswith(_NOT_CONFIGS) and not any(c in name for c in "{}%*$<>")})
    # a name made from a template (`f"configs/{args.dataset}.yaml"`, `"configs/%s.yaml" % name`): every file it
    # can name, as a pattern
    for template in _TEMPLATE.findall(text):
        pattern = re.sub(r"\{[^{}]*\}|%[-\d.]*[sd]|\*+", "*", template)
        if "*" in pattern and not any(c in pattern for c in "{}%$<>") and re.search(r"[\w-]{2,}", pattern.rsplit("/", 1)[0] if "/" in pattern else ""):
            found.append(("glob", pattern))
    if "config_name" in text:  # Hydra: `@hydra.main(config_path="conf", config_name="config")`, or initialize/compose
        paths = [(m.start(), m.group(1)) for m in _CONFIG_PATH.finditer(text)]
        for match in _CONFIG_NAME.finditer(text):
            near = [(abs(at - match.start()), path) for at, path in paths if abs(at - match.start()) < 400]
            if near:
                found.append(("hydra", min(near)[1], match.group(1)))
    return tuple(found)


@dataclass(frozen=True)
class Hit:
    """Where a config names held-out data: the file as displayed, the key's line and column, the dotted key and
    its value."""
    display: str
    line: int
    column: int
    key: str
    value: Any


class _Config:
    """What a source is decided against: a config's dotted keys and where each is written."""

    def flat(self) -> dict[str, Any]:
        raise NotImplementedError

    def locate(self, parts: list[str]) -> tuple[str, int, int]:
        """(display path, line, column) of a dotted key."""
        raise NotImplementedError

    def has(self, keys: tuple) -> bool:
        return next(_anchored(self.flat(), keys), None) is not None

    def decide(self, keys: tuple, mode: str, splits: tuple[str, ...]) -> Hit | None:
        found = decide(self.flat(), keys, mode, splits)
        if found is None:
            return None
        dotted, value = found
        return Hit(*self.locate(dotted.split(".")), dotted, value)


class ConfigFile(_Config):
    """A YAML/JSON/TOML file of the project (an aux fact): read only if some module names it."""

    def __init__(self, path: str, rel: str, display: str) -> None:
        self.path, self.rel, self.display = path, rel, display
        self._flat: dict | None = None
        self._text: str | None = None
        self.hydra: HydraConfig | None = None  # this file as the primary config of a Hydra app

    def __bool__(self) -> bool:
        return True

    def flat(self) -> dict[str, Any]:
        """Dotted keys to leaf values (configs.load's reading, without its short aliases of nested keys)."""
        if self._flat is None:
            from ...core.configs import ConfigFileError, load

            try:
                flat = load(self.path)
            except (ConfigFileError, RecursionError, ValueError):
                flat = {}
            self._flat = _without_aliases(flat)
        return self._flat

    def text(self) -> str:
        if self._text is None:
            try:
                with open(self.path, encoding="utf-8", errors="replace") as handle:
                    self._text = handle.read()
            except OSError:
                self._text = ""
        return self._text

    def locate(self, parts: list[str]) -> tuple[str, int, int]:
        return (self.display, *key_position(self.text(), parts, self.rel))


class HydraConfig(_Config):
    """A Hydra config as the app starts with it: the primary file with its defaults list composed
    (recipe/configs.load_hydra); a key's line is looked up in the file that set it."""

    def __init__(self, primary: ConfigFile, configs: dict[str, ConfigFile]) -> None:
        self.primary, self.configs = primary, configs
        self.rel = primary.rel
        self._flat: dict | None = None
        self._set_by: dict[str, str] = {}

    def flat(self) -> dict[str, Any]:
        if self._flat is None:
            from ...core.configs import ConfigFileError, load_hydra

            here, base = os.path.dirname(self.primary.path), os.path.dirname(self.primary.rel)
            try:
                flat, _, set_by = load_hydra(here, os.path.basename(self.primary.rel))
            except (ConfigFileError, OSError, RecursionError, ValueError):
                flat, set_by = {}, {}
            self._flat = _without_aliases(flat)
            self._set_by = {k: os.path.normpath(os.path.join(base, os.path.relpath(v, here))) for k, v in set_by.items()}
        return self._flat

    def locate(self, parts: list[str]) -> tuple[str, int, int]:
        """In the file that set the key, under the key it has there (`data.eval_dir` is `eval_dir` in
        `data/cifar.yaml`)."""
        config = self.configs.get(self._set_by.get(".".join(parts), self.primary.rel), self.primary)
        own = next((parts[k:] for k in range(len(parts)) if ".".join(parts[k:]) in config.flat()), parts)
        return config.locate(own)


def _without_aliases(flat: dict) -> dict:
    """configs.flatten adds `b` for a unique nested `a.b`; a top-level key has no dot and is not such a copy."""
    ends: dict[str, list[str]] = {}
    for key in flat:
        if "." in key:
            ends.setdefault(key.rsplit(".", 1)[-1], []).append(key)
    return {k: v for k, v in flat.items()
            if "." in k or not (len(ends.get(k, ())) == 1 and flat[ends[k][0]] is v)}


def decide(flat: dict, keys: tuple, mode: str, splits: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first (dotted key, value) of the config under `keys` that names held-out data, or None."""
    for dotted, parts, anchor, value in _anchored(flat, keys):
        if _holds(parts, anchor, value, mode, splits):
            return dotted, value
    return None


def _anchored(flat: dict, keys: tuple):
    """The leaves at or under `keys`: (dotted key, its parts, where `keys` ends in them, value). A chain of one key
    is looked up at the top level; a longer one also inside (`dcfg.test.root` in `data.test.root`)."""
    n = len(keys)
    for dotted, value in flat.items():
        parts = dotted.split(".")
        for j in range(0, len(parts) - n + 1 if n > 1 else 1):
            if tuple(parts[j:j + n]) == keys:
                yield dotted, parts, j + n, value
                break


def _holds(parts: list[str], anchor: int, value: Any, mode: str, splits: tuple[str, ...]) -> bool:
    """Does the leaf `parts` = value name held-out data, read at parts[:anchor]? Below the anchor, only keys that
    are not splits count: `cfg.data` holding `train:` and `test:` sections is the whole data config, not the
    test split."""
    rest = parts[anchor:]
    if mode in ("split", "false"):
        return not rest and (value is False if mode == "false" else isinstance(value, str) and
                             P.is_held_out_split(value, splits))
    leaf = parts[-1]
    if value is False and leaf in P.TRAIN_KEYWORDS:  # `test: {train: false}`: a dataset's flag
        return rest == [leaf] and any(_says_held_out(k, splits) for k in parts[:-1])
    if any(_split_word(k, splits) for k in rest) or P.not_data_key(leaf):
        return False  # a section of several splits; where outputs, logs or models go (`test: {save_dir: ...}`)
    if isinstance(value, tuple):  # a list of folders or files
        return any(_holds(parts, anchor, v, mode, splits) for v in value[:50] if isinstance(v, str))
    if not isinstance(value, str) or not value.strip():
        return False
    if P.held_out_path(value, splits, bare=P.path_key(leaf)):
        return True
    if any(w in P.SPLIT_KEY_WORDS for w in P.key_words(leaf)) and P.is_held_out_split(value, splits):
        return True
    if P.held_out_path(value, _OTHER_SPLITS, bare=P.path_key(leaf)):
        return False  # a folder that names another split (`test: {root: data/val}`): the folder decides
    located = P.path_key(leaf) or "/" in value or bool(P.PATH_EXT.search(value))
    return located and any(_says_held_out(k, splits) for k in parts)


def _says_held_out(key: str, splits: tuple[str, ...]) -> bool:
    """`test`, `test_dataset`, `test_dir`, `testset`, `test_1` (not `latest`, not `contest`)."""
    for word in P.key_words(key):
        for split in splits:
            if word == split or word.startswith(split) and word[len(split):] in (
                    "set", "sets", "data", "dir", "root", "path", "list", "images", "imgs", "file", "files"):
                return True
    return False


def _split_word(key: str, splits: tuple[str, ...]) -> bool:
    return _says_held_out(key, splits) or any(
        w in _TRAIN_WORDS or w.startswith(("train", "val")) for w in P.key_words(key))


def key_position(text: str, parts: list[str], rel: str) -> tuple[int, int]:
    """Line and column of a dotted key in a config's text: YAML blocks by indentation, else (JSON, TOML, YAML
    flow style) each key after the one before it. Falls back to the deepest key found, then line 1."""
    line, column = 1, 1
    if rel.endswith((".yaml", ".yml")):
        found = _yaml_position(text.splitlines(), parts)
        if found is not None:
            return found
    offset = 0
    for key in parts:
        match = re.compile(r"""(?<![\w-])["']?""" + re.escape(key) + r"""["']?\s*[:=]""").search(text, offset)
        if match is None:  # a TOML table header: `[data.test]`
            match = re.compile(r"(?<=[\[.])" + re.escape(key) + r"(?=[.\]])").search(text, offset)
        if match is None:
            break
        offset = match.end()
        start = match.start() + (1 if text[match.start()] in "\"'" else 0)  # the key, not its quote
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def _yaml_position(lines: list[str], parts: list[str]) -> tuple[int, int] | None:
    start, indent, found = 0, -1, None
    for key in parts:
        pattern = re.compile(r"""(-\s+)?(["']?)""" + re.escape(key) + r"""["']?\s*:(?:\s|$)""")
        for number in range(start, len(lines)):
            raw = lines[number]
            stripped = raw.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            depth = len(raw) - len(stripped)
            if found is not None and depth <= indent:
                return None  # left the block of the key before: flow style or not there
            match = pattern.match(stripped)
            if match:
                dash = len(match.group(1) or "")
                indent, start = depth + dash, number + 1
                found = (number + 1, depth + dash + len(match.group(2)) + 1)
                break
        else:
            return None
    return found


def _resolve(name: Any, rel: str, configs: dict[str, ConfigFile]) -> list[tuple[Any, str]]:
    """The project's config files a name in module `rel` refers to: relative to the module, to the project
    root, or the one file whose path ends with it; Hydra's primary config. Pairs of (file, key prefix)."""
    if isinstance(name, tuple) and name[0] == "glob":
        here = os.path.dirname(rel)
        for base in (here, ""):
            pattern = os.path.normpath(os.path.join(base, name[1]))
            matched = [c for c in sorted(configs) if fnmatch.fnmatchcase(c, pattern)]
            if matched:
                return [(configs[c], "") for c in matched]
        return []
    if isinstance(name, tuple):
        _, folder, primary = name
        primary = primary if primary.endswith((".yaml", ".yml")) else primary + ".yaml"
        for base in (os.path.dirname(rel), ""):
            candidate = os.path.normpath(os.path.join(base, folder, primary))
            if candidate in configs:
                primary_file = configs[candidate]
                if "/" in name[2]:  # a primary config in a subfolder of the search path: read it alone
                    return [(primary_file, "")]
                if primary_file.hydra is None:
                    primary_file.hydra = HydraConfig(primary_file, configs)
                return [(primary_file.hydra, "")]
        return []
    here = os.path.dirname(rel)
    for candidate in (os.path.normpath(os.path.join(here, name)), os.path.normpath(name)):
        if candidate in configs:
            return [(configs[candidate], "")]
    tail = "/" + name.lstrip("./")
    matches = [c for c in configs if ("/" + c).endswith(tail)]
    return [(configs[matches[0]], "")] if len(matches) == 1 else []


def confirm(project: Project, files: dict, splits: tuple[str, ...]) -> dict[tuple[str, int], Hit]:
    """The config sources (rel, i) that hold, with where the config names the held-out data. A source in module
    M is decided by the configs that the programs running M name: M, the modules that import M (transitively),
    and what those import (a script that loads `configs/train.yaml` and the data module it imports, which reads
    `cfg.data.test`), and the configs the project's launchers pass to those scripts; not by another script's
    config, nor by a config no code names. Where several have the key, all must say held-out."""
    uses = [(rel, i, tuple(keys), mode) for rel, f in files.items() for i, keys, mode in f.notes.get("config_uses", ())]
    if not uses:
        return {}
    # Kept in the cache: a warm run must not import a YAML parser and re-read configs that did not change
    name = f"leak-configs:{_digest(project, files, splits, uses)}"
    kept = project.recall(name)
    if isinstance(kept, dict):
        return kept
    hits = _confirm(project, files, splits, uses)
    project.keep(name, hits)
    return hits


def _digest(project: Project, files: dict, splits: tuple[str, ...], uses: list) -> str:
    """What confirm's answer depends on: the uses, the configs each module names, the project's config files
    (path, display, modification time and size) and launchers, and the import graph's inputs."""
    digest = hashlib.blake2b(repr((splits, sorted(uses), sorted(files))).encode(), digest_size=16)
    for rel, f in sorted(files.items()):
        names = f.notes.get("config_names", ())
        if names:
            digest.update(f"\0{rel}\0{names!r}".encode())
    for rel, fact in sorted(project.aux_facts("leak").items()):
        if isinstance(fact, ConfigFile):
            try:
                stat = os.stat(fact.path)
                stamp = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamp = None
            digest.update(f"\0{rel}\0{fact.display}\0{stamp}".encode())
        else:
            digest.update(f"\0{rel}\0{fact!r}".encode())
    for result, imports in project.facts("imports"):
        digest.update(f"\0{result.rel}\0{imports!r}".encode())
    return digest.hexdigest()


def _confirm(project: Project, files: dict, splits: tuple[str, ...], uses: list) -> dict[tuple[str, int], Hit]:
    configs: dict[str, ConfigFile] = {rel: c for rel, c in project.aux_facts("leak").items()
                                      if isinstance(c, ConfigFile)}
    loaded: dict[str, list[Any]] = {}
    for rel, f in files.items():
        for name in f.notes.get("config_names", ()):
            for config, _ in _resolve(name, rel, configs):
                if config not in loaded.setdefault(rel, []):
                    loaded[rel].append(config)
    for launcher in project.aux_facts("leak").values():
        if isinstance(launcher, Launches):
            folder = os.path.dirname(launcher.rel)
            for script, name in launcher.pairs:
                target = _script(script, folder, files)
                if target is not None:  # run from the launcher's folder or from the root
                    for config, _ in _resolve(name, launcher.rel, configs) or _resolve(name, target, configs):
                        if config not in loaded.setdefault(target, []):
                            loaded[target].append(config)
    if not any(loaded.values()):
        return {}
    imports = _import_graph(project)
    importers: dict[str, set[str]] = {}
    for rel, targets in imports.items():
        for target in targets:
            importers.setdefault(target, set()).add(rel)
    hits: dict[tuple[str, int], Hit] = {}
    programs: dict[str, list[Any]] = {}
    for rel, i, keys, mode in sorted(uses):
        if rel not in programs:
            running = _closure({rel}, importers)
            programs[rel] = sorted({c.rel: c for r in _closure(running, imports) for c in loaded.get(r, ())}.values(),
                                   key=lambda c: c.rel)
        # held-out in a config, and in every other config of the program that has the key: a script that names
        # `configs/train.yaml` and `configs/test.yaml` reads its training data from the one without test paths
        decided = [(config, config.decide(keys, mode, splits)) for config in programs[rel]]
        held = [hit for _, hit in decided if hit is not None]
        if held and all(hit is not None for config, hit in decided if hit is not None or config.has(keys)):
            hits[(rel, i)] = held[0]
    return hits


def _script(script: str, folder: str, files: dict) -> str | None:
    """The project module a launcher runs: relative to its folder, to the root, or the one that ends so."""
    for candidate in (os.path.normpath(os.path.join(folder, script)), os.path.normpath(script)):
        if candidate in files:
            return candidate
    tail = "/" + script.lstrip("./")
    matches = [r for r in files if ("/" + r).endswith(tail)]
    return matches[0] if len(matches) == 1 else None


def _import_graph(project: Project) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    graph: dict[str, set[str]] = {}
    for result, table in project.facts("imports"):
        targets = graph.setdefault(result.rel, set())
        for dotted in set(table.values()):
            found = project.resolve(result.rel, dotted)
            if found is not None and found[0] != result.rel:
                targets.add(found[0])
    return graph


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@dataclass(frozen=True)
class Launches:
    """The config files a shell script (or Makefile) passes to the Python scripts it runs:
    `python train.py --config configs/cifar.yaml` gives ("train.py", "configs/cifar.yaml")."""
    rel: str
    pairs: tuple


_PY_SCRIPT = re.compile(r"(?<![\w$/.-])((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)*\.py)\b")
_CONFIG_ARG = re.compile(r"""(?:^|[\s=])["']?((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)*\.(?:ya?ml|json|toml))\b""")


def launched_configs(text: str) -> tuple:
    pairs = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#"):
            continue
        script = _PY_SCRIPT.search(line)
        if script is None:
            continue
        for config in _CONFIG_ARG.findall(line[script.end():]):
            if (script.group(1), config) not in pairs:
                pairs.append((script.group(1), config))
    return tuple(pairs)


def read_config_file(path: str, rel: str, display: str) -> ConfigFile | Launches | None:
    """The aux reader: a handle on every YAML/JSON/TOML file, read later only if code names it; the
    (script, config) pairs of a shell script."""
    name = rel.rsplit("/", 1)[-1]
    if not name.endswith(CONFIG_SUFFIXES):
        if name.endswith(".cfg"):
            return None
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            return None
        if ".py" not in text or not any(ext in text for ext in CONFIG_SUFFIXES):
            return None
        pairs = launched_configs(text)
        return Launches(rel, pairs) if pairs else None
    if name in _NOT_CONFIGS or rel.startswith(".github/"):
        return None
    return ConfigFile(path, rel, display)
