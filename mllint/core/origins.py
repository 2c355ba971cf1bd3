"""Value origins: where the value of an expression comes from, and what is written near a statement.

Shared by the families that ask "is this number a bare literal, or does it come from somewhere a reader
can see and change?" (HPARAM, the recipe card, EVAL and PREP switches):

- `number(expr)`: the value of a numeric literal (ints, floats with exponents, negatives, tuples and
  lists of literals, simple arithmetic of literals such as `1 / 3` or `2 ** -4`);
- `Origins(ctx).of(expr, scope)`: an `Origin` (a literal, a named constant with the comment of its
  definition, a command-line option or config-class field, a key of a loaded config, a parameter, a
  library default, or something derived at run time);
- `trace(origins, expr, scope)`: every origin a value may come from (through names bound several times,
  arithmetic, conditionals, `int()`, reductions), as a `Trace` a family folds with its own policy (SEED);
- `built_by(expr, scope)`: the calls a value is made of, through its names' bindings and value-keeping methods
  (EVAL: a forward on `torch.rand`/`zeros` tensors only);
- what defines a config object's value (`cfg.TRAIN.seed` -> yacs `_C.TRAIN.SEED = 0`): `core/config_model.py`;
- `parse_options(ctx)`: the one option parser of the project (argparse `add_argument`, click/typer
  options, absl `DEFINE_*`, dataclass or config-class fields), with each option's default;
- `comments_of(stmt)`, `docstring_of(function)`, `string_above(body, stmt)`, `says_why(comment)`: the
  prose near a statement, and whether a comment explains a value rather than restating the code.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import libcst as cst

from .names import dotted, statements  # noqa: F401 - statements: re-exported
from .scopes import ASSIGN, LOOP, PARAM, Binding, Scope
from .prose import fold_prose, is_prose, justifies
from .syntax import const, string
from .values import Value, int_value, keyword, number, positional, str_value  # noqa: F401 - number: re-exported

if TYPE_CHECKING:
    from ..context import ModuleContext



class OriginKind(Enum):
    LITERAL = "literal"  # written here: `0.137`
    LOOP = "loop"  # a loop variable (only in `Origins.trace`; `Trace.node` is the iterable)
    CONSTANT = "constant"  # a named value bound to a literal: `LR = 0.137` (module level or local)
    OPTION = "option"  # a command-line option: `args.lr`, `FLAGS.lr`, a click/typer parameter
    FIELD = "field"  # an attribute of a config object: `cfg.optim.lr`, `self.hparams.lr`
    CONFIG_KEY = "config-key"  # a key of a loaded config: `hyp["lr0"]`, `cfg.get("lr", 0.1)`
    PARAM = "param"  # a parameter of the enclosing function (its callers decide)
    LIBRARY_DEFAULT = "library-default"  # not given: the library's default applies
    DERIVED = "derived"  # computed at run time from something else


@dataclass
class Origin:
    kind: OriginKind
    value: Value | None = None  # the number, for LITERAL, CONSTANT and LIBRARY_DEFAULT
    name: str = ""  # the constant, option, field, key or parameter
    comment: str = ""  # for CONSTANT: the comments of its definition
    module_level: bool = False  # for CONSTANT: bound at module level
    block: str = ""  # for a module-level CONSTANT: the comment heading its block of assignments (`# Hyper-parameters`)
    node: cst.CSTNode | None = field(default=None, repr=False, compare=False)  # the literal (worker only)
    definition: cst.CSTNode | None = field(default=None, repr=False, compare=False)  # a CONSTANT's statement
    fallback: cst.BaseExpression | None = field(default=None, repr=False, compare=False)  # CONFIG_KEY: `.get(key, default)`'s default
    # what the value is read from, where it tells the origin apart: `os.environ` (an environment variable, kind
    # OPTION or CONFIG_KEY), `call` (a key read by `.get`/`.pop`/`getattr`), or the subscripted object (`cfg`)
    root: str = ""

    @property
    def is_number(self) -> bool:
        return self.kind in (OriginKind.LITERAL, OriginKind.CONSTANT) and self.value is not None


# --- literals --------------------------------------------------------------------------------------


def show(value: Value) -> str:
    """A value as a reader would write it: 0.137, 5e-4, (0.9, 0.98), [30, 60]."""
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or (0 < abs(value) < 1e-3):
            return _scientific(value)
        return text
    return str(value)


def _scientific(value: float) -> str:
    """The shortest exact e-notation, one spelling for every size: 6e-4, 6e-5, 1e-6, 2.5e-4, 1e20 (not 6e-05)."""
    for digits in range(17):
        text = f"{value:.{digits}e}"
        if float(text) == value:
            break
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def same_value(a: Value | None, b: Value | None) -> bool:
    """Equal as numbers (`1e-3 == 0.001`, `[0.9, 0.999] == (0.9, 0.999)`)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(
            same_value(x, y) for x, y in zip(a, b)
        )
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-15)


# --- origins ---------------------------------------------------------------------------------------

# Names that hold parsed command-line options or configs by convention (`args.lr`, `opt.lr`, `FLAGS.lr`).
OPTION_ROOTS = re.compile(r"^(args|arguments|opts?|options|flags|FLAGS|parsed(_args)?|hp|hparams|hyp|params)$")
CONFIG_ROOTS = re.compile(r"(^|_)(cfg|conf|config|configs|settings|hparams|hyp|hyperparameters|params|opt)$", re.I)
_PARSE_CALLS = ("parse_args", "parse_known_args", "parse_intermixed_args", "load", "safe_load", "full_load",
                "compose", "create", "from_yaml", "from_json", "from_file", "loads", "read_config")


class Origins:
    """Where values come from in one module. Built once per module (statement index on first use)."""

    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        self._statement: dict[int, cst.CSTNode] | None = None
        # nanoGPT's `exec(open('configurator.py').read())`: module globals are overridable options
        self.globals_are_options = any(
            isinstance(node, cst.Call) and dotted(node.func) == "exec"
            for stmt in ctx.module.body
            if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body
            if isinstance(small, cst.Expr)
            for node in (small.value,)
        )

    def statement_of(self, value: cst.CSTNode) -> cst.CSTNode | None:
        """The SimpleStatementLine that binds `value` (an assigned expression), if any."""
        if self._statement is None:
            self._statement = {}
            for stmt in statements(self.ctx.module):
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                            self._statement[id(small.value)] = stmt
        return self._statement.get(id(value))

    def block_heading(self, stmt: cst.CSTNode) -> str:
        """The comment above the block of module-level assignments stmt belongs to (no blank line between):
        `# Hyper-parameters` above `lr = 0.003` a few lines further down."""
        body = self.ctx.module.body
        index = next((i for i, item in enumerate(body) if item is stmt), -1)
        while index >= 0:
            item = body[index]
            if not (isinstance(item, cst.SimpleStatementLine)
                    and all(isinstance(small, (cst.Assign, cst.AnnAssign)) for small in item.body)):
                return ""
            heading = _leading_comments(item, self.ctx.module)
            if heading:
                return " ".join(heading)
            lines = item.leading_lines if item is not body[0] else self.ctx.module.header
            if any(line.comment is None for line in lines):
                return ""  # a blank line ends the block
            index -= 1
        return ""

    def of(self, expr: cst.BaseExpression, scope: Scope | None, depth: int = 0) -> Origin:
        value = number(expr)
        if value is not None:
            return Origin(OriginKind.LITERAL, value, node=expr)
        if depth > 8:
            return Origin(OriginKind.DERIVED)
        if isinstance(expr, cst.Name):
            return self._name(expr.value, scope, depth)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, scope)
        if isinstance(expr, cst.Subscript):
            key = _subscript_key(expr)
            return Origin(OriginKind.CONFIG_KEY, name=key) if key else Origin(OriginKind.DERIVED)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, depth)
        if isinstance(expr, (cst.Tuple, cst.List)):
            parts = [self.of(e.value, scope, depth + 1) for e in expr.elements if isinstance(e, cst.Element)]
            for part in parts:
                if not part.is_number:
                    return part if part.kind != OriginKind.LITERAL else Origin(OriginKind.DERIVED)
            return Origin(OriginKind.DERIVED)
        return Origin(OriginKind.DERIVED)

    def _name(self, name: str, scope: Scope | None, depth: int) -> Origin:
        if scope is None:
            return Origin(OriginKind.DERIVED)
        bindings = scope.lookup(name)
        if len(bindings) != 1:
            return Origin(OriginKind.DERIVED, name=name)  # rebound (or imported): not one constant
        binding = bindings[0]
        if binding.kind == PARAM:
            return Origin(OriginKind.PARAM, name=name)
        if binding.kind == LOOP or binding.kind != ASSIGN or binding.index >= 0:
            return Origin(OriginKind.DERIVED, name=name)
        owner = scope.owner(name)
        module_level = owner is not None and owner.parent is None
        if module_level and self.globals_are_options:
            return Origin(OriginKind.OPTION, name=name)
        inner = self.of(binding.node, owner or scope, depth + 1)  # type: ignore[arg-type]
        if inner.kind == OriginKind.LITERAL:
            stmt = self.statement_of(binding.node)
            comment = " ".join(comments_of(stmt, self.ctx.module)) if stmt is not None else ""
            block = self.block_heading(stmt) if module_level and stmt is not None else ""
            return Origin(OriginKind.CONSTANT, inner.value, name, comment, module_level, block, inner.node, stmt)
        return inner

    def _attribute(self, expr: cst.Attribute, scope: Scope | None) -> Origin:
        qualified = self.ctx.names.qualify(expr)
        if qualified and not self.ctx.is_project_name(qualified):
            return Origin(OriginKind.DERIVED, name=qualified)  # a library constant (math.pi)
        root = expr.value
        while isinstance(root, cst.Attribute):
            root = root.value
        root_name = root.value if isinstance(root, cst.Name) else ""
        if qualified:
            return Origin(OriginKind.CONSTANT, name=qualified)  # a name of another project module: its value is there
        if OPTION_ROOTS.match(root_name) or self._bound_to_parse(root_name, scope):
            return Origin(OriginKind.OPTION, name=expr.attr.value)
        return Origin(OriginKind.FIELD, name=expr.attr.value)

    def _bound_to_parse(self, name: str, scope: Scope | None) -> bool:
        for binding in scope.lookup(name) if scope is not None and name else ():
            node = binding.node
            if binding.kind == ASSIGN and isinstance(node, cst.Call):
                method = node.func.attr.value if isinstance(node.func, cst.Attribute) else dotted(node.func) or ""
                if method.rsplit(".", 1)[-1] in _PARSE_CALLS:
                    return True
        return False

    def _call(self, call: cst.Call, scope: Scope | None, depth: int) -> Origin:
        func = call.func
        method = func.attr.value if isinstance(func, cst.Attribute) else ""
        if method in ("get", "getattr", "pop", "getfloat", "getint", "select") and call.args:
            key = str_value(positional(call, 0) if method != "getattr" else positional(call, 1))
            if key:
                fallback = keyword(call, "default") or positional(call, 2 if method == "getattr" else 1)
                return Origin(OriginKind.CONFIG_KEY, name=key, fallback=fallback)
        callee = self.ctx.names.callee(call) or dotted(func) or ""
        if callee in ("float", "int", "abs") and call.args:
            return self.of(call.args[0].value, scope, depth + 1)
        if callee in ("os.environ.get", "os.getenv"):
            return Origin(OriginKind.OPTION, name=str_value(positional(call, 0)) or "env")
        return Origin(OriginKind.DERIVED)


# --- traces: what a value is made of --------------------------------------------------------------

LEAF, ARITH, CHOICE, REDUCE = "leaf", "arith", "choice", "reduce"


@dataclass
class Trace:
    """How an expression's value is made of origins: a `leaf` (`origin`), arithmetic of `parts` (`arith`), a
    `choice` between parts (a conditional expression, a boolean operator, a name bound several times), or a
    `reduce` that keeps its one part's nature (`x % 2**32`, `x & mask`, `x // n`, shifts)."""

    how: str
    origin: Origin | None = None
    parts: list["Trace"] = field(default_factory=list)
    node: cst.CSTNode | None = field(default=None, repr=False, compare=False)  # a LOOP leaf: the iterable

    def leaves(self) -> Iterator[Origin]:
        if self.origin is not None:
            yield self.origin
        for part in self.parts:
            yield from part.leaves()


def _leaf(kind: OriginKind, name: str = "", root: str = "", node: cst.CSTNode | None = None,
          fallback: cst.BaseExpression | None = None) -> Trace:
    return Trace(LEAF, Origin(kind, name=name, root=root, fallback=fallback), node=node)


_REDUCING = ("Modulo", "BitAnd", "FloorDivide", "RightShift", "LeftShift")  # by name: no libcst at import time
_ENV_CALLS = ("os.environ.get", "os.getenv")


def trace(origins: "Origins", expr: cst.BaseExpression, scope: Scope | None,
          global_option: "Callable[[str], bool] | None" = None, depth: int = 0,
          following: frozenset = frozenset()) -> Trace:
    """Every origin a value may come from, through names (each of their bindings), arithmetic, conditional
    expressions and boolean operators, `int()`/`abs()`/`float()`, reductions: the one walk of an expression that a
    family folds with its own policy (SEED: is this seed a literal, an option, a parameter, a loop over seeds?).

    Leaves are `Origins.of`'s answers, with these differences: a loop variable is a LOOP leaf (its iterable in
    `node`); an environment variable (`os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`) is an
    OPTION with `root="os.environ"`; a key read by `.get`/`.pop`/`getattr(obj, "key")` is a CONFIG_KEY with
    `root="call"`, one read by subscript a CONFIG_KEY with the subscripted object as `root`. Under a
    configurator (`exec(open(...).read())`), a module-level name is an OPTION when `global_option(name)` says so
    (all of them by default); otherwise its bound value is traced. A name met again inside its own bindings
    (`x = x * 2`, bound many times) is a DERIVED leaf there, as at the depth limit: its other bindings say the
    rest (without this, a name rebound n times from itself is traced n**depth times)."""
    if depth > 12:
        return _leaf(OriginKind.DERIVED)
    if number(expr) is not None:
        return Trace(LEAF, origins.of(expr, scope))
    if isinstance(expr, cst.Name):
        if expr.value in following:
            return _leaf(OriginKind.DERIVED, expr.value)
        bindings = scope.lookup(expr.value) if scope is not None else []
        if not bindings:
            return _leaf(OriginKind.DERIVED, expr.value)
        parts = []
        for binding in bindings:
            if binding.kind == PARAM:
                parts.append(_leaf(OriginKind.PARAM, expr.value))
            elif binding.kind == LOOP:
                parts.append(_leaf(OriginKind.LOOP, expr.value, node=binding.node))
            elif binding.kind == ASSIGN and binding.index < 0:
                owner = scope.owner(expr.value)  # type: ignore[union-attr]
                if origins.globals_are_options and owner is not None and owner.parent is None and (
                        global_option is None or global_option(expr.value)):
                    parts.append(_leaf(OriginKind.OPTION, expr.value))
                else:
                    parts.append(trace(origins, binding.node, owner or scope, global_option, depth + 1,
                                       following | {expr.value}))  # type: ignore[arg-type]
            else:
                parts.append(_leaf(OriginKind.DERIVED, expr.value))
        return parts[0] if len(parts) == 1 else Trace(CHOICE, parts=parts)
    if isinstance(expr, cst.BinaryOperation):
        left = trace(origins, expr.left, scope, global_option, depth + 1, following)
        if type(expr.operator).__name__ in _REDUCING:
            return Trace(REDUCE, parts=[left])
        return Trace(ARITH, parts=[left, trace(origins, expr.right, scope, global_option, depth + 1, following)])
    if isinstance(expr, cst.IfExp):
        return Trace(CHOICE, parts=[trace(origins, expr.body, scope, global_option, depth + 1, following),
                                    trace(origins, expr.orelse, scope, global_option, depth + 1, following)])
    if isinstance(expr, cst.BooleanOperation):
        return Trace(CHOICE, parts=[trace(origins, expr.left, scope, global_option, depth + 1, following),
                                    trace(origins, expr.right, scope, global_option, depth + 1, following)])
    if isinstance(expr, cst.Subscript):
        key = _subscript_key(expr)
        root = dotted(expr.value) or ""
        if root == "os.environ":
            return _leaf(OriginKind.OPTION, key or "env", "os.environ")
        return _leaf(OriginKind.CONFIG_KEY, key, root) if key else _leaf(OriginKind.DERIVED)
    if isinstance(expr, cst.Call):
        callee = origins.ctx.names.callee(expr) or dotted(expr.func) or ""
        short = callee.rsplit(".", 1)[-1]
        if callee in _ENV_CALLS or short == "getenv":
            return _leaf(OriginKind.OPTION, str_value(positional(expr, 0)) or "env", "os.environ")
        if short in ("int", "abs", "float") and expr.args:
            return trace(origins, expr.args[0].value, scope, global_option, depth + 1, following)
        if short in ("get", "pop") and expr.args or short == "getattr" and len(expr.args) >= 2:
            key = str_value(expr.args[1].value if short == "getattr" else expr.args[0].value)
            if key:
                fallback = positional(expr, 2 if short == "getattr" else 1)
                return _leaf(OriginKind.CONFIG_KEY, key, "call", fallback=fallback)
        return _leaf(OriginKind.DERIVED, callee)
    return Trace(LEAF, origins.of(expr, scope, depth))


def built_by(expr: cst.BaseExpression, scope: Scope | None, through: "frozenset[str] | set[str]" = frozenset(),
             mutated: "Callable[[str], bool] | None" = None, depth: int = 0,
             following: frozenset = frozenset()) -> frozenset[str] | None:
    """The calls (by their last name: `rand`, `zeros`) a value is made of, where it comes from: through every
    binding of a name (`x = torch.rand(size)`, then `x = x.cuda()`), the methods in `through` that keep their
    receiver's value (`.cuda()`, `.to(device)`), arithmetic, tuples and lists; literals add nothing. None when
    any part comes from elsewhere (a parameter, a loop, an unpacking, a subscript, an attribute) or a name is
    changed in place (`mutated(name)`: `x[0] = image`, `x.copy_(batch)`): a family folds the set with its own
    policy (EVAL: a forward on random or constant tensors only is no evaluation)."""
    if depth > 12:
        return None
    if number(expr) is not None:
        return frozenset()
    if isinstance(expr, cst.Name):
        if expr.value in following:
            return frozenset()  # `x = x.cuda()`: the other bindings of `x` say what it is made of
        if scope is None or mutated is not None and mutated(expr.value):
            return None
        bindings = scope.lookup(expr.value)
        if not bindings:
            return None
        out: frozenset[str] = frozenset()
        for binding in bindings:
            if binding.kind != ASSIGN or binding.index >= 0:
                return None
            part = built_by(binding.node, scope.owner(expr.value) or scope, through, mutated, depth + 1,
                            following | {expr.value})
            if part is None:
                return None
            out |= part
        return out
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in through:
            return built_by(func.value, scope, through, mutated, depth + 1, following)
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        return frozenset({name}) if name else None
    if isinstance(expr, cst.BinaryOperation):
        left = built_by(expr.left, scope, through, mutated, depth + 1, following)
        right = built_by(expr.right, scope, through, mutated, depth + 1, following) if left is not None else None
        return left | right if right is not None else None  # type: ignore[operator]
    if isinstance(expr, (cst.Tuple, cst.List)):
        out = frozenset()
        for element in expr.elements:
            part = built_by(element.value, scope, through, mutated, depth + 1, following)
            if part is None:
                return None
            out |= part
        return out
    return None


def _subscript_key(expr: cst.Subscript) -> str | None:
    if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return str_value(expr.slice[0].slice.value)
    return None


# --- options ---------------------------------------------------------------------------------------


class OptionKind(Enum):
    ARGPARSE = "argparse"
    CLICK = "click"
    TYPER = "typer"
    ABSL = "absl"
    FIELD = "field"  # a field of a dataclass / config class


@dataclass
class Option:
    kind: OptionKind
    name: str  # as written: `--learning-rate`, `FLAGS.lr`, `TrainConfig.lr`
    dest: str  # where it lands: `learning_rate`
    aliases: tuple[str, ...]  # every spelling, normalised (`lr`, `learning_rate`)
    default: Value | None = None  # a numeric default, if literal
    multiple: bool = False  # nargs="+"/"*", click multiple=True
    node: cst.CSTNode | None = field(default=None, repr=False, compare=False)  # the defining call/statement
    help: str = ""
    constant: object = None  # a str or bool default, if literal (`default="test"`, `default=True`)
    action: str | None = None  # argparse's `action=` (`store_true`, ...), if literal


def normalise(option: str) -> str:
    return option.lstrip("-").replace("-", "_").lower()


def spelling(name: str) -> str:
    """A destination's spelling-insensitive key: `--manualSeed`, `manual_seed`, `--manual-seed` and
    `MANUAL_SEED` (a yacs field) are one setting."""
    return name.lstrip("-").replace("-", "").replace("_", "").lower()


_ABSL_DEFINE = re.compile(r"^DEFINE_(integer|float|string|bool|boolean|enum|list|multi_\w+|\w+)$")


def option_of_call(call: cst.Call, names) -> Option | None:
    """The option a call defines: argparse `add_argument`, click/typer `option`, absl `DEFINE_*`."""
    func = call.func
    method = func.attr.value if isinstance(func, cst.Attribute) else ""
    callee = names.callee(call) or dotted(func) or ""
    first = str_value(positional(call, 0)) or ""
    if method == "add_argument" or method == "add" and first.startswith("-"):  # configargparse: `p.add("--seed")`
        kind = OptionKind.ARGPARSE
    elif callee.endswith(("click.option", "click.argument")):
        kind = OptionKind.CLICK
    elif callee.endswith(("typer.Option", "typer.Argument")):
        kind = OptionKind.TYPER
    elif _ABSL_DEFINE.match(callee.rsplit(".", 1)[-1]) and ("flags" in callee or "absl" in callee):
        kind = OptionKind.ABSL
    else:
        return None
    flags = [f for f in (str_value(a.value) for a in call.args if a.keyword is None) if f]
    if kind == OptionKind.TYPER:
        default = keyword(call, "default") or positional(call, 0)
        flags = [f for f in flags if f.startswith("-")]
    elif kind == OptionKind.ABSL:
        default = keyword(call, "default") or positional(call, 1)
        flags = flags[:1]
    else:
        default = keyword(call, "default")
    if not flags and kind != OptionKind.TYPER:
        return None
    longs = [f for f in flags if f.startswith("--")] or flags
    # argparse keeps the case of a dest (`--LR` is `args.LR`); aliases are normalised for matching spellings
    dest = str_value(keyword(call, "dest")) or (longs[0].lstrip("-").replace("-", "_") if longs else "")
    aliases = tuple(dict.fromkeys([*(normalise(f) for f in flags), dest.lower()]))
    nargs = str_value(keyword(call, "nargs"))
    multiple = nargs in ("+", "*") or keyword(call, "multiple") is not None
    help_text = str_value(keyword(call, "help")) or ""
    literal = const(default) if default is not None else None
    return Option(kind, longs[0] if longs else dest, dest, aliases, number(default), multiple, call, help_text,
                  literal if isinstance(literal, (str, bool)) else None, str_value(keyword(call, "action")))


def class_assignments(node: cst.ClassDef) -> Iterator[tuple[cst.CSTNode, str, cst.BaseExpression | None]]:
    """(statement, name, value) of each `name: T = value`, `name = value` (and bare `name: T`) in a class body,
    private names (`_x`) left out; `field(default=...)`, attrs' `attr.ib(default=...)` and pydantic's `Field(x)`
    give their default (None when they have none)."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            target, value = None, None
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                target, value = small.target.value, small.value
            elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                target, value = small.targets[0].target.value, small.value
            if target is None or target.startswith("_"):
                continue
            if isinstance(value, cst.Call):
                factory = (dotted(value.func) or "").rsplit(".", 1)[-1]
                if factory in ("field", "ib", "attrib"):
                    value = keyword(value, "default")
                elif factory == "Field":
                    value = keyword(value, "default") or positional(value, 0)
            yield small, target, value


def fields_of(node: cst.ClassDef) -> Iterator[Option]:
    """`lr: float = 0.1` in a config class (dataclass, pydantic, attrs, a plain namespace)."""
    for small, target, value in class_assignments(node):
        yield Option(OptionKind.FIELD, f"{node.name.value}.{target}", target, (target.lower(),), number(value),
                     node=small)


def parse_options(ctx: "ModuleContext") -> list[Option]:
    """Every command-line option and config-class field a module defines, in source order."""
    from .walk import walk

    found: list[Option] = []
    text = ctx.text
    if not any(word in text for word in ("add_argument", "option", "Option", "DEFINE_", "class ")):
        return found
    for node in walk(ctx.module):
        if isinstance(node, cst.Call):
            option = option_of_call(node, ctx.names)
            if option is not None:
                found.append(option)
        elif isinstance(node, cst.ClassDef) and _is_config_class(node, ctx):
            found.extend(fields_of(node))
    return found


_CONFIG_CLASS = re.compile(r"(config|conf|cfg|args|arguments|options|settings|hparams|params|hyper)", re.I)


def is_config_class(node: cst.ClassDef, ctx: "ModuleContext") -> bool:
    """A class whose attributes are settings: a dataclass, attrs or pydantic class, a NamedTuple, a `*Config`
    base, or a class named for configs (`TrainArgs`, `Hparams`, `Settings`)."""
    for deco in node.decorators:
        target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        name = ctx.names.qualify(target) or dotted(target) or ""
        if name.rsplit(".", 1)[-1] in ("dataclass", "define", "attrs", "frozen", "mutable") or name.endswith("attr.s"):
            return True
    bases = [(ctx.names.qualify(b.value) or dotted(b.value) or "") for b in node.bases]
    if any(b.endswith(("BaseModel", "BaseSettings", "NamedTuple", "Config", "PretrainedConfig")) for b in bases):
        return True
    return bool(_CONFIG_CLASS.search(node.name.value))


_is_config_class = is_config_class


# --- statements, comments, docstrings --------------------------------------------------------------

def _leading_comments(node: cst.CSTNode, module: cst.Module | None = None) -> list[str]:
    """The comment lines directly above a statement (a blank line ends the block). Above a module's first
    statement they are the module's header."""
    lines = getattr(node, "leading_lines", ())
    if module is not None and module.body and module.body[0] is node and not lines:
        lines = module.header
    found: list[str] = []
    for line in reversed(lines):
        if line.comment is None:
            break
        found.append(line.comment.value)
    return fold_prose(list(reversed(found)))


_PROSE_OF: list = [(None, {})]  # (the last module asked about, its statements' cell prose by id): one slot, swapped whole


def _cell_prose(stmt: cst.CSTNode, module: cst.Module) -> str:
    """A notebook's markdown above the code cell a module-level statement sits in, folded, when it justifies
    the recipe ("" otherwise): the prose is read as documenting the whole cell below it, as a reader does."""
    state = _PROSE_OF[0]
    if state[0] is not module:
        found, current = {}, ""
        for i, item in enumerate(module.body):
            lines = module.header if i == 0 else getattr(item, "leading_lines", ())
            marked = [line.comment.value for line in lines if line.comment is not None and is_prose(line.comment.value)]
            if marked:
                current = (fold_prose(marked) or [""])[0]
            if current:
                found[id(item)] = current
        state = _PROSE_OF[0] = (module, found)
    return state[1].get(id(stmt), "")


_ALL_FIELDS: dict[type, tuple[str, ...]] = {}


def _comments_inside(root: cst.CSTNode) -> list[str]:
    """Every comment under root, in source order. libcst's `children` runs a visitor per node (quadratic
    on a large literal); reading the dataclass fields directly is linear."""
    found: list[str] = []
    stack: list = [root]
    comment, is_node = cst.Comment, _IS_NODE
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is comment:
            found.append(node.value)
            continue
        names = _ALL_FIELDS.get(kind)
        if names is None:
            names = _ALL_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
        kids: list = []
        for name in names:
            value = getattr(node, name)
            value_kind = type(value)
            if value_kind is list or value_kind is tuple:
                kids.extend(v for v in value if _node_type(type(v), is_node))
            elif _node_type(value_kind, is_node):
                kids.append(value)
        stack.extend(reversed(kids))
    return found


_IS_NODE: dict[type, bool] = {}  # type -> is it a CSTNode (an ABC: isinstance misses cost 4x a dict hit)


def _node_type(kind: type, known: dict[type, bool]) -> bool:
    answer = known.get(kind)
    if answer is None:
        answer = known[kind] = issubclass(kind, cst.CSTNode)
    return answer


_PRAGMAS = ("noqa", "type:", "pylint", "mllint", "fmt:", "pragma")
_EXPECT_MARKER = re.compile(r"expect:\s*[A-Z]+[0-9]{3}(?:\s*,\s*[A-Z]+[0-9]{3})*\s*")


def is_pragma(comment: str) -> bool:
    """A directive to a tool (`# noqa`, `# type:`, `# mllint: ignore[...]`, a test's `# expect: SEED001`
    marker), not prose about the code."""
    text = comment.lstrip("#").strip()
    return text.lower().startswith(_PRAGMAS) or _EXPECT_MARKER.fullmatch(text) is not None


def comments_of(stmt: cst.CSTNode, module: cst.Module | None = None) -> list[str]:
    """Comments that belong to a statement: the lines directly above it, its trailing comment, and any
    comment inside it (a multi-line call). For a compound statement, only its header line. Pass the module
    to see the comments above its first statement. Tool directives (`is_pragma`) are not among them."""
    found = _leading_comments(stmt, module)
    prose = _cell_prose(stmt, module) if module is not None else ""
    if prose and not any(is_prose(comment) for comment in found):
        found.append(prose)
    if isinstance(stmt, cst.SimpleStatementLine):
        for comment in _comments_inside(stmt):  # its leading lines again, too: their prose is folded above
            if comment not in found and not is_prose(comment):
                found.append(comment)
    else:
        body = getattr(stmt, "body", None)
        header = getattr(body, "header", None)
        if header is not None and header.comment is not None:
            found.append(header.comment.value)
    return [comment for comment in found if not is_pragma(comment)]


def docstring_of(node: cst.CSTNode | None) -> str:
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Module)):
        try:
            return node.get_docstring() or ""
        except Exception:  # noqa: BLE001 - malformed escapes
            return ""
    return ""


def string_above(body: list[cst.CSTNode], stmt: cst.CSTNode, docstring: bool = False) -> str:
    """A string statement directly before stmt in the same body (`\"\"\"Cosine schedule, as in ...\"\"\"`).
    With `docstring`, the body's first statement is a docstring (of a function, class or module) and is not
    a string statement above the second: ask `docstring_of` about it."""
    for i, item in enumerate(body):
        if item is stmt and i > (1 if docstring else 0):
            previous = body[i - 1]
            if isinstance(previous, cst.SimpleStatementLine) and len(previous.body) == 1:
                small = previous.body[0]
                if isinstance(small, cst.Expr):
                    return str_value(small.value) or ""
    return ""


_WORD = re.compile(r"[A-Za-z]+")
# Words that only restate what the code does, and filler: a comment made of these alone says no why.
RESTATING = frozenset(
    """
    the a an of to for and or in on with by at from this that is are be set sets setting use uses using
    lr learning rate rates initial init base max min maximum minimum step steps size decay decays weight weights
    momentum optimizer optimiser optim sgd adam adamw rmsprop scheduler schedule scheduling gamma milestone milestones
    epoch epochs iteration iterations iter iters loss losses clip clipping clipped gradient gradients grad grads norm
    value values smoothing label labels alpha beta betas eps epsilon ema decay rate warmup warm up t max total
    coefficient coef factor multiplier term terms new old reduce reduced reducing drop dropped increase adjust
    change changed update updated define defines create creates make model net network parameters params param
    cosine annealing linear exponential multistep step lambda cyclic onecycle plateau mixup cutmix margin temperature
    cross entropy ce kl mse l1 l2 aux auxiliary criterion default here now todo fixme xxx hyperparameter hyperparameters
    hyper parameter parameters every each after before then if else when while per add apply applied
    module modules layer layers train training trainer loop we our it its will be can should let lets initialize
    initialise setup build builds define defined instantiate construct get gets compute computes calculate
    parallelized distributed ddp fsdp gpu cuda device ema average averaging averaged moving start end
    first last simple basic standard normal regular global local main current
    discriminator generator critic encoder decoder backbone head classifier
    """.split()
)
WHY_CUES = re.compile(
    r"(paper|arxiv|doi|https?://|et al|\bsee\b|\bref\b|citation|following|follows|as in|according|recommended|"
    r"suggested|official|original|tuned|tuning|sweep|grid|search|found|best|works|worked|because|since|so that|"
    r"otherwise|avoid|prevent|stabil|diverg|explod|empirical|experiment|table|section|sec\.|appendix|"
    r"\bfrom\b|\bper\b|\bfor\b \S+ (batch|gpu|gpus|dataset)|batch size|imagenet|cifar|coco|\d{4})",
    re.I,
)


def says_why(comment: str, restated: Iterable[str] = ()) -> bool:
    """Does a comment explain a value (a paper, a tuning note, a reason), rather than restate the code?

    A comment with a cue of explanation counts; so does one with words beyond the restating vocabulary
    (the position's own description and the statement's names, passed as `restated`), at least three of
    them: `# clip gradients` and `# learning rate decay` restate, `# smaller: this dataset overfits` explains.
    """
    if is_prose(comment):
        return justifies(comment)  # a notebook's markdown: words beyond the code's are no reason there
    text = comment.lstrip("#").strip()
    if not text or is_pragma(text):
        return False
    if WHY_CUES.search(text):
        return True
    known = RESTATING | {w.lower() for w in restated}
    words = [w.lower() for w in _WORD.findall(text) if len(w) > 1]
    extra = [w for w in words if w not in known and not (w.endswith("s") and w[:-1] in known)]  # plurals restate too
    return len(extra) >= 3


# --- HPARAM family: added functions (the HPARAM engineer's block) ------------------------------------------------
def unpacked_constant(origins: "Origins", name: str, scope: Scope | None) -> Origin | None:
    """A name bound once by unpacking a literal tuple (`b1, b2 = 0.5, 0.9`): the constant of its element,
    as `_name` answers for `b1 = 0.5`; None when the element is not a number or the binding is not that shape."""
    bindings = scope.lookup(name) if scope is not None else []
    if len(bindings) != 1:
        return None
    binding = bindings[0]
    if binding.kind != ASSIGN or binding.index < 0 or not isinstance(binding.node, (cst.Tuple, cst.List)):
        return None
    elements = binding.node.elements
    if binding.index >= len(elements) or any(isinstance(e, cst.StarredElement) for e in elements):
        return None
    element = elements[binding.index].value
    value = number(element)
    if value is None:
        return None
    owner = scope.owner(name) if scope is not None else None
    module_level = owner is not None and owner.parent is None
    if module_level and origins.globals_are_options:
        return Origin(OriginKind.OPTION, name=name)
    stmt = origins.statement_of(binding.node)
    comment = " ".join(comments_of(stmt, origins.ctx.module)) if stmt is not None else ""
    block = origins.block_heading(stmt) if module_level and stmt is not None else ""
    return Origin(OriginKind.CONSTANT, value, name, comment, module_level, block, element, stmt)


# --- EVAL: where a switch's value comes from ----------------------------------------------------------
# Added by the EVAL family (issue 20: EVAL's own switch reader is gone). A switch (`if args.tta:`,
# `if self.use_ema:`, `forward(x, augment=False)`) works when its value can be turned off; these functions say where
# the value comes from: an option and its default and action, a parameter and its default, a literal, or an
# attribute every instance has.

_OFF_ACTIONS = frozenset({"store_false", "BooleanOptionalAction"})  # options that turn a switch off


def switch_options(module: cst.Module, names) -> dict[str, Option]:
    """dest -> the command-line option that sets it (argparse-style, `--x`), read with the one option parser.
    A `--no-x` option (`store_false`, dest `x`) or a `BooleanOptionalAction` wins over `--x`: it turns `x` off,
    whatever `--x` says. The action of a `BooleanOptionalAction` is named so even when written as an attribute."""
    from .walk import walk

    out: dict[str, Option] = {}
    for node in walk(module):
        if type(node) is not cst.Call or type(node.func) is not cst.Attribute or node.func.attr.value != "add_argument":
            continue
        option = option_of_call(node, names)
        if option is None or not option.dest or not option.name.startswith("-"):
            continue
        if option.action is None:
            written = keyword(node, "action")
            if written is not None and (dotted(written) or "").endswith("BooleanOptionalAction"):
                option = dataclasses.replace(option, action="BooleanOptionalAction")
        known = out.get(option.dest)
        if known is not None and known.action in _OFF_ACTIONS:
            continue
        out[option.dest] = option
    return out


def option_always_on(option: Option) -> bool:
    """`store_true` with `default=True`: an option that cannot turn its switch off."""
    return option.action == "store_true" and option.constant is True


def attributes_always_set(node: cst.ClassDef) -> set[str]:
    """The attributes every instance of a class has: `self.x = ...` at the top level of `__init__` (not under an
    `if`), so that `hasattr(self, "x")` is always true."""
    created: set[str] = set()
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__" and isinstance(stmt.body, cst.IndentedBlock):
            for line in stmt.body.body:
                if isinstance(line, cst.SimpleStatementLine):
                    for small in line.body:
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                            [small.target] if isinstance(small, cst.AnnAssign) else []
                        for target in targets:
                            if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
                                    and target.value.value == "self":
                                created.add(target.attr.value)
    return created


def constant_test(test: cst.BaseExpression) -> bool:
    """`if True:` / `if 1:`: a test whose value is a literal that is always on."""
    return isinstance(test, cst.Name) and test.value == "True" or isinstance(test, cst.Integer) and test.value == "1"


# --- literals fixed in the code: the int or bool a name stands for ---------------------------------------
# "Is this size or flag written in the code?" (PREP: a test set cut to `N_TEST`, a loader built with
# `drop_last=CFG["drop_last"]`). Read through the module's scopes, like `Origins.of`; the walk of a function
# layers the literals it has just seen bound over it (`LiteralsAt`).

_FORGOTTEN = object()
_MUTATORS = ("update", "setdefault", "pop", "clear")


def int_or_bool(expr: cst.BaseExpression | None) -> int | bool | None:
    """A boolean literal's value, or an integer written in the code (`values.int_value`: `1000`, `0x3e8`, `-1`,
    `2 ** 10`), else None."""
    if expr is None:
        return None
    value = const(expr)
    return value if type(value) is bool else int_value(expr)


class FixedLiterals:
    """The int and bool literals that names stand for in one module:
    - a name bound once, to a literal (`N_TEST = 1000`, `DROP_LAST = True`; also a function's local);
    - an entry of a dict bound once to a dict literal and never written to (`CFG = {"drop_last": True}` read as
      `CFG["drop_last"]`);
    - a parameter that every call in the module passes as the same integer literal (`Evaluator(sub_sample=20)`
      for `def __init__(self, sub_sample=1)`).
    A name any function declares `global` or `nonlocal` is none. Built lazily, once per module."""

    def __init__(self, ctx: "ModuleContext") -> None:
        self.ctx = ctx
        self._declared: set | None = None
        self._written: set | None = None
        self._calls: tuple[dict, dict] | None = None
        self._parameters: dict[int, dict] = {}

    def _nodes(self, *kinds: type) -> Iterator[cst.CSTNode]:
        for node in self.ctx.index.order:
            if type(node) in kinds:
                yield node

    def declared(self) -> set:
        """Names some function declares `global` or `nonlocal` (read only when the text says either word)."""
        if self._declared is None:
            text = self.ctx.text
            self._declared = set() if "global" not in text and "nonlocal" not in text else {
                item.name.value for node in self._nodes(cst.Global, cst.Nonlocal) for item in node.names}
        return self._declared

    def written(self) -> set:
        """Names of dicts written to: `CFG["k"] = ...`, `CFG.update(...)` (also `setdefault`, `pop`, `clear`)."""
        if self._written is None:
            written: set = set()
            for node in self._nodes(cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Call):
                if type(node) is cst.Call:
                    func = node.func
                    if type(func) is cst.Attribute and type(func.value) is cst.Name and func.attr.value in _MUTATORS:
                        written.add(func.value.value)
                    continue
                for target in (node.targets if type(node) is cst.Assign else [node]):
                    target = target.target
                    if type(target) is cst.Subscript and type(target.value) is cst.Name:
                        written.add(target.value.value)
            self._written = written
        return self._written

    def calls(self) -> tuple[dict, dict]:
        """({called name: [call]}, {id(__init__): its class's name})."""
        if self._calls is None:
            calls: dict[str, list] = {}
            owners: dict[int, str] = {}
            for node in self._nodes(cst.Call, cst.ClassDef):
                if type(node) is cst.Call:
                    name = (dotted(node.func) or "").rsplit(".", 1)[-1]
                    if name:
                        calls.setdefault(name, []).append(node)
                else:
                    for stmt in node.body.body:
                        if type(stmt) is cst.FunctionDef and stmt.name.value == "__init__":
                            owners[id(stmt)] = node.name.value
            self._calls = (calls, owners)
        return self._calls

    def _bound_once(self, name: str, scope: Scope | None) -> "cst.CSTNode | Binding | None":
        """The one value bound to `name` where `scope` reads it (a parameter: its Binding), else None."""
        bindings = scope.lookup(name) if scope is not None else []
        if len(bindings) != 1 or name in self.declared():
            return None
        binding = bindings[0]
        if binding.kind == PARAM:
            return binding
        return binding.node if binding.kind == ASSIGN and binding.index < 0 else None

    def of(self, expr: cst.BaseExpression, scope: Scope | None) -> int | bool | None:
        """The literal `expr` stands for where `scope` reads it: a literal, a name, or a dict's entry."""
        value = int_or_bool(expr)
        if value is not None:
            return value
        if type(expr) is cst.Name:
            bound = self._bound_once(expr.value, scope)
            if isinstance(bound, Binding):  # a parameter: fixed when every call passes the same literal
                owner = scope.owner(expr.value) if scope is not None else None
                function = owner.function() if owner is not None else None
                return self.parameters(function).get(expr.value) if function is not None else None
            return int_or_bool(bound) if bound is not None else None
        if type(expr) is cst.Subscript and type(expr.value) is cst.Name and len(expr.slice) == 1 and \
                type(expr.slice[0].slice) is cst.Index:
            key = string(expr.slice[0].slice.value)
            table = self._bound_once(expr.value.value, scope)
            if not isinstance(key, str) or type(table) is not cst.Dict or expr.value.value in self.written():
                return None
            for element in table.elements:
                if type(element) is cst.DictElement and string(element.key) == key:
                    return int_or_bool(element.value)
        return None

    def parameters(self, function: cst.FunctionDef) -> dict[str, int]:
        """The parameters of `function` (of its class, for an `__init__`) that every call of the module passes as
        the same integer literal, when it is called at all."""
        known = self._parameters.get(id(function))
        if known is None:
            known = self._parameters[id(function)] = self._fixed(function)
        return known

    def _fixed(self, node: cst.FunctionDef) -> dict[str, int]:
        calls, owners = self.calls()
        owner = owners.get(id(node))
        if node.name.value == "__init__" and owner is None:
            return {}
        found = calls.get(owner or node.name.value, [])
        if not found:
            return {}
        params = [p.name.value for p in [*node.params.posonly_params, *node.params.params]]
        if owner is not None or params[:1] in (["self"], ["cls"]):
            params = params[1:]
        fixed: dict[str, int] = {}
        for index, param in enumerate(params + [p.name.value for p in node.params.kwonly_params]):
            values = set()
            for call in found:
                passed = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == param), None)
                if passed is None and index < len(params):
                    positional_args = [a.value for a in call.args if a.keyword is None and not a.star]
                    passed = positional_args[index] if index < len(positional_args) else None
                if passed is None or any(a.star for a in call.args):
                    values.add(None)
                    break
                values.add(int_value(passed))
            if len(values) == 1 and None not in values:
                fixed[param] = values.pop()
        return fixed


class LiteralsAt:
    """What names stand for at one point of a walk through a function's body: the literals the walk has just
    seen bound (`n = 2048` before the cut that reads it; any other binding forgets the name), else what the
    module fixes (`FixedLiterals`)."""

    def __init__(self, fixed: FixedLiterals | None, scope: Scope | None) -> None:
        self.fixed, self.scope = fixed, scope
        self.local: dict[str, object] = {}

    def bind(self, name: str, value: int | bool) -> None:
        self.local[name] = value

    def forget(self, name: str) -> None:
        self.local[name] = _FORGOTTEN

    def of(self, expr: cst.BaseExpression) -> int | bool | None:
        if type(expr) is cst.Name and expr.value in self.local:
            value = self.local[expr.value]
            return None if value is _FORGOTTEN else value  # type: ignore[return-value]
        return self.fixed.of(expr, self.scope) if self.fixed is not None else int_or_bool(expr)
