"""The recipe facts of one module (what workers return and the cache stores): picklable, without CST nodes."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.calls import Call
from ..core.config_model import ConfigFacts
from ..findings import Loc

# The card's sections, in the order a card prints them.
SECTIONS = (
    ("model", "Model"),
    ("optimizer", "Optimiser"),
    ("schedule", "Schedule"),
    ("warmup", "Warm-up"),
    ("length", "Epochs / steps"),
    ("batch", "Batch size and accumulation"),
    ("loss", "Loss"),
    ("augmentation", "Augmentation"),
    ("regularisation", "Regularisers"),
    ("ema", "EMA / SWA"),
    ("precision", "AMP / precision"),
    ("clipping", "Gradient clipping"),
    ("seed", "Seeds"),
    ("data", "Data splits"),
    ("evaluation", "Evaluation"),
)
SECTION_TITLES = dict(SECTIONS)

# How a value is set (Item.kind)
FIXED = "fixed"  # a literal or a named constant in the code
OPTION = "option"  # a command-line option (with its default), or a configurator-overridable global
CONFIG = "config"  # a key or field of a loaded config
DEFAULT = "library-default"  # not given: the library's default applies
PARAM = "param"  # a parameter of the enclosing function: its callers decide
DERIVED = "derived"  # computed at run time
PRESENT = "present"  # the choice itself (an optimiser class, an augmentation), not a value


@dataclass
class Item:
    """One training choice: `SGD learning rate = args.lr`, option `--lr`, at main.py:147."""

    section: str
    name: str  # a stable key inside the section: `lr`, `label_smoothing`, `RandAugment`
    label: str  # what a reader sees: `SGD learning rate`
    code: str  # the expression as written (short)
    kind: str  # FIXED / OPTION / CONFIG / DEFAULT / PARAM / DERIVED / PRESENT
    value: object = None  # the value when known (a number, string, bool or tuple)
    ref: str = ""  # the option dest, config key or constant name the value comes from
    loc: Loc = field(default_factory=Loc)
    scope: str = "<module>"


@dataclass
class Argument:
    """An argument at a call site, resolved like an item's value (for a helper's parameter)."""

    kind: str
    value: object
    ref: str
    code: str


@dataclass
class RecipeCall(Call):
    """A call that passes values to a function (core/calls.py's record: `function` is the function or method
    called, `configure_optimizers`) with its arguments resolved like items' values."""

    args: list[Argument] = field(default_factory=list)  # positional
    named: dict[str, Argument] = field(default_factory=dict)  # by keyword


@dataclass
class OptionInfo:
    dest: str
    flag: str  # `--lr`, `FLAGS.lr`, `TrainConfig.lr`, or the global's name
    default: object
    loc: Loc
    aliases: tuple[str, ...] = ()
    help: str = ""


@dataclass
class RecipeFacts:
    items: list[Item] = field(default_factory=list)
    config: ConfigFacts = field(default_factory=ConfigFacts)  # config objects' values (core/config_model.py)
    options: list[OptionInfo] = field(default_factory=list)
    entry: bool = False  # `if __name__ == "__main__":` or a training loop at module level
    trains: bool = False  # an optimiser step, a backward pass, a Trainer: the module trains something
    globals_are_options: bool = False  # nanoGPT's configurator: module globals are overridable
    config_option: str = ""
    calls: set[str] = field(default_factory=set)  # names of the functions and methods the module calls
    hydra: tuple[str, str] | None = None
    signatures: dict[str, list[str]] = field(default_factory=dict)  # function -> parameters, for helpers' items
    call_sites: list[RecipeCall] = field(default_factory=list)  # calls that pass values to a function of the project  # `@hydra.main(config_path=..., config_name=...)`  # the dest of a `--config` option whose YAML sets the other options' defaults
