"""Evidence of a sweep over seeds in shell scripts, Makefiles and YAML/JSON/TOML configs.

Text patterns, not full parsers: a shell `for seed in 0 1 2`, `--seed $s`, several distinct
`--seed N` values, Hydra multirun `seed=0,1,2`; a config key naming seeds with a list of values
(`seeds: [0, 1, 2]`, a W&B sweep `seed: {values: [...]}`, a Hydra sweeper `seed: range(0,5)`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

try:
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover
    import tomli as _toml

_KEY = r"[\w.-]*seeds?[\w-]*"
_SHELL_LOOP = re.compile(r"(?m)^\s*for\s+(\w+)\s+in\s+([^;\n]+?)\s*(?:;|\n|$)")
_SHELL_C_LOOP = re.compile(r"(?m)^\s*for\s*\(\(\s*(\w+)\s*=([^;]*);([^;]*);")
_SHELL_ARRAY = re.compile(r"(?mi)^\s*(?:export\s+)?\w*seeds?\w*=\(\s*[\"']?-?\d+[\"']?\s+[\"']?-?\d+")
_SHELL_LITERAL_SEED = re.compile(r"(?i)--?[\w.-]*seed[= ]+[\"']?(\d+)")
_MULTIRUN = re.compile(r"(?<![\w-])" + _KEY + r"=[\"']?-?\d+(?:\s*,\s*-?\d+)+")
_MULTI_VALUE_OPTION = re.compile(r"--[\w-]*seeds[= ]+\d+[ ,]+\d+")
_RANGE_SWEEP = re.compile(r"(?<![\w-])" + _KEY + r"=[\"']?(?:range|choice|interval)\(")
_YAML_INLINE = re.compile(r"(?mi)^\s*-?\s*" + _KEY + r"\s*:\s*(?:\[\s*-?\d+\s*,\s*-?\d+|-?\d+\s*,\s*-?\d+|(?:range|choice|interval)\()")
_YAML_BLOCK = re.compile(r"(?mi)^(\s*)" + _KEY + r"\s*:\s*(?:#.*)?\n(?:\1\s*#.*\n)*\1\s*-\s*-?\d+\s*\n\1\s*-\s*-?\d+")
_YAML_WANDB = re.compile(r"(?mi)^(\s*)" + _KEY + r"\s*:\s*\n\1\s+values\s*:\s*(?:\[\s*-?\d+\s*,|\n\1\s+-\s*-?\d+\s*\n\1\s+-)")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _passes_as_seed(text: str, var: str) -> bool:
    """Is the loop variable passed as a seed option (`--seed $var`, `--randomSeed=${var}`, `seed=$var`)?"""
    pattern = r"(?i)(?:--?|\b)[\w.-]*seed[\w.-]*[= ]+[\"']?\$\{?" + re.escape(var) + r"\b"
    return re.search(pattern, text) is not None


def scan_shell(text: str) -> list[tuple[int, str]]:
    found = []
    for match in _SHELL_LOOP.finditer(text):
        var, items = match.group(1), match.group(2)
        seedy = "seed" in var.lower() or "seed" in items.lower()
        several = len(items.split()) >= 2 or ".." in items or "seq" in items or "$" in items
        if (seedy and several) or _passes_as_seed(text, var):
            found.append((_line_of(text, match.start()), f"a shell loop over seeds (`for {var} in {items.strip()}`)"))
    for match in _SHELL_C_LOOP.finditer(text):
        var = match.group(1)
        if "seed" in var.lower() or _passes_as_seed(text, var):
            found.append((_line_of(text, match.start()), f"a shell loop over seeds (`{match.group(0).strip()}`)"))
    for match in _SHELL_ARRAY.finditer(text):
        found.append((_line_of(text, match.start()), f"a list of seeds (`{match.group(0).strip()}`)"))
    for pattern, what in ((_MULTIRUN, "a Hydra multirun over seeds"), (_RANGE_SWEEP, "a sweep over seeds"),
                          (_MULTI_VALUE_OPTION, "several seeds passed at once")):
        for match in pattern.finditer(text):
            found.append((_line_of(text, match.start()), f"{what} (`{match.group(0).strip()}`)"))
    literals: dict[str, int] = {}
    for match in _SHELL_LITERAL_SEED.finditer(text):
        literals.setdefault(match.group(1), _line_of(text, match.start()))
    if len(literals) >= 2:
        line = min(literals.values())
        found.append((line, f"runs with several seeds ({', '.join(sorted(literals, key=int))})"))
    return found


def scan_yaml(text: str) -> list[tuple[int, str]]:
    found = []
    for pattern in (_YAML_INLINE, _YAML_BLOCK, _YAML_WANDB):
        for match in pattern.finditer(text):
            found.append((_line_of(text, match.start()), f"a config lists several seeds (`{match.group(0).strip().splitlines()[0]}`)"))
    return found


def _walk_data(data, path: str, found: list) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            name = str(key).lower()
            if "seed" in name:
                values = value.get("values") if isinstance(value, dict) else value
                if isinstance(values, list) and len({json.dumps(v, sort_keys=True) for v in values}) >= 2:
                    found.append((1, f"a config lists several seeds (`{path}{key}`)"))
                    continue
                if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\s*,\s*-?\d+)+\s*|\s*(range|choice|interval)\(.*", value):
                    found.append((1, f"a config sweeps seeds (`{path}{key} = {value}`)"))
                    continue
            _walk_data(value, f"{path}{key}.", found)
    elif isinstance(data, list):
        for item in data[:1000]:
            _walk_data(item, path, found)


@dataclass
class AuxFacts:
    """What a shell script, Makefile or config says about seeds."""

    display: str = ""  # the path as printed
    sweeps: list[tuple[int, str]] = field(default_factory=list)  # (line, what)
    launches: list[str] = field(default_factory=list)  # scripts it runs: `train.py`, `tools/train.py`, `-m pkg.train`
    seeds: list[tuple[int, int, str, int]] = field(default_factory=list)  # a fixed seed: (line, column, key, value)
    is_config: bool = False
    # a launcher that passes one literal seed and never another (`python train.py --seed 0`): (line, column,
    # option, value); empty when it passes several or loops
    launch_seeds: list[tuple[int, int, str, int]] = field(default_factory=list)
    # counts a launcher passes to the scripts it runs (`--itr 3`; the last on a command line wins): option -> values
    counts: dict[str, list[int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.sweeps or self.seeds or self.launch_seeds or self.counts)


_LAUNCH = re.compile(r"(?<![\w$/.-])((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)*\.py)\b|(?:^|\s)-m\s+([\w.]+)")
_CONFIG_SEED = {
    "yaml": re.compile(r"(?m)^[ \t]*-?[ \t]*(\w+)[ \t]*:[ \t]*['\"]?(-?\d+)['\"]?[ \t]*(?:#.*)?$"),
    "json": re.compile(r"\"(\w+)\"\s*:\s*(-?\d+)\s*[,}\n]"),
    "toml": re.compile(r"(?m)^[ \t]*(\w+)[ \t]*=[ \t]*(-?\d+)[ \t]*(?:#.*)?$"),
}
_SEED_KEY = re.compile(r"^(?:[a-z0-9]+_)*seed$")  # seed, manual_seed, random_seed (as in seeds.SEED_NAME)
_NOT_CONFIGS = (".pre-commit-config.yaml", "package.json", "package-lock.json", "tsconfig.json")


def launches(text: str) -> list[str]:
    """The Python scripts and modules a shell script runs (as written)."""
    found = []
    for match in _LAUNCH.finditer(text):
        script = match.group(1) or "-m " + match.group(2)
        if script not in found:
            found.append(script)
    return found


_NOT_THE_RUN = re.compile(r"sampler|sweeper|optuna|pruner|tuner|search", re.IGNORECASE)


def _yaml_parents(text: str, index: int) -> list[str]:
    """The keys that enclose the line at `index` in a YAML file, by indentation (innermost first)."""
    start = text.rfind("\n", 0, index) + 1
    line = text[start:text.find("\n", start) if "\n" in text[start:] else len(text)]
    indent = len(line) - len(line.lstrip(" -"))
    parents = []
    for previous in reversed(text[:start].splitlines()):
        stripped = previous.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(previous) - len(stripped)
        if depth < indent and ":" in stripped:
            parents.append(stripped.split(":", 1)[0].strip("- '\""))
            indent = depth
            if depth == 0:
                break
    return parents


def fixed_seeds(text: str, kind: str) -> list[tuple[int, int, str, int]]:
    """Seed keys with one integer value (`manual_seed: 10`, `"seed": 0`, `SEED = 1`); not the seed of a
    hyper-parameter search's sampler (`sampler: {seed: 1234}` under Hydra's Optuna sweeper)."""
    found = []
    for match in _CONFIG_SEED[kind].finditer(text):
        if kind == "yaml" and any(_NOT_THE_RUN.search(p) for p in _yaml_parents(text, match.start(1))):
            continue
        if _SEED_KEY.match(match.group(1).lower()):
            start = match.start(1) - (1 if kind == "json" else 0)
            line = _line_of(text, start)
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            found.append((line, column, match.group(1), int(match.group(2))))
    return found


def scan_aux(path: str, rel: str, display: str = "") -> AuxFacts:
    """Sweeps, launched scripts and fixed seeds of a non-Python file."""
    facts = AuxFacts(display or rel)
    facts.sweeps = scan_aux_file(path, rel)
    name = rel.rsplit("/", 1)[-1].lower()
    kind = "yaml" if name.endswith((".yaml", ".yml")) else "json" if name.endswith(".json") else (
        "toml" if name.endswith(".toml") else "")
    facts.is_config = bool(kind)
    text = _read(path)
    if text is not None and not kind and _COUNT.search(text):
        facts.counts = passed_counts(text)
        if facts.counts:
            facts.launches = launches(text)
    if text is None or "seed" not in text.lower():
        return facts
    if not kind or kind == "yaml":
        facts.launches = launches(text)  # a W&B sweep's `program: train.py` runs what it names
    if not kind:
        if not facts.sweeps and facts.launches:
            facts.launch_seeds = launch_seeds(text)
    elif name not in _NOT_CONFIGS and not rel.startswith(".github/") and name != "pyproject.toml":
        swept = " ".join(why for _, why in facts.sweeps).lower()
        facts.seeds = [s for s in fixed_seeds(text, kind) if s[2].lower() not in swept]
    return facts


_COUNT = re.compile(r"(?<![\w-])--([A-Za-z][\w-]*)[= ]+[\"']?(\d+)\b")


def passed_counts(text: str) -> dict[str, list[int]]:
    """Integer options passed on the command lines that launch a script (`python run.py --itr 3`), for the
    repetition loops of the code (`for ii in range(args.itr)`): per option, the value of each command (the last
    one on a line, continued lines joined, wins)."""
    found: dict[str, list[int]] = {}
    for command in re.sub(r"\\\n", " ", text).splitlines():
        if command.lstrip().startswith("#") or not _LAUNCH.search(command):
            continue
        last: dict[str, int] = {}
        for match in _COUNT.finditer(command):
            last[match.group(1).replace("-", "_").lower()] = int(match.group(2))
        for option, value in last.items():
            found.setdefault(option, []).append(value)
    return found


_LAUNCH_SEED = re.compile(r"(?i)(?<![\w-])(--?[\w.-]*seed)[= ]+[\"']?(\d+)\b")


def launch_seeds(text: str) -> list[tuple[int, int, str, int]]:
    """`--seed 0` (any spelling: `--manualSeed=1`, `--random-seed 3`) on a command line, when the script passes
    only that one value: the first place it is passed."""
    found = [m for m in _LAUNCH_SEED.finditer(text)
             if not text[text.rfind("\n", 0, m.start()) + 1:m.start()].lstrip().startswith("#")]
    if not found or len({m.group(2) for m in found}) != 1:
        return []
    first = found[0]
    line = _line_of(text, first.start(1))
    column = first.start(1) - (text.rfind("\n", 0, first.start(1)) + 1) + 1
    return [(line, column, first.group(1), int(first.group(2)))]


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    if b"\x00" in raw[:4096]:
        return None
    return raw.decode("utf-8", errors="replace")


def scan_aux_file(path: str, rel: str) -> list[tuple[int, str]]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return []
    if b"\x00" in raw[:4096]:
        return []
    text = raw.decode("utf-8", errors="replace")
    if "seed" not in text.lower():
        return []
    name = rel.rsplit("/", 1)[-1].lower()
    try:
        if name.endswith((".yaml", ".yml")):
            return scan_yaml(text) + scan_shell(text)
        if name.endswith(".json"):
            found: list = []
            _walk_data(json.loads(text), "", found)
            return found
        if name.endswith(".toml"):
            found = []
            _walk_data(_toml.loads(text), "", found)
            return found
    except (ValueError, RecursionError):
        return []
    return scan_shell(text)
