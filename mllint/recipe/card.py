"""Cards: the project analysed once through the engine (discovery, one parse per file, the `recipe`
extractor, the cache), then one card per training entry point with every value's origin resolved against
the options, the configurator globals and the config file given."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from ..core.calls import CallIndex
from ..core.config_model import ConfigModel
from ..core.origins import show
from .facts import CONFIG, DEFAULT, FIXED, OPTION, PARAM, PRESENT, SECTIONS, Item, OptionInfo, RecipeCall, RecipeFacts
from . import vocabulary as vocab


class RecipeError(Exception):
    """A usage problem: no entry point, an unknown --entry, an unreadable config (exit 2, no traceback)."""


@dataclass
class Row:
    section: str
    label: str
    value: str
    origin: str
    where: str

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "value": self.value, "origin": self.origin, "where": self.where}


@dataclass
class Card:
    entry: str  # the entry point's path, relative to the project root
    root: str
    config: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def section(self, key: str) -> list[Row]:
        return [row for row in self.rows if row.section == key]

    def as_dict(self) -> dict:
        return {"entry": self.entry, "config": self.config or None,
                "sections": {key: [r.as_dict() for r in self.section(key)] for key, _ in SECTIONS},
                "notes": self.notes}


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _may_be_entry(path: str) -> bool:
    """A cheap text test before parsing: a script that could train (timm: 20 of 315 files)."""
    if not path.endswith(".py"):
        return False
    try:
        with open(path, "rb") as handle:
            text = handle.read(2_000_000)
    except OSError:
        return False
    return (b"__main__" in text or b".backward(" in text) and any(
        word in text for word in (b"optim", b"backward", b"Trainer", b".fit("))


_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import|import[ \t]+([\w.]+))", re.M)


def _imported_files(path: str, root: str, sources: list[str]) -> list[str]:
    """The project modules a script imports (one level: `from model import GPT` -> model.py)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(2_000_000)
    except OSError:
        return []
    known = set(sources)
    found: list[str] = []
    for match in _IMPORT.finditer(text):
        name = (match.group(1) or match.group(2) or b"").decode(errors="replace").lstrip(".")
        if not name:
            continue
        for base in (os.path.dirname(path), root):
            stem = os.path.join(base, *name.split("."))
            for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
                if candidate in known and candidate != path and candidate not in found:
                    found.append(candidate)
    return found


def analyse(path: str, jobs: int = 1, cache_dir: str | None = None, entry: str | None = None):
    """The project that holds path, analysed by the engine with the recipe extractor only."""
    from .. import discovery, engine
    from ..config import Config
    from ..settings import Settings
    from ..project import Project
    from . import extract  # noqa: F401 - registers the extractor

    root = os.path.abspath(path) if os.path.isdir(path) else discovery.find_root(path)
    config = Config()
    wanted = discovery.discover([root], [*config.exclude, *config.extend_exclude], config.respect_gitignore,
                                with_aux=False)
    all_sources = sorted(set(wanted.sources) | ({os.path.abspath(path)} if os.path.isfile(path) else set()))
    if os.path.isfile(path):  # a card needs its entry point's file, and the project modules it imports
        sources = [os.path.abspath(path), *_imported_files(os.path.abspath(path), root, all_sources)]
    elif entry:
        wanted_rel = entry.replace(os.sep, "/").lstrip("./")
        sources = [p for p in all_sources if _rel(p, root) == wanted_rel or _rel(p, root).endswith("/" + wanted_rel)]
        sources = [*sources[:1], *_imported_files(sources[0], root, all_sources)] if sources else \
            [p for p in all_sources if _may_be_entry(p)]
    else:
        sources = [p for p in all_sources if _may_be_entry(p)]
        sources = list(dict.fromkeys([*sources, *(f for p in sources for f in _imported_files(p, root, all_sources))]))
    settings = Settings(config.max_file_size, config.family_options(), engine._project_modules(root, all_sources), (),
                        ("recipe",))
    items = [(p, _rel(p, root), _rel(p, root)) for p in sources if p.endswith((".py", ".ipynb"))]
    cache = engine.open_cache(root, settings, cache_dir) if cache_dir else None
    results = engine.analyze_cached(items, settings, jobs, cache)
    return Project(root, {r.rel: r for r in results})


def entries(project) -> list[str]:
    """Training entry points: modules run as scripts (a main guard or a loop at module level) that train."""
    found = []
    for rel, result in sorted(project.files.items()):
        facts = result.facts.get("recipe")
        if isinstance(facts, RecipeFacts) and facts.entry and facts.trains and not result.is_test:
            found.append(rel)
    return found


def pick_entries(project, path: str, entry: str | None) -> list[str]:
    all_entries = entries(project)
    if entry:
        wanted = entry.replace(os.sep, "/").lstrip("./")
        matches = [rel for rel in project.files if rel == wanted or rel.endswith("/" + wanted)]
        if not matches:
            raise RecipeError(f"no Python file {entry!r} in {project.root}"
                              + (f" (entry points: {', '.join(all_entries[:10])})" if all_entries else ""))
        return matches[:1]
    if os.path.isfile(path):
        rel = os.path.relpath(os.path.abspath(path), project.root).replace(os.sep, "/")
        return [rel]
    if os.path.isdir(path) and os.path.abspath(path) != project.root:
        prefix = os.path.relpath(os.path.abspath(path), project.root).replace(os.sep, "/") + "/"
        all_entries = [rel for rel in all_entries if rel.startswith(prefix)]
    if not all_entries:
        raise RecipeError(f"no training entry point in {path} (a script with `if __name__ == \"__main__\":` or a "
                          "training loop at module level that calls backward() or an optimiser); name one with --entry")
    return all_entries


def build(project, rel: str, config_path: str | None = None) -> Card:
    from ..core import configs

    result = project.files.get(rel)
    card = Card(rel, project.root)
    facts = result.facts.get("recipe") if result is not None else None
    if not isinstance(facts, RecipeFacts):
        facts = RecipeFacts()
        problems = [f"{f.code} {f.message}" for f in (result.findings if result is not None else ()) if f.code.startswith("FILE")]
        card.notes.append(f"{rel}: " + ("; ".join(problems) if problems else "no training choice recognised"))
    overrides: dict[str, object] = {}
    sources: dict[str, str] = {}  # config key -> the file that set it (Hydra's composed configs)
    if facts.hydra is not None and not config_path and result is not None:
        folder = os.path.normpath(os.path.join(project.root, os.path.dirname(rel), facts.hydra[0]))
        overrides, read, sources = configs.load_hydra(folder, facts.hydra[1])
        sources = {key: os.path.relpath(path, project.root) for key, path in sources.items()}
        if read:
            config_path = os.path.relpath(read[0], project.root)
            card.config = " + ".join(os.path.relpath(p, project.root) for p in read)
            card.notes.append("Hydra config composed from its defaults list; command-line overrides are not applied")
        else:
            card.notes.append(f"Hydra config {facts.hydra[1]} not found in {facts.hydra[0] or '.'}")
    if config_path and not card.config:
        overrides = configs.load(config_path)  # ConfigFileError is the CLI's usage error
        card.config = config_path
        if not (facts.config_option or facts.globals_are_options):
            card.notes.append(f"{rel} defines no --config option and no configurator: the values of "
                              f"{os.path.basename(config_path)} are applied to options and config keys of the same name")
    options = _options(facts.options)
    model = ConfigModel({r: f.facts["recipe"].config for r, f in project.files.items()
                         if isinstance(f.facts.get("recipe"), RecipeFacts)}, project.root)
    entry_calls = CallIndex(facts.call_sites, by_function=True)  # the entry's calls, by the function they call
    items = [_through_call(item, facts, entry_calls) for item in facts.items]  # `mixup_data(x, y, args.alpha)` in main()
    for other, other_result in sorted(project.files.items()):  # helpers the entry calls in the modules it imports
        helper = other_result.facts.get("recipe")
        if other == rel or not isinstance(helper, RecipeFacts):
            continue
        called = facts.calls | ({"forward"} if any(i.section == "model" for i in facts.items) else set())
        items += [_through_call(item, helper, entry_calls) for item in helper.items if item.scope.rsplit(".", 1)[-1] in called
                  and item.section not in ("model", "data", "evaluation")
                  and (item.scope.rsplit(".", 1)[-1] != "forward" or item.section in ("loss", "regularisation"))]
    used: set[str] = set()
    seen: set[tuple] = set()
    for item in items:
        row = _row(item, options, overrides, config_path or "", used, facts, sources, model)
        key = (row.section, row.label, row.value, row.origin if item.kind != PRESENT else row.where)
        if key in seen:
            continue
        seen.add(key)
        card.rows.append(row)
    for option in facts.options:  # options that set a training choice the code passes on (`**kwargs(args)`)
        found = vocab.name_field(option.dest)
        if found is None or option.dest in used or option.dest == facts.config_option:
            continue
        used.add(option.dest)
        section, label = found
        value, origin = _option_value(option, overrides, config_path or "")
        card.rows.append(Row(section, label + f" ({option.flag})", value, origin, _where(option.loc)))
    used_leaves = {key.rsplit(".", 1)[-1] for key in used}
    for key, value in overrides.items():  # config keys no option or field reads
        leaf = key.rsplit(".", 1)[-1]
        found = vocab.name_field(leaf)
        if found is None or key in used or leaf in used_leaves or ("." not in key and any(
                k.endswith("." + key) for k in overrides)):
            continue
        where = sources.get(key, config_path or "")
        card.rows.append(Row(found[0], f"{found[1]} ({key})", _show(value), f"config {os.path.basename(where)}", where))
    order = {key: i for i, (key, _) in enumerate(SECTIONS)}
    card.rows.sort(key=lambda r: order.get(r.section, len(order)))
    _effective_batch(card)
    if "data" not in {r.section for r in card.rows}:
        card.notes.append("data splits: none recognised in this entry point")
    card.notes.append("not read: the colour space of evaluation metrics; TTA only when an option or keyword names it")
    return card


def _through_call(item: Item, helper: RecipeFacts, entry_calls: CallIndex[RecipeCall]) -> Item:
    """A helper's parameter, given its value by the entry's one call of the helper: `configure_optimizers(
    weight_decay, learning_rate, ...)` makes AdamW's `lr=learning_rate` the entry's global `learning_rate`."""
    if item.kind != PARAM:
        return item
    function = item.scope.rsplit(".", 1)[-1]
    params = helper.signatures.get(function, [])
    sites = entry_calls.named(function)
    if len(sites) != 1 or item.ref not in params:
        return item
    site = sites[0]
    index = params.index(item.ref) - (1 if params and params[0] in ("self", "cls") else 0)
    argument = site.named.get(item.ref) or (site.args[index] if 0 <= index < len(site.args) else None)
    if argument is None or argument.kind == PARAM:
        return item
    return replace(item, kind=argument.kind, value=argument.value, ref=argument.ref,
                   code=f"{argument.code} (passed to {function}())")


def _options(options: list[OptionInfo]) -> dict[str, OptionInfo]:
    found: dict[str, OptionInfo] = {}
    for option in options:
        for alias in (option.dest, *option.aliases):
            found.setdefault(alias, option)
            found.setdefault(alias.lower(), option)
    return found


def _show(value: object) -> str:
    if isinstance(value, (int, float, tuple)) and not isinstance(value, bool):
        try:
            return show(value)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001
            return repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _where(loc) -> str:
    """`train.py:12` (the engine analysed the files under their paths relative to the project root)."""
    return f"{loc.path}:{loc.line}" if loc.path else ""


def _option_value(option: OptionInfo, overrides: dict, config_path: str) -> tuple[str, str]:
    name = os.path.basename(config_path)
    for key in (option.dest, *option.aliases):
        if key in overrides:
            return _show(overrides[key]), f"config {name} (option {option.flag}, default {_show(option.default)})"
    return _show(option.default), f"option {option.flag} (default)"


def _config_object_value(model: "ConfigModel", path: str):
    """The one value that config objects of the card's modules give `path` (not a read's own default), or None
    when none or several different ones do."""
    if "." not in path and not path:
        return None
    found = [d for d in model.resolve(path) if d.value.kind not in ("fallback", "default")]
    if not found or len({repr(d.value.value) for d in found}) != 1:
        return None
    return found[0]


def _row(item: Item, options: dict[str, OptionInfo], overrides: dict, config_path: str, used: set[str],
         facts: RecipeFacts, sources: dict[str, str], model: "ConfigModel | None" = None) -> Row:
    where = _where(item.loc)
    label = item.label
    if item.kind == PRESENT:
        return Row(item.section, label, item.code, "in code", where)
    if item.kind == FIXED:
        origin = "fixed in code" + (f" ({item.ref})" if item.ref and item.ref != item.name and item.value is not None else "")
        return Row(item.section, label, _show(item.value) if item.value is not None else item.code, origin, where)
    if item.kind == DEFAULT:
        return Row(item.section, label, _show(item.value), "library default", where)
    if item.kind == OPTION and "," in item.ref:
        return _elements_row(item, options, overrides, config_path, used, facts, where)
    if item.kind == OPTION:
        option = options.get(item.ref) or options.get(item.ref.lower())
        if option is not None:
            used.add(option.dest)
            if facts.globals_are_options and option.flag == option.dest:
                name = os.path.basename(config_path)
                if option.dest in overrides:
                    return Row(item.section, label, _show(overrides[option.dest]),
                               f"config {name} (global {option.dest}, default {_show(option.default)})", where)
                return Row(item.section, label, _show(option.default), "global, overridable by the configurator", where)
            value, origin = _option_value(option, overrides, config_path)
            return Row(item.section, label, value, origin, where)
        if item.ref in overrides:
            return Row(item.section, label, _show(overrides[item.ref]), f"config {os.path.basename(config_path)}", where)
        if facts.globals_are_options:  # a module-level name computed from the globals (`ptdtype`)
            return Row(item.section, label, item.code, "computed at run time", where)
        return Row(item.section, label, item.code, "option (default not found)", where)
    if item.kind == CONFIG:
        for key in (item.ref, item.ref.rsplit(".", 1)[-1]):
            if key in overrides:
                used.update((key, item.ref))
                return Row(item.section, label, _show(overrides[key]),
                           f"config {sources.get(key, os.path.basename(config_path))} ({item.ref})", where)
        defined = _config_object_value(model, item.ref) if model is not None else None
        if defined is not None:  # `cfg.TRAIN.LR` read where yacs `_C.TRAIN.LR = 0.1` (or a config dict, class) sets it
            return Row(item.section, label, _show(defined.value.value),
                       f"config {defined.value.path} ({defined.rel}:{defined.value.loc.line})", where)
        return Row(item.section, label, item.code, f"config value {item.ref} (not known statically)", where)
    if item.kind == PARAM:
        return Row(item.section, label, item.code, f"parameter {item.ref} of {item.scope.rsplit('.', 1)[-1]}()", where)
    return Row(item.section, label, item.code, "computed at run time", where)


def _elements_row(item: Item, options: dict[str, OptionInfo], overrides: dict, config_path: str, used: set[str],
                  facts: RecipeFacts, where: str) -> Row:
    """`betas=(beta1, beta2)` with two configurator globals or options: `(0.9, 0.95)`, each element's default
    (or the config's value) in place of its name."""
    values: list[object] = []
    names: list[str] = []
    from_config = False
    for ref, fixed in zip(item.ref.split(","), item.value if isinstance(item.value, tuple) else ()):
        if not ref:
            values.append(fixed)
            continue
        option = options.get(ref) or options.get(ref.lower())
        if option is None:
            return Row(item.section, item.label, item.code, "computed at run time", where)
        used.add(option.dest)
        names.append(option.flag)
        key = next((k for k in (option.dest, *option.aliases) if k in overrides), None)
        from_config = from_config or key is not None
        values.append(overrides[key] if key is not None else option.default)
    if any(v is None for v in values):
        return Row(item.section, item.label, item.code, "computed at run time", where)
    shown = ", ".join(names)
    text = _show(tuple(values))
    if item.code.startswith("["):  # a list stays a list: `milestones=[args.warmup_epochs]` -> [5]
        text = "[" + text[1:-1].rstrip(",") + "]"
    if from_config:
        origin = f"config {os.path.basename(config_path)} ({shown})"
    elif facts.globals_are_options:
        origin = f"global{'s' if len(names) > 1 else ''} {shown}, overridable by the configurator"
    else:
        origin = f"option {shown} (default)" if len(names) == 1 else f"options {shown} (defaults)"
    return Row(item.section, item.label, text, origin, where)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# A batch size or an accumulation divided by the number of processes: `gradient_accumulation_steps //= ddp_world_size`,
# `args.batch_size = int(args.batch_size / ngpus_per_node)`.
_SPLIT_AMONG_PROCESSES = re.compile(r"(/|//)=?\s*\(?\s*[\w.]*(world_size|n_?gpus|ngpus_per_node|num_gpus|nprocs|"
                                    r"num_processes|num_replicas|gpus_per_node)\b", re.I)


def _effective_batch(card: Card) -> None:
    """batch × accumulation (per process) when both are numbers; × steps when the run length is in steps."""
    def first(label_start: str, section: str) -> Row | None:
        return next((r for r in card.section(section) if r.label.startswith(label_start)
                     and _number(r.value) is not None), None)
    batch, accum = first("batch size", "batch"), first("gradient accumulation", "batch")
    if batch is None:
        return
    size = _number(batch.value) or 0
    factor = _number(accum.value) if accum is not None else 1.0
    effective = size * (factor or 1)
    how = f"{batch.value} × {accum.value} accumulation" if accum is not None else f"{batch.value}, no accumulation found"
    changes = [r for r in card.section("batch") if "changed at run time" in r.label]
    split = next((r for r in changes if _SPLIT_AMONG_PROCESSES.search(r.value)), None)
    if split is not None:  # nanoGPT: `gradient_accumulation_steps //= ddp_world_size`; the global batch does not grow
        scope, how = "global", how + (f"; under DDP `{split.value}` ({split.where}) shares it among the processes, "
                                      "so the global batch stays the same whatever their number")
    else:
        scope = "per process"
        if changes:
            how += " (before the run-time change below)"
        how += "; × the number of processes under DDP"
    rows = [Row("batch", f"effective batch ({scope})", show(int(effective) if effective.is_integer() else effective),
                f"computed: {how}", "")]
    seq = first("sequence length", "batch")
    if seq is not None:
        tokens = effective * (_number(seq.value) or 0)
        rows.append(Row("batch", f"tokens per step ({scope})", show(int(tokens)), f"computed: × {seq.value} tokens", ""))
    steps = first("steps", "length")
    if steps is not None:
        rows.append(Row("batch", f"samples seen ({scope})", show(int(effective * (_number(steps.value) or 0))),
                        f"computed: × {steps.value} steps", ""))
    index = max(i for i, r in enumerate(card.rows) if r.section == "batch") + 1
    card.rows[index:index] = rows
