"""The HPARAM facts of one module (what workers return and the cache stores), apart from the analysis that
produces them: a cached run unpickles these without loading the analysis."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from ...core.calls import Call
from ...findings import Loc

# parameters that are no recipe (sizes, indices, modes); here rather than in syntax.py, which needs libcst at import:
# the project phase (project.py) reads it in the parent, where libcst is not loaded otherwise
NOT_RECIPE = re.compile(r"last_epoch|verbose|ignore_index|reduction|size_average|^reduce$|dim|num_|^n_|classes|"
                        r"size|index|device|dtype|seed|chn|channel|hidden|width|depth|layer|feature|units", re.I)

if TYPE_CHECKING:
    from ...core.config_model import ConfigFacts


@dataclass
class HparamValue:
    """A literal that sets a hyper-parameter: `lr=0.137 (SGD learning rate)`."""

    loc: Loc
    setting: str  # how the value is set, as a reader sees it: `lr=0.137`, `LR = 0.137`, `* 0.37`
    label: str  # what it sets: `SGD learning rate`
    concept: str  # which options would set it (HPARAM002): `lr`
    documented: bool
    bare_constant: bool = False  # undocumented only because a module-level constant has no comment
    # (a module the user declares in `hparam-modules` documents it)
    uses: list[Loc] = field(default_factory=list)  # a named constant reported at its definition: where it is used
    use_note: str = ""  # how a related use is described (default: "`VALUE` is used here")
    config_path: str = ""  # set on a loaded config object (`cfg.SOLVER.BASE_LR = 0.01`): the key path
    config_value: object = None  # the literal set there
    config_only: bool = False  # reported only as an override of the config's value (HPARAM002), never alone

    def describe(self) -> str:
        return f"{self.setting} ({self.label})"


@dataclass
class HparamStatement:
    """The hyper-parameter literals of one statement (one finding per statement)."""

    key: int  # ordinal of the statement in its module
    scope: str
    values: list[HparamValue] = field(default_factory=list)


@dataclass
class Wrapper:
    """Function `function` passes its parameter `param` on to a hyper-parameter position: directly (`label`
    set), or as argument `callee_index`/`callee_keyword` of project function `callee`."""

    function: str
    param: str
    label: str = ""
    concept: str = ""
    default: object = None  # the library default of the position it reaches
    callee: str = ""
    callee_index: int = -1
    callee_keyword: str = ""


@dataclass
class WrapperArg:
    """A literal passed to a project function: a hyper-parameter when the function is a wrapper."""

    key: str  # position ("0", "1") or keyword
    value: object
    shown: str
    loc: Loc
    documented: bool


@dataclass
class HparamCall(Call):
    """A call of a project function or class: the shared record (core/calls.py), whose argument shape tells which
    defaults of the callee it leaves in place, and HPARAM's annotations: the literals it passes (hyper-parameters
    when the callee is a wrapper), its statement, and whether it sits in the module's `if __name__ == "__main__":`
    block (a demo, if the module is a library)."""

    statement: int = 0
    args: list[WrapperArg] = field(default_factory=list)
    in_main: bool = False


@dataclass
class OptionDef:
    loc: Loc
    name: str  # as written: --learning-rate
    aliases: tuple[str, ...]  # normalised spellings
    read: bool = True  # False: parsed, and no module of the project reads it (set by the project phase)
    config: str = ""  # not an option: a config key's defining value (`SOLVER.BASE_LR`), at `loc`
    value: object = None  # the config's value
    reached: Loc | None = None  # where the config value reaches the hyper-parameter's position (a read)


@dataclass
class ConfigRead:
    """A config value read at a hyper-parameter position: `SGD(lr=cfg.SOLVER.BASE_LR)`."""

    concept: str
    path: str  # the key path below the object: `SOLVER.BASE_LR`
    loc: Loc
    scope: str = "<module>"


@dataclass
class RecipeDefault:
    """A numeric default of a project optimiser, scheduler or loss class's `__init__` (`momentum=0.9`)."""

    param: str
    shown: str
    loc: Loc
    documented: bool


@dataclass
class FunctionDefault:
    """A numeric default of a project function's parameter (`def train(..., weight_decay=1e-8)`): a
    hyper-parameter of every call that leaves it in place, when the parameter reaches a position."""

    function: str  # qualified
    param: str
    index: int  # position among the parameters (-1: keyword-only)
    value: object
    shown: str
    loc: Loc
    documented: bool


@dataclass
class RecipeClass:
    """A project class that is an optimiser, a scheduler or a loss: what its constructor's parameters set."""

    qualified: str
    kind: str  # "optimizer" | "scheduler" | "loss"
    params: list[str]
    defaults: list[RecipeDefault] = field(default_factory=list)


@dataclass
class HparamFacts:
    statements: list[HparamStatement] = field(default_factory=list)
    wrappers: list[Wrapper] = field(default_factory=list)
    signatures: dict[str, list[str]] = field(default_factory=dict)  # function -> parameter names
    calls: list[HparamCall] = field(default_factory=list)  # calls of project code outside tests
    options: list[OptionDef] = field(default_factory=list)  # options that set a hyper-parameter concept
    option_positions: set[str] = field(default_factory=set)  # "concept:name": an option/config value set there
    recipe_classes: list[RecipeClass] = field(default_factory=list)
    function_defaults: list[FunctionDefault] = field(default_factory=list)
    options_read: set[str] = field(default_factory=set)  # option-like names read here (`args.lr`, `cfg["wd"]`)
    takes_options: bool = False  # a function here reads an options namespace passed in (`def f(args): args.k`)
    reads_all_options: bool = False  # `vars(args)`, `args.__dict__`, `**args`: every option may be read here
    demo: bool = False  # statements with scope "<main>" are an `if __name__ == "__main__":` block
    library: bool = False  # the module defines a class at top level (a library module, unless named as a script)
    config: ConfigFacts | None = None  # the config values it defines and the config files it names (hyper-parameter keys)
    config_reads: list[ConfigRead] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)  # module-level functions without decorators (qualified):
    # the project phase silences the statements of those that nothing in the project calls or references

    def empty(self) -> bool:
        return not (self.statements or self.wrappers or self.calls or self.options or self.option_positions
                    or self.options_read or self.reads_all_options or self.takes_options
                    or self.recipe_classes or self.function_defaults
                    or bool(self.config) or self.config_reads)
