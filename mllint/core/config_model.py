"""The config model: where a key of a config object gets its value, with file:line.

One question for every family and the recipe card: "`config.SEED`, `cfg.TRAIN.seed`, `hps.train.seed`,
`opt['seed']`: what defines this value?" It is answered in two halves, as everything else here:

- **per module** (`ConfigCollector`, hooks that a family's existing walk calls, or `collect(ctx)` for one
  walk of its own): the config values the module *defines* (`ConfigValue`: a key path below the object,
  the literal, its `Loc`, how it is written) and the config files it *names* (`ConfigFacts.loads`, by
  scope). Picklable: `Loc`s and plain values, never CST nodes. A `want(key)` filter keeps a family's facts
  small (SEED keeps only seed keys).
- **per project** (`ConfigModel`): a key path read somewhere resolves to its defining values across the
  modules (`resolve`), narrowed by the caller to the modules of a run (`where`); which code loads a config
  file (`loaders`); and a config file's values with their lines (`file_values`: YAML/JSON/TOML through
  `core/configs.py`, mmcv/mmengine Python configs with their `_base_` files; `hydra_values`: a Hydra app's
  primary config composed with its defaults list).

What is a defining value (`ConfigValue.kind`):
- `attribute`: an attribute or key assigned on an object: yacs `_C.TRAIN.SEED = 0`, ml_collections
  `config.seed = 42`, `cfg["seed"] = 0`, `self.seed = 0` in a config class;
- `call`: a keyword of a config-building call: `HParams(seed=1234)`, `dict(seed=0)`, `EasyDict(...)`,
  `SimpleNamespace(...)`, `ConfigDict(...)`, `OmegaConf.create({...})` (nested calls and dicts give a path,
  `dict(train=dict(seed=0))` -> `train.seed`);
- `dict`: a key of a dict literal (`{"train": {"seed": 0}}`);
- `field`: a field of a config class (dataclass, attrs, pydantic, a class named for configs): `seed: int = 42`;
- `module`: a global of a Python config module (a module of assignments only: mmcv/mmengine configs, nanoGPT
  config files): `seed = 0`, `train_cfg = dict(seed=0)` -> `train_cfg.seed`;
- `fallback`: the code's default at a read, `cfg.get("seed", 1337)`, `getattr(cfg, "seed", 0)`;
- `default`: an in-code default filled in when the value is missing: `if seed is None: seed = 0`,
  `if args.seed is None: args.seed = 0`, `seed = seed or 0`;
- `file`: a key of a YAML/JSON/TOML file or a Python config file (`ConfigModel.file_values`).

Paths match when one is a suffix of the other, component by component, spelling-insensitively (`SEED`,
`seed`, `manual_seed`... see `origins.spelling`): `cfg.TRAIN.SEED` finds `_C.TRAIN.SEED = 0`, `hps.seed`
finds `train.seed` in the JSON loaded into `hps`. The object a path is read on is not tracked through
assignments: the caller scopes candidates to the code a run executes.

How a family uses it (SEED does; HPARAM can the same way):

    # per module, in the family's own walk (no walk of its own): call the hooks, keep the facts
    self.configs = ConfigCollector(ctx, want=lambda key: key in WANTED)     # in the visitor's __init__
    self.configs.on_assign(node, scope) / on_call(node, callee, scope) / on_dict(node, scope)
    self.configs.on_class(node, scope) / on_if(node, scope) / on_bool_default(node, scope)
    facts.config = self.configs.facts                                          # picklable ConfigFacts
    # (without a walk of its own: `collect(ctx, want)`)

    # per project
    model = ConfigModel({rel: f.config for rel, f in family_facts.items()}, project.root, project.files)
    root, path = key_path(expr)              # in the worker, for the read: `cfg.TRAIN.lr` -> ("cfg", "TRAIN.lr")
    spread_object(expr)                      # `**dataclasses.asdict(self.args)`, `**vars(args)` -> `self.args`, whose
                                             # fields the call gets (read `<path>.<field>` with `resolve`)
    copied_object(expr)                      # `dataclasses.replace(args, shuffle=False)` -> (`args`, {"shuffle"})
    model.resolve("TRAIN.lr", where=lambda rel, scope: ...)   # -> [Definition(rel, ConfigValue)], source order
    model.loaders("configs/a.yaml")          # -> [(rel, scope)] of the code that names the file
    model.file_values("configs/a.yaml")      # -> [ConfigValue] of a YAML/JSON/TOML/Python config (`_base_` first)
    model.hydra_values("conf", "train")      # -> [ConfigValue] of a Hydra app's composed config

Not covered: values computed at run time (a config's value built from another), command-line overrides
(`--cfg.seed=1`, `merge_from_list(args.opts)`), Hydra's command-line overrides, dynamic keys, `setattr` with
a computed name, and config classes instantiated with non-literal arguments.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import libcst as cst

from ..findings import Loc
from .names import dotted
from .scopes import FamilyWalk, Handlers, Scope
from .origins import class_assignments, is_config_class, spelling
from .syntax import const
from .values import keyword, number, positional, str_value

if TYPE_CHECKING:
    from ..context import ModuleContext

ATTRIBUTE, CALL, DICT, FIELD, MODULE, FALLBACK, DEFAULT, FILE = (
    "attribute", "call", "dict", "field", "module", "fallback", "default", "file")

# Calls that build a config object from keywords (by the callee's last name).
CONFIG_CALL = re.compile(r"^(?:HParams|dict|EasyDict|edict|AttrDict|ConfigDict|FrozenConfigDict|Namespace|"
                         r"SimpleNamespace|DotMap|Munch|Box|CN|CfgNode|create|DictConfig|Dict|addict\.Dict)$"
                         r"|(?:Config|Params|Args|Hparams|Options|Cfg)$")
# Calls that read a config file named by a literal (by the callee's last name or method).
_LOADERS = {"merge_from_file", "fromfile", "from_file", "load", "safe_load", "full_load", "load_config",
            "read_config", "from_yaml", "from_json", "parse_config", "open", "load_cfg", "get_config",
            "load_yaml", "load_json", "cfg_from_file", "update_config", "Config", "initialize", "compose"}
CONFIG_FILE = re.compile(r"\.(?:ya?ml|json|toml)$", re.IGNORECASE)


@dataclass
class ConfigValue:
    """A config value defined in code or in a config file."""

    path: str  # the key path below the config object, as written: `TRAIN.SEED`, `seed`, `optim.lr`
    value: object  # the literal: int, float, str, bool, None or a tuple of numbers
    loc: Loc
    kind: str  # ATTRIBUTE / CALL / DICT / FIELD / MODULE / FALLBACK / DEFAULT / FILE (see the module's docstring)
    scope: str = "<module>"  # the enclosing definition's qualified name, `<module>` or `<main>`
    root: str = ""  # the object, class or call it is written on: `_C`, `cfg`, `HParams`, `TrainConfig`

    @property
    def key(self) -> str:
        """The last component, spelling-insensitive: `TRAIN.MANUAL_SEED` -> `manualseed`."""
        return spelling(self.path.rsplit(".", 1)[-1])


@dataclass
class ConfigFacts:
    """What one module says about configs: the values it defines, the config files each scope names."""

    values: list[ConfigValue] = field(default_factory=list)
    loads: dict[str, set[str]] = field(default_factory=dict)  # scope -> config file names (as written)

    def __bool__(self) -> bool:
        return bool(self.values or self.loads)


# --- paths ----------------------------------------------------------------------------------------------


def key_path(expr: cst.BaseExpression) -> tuple[str, str] | None:
    """(root, path) of a read of a config: `cfg.TRAIN.seed` -> ("cfg", "TRAIN.seed"), `opt['seed']` ->
    ("opt", "seed"), `self.cfg.seed` -> ("self", "cfg.seed"), `cfg.get("seed", 0)` -> ("cfg", "seed"),
    `getattr(cfg, "seed")` -> ("cfg", "seed"). None for a bare name or a computed key."""
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("get", "pop", "select") and expr.args:
            key = str_value(positional(expr, 0))
            inner = key_path(func.value) if not isinstance(func.value, cst.Name) else (func.value.value, "")
            if key and inner is not None:
                return inner[0], f"{inner[1]}.{key}" if inner[1] else key
        if isinstance(func, cst.Name) and func.value == "getattr" and len(expr.args) >= 2:
            key = str_value(expr.args[1].value)
            target = expr.args[0].value
            inner = (target.value, "") if isinstance(target, cst.Name) else key_path(target)
            if key and inner is not None:
                return inner[0], f"{inner[1]}.{key}" if inner[1] else key
        return None
    parts: list[str] = []
    while True:
        if isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        elif isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
            key = str_value(expr.slice[0].slice.value)
            if key is None:
                return None
            parts.append(key)
            expr = expr.value
        else:
            break
    if not parts or not isinstance(expr, cst.Name):
        return None
    return expr.value, ".".join(reversed(parts))


def spread_object(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The settings object whose fields a `**` spreads into a call: `**dataclasses.asdict(args)`, `**asdict(args)`,
    `**vars(args)`, `**args.__dict__`, pydantic's `**args.model_dump()`/`**args.dict()`, a NamedTuple's
    `**args._asdict()` give `args` (its fields are then read like `args.<field>`, through `key_path` and
    `ConfigModel.resolve`); None for any other spread (a dict, a mapping read from a config)."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "__dict__":
        return expr.value
    if isinstance(expr, cst.Call) and not expr.args and isinstance(expr.func, cst.Attribute) and \
            expr.func.attr.value in ("model_dump", "dict", "_asdict"):
        return expr.func.value
    if isinstance(expr, cst.Call) and len(expr.args) == 1 and not expr.args[0].star and \
            (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("asdict", "vars"):
        return expr.args[0].value
    return None


def copied_object(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, frozenset[str]] | None:
    """(the original, the fields the copy sets) of a copy of a settings object that keeps every other field:
    `dataclasses.replace(args, shuffle=False)` gives (`args`, {"shuffle"}); None for anything else."""
    if not isinstance(expr, cst.Call) or not expr.args or expr.args[0].keyword is not None or expr.args[0].star:
        return None
    # `replace(...)` imported from dataclasses, or written with its module; not `text.replace(...)`
    if dotted(expr.func) not in ("replace", "evolve", "dataclasses.replace", "attr.evolve", "attrs.evolve"):
        return None
    return expr.args[0].value, frozenset(a.keyword.value for a in expr.args[1:] if a.keyword is not None)


def path_matches(read: str, defined: str) -> bool:
    """One path is a suffix of the other, by components, spelling-insensitively: `TRAIN.SEED` and
    `train.seed`, `seed` and `train.seed`, `cfg.seed` and `seed`; not `model.seed` and `data.seed`."""
    a = [spelling(p) for p in read.split(".") if p]
    b = [spelling(p) for p in defined.split(".") if p]
    if not a or not b:
        return False
    n = min(len(a), len(b))
    return a[-n:] == b[-n:]


def literal(expr: cst.BaseExpression | None) -> tuple[bool, object]:
    """(is it a literal, its value): numbers (also tuples of numbers and arithmetic of literals), strings,
    True/False/None."""
    if expr is None:
        return False, None
    value = number(expr)
    if value is not None:
        return True, value
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return True, const(expr)
    text = const(expr)
    if isinstance(text, str):
        return True, text
    return False, None


# --- per module -------------------------------------------------------------------------------------------


class ConfigCollector:
    """The config values and config files of one module, fed by the hooks of a walk that is already
    running (call each hook when the walk reaches such a node, with the id of the scope it is in)."""

    def __init__(self, ctx: "ModuleContext", want: Callable[[str], bool] | None = None) -> None:
        self.ctx = ctx
        self.want = want or (lambda key: True)
        self.facts = ConfigFacts()
        self._done: set[int] = set()  # nested config calls and dicts already read through their parent
        self.config_module = is_config_module(ctx.module)
        if self.config_module:
            self._module_globals(ctx.module)

    # hooks ---------------------------------------------------------------------------------------------
    def on_assign(self, node: cst.Assign | cst.AnnAssign, scope: str) -> None:
        """`_C.TRAIN.SEED = 0`, `config.seed = 42`, `cfg["seed"] = 0`."""
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        for target in targets:
            if isinstance(target, cst.Name):
                continue
            found = key_path(target)
            if found is not None:
                self._value(found[1], node.value, node.value, ATTRIBUTE, scope, found[0])

    def on_call(self, node: cst.Call, callee: str | None, scope: str) -> None:
        """`HParams(seed=1234)`, `dict(train=dict(seed=0))`, `cfg.get("seed", 1337)`, and the config files a
        call names (`merge_from_file("configs/a.yaml")`, `Config.fromfile(...)`, `open("hps.json")`,
        `@hydra.main(config_path=..., config_name=...)`)."""
        func = node.func
        last = func.attr.value if isinstance(func, cst.Attribute) else (callee or dotted(func) or "").rsplit(".", 1)[-1]
        if id(node) not in self._done and CONFIG_CALL.search(last or ""):
            self._call_values(node, "", scope, last)
        if last in ("get", "pop") and isinstance(func, cst.Attribute) and len(node.args) >= 2 or \
                last == "getattr" and len(node.args) >= 3:
            found = key_path(node)
            fallback = node.args[1].value if last != "getattr" else node.args[2].value
            if found is not None and not (isinstance(func, cst.Attribute) and dotted(func.value) == "os.environ"):
                self._value(found[1], fallback, node, FALLBACK, scope, found[0])
        for arg in node.args:
            text = str_value(arg.value) if isinstance(arg.value, cst.SimpleString) else None
            if text is None:
                continue
            if arg.keyword is not None and arg.keyword.value in ("config_path", "config_name") \
                    or CONFIG_FILE.search(text) or last in _LOADERS and text.endswith(".py") and "/" in text:
                self.facts.loads.setdefault(scope, set()).add(text)

    def on_dict(self, node: cst.Dict, scope: str) -> None:
        """`{"seed": 0}` or `{"train": {"seed": 0}}`, not inside a config call or dict already read."""
        if id(node) not in self._done:
            self._dict_values(node, "", scope, "")

    def on_class(self, node: cst.ClassDef, scope: str) -> None:
        """The fields of a config class: `seed: int = 42`, `seed = attr.ib(default=0)`, pydantic `Field(0)`."""
        if not is_config_class(node, self.ctx):
            return
        for small, target, value in class_assignments(node):
            if value is not None:
                self._value(target, value, small, FIELD, scope, node.name.value)

    def on_if(self, node: cst.If, scope: str) -> None:
        """`if seed is None: seed = 0`, `if not cfg.seed: cfg.seed = 0`: the code's default for a missing value."""
        test = node.test
        subject = None
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, cst.Is) \
                and dotted(test.comparisons[0].comparator) == "None":
            subject = test.left
        elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            subject = test.expression
        if subject is None:
            return
        wanted = dotted(subject)
        if wanted is None or not isinstance(node.body, cst.IndentedBlock):
            return
        for stmt in node.body.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and dotted(small.targets[0].target) == wanted:
                    root, _, path = wanted.partition(".")
                    self._value(path or root, small.value, small, DEFAULT, scope, root if path else "")

    def on_bool_default(self, node: cst.Assign, scope: str) -> None:
        """`seed = seed or 0`, `cfg.seed = cfg.seed or 0`: a default for a missing (falsy) value."""
        value = node.value
        if len(node.targets) == 1 and isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
            wanted = dotted(node.targets[0].target)
            if wanted is not None and dotted(value.left) is not None and \
                    dotted(value.left).rsplit(".", 1)[-1] == wanted.rsplit(".", 1)[-1]:
                root, _, path = wanted.partition(".")
                self._value(path or root, value.right, node, DEFAULT, scope, root if path else "")

    # values --------------------------------------------------------------------------------------------
    def _value(self, path: str, expr: cst.BaseExpression | None, at: cst.CSTNode, kind: str, scope: str, root: str) -> None:
        if not path or not self.want(path.rsplit(".", 1)[-1]):
            return
        ok, value = literal(expr)
        if ok:
            self.facts.values.append(ConfigValue(path, value, self.ctx.loc(at if kind in (FALLBACK, DEFAULT) else expr),
                                                 kind, scope, root))

    def _call_values(self, node: cst.Call, prefix: str, scope: str, root: str) -> None:
        for arg in node.args:
            if arg.keyword is None:
                if isinstance(arg.value, cst.Dict) and not arg.star:  # `OmegaConf.create({...})`, `EasyDict({...})`
                    self._done.add(id(arg.value))
                    self._dict_values(arg.value, prefix, scope, root)
                continue
            self._nested(f"{prefix}{arg.keyword.value}", arg.value, scope, root, CALL)

    def _dict_values(self, node: cst.Dict, prefix: str, scope: str, root: str) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = str_value(element.key)
                if key:
                    self._nested(f"{prefix}{key}", element.value, scope, root, DICT)

    def _nested(self, path: str, value: cst.BaseExpression, scope: str, root: str, kind: str) -> None:
        if isinstance(value, cst.Dict):
            self._done.add(id(value))
            self._dict_values(value, path + ".", scope, root)
        elif isinstance(value, cst.Call) and CONFIG_CALL.search((dotted(value.func) or "").rsplit(".", 1)[-1]):
            self._done.add(id(value))
            self._call_values(value, path + ".", scope, root)
        else:
            self._value(path, value, value, kind, scope, root)

    def _module_globals(self, module: cst.Module) -> None:
        """A config module's globals: `seed = 0`, `train_cfg = dict(seed=0)` -> `train_cfg.seed`, `_base_`."""
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    name, value = small.targets[0].target.value, small.value
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                    name, value = small.target.value, small.value
                else:
                    continue
                if name == "_base_":
                    for element in value.elements if isinstance(value, (cst.List, cst.Tuple)) else [value]:
                        text = str_value(getattr(element, "value", element))
                        if text:
                            self.facts.loads.setdefault("<module>", set()).add(text)
                    continue
                self._nested(name, value, "<module>", "", MODULE)


def is_config_module(module: cst.Module) -> bool:
    """A module of assignments only (and imports, docstrings): a Python config (mmcv/mmengine, nanoGPT's
    config files), whose globals are config values."""
    body = [s for s in module.body if not (isinstance(s, cst.SimpleStatementLine) and all(
        isinstance(x, (cst.Import, cst.ImportFrom)) or isinstance(x, cst.Expr) and isinstance(
            x.value, (cst.SimpleString, cst.ConcatenatedString)) for x in s.body))]
    return bool(body) and all(isinstance(s, cst.SimpleStatementLine) and all(
        isinstance(x, (cst.Assign, cst.AnnAssign)) for x in s.body) for s in body)


def collect(ctx: "ModuleContext", want: Callable[[str], bool] | None = None) -> ConfigFacts:
    """The config facts of a module in one walk of their own (for a caller without a walk to hook into)."""
    handlers = ConfigHandlers(ConfigCollector(ctx, want))
    FamilyWalk(ctx.index, ctx.names.module_name, Scope(ctx.module, None), {}, [handlers]).run(ctx.module)
    return handlers.collector.facts


class ConfigHandlers(Handlers):
    """The collector's hooks as a family's handlers in the module's one walk (core/walkers.py)."""

    needs_scopes = False

    def __init__(self, collector: ConfigCollector) -> None:
        self.collector = collector
        self.names = collector.ctx.names

    def visit_Assign(self, node: cst.Assign) -> None:
        self.collector.on_assign(node, self.scope_name())
        self.collector.on_bool_default(node, self.scope_name())

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.collector.on_assign(node, self.scope_name())

    def visit_Call(self, node: cst.Call) -> None:
        self.collector.on_call(node, self.names.callee(node), self.scope_name())

    def visit_Dict(self, node: cst.Dict) -> None:
        self.collector.on_dict(node, self.scope_name())

    def visit_If(self, node: cst.If) -> None:
        self.collector.on_if(node, self.scope_name())

    def on_class(self, node: cst.ClassDef) -> None:
        self.collector.on_class(node, self.scope_name())


# --- per project ------------------------------------------------------------------------------------------


@dataclass
class Definition:
    rel: str  # the file that defines it (a module, or a config file for FILE values)
    value: ConfigValue


class ConfigModel:
    """The project's config values: `resolve` a key path to what defines it, `loaders` of a config file,
    `file_values` of a config file.

    `facts` maps each module's relative path to its `ConfigFacts` (a family's, filtered as it chose);
    `root` is the project root (for reading config files); `files` the project's files (relative paths)."""

    def __init__(self, facts: dict[str, ConfigFacts], root: str = "", files: Iterable[str] = ()) -> None:
        self.facts = facts
        self.root = root
        self.files = set(files)
        self._by_key: dict[str, list[Definition]] = {}
        for rel, module in facts.items():
            for value in module.values:
                self._by_key.setdefault(value.key, []).append(Definition(rel, value))
        self._file_cache: dict[str, list[ConfigValue]] = {}

    def resolve(self, path: str, where: Callable[[str, str], bool] | None = None,
                kinds: Iterable[str] | None = None) -> list[Definition]:
        """The values that define `path` (`TRAIN.SEED`, `seed`, `train.seed`) in code, in source order;
        `where(rel, scope)` keeps those of the modules and scopes a caller's run executes."""
        wanted = set(kinds) if kinds is not None else None
        key = spelling(path.rsplit(".", 1)[-1])
        found = [d for d in self._by_key.get(key, ())
                 if path_matches(path, d.value.path) and (wanted is None or d.value.kind in wanted)
                 and (where is None or where(d.rel, d.value.scope))]
        found.sort(key=lambda d: (d.rel, d.value.loc.line))
        return found

    def loaders(self, config: str) -> list[tuple[str, str]]:
        """(module, scope) of the code that names the config file `config` (relative to the project root) or its
        folder (Hydra's `config_path`): relative to the module, to the root, or, for a file name, as a suffix of a
        working folder's path. A file that no code names is loaded by nothing: its values excuse and fix nothing."""
        found = []
        for rel, module in self.facts.items():
            here = os.path.dirname(rel)
            for scope, strings in module.loads.items():
                for text in strings:
                    text = text.rstrip("/")
                    if not text:
                        continue
                    places = {os.path.normpath(os.path.join(here, text)), os.path.normpath(text)}
                    if any(config == p or config.startswith(p + "/") for p in places) or (
                        "." in text.rsplit("/", 1)[-1] and config.endswith("/" + text.lstrip("./"))
                    ):
                        found.append((rel, scope))
                        break
        return found

    def file_values(self, config: str, want: Callable[[str], bool] | None = None) -> list[ConfigValue]:
        """The values of a config file (relative to the root): YAML/JSON/TOML keys by their dotted path, a
        Python config's globals, its `_base_` files first (mmcv/mmengine). Lines are those of the key's first
        occurrence in the file's text (0 when not found)."""
        if config not in self._file_cache:
            self._file_cache[config] = list(_file_values(self.root, config, 0))
        return [v for v in self._file_cache[config] if want is None or want(v.path.rsplit(".", 1)[-1])]


    def hydra_values(self, config_dir: str, name: str, want: Callable[[str], bool] | None = None) -> list[ConfigValue]:
        """A Hydra/OmegaConf app's config as it starts (`@hydra.main(config_path=config_dir, config_name=name)`,
        `config_dir` relative to the root): the primary file composed with its defaults list, each value at the
        line of the file that set it (no command-line overrides)."""
        from . import configs

        folder = os.path.join(self.root, config_dir)
        flat, _, set_by = configs.load_hydra(folder, name)
        found = []
        for key, value in flat.items():
            if isinstance(value, dict) or "." not in key and any(k.endswith("." + key) for k in flat):
                continue
            if want is not None and not want(key.rsplit(".", 1)[-1]):
                continue
            source = os.path.relpath(set_by.get(key, os.path.join(folder, name + ".yaml")), self.root)
            line, column = _line_of_key(os.path.join(self.root, source), key.rsplit(".", 1)[-1])
            found.append(ConfigValue(key, value, Loc(line, column, line, column + len(key.rsplit(".", 1)[-1]) if line else 0,
                                                     source), FILE, "<module>", os.path.basename(source)))
        return found


def _line_of_key(path: str, leaf: str) -> tuple[int, int]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(2_000_000).splitlines()
    except OSError:
        return 0, 0
    for i, raw in enumerate(lines):
        if re.search(rf"(?<![\w.-]){re.escape(leaf)}\b", raw):
            return i + 1, raw.find(leaf) + 1
    return 0, 0


def _file_values(root: str, config: str, depth: int) -> Iterator[ConfigValue]:
    from . import configs

    path = os.path.join(root, config)
    if depth > 4 or not os.path.isfile(path):
        return
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(2_000_000)
    except OSError:
        return
    if config.endswith(".py"):
        import ast

        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return
        for stmt in tree.body:  # `_base_ = ['../_base_/default_runtime.py']`: the base values first
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_base_" for t in stmt.targets):
                bases = stmt.value.elts if isinstance(stmt.value, (ast.List, ast.Tuple)) else [stmt.value]
                for base in bases:
                    if isinstance(base, ast.Constant) and isinstance(base.value, str):
                        rel = os.path.normpath(os.path.join(os.path.dirname(config), base.value))
                        yield from _file_values(root, rel, depth + 1)
    try:
        flat = configs.load(path)
    except configs.ConfigFileError:
        return
    lines = text.splitlines()
    for key, value in flat.items():
        if isinstance(value, dict) or "." not in key and any(k.endswith("." + key) for k in flat):
            continue  # `flatten`'s alias of a nested leaf: the dotted key stands for it
        leaf = key.rsplit(".", 1)[-1]
        line = next((i + 1 for i, raw in enumerate(lines) if re.search(rf"(?<![\w.-]){re.escape(leaf)}\b", raw)), 0)
        column = lines[line - 1].find(leaf) + 1 if line else 0
        yield ConfigValue(key, value, Loc(line, column, line, column + len(leaf) if line else 0, config), FILE,
                          "<module>", os.path.basename(config))
