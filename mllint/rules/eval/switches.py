"""Switches of the EVAL family: does an `if` test turn averaged weights, test-time augmentation or an
ensemble on and off, and can it actually be turned off?

Options are read with the project's one option parser (origins.option_of_call); the attributes a class
always creates are read here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import libcst as cst

from ...core.walk import walk
from ...core.syntax import string
from ...core.names import dotted

EMA_WORDS = re.compile(r"(?:^|_|\b)(?i:ema|swa|averag\w*|polyak|shadow)(?:_|$|\b)|EMA|Ema(?![a-z])|SWA|Swa(?![a-z])")
TTA_WORDS = re.compile(r"(?i)tta|augment|flip|x8|self_?ensemble|test_?aug|multi_?scale|chop")
ENSEMBLE_WORDS = re.compile(r"(?i)ensemble")
OFF_ACTIONS = frozenset({"store_false", "BooleanOptionalAction"})  # options that turn a switch off
FAMILIES = {"ema": EMA_WORDS, "tta": TTA_WORDS, "ensemble": ENSEMBLE_WORDS}


@lru_cache(maxsize=8192)
def _says(family: str, name: str) -> bool:
    return bool(FAMILIES[family].search(name))


@dataclass(frozen=True)
class Switch:
    """A test that switches a family's machinery: `name` as written, `working` when it can be turned off,
    `why` when it cannot; `param` for a function parameter (decided by its callers in the project phase)."""
    name: str
    working: bool
    why: str = ""
    param: str = ""
    default: object = None
    family: str = ""  # "ema", "tta" or "ensemble"


class Switches:
    def __init__(self, module: cst.Module, names) -> None:
        self.module, self.names = module, names
        self._options: dict[str, tuple[str | None, object]] | None = None
        self._tests: dict[int, tuple[cst.CSTNode, list]] = {}

    @property
    def options(self) -> dict[str, tuple[str | None, object]]:
        """dest -> (action, default) of the module's argparse options, read when a switch is first judged."""
        if self._options is None:
            self._read()
        return self._options  # type: ignore[return-value]

    @property
    def always(self) -> dict[str, set[str]]:
        """class name -> attributes set unconditionally in `__init__`."""
        if self._options is None:
            self._read()
        return self._always

    def _read(self) -> None:
        self._options, self._always = {}, {}
        for node in walk(self.module):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "add_argument":
                self._option(node)
            elif isinstance(node, cst.ClassDef):
                self._always[node.name.value] = _always_created(node)

    def _option(self, node: cst.Call) -> None:
        from ...core.origins import option_of_call  # not at import: unpickling EVAL facts on a warm run needs this module

        option = option_of_call(node, self.names)
        if option is not None and option.dest and option.name.startswith("-"):
            action = option.action
            written = node.args and next((a.value for a in node.args if a.keyword is not None and
                                          a.keyword.value == "action"), None)
            if action is None and written is not None and (dotted(written) or "").endswith("BooleanOptionalAction"):
                action = "BooleanOptionalAction"
            if self._options.get(option.dest, (None,))[0] in OFF_ACTIONS:
                return  # `--no-x` (`store_false`, dest `x`) turns the option off, whatever `--x` says
            self._options[option.dest] = (action, option.constant)

    def judge(self, test: cst.BaseExpression, family: str, cls: str | None = None,
              params: dict | None = None) -> Switch | None:
        """The switch `test` is for the family, or None when it is none (a null test, another subject)."""
        found = self._judge(test, family, cls, params)
        return replace(found, family=family) if found is not None else None

    def _named(self, test: cst.BaseExpression) -> list[tuple[cst.CSTNode, str]]:
        """The names, attributes and strings of a test, in order (read once for the three families)."""
        known = self._tests.get(id(test))
        if known is not None and known[0] is test:
            return known[1]
        named = []
        for node in walk(test):
            kind = type(node)
            name = node.attr.value if kind is cst.Attribute else node.value if kind is cst.Name else \
                string(node) if kind is cst.SimpleString else None
            if name:
                named.append((node, name))
        self._tests[id(test)] = (test, named)
        return named

    def _judge(self, test: cst.BaseExpression, family: str, cls: str | None, params: dict | None) -> Switch | None:
        words = FAMILIES[family]
        if isinstance(test, cst.Name) and test.value == "True" or isinstance(test, cst.Integer) and test.value == "1":
            return Switch("True", False, "a constant `if True` is always on")
        if isinstance(test, cst.Comparison) and any(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in test.comparisons):
            return None  # `ema is not None`: whether the object exists, decided where it is built
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Name) and test.func.value == "hasattr" \
                and len(test.args) == 2:
            attr = string(test.args[1].value)
            if attr is None or not words.search(attr):
                return None
            if cls is not None and attr in self.always.get(cls.rsplit(".", 1)[-1], ()):
                return Switch(f"hasattr(self, {attr!r})", False,
                              f"`hasattr(self, {attr!r})` is always true: `self.{attr}` is created unconditionally in `__init__`")
            return Switch(f"hasattr(self, {attr!r})", True)
        for node, name in self._named(test):
            if not _says(family, name):
                continue
            if isinstance(node, cst.Name) and params is not None and name in params:
                return Switch(name, True, param=name, default=params[name])
            option = self.options.get(name)
            if option is not None:
                action, default = option
                if action == "store_true" and default is True:
                    flag = "--" + name.replace("_", "-")
                    return Switch(name, False, f"`{flag}` is `store_true` with `default=True`: it cannot be turned off")
            return Switch(name, True)
        return None


def _always_created(node: cst.ClassDef) -> set[str]:
    """`self.x = ...` at the top level of `__init__` (not under an `if`)."""
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
