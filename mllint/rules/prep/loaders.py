"""PREP005: evaluation loaders that drop samples from the reported metric.

Three shapes, read per module in one pass over the functions of a module whose text mentions them:
- `drop_last=True` on an evaluation loader: written on the call, or through a variable (or a tuple of flags)
  set in the branch of a loader factory that builds the evaluation loader (`if flag == 'test':`, the `else` of
  `if is_train:`). A branch that covers "every other split" (`else` after `if flag == 'test'`/`elif flag ==
  'pred'`) is decided in the project phase: by the splits the project passes to the factory's parameter;
- an evaluation loop that skips the batches that are not full (`if x.size(0) != 32: continue`);
- an evaluation set cut to a literal size (`test_set = Subset(test_set, range(1000))`, `test_data[:500]`)
  unconditionally, with no comment that says so.

The role of a loader (training or evaluation) comes from how it is written: the name it is assigned to, the
dataset it loads, the branch it is built in, the function that builds it; a loader with `batch_size=1` drops
nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ...core.config_model import copied_object, spread_object
from ...core.names import dotted
from ...core.origins import FixedLiterals, LiteralsAt, int_or_bool
from ...core.syntax import body_of, callee_name, const, string
from ...core.walk import children, walk
from .extract import role

_SIZE_METHODS = ("size", "shape")
_TRAINING_CALLS = ("backward", "step", "zero_grad")


# a call passing an evaluation split by name: `flag='val'`, `get_loader(args, "test")`
_SPLIT_ARGUMENT = re.compile(r"""[=,(]\s*['"](?:val|valid|validation|test|testing|eval|dev)['"]\s*[,)]""")


def gate(text: str) -> bool:
    """Cheap text test before the walk."""
    if "drop_last" in text:
        return True
    if ("val" in text or "test" in text or "eval" in text or "dev" in text) and _SPLIT_ARGUMENT.search(text):
        return True
    if "continue" in text and ("size" in text or "shape" in text or "len(" in text):
        return True
    if "islice" in text or "//" in text or ("len(" in text and "/" in text):
        return True
    if "break" in text and "enumerate" in text:  # `for i, batch in enumerate(test_loader): if i == 20: break`
        return True
    if "**" in text and "Loader(" in text:  # `DataLoader(val_set, **cfg["loader"]["val"])`
        return True
    if "n_examples" in text and "robustbench" in text:  # `x_test, y_test = load_cifar10(n_examples=50)`
        return True
    return "test" in text and ("Subset" in text or "[:" in text or "select(" in text or ".take(" in text or
                               ".head(" in text or "::" in text or "random_split" in text or ".shard(" in text)


@dataclass
class Factory:
    """A loader factory's branch that sets drop_last for every split it does not name."""
    loc: object
    function: str
    param: str
    index: int  # the parameter's position (-1 if unknown)
    excluded: tuple  # the splits the other branches name
    used: object = None  # the loader's `drop_last=drop_last`


@dataclass
class LoaderFacts:
    direct: list = field(default_factory=list)  # (loc, message)
    factories: list = field(default_factory=list)  # Factory
    splits: list = field(default_factory=list)  # (keyword, split) of calls passing an evaluation split by name
    positional: list = field(default_factory=list)  # (callee last name, index, split)
    defaults: list = field(default_factory=list)  # (loc, function, parameter, index) of helpers whose `drop_last`
    # parameter defaults to True
    uses: list = field(default_factory=list)  # (loc, callee last name, keywords, positional count, as written) of
    # calls that build an evaluation loader (by the name they are assigned to or the data they get)
    batch_keys: dict = field(default_factory=dict)  # index in `direct` -> config key path its loader's batch size
    # is read from (`batch_size=cfg.VAL.batch_size`): a finding kept only if the config model says it may be > 1
    droppers: list = field(default_factory=list)  # (loc, function, batch-size parameter, its index) of helpers that
    # return a loader built with a literal `drop_last=True`, for no role their name or branch says
    uses_batch: list = field(default_factory=list)  # per use: {keyword or index: 1} of the literal 1s it passes
    config_drops: list = field(default_factory=list)  # (loc, what, key path) of evaluation loaders whose `drop_last`
    # is read from a config object (`drop_last=configs.drop_last`): judged by what the project's configs set
    truncators: list = field(default_factory=list)  # (class, parameter, loc of the slice, as written) of dataset
    # classes whose `__init__` keeps only the first `parameter` samples (`self.files = self.files[:num_samples]`)
    counted: list = field(default_factory=list)  # (loc, name, keyword, config key) of evaluation datasets built with
    # a sample count read from a config (`val_set = Dataset(..., num_samples=config.TEST.NUM_SAMPLES)`)
    self_defaults: list = field(default_factory=list)  # (loc of `drop_last=self.drop_last`, loc of the `True` default
    # of the `__init__` parameter it holds, the parameter) of the `droppers` whose value is such an attribute
    record_drops: list = field(default_factory=list)  # (loc, what, as written, key path) of evaluation loaders
    # configured by the fields of a settings object (`**dataclasses.asdict(self.loader_args)`): judged by the
    # `drop_last` its config classes default to and the config files set
    config_splats: list = field(default_factory=list)  # (loc, what, as written, key path) of evaluation loaders
    # configured by a config mapping spread into them (`DataLoader(val_set, **cfg["loader"]["val"])`): judged by the
    # `drop_last` the project's YAML/JSON/TOML configs set under that key


_SPLITS = ("val", "valid", "validation", "test", "testing", "eval", "dev")


def eval_split(text: str | None) -> bool:
    return bool(text) and role(text) == "eval"


# --- branches -----------------------------------------------------------------------------------------


@dataclass
class Side:
    """What one side of an `if` says about the split being built."""
    role: str | None  # "train" / "eval" / None
    param: str | None = None  # the tested name, for "every other split"
    excluded: tuple = ()  # the splits named by the tests before it (an else branch)


def _compared(test: cst.BaseExpression):
    """(tested name, the split strings, positive) of `flag == 'test'`, `flag in ('val', 'test')`, `flag != 'x'`,
    `flag == 'test' or flag == 'TEST'`."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or:
        left, right = _compared(test.left), _compared(test.right)
        if left is not None and right is not None and left[0] == right[0] and left[2] and right[2]:
            return left[0], left[1] + right[1], True
        return None
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    comparison = test.comparisons[0]
    op = type(comparison.operator)
    left, right = test.left, comparison.comparator
    values = None
    for side, other in ((right, left), (left, right)):
        s = string(side)
        if s is not None:
            values, tested = (s,), other
            break
        if isinstance(side, (cst.Tuple, cst.List, cst.Set)) and side.elements:
            strings = [string(e.value) for e in side.elements]
            if all(s is not None for s in strings):
                values, tested = tuple(strings), other
                break
    if values is None:
        return None
    name = dotted(tested)
    if name is None:
        return None
    if op in (cst.Equal, cst.In, cst.Is):
        return name, values, True
    if op in (cst.NotEqual, cst.NotIn, cst.IsNot):
        return name, values, False
    return None


def _truthy(test: cst.BaseExpression):
    """(role, positive) of `if is_train:`, `if not self.training:`, `if test_mode:`."""
    positive = True
    while type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        test, positive = test.expression, not positive
    name = dotted(test)
    if not name:
        return None
    last = name.rsplit(".", 1)[-1]
    kind = role(last)
    if kind is None or last.lower() in ("val", "value"):
        return None
    return kind, positive


def _sides(node: cst.If, excluded: tuple = ()) -> list[tuple[list, Side]]:
    """The body and else body of an if/elif chain, each with what it says about the split."""
    out = []
    compared = _compared(node.test)
    if compared is not None:
        name, values, positive = compared
        roles = {role(v) for v in values}
        named = "eval" if "eval" in roles else "train" if roles == {"train"} else None
        if positive:
            body_side, else_side = Side(named), Side(None, name, excluded + values)
        else:
            body_side, else_side = Side(None, name, excluded + values), Side(named)
    else:
        truthy = _truthy(node.test)
        if truthy is None:
            body_side, else_side = Side(None), Side(None)
        else:
            kind, positive = truthy
            other = "train" if kind == "eval" else "eval"
            body_side, else_side = (Side(kind), Side(other)) if positive else (Side(other), Side(kind))
    out.append((node.body, body_side))
    orelse = node.orelse
    if type(orelse) is cst.If:
        if compared is not None and else_side.param is not None:
            inner = _compared(orelse.test)
            if inner is not None and inner[0] == else_side.param:
                out.extend(_sides(orelse, else_side.excluded))
                return out
        out.append((cst.IndentedBlock(body=[orelse]), Side(None)))
    elif orelse is not None:
        out.append((orelse.body, else_side))
    return out


def _choices(node: cst.IfExp) -> list[tuple[cst.BaseExpression, Side]]:
    """The two values of `a if test else b`, each with what its side says about the split."""
    sides = _sides(cst.If(test=node.test, body=cst.IndentedBlock(body=[]),
                          orelse=cst.Else(body=cst.IndentedBlock(body=[]))))
    return [(node.body, sides[0][1]), (node.orelse, sides[1][1])]


# --- the walk -----------------------------------------------------------------------------------------


@dataclass
class _Setting:
    node: cst.CSTNode
    value: object  # True / False / an int / None
    side: Side | None
    expr: object = None  # the value as written, when it is no literal (`drop_last = drop_last_test`)


class _Function:
    """Assignments, loader calls and loops of one function body, with the branch each sits in."""

    def __init__(self, node, name: str, params: list[str], defaults: dict | None = None) -> None:
        self.node, self.name, self.params = node, name, params
        self.defaults = defaults or {}  # parameter -> its default expression
        self.settings: dict[str, list[_Setting]] = {}
        self.loaders: list[tuple[cst.Call, str, Side | None]] = []  # (call, assigned name, branch side)
        self.tables: dict[str, dict[str, tuple]] = {}  # name -> {split: (values...)} of a dict of flag tuples
        self.unpacked: list[tuple[list, str, cst.CSTNode]] = []  # (targets, table name, node) of `a, b = table[flag]`
        self.loops: list[cst.For] = []
        self.uses: list[tuple[cst.Call, str]] = []
        self.returned: set = set()  # names and call ids the function returns
        self.hf_drops: list = []  # `dataloader_drop_last=True` values (Hugging Face TrainingArguments)
        self.kwdicts: dict = {}  # name -> the `True` of a keyword dict `{'drop_last': True, ...}` / `dict(drop_last=True)`
        self.outer: dict = {}  # the module's keyword dicts
        self.splats: list = []  # (call, assigned name, side, the dict's `True`, the dict's name) of `DataLoader(...,
        # **loader_kwargs)` with such a dict; also of a call of a `partial(DataLoader, ..., drop_last=True)` (the name
        # marked with PARTIAL)
        self.partials: dict = {}  # name -> the `True` of `make_loader = partial(DataLoader, ..., drop_last=True)`
        self.attributes: dict = {}  # for a method: `self.<attr>` -> (parameter, its `True` default) of its class's
        # `__init__` (`def __init__(self, drop_last: bool = True): self.drop_last = drop_last`)
        self.outer_partials: dict = {}  # the module's
        self.trains = False
        self.evaluates = False
        self.config_splats: list = []  # (call, assigned name, side, the spread expression) of `**cfg["loader"]["val"]`
        self.record_splats: list = []  # (call, assigned name, side, the spread expression, the settings object) of
        # `DataLoader(val_set, **dataclasses.asdict(self.loader_args))`, `**vars(args)`, `**args.__dict__`
        self.replaced: dict = {}  # name -> the settings object of `args = dataclasses.replace(self.args, shuffle=False)`
        # (None when the copy sets `drop_last` itself)
        self.robustbench = False  # the module imports RobustBench (its `load_cifar10(n_examples=N)` cuts the test set)
        self.cuts: list[tuple[cst.CSTNode, str, cst.CSTNode]] = []  # (node, target, statement)
        # the literal a name or a dict's entry stands for where the walk is: a name bound just before, a module
        # constant, a parameter every call of the module passes as one (core/origins.py)
        self.fixed = LiteralsAt(None, None)
        self.strides: list[tuple[cst.CSTNode, str, cst.CSTNode, str]] = []  # (node, target, statement, step) of a
        # test set thinned to every k-th sample (`test_set[::10]`, `Subset(test_set, range(0, len(test_set), 10))`)

    def run(self, body, side: Side | None, guarded: bool) -> None:
        for stmt in body:
            self.statement(stmt, side, guarded)

    def statement(self, stmt, side, guarded) -> None:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in stmt.body:
                self.small(small, side, guarded, stmt)
        elif kind is cst.If:
            for body, inner in _sides(stmt):
                chosen = inner if inner.role or inner.param else side
                self.run(_body(body), chosen, True)
            self.expressions(stmt.test)
        elif kind in (cst.FunctionDef, cst.ClassDef):
            return
        elif kind is cst.For:
            self.loops.append(stmt)
            self.expressions(stmt.iter)
            # `for split in ('train', 'val', 'test'):` builds the evaluation loaders too
            self.run(_body(stmt.body), Side("eval") if _split_literal(stmt.iter) else side, guarded)
        elif kind in (cst.While, cst.With, cst.Try):
            if kind is cst.With:
                for item in stmt.items:
                    self.expressions(item.item)
            self.run(_body(stmt.body), side, guarded if kind is not cst.While else True)
            for handler in getattr(stmt, "handlers", ()):
                self.run(_body(handler.body), side, True)
            for extra in (getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                if extra is not None:
                    self.run(_body(extra.body), side, True)

    def small(self, small, side, guarded, line) -> None:
        if type(small) is cst.Assign:
            target = small.targets[-1].target
            value = small.value
            for each in small.targets:  # `n = 2048` before the cut that reads it; any other binding forgets it
                if type(each.target) is cst.Name:
                    if not guarded and (type(value) is cst.Integer or
                                        int_or_bool(value) is not None and self.name != "<module>"):
                        self.fixed.bind(each.target.value, int_or_bool(value))
                    else:
                        self.fixed.forget(each.target.value)
            if type(target) is cst.Name:
                if type(value) is cst.IfExp:  # `drop_last = False if flag == 'pred' else True`
                    for expr, inner in _choices(value):
                        self._set(target.value, expr, inner if inner.role or inner.param else side, small)
                else:
                    self._set(target.value, value, side, small)
                dropping = _drops(value)
                if dropping is not None:
                    self.kwdicts[target.value] = dropping
                bound = _partial_drops(value)
                if bound is not None:
                    self.partials[target.value] = bound
                copied = copied_object(value)  # `args = dataclasses.replace(self.args, shuffle=False)`
                if copied is not None:
                    self.replaced[target.value] = copied[0] if "drop_last" not in copied[1] else None
                else:
                    self.replaced.pop(target.value, None)
                if type(value) is cst.Dict:
                    table = {}
                    for element in value.elements:
                        key = string(element.key) if type(element) is cst.DictElement else None
                        if key is not None and isinstance(element.value, (cst.Tuple, cst.List)):
                            table[key] = tuple(const(e.value) for e in element.value.elements)
                    if table:
                        self.tables[target.value] = table
                if not guarded:
                    self._cut(target.value, value, line)
                    self.subsets(value, line)
                    self.selected(value, line, target.value)
                self._loader(value, target.value, side)
                self._use(value, target.value)
            elif type(target) in (cst.Tuple, cst.List):
                names = [e.value.value if type(e.value) is cst.Name else None for e in target.elements]
                if type(value) in (cst.Tuple, cst.List) and len(value.elements) == len(names):
                    for name, element in zip(names, value.elements):
                        if name:
                            self._set(name, element.value, side, small)
                            if not guarded and not self.cuts_in(line):
                                self._cut(name, element.value, line)
                elif type(value) is cst.Subscript and type(value.value) is cst.Name:
                    self.unpacked.append((names, value.value.value, small))
                else:
                    if not guarded:  # `x_test, y_test = load_cifar10(n_examples=50)` (RobustBench)
                        self.selected(value, line)
                        self.split_off(names, value, line)
                    self._loader(value, "", side)
                    # `test_data, test_loader = data_provider(args, 'test')`: named by its role-bearing target
                    self._use(value, next((n for n in reversed(names) if n and role(n)), ""))
            else:
                if type(target) is cst.Attribute and target.attr.value in _DATA_FIELDS and not guarded:
                    self._cut(dotted(target.value) or "", value, line, dotted(target) or "")  # `test_set.data = ...[:500]`
                self._loader(value, dotted(target) or "", side)
                if type(target) is cst.Attribute:  # `self.val_loader = get_loader(...)`
                    self._use(value, dotted(target) or "")
        elif type(small) is cst.Expr:
            self._loader(small.value, "", side)
        elif type(small) is cst.Return and small.value is not None:
            if not guarded:
                self.subsets(small.value, line)
                self.selected(small.value, line)
            self._loader(small.value, "", side)
            self._use(small.value, "", returning=True)
            name = dotted(small.value)
            if name:
                self.returned.add(name)
            self.returned.update(id(n) for n in walk(small.value) if type(n) is cst.Call)
            self.returned.update(dotted(a.value) for n in walk(small.value) if type(n) is cst.Call for a in n.args
                                 if a.star == "**" and dotted(a.value))  # `return DataLoader(data, **loader_args)`

    def _use(self, value, name: str, returning: bool = False) -> None:
        """A call that builds something for evaluation: `test_loader = make_loader(test_set, 64)`,
        `make_loader(root, 'test', 64)`, `build_dataloader(cfg, is_train=False)`, the loader a Lightning
        `test_dataloader()` returns."""
        if type(value) is not cst.Call:
            return
        named = role(name.rsplit(".", 1)[-1]) if name else None
        if named == "train":
            return
        first = next((a.value for a in value.args if a.keyword is None), None)
        data = dotted(first) if first is not None else None
        if named == "eval" or (not name and data and role(data.rsplit(".", 1)[-1]) == "eval") or \
                _evaluation_call(value) or (returning and not name and role(self.name) == "eval"
                                            and self.name.lower() != "eval"):
            self.uses.append((value, name))

    def _set(self, name, value, side, node) -> None:
        literal = const(value)
        if literal is None and type(value) is cst.Integer:
            literal = int(value.value, 0)
        self.settings.setdefault(name, []).append(_Setting(node, literal, side, value if literal is None else None))

    def cuts_in(self, line) -> bool:
        return any(stmt is line for _, _, stmt in self.cuts) or \
            any(stmt is line for _, _, stmt, _ in self.strides)  # one finding per statement

    def _cut(self, target: str, value, line, shown: str = "") -> None:
        """`test_set = Subset(test_set, range(1000))`, `test_data = test_data[:500]`, `test_set.data = ...[:500]`."""
        if not _test_data(target):
            return
        if shown and any(t.rpartition(".")[0] == target for _, t, _ in self.cuts):
            return  # `test_set.targets = ...[:500]` after `test_set.data = ...[:500]`: one cut of one data set
        step = _stride(value, self.fixed)
        if step is not None:
            self.strides.append((value, shown or target, line, step))
            return
        if type(value) is cst.Call and dotted(value.func) and dotted(value.func).rsplit(".", 1)[-1] == "Subset" \
                and value.args and _test_data(dotted(value.args[0].value) or "") and len(value.args) > 1 \
                and self.literal_size(value.args[1].value):
            self.cuts.append((value, shown or target, line))
        elif type(value) is cst.Subscript and _held_out(dotted(value.value) or "") and len(value.slice) == 1:
            element = value.slice[0].slice
            if type(element) is cst.Slice and element.step is None and \
                    any(part is not None and _integer(part, self.fixed) is not None
                        for part in (element.lower, element.upper)):
                self.cuts.append((value, shown or target, line))

    def selected(self, value, line, target: str = "") -> bool:
        """A test split cut by the data's own method to a size fixed in the code, whatever the result is named:
        `small_test = tokenized["test"].shuffle(seed=42).select(range(250))` (Hugging Face `datasets`),
        `test_ds.take(500)`, `test_df.head(1000)`, also where it is used (`Trainer(..., eval_dataset=
        raw["test"].select(range(500)))`), and a split string that slices the test split (`load_dataset(name,
        split="test[:2000]")`)."""
        if self.cuts_in(line):
            return False
        for inner in walk(value):
            if type(inner) is not cst.Call:
                continue
            shown = target if inner is value else ""
            if self.robustbench and (dotted(inner.func) or "").rsplit(".", 1)[-1] in _ROBUSTBENCH_LOADERS:
                count = next((a.value for a in inner.args if a.keyword is not None and a.keyword.value == "n_examples"),
                             None)  # RobustBench's CIFAR loaders return the first `n_examples` of the 10,000 test images
                if 0 < (_integer(count, self.fixed) or 0) < 10000:
                    self.cuts.append((inner, shown, line))
                    return True
            split = next((string(a.value) for a in inner.args if a.keyword is not None and a.keyword.value == "split"
                          and isinstance(string(a.value), str)), None)
            if split is not None and _TEST_SLICE.match(split.replace(" ", "")):
                self.cuts.append((inner, shown, line))
                return True
            if type(inner.func) is cst.Attribute and inner.func.attr.value == "shard" and inner.args and \
                    _test_split(inner.func.value):  # `raw["test"].shard(num_shards=10, index=0)`: a tenth of it
                shards = next((a.value for a in inner.args if a.keyword is not None and a.keyword.value == "num_shards"),
                              inner.args[0].value if inner.args[0].keyword is None else None)
                if (_integer(shards, self.fixed) or 0) > 1:
                    self.cuts.append((inner, shown, line))
                    return True
            if type(inner.func) is not cst.Attribute or not inner.args or inner.args[0].keyword is not None:
                continue
            method, size = inner.func.attr.value, inner.args[0].value
            # `.select(range(N))` is only ever a subset; `.head(N)`/`.take(N)` also show a few rows, so the result
            # must be the test data itself (`test_df = pd.read_csv(path).head(500)`)
            fixed = self.literal_size(size) and _test_split(inner.func.value) if method == "select" else \
                (_integer(size, self.fixed) or 0) > 0 and _test_data(target) \
                if method in ("take", "head") else False
            if fixed:
                self.cuts.append((inner, shown, line))
                return True
        return False

    def split_off(self, names: list, value, line) -> None:
        """`test_set, _ = random_split(test_set, [2000, len(test_set) - 2000])`: the test set split by sizes fixed in
        the code, one part kept under a test name and the others thrown away (`_`)."""
        if type(value) is not cst.Call or (dotted(value.func) or "").rsplit(".", 1)[-1] != "random_split" or \
                len(value.args) < 2 or self.cuts_in(line) or not _test_data(dotted(value.args[0].value) or ""):
            return
        sizes = value.args[1].value
        if type(sizes) not in (cst.List, cst.Tuple) or len(sizes.elements) != len(names):
            return
        kept = [i for i, name in enumerate(names) if name and not name.startswith("_")]
        if len(kept) != 1 or not _test_data(names[kept[0]]):
            return
        size = sizes.elements[kept[0]].value
        if _integer(size, self.fixed) is not None or type(size) is cst.Float and 0 < float(size.value) < 1:
            self.cuts.append((value, names[kept[0]], line))

    def literal_size(self, expr) -> bool:
        """Indices of a size fixed in the code: `range(1000)`, `np.arange(512)`, a permutation cut to a literal
        length (`np.random.permutation(len(test_set))[:5000]`, `torch.randperm(n)[:100]`), `random.sample(ids,
        500)`, also through one assignment in the function (`idx = ...; Subset(test_set, idx)`)."""
        if type(expr) is cst.Name:
            settings = self.settings.get(expr.value, ())
            if len(settings) != 1 or type(settings[0].node) is not cst.Assign:
                return False
            expr = settings[0].node.value
        if _literal_range(expr, self.fixed):
            return True
        if type(expr) is cst.Call and (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("list", "tuple", "sorted") \
                and expr.args:
            return self.literal_size(expr.args[0].value)
        if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Slice:
            cut = expr.slice[0].slice
            return cut.step is None and cut.lower is None and _integer(cut.upper, self.fixed) is not None
        if type(expr) is cst.Call and (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("sample", "choice"):
            size = next((a.value for a in expr.args if a.keyword is not None and a.keyword.value in ("k", "size")),
                        expr.args[1].value if len(expr.args) > 1 and expr.args[1].keyword is None else None)
            return _integer(size, self.fixed) is not None
        return False

    def subsets(self, value, line) -> None:
        """A test set cut where it is used rather than assigned: `return Subset(test_set, idx)`,
        `DataLoader(test_set, sampler=SubsetRandomSampler(range(2000)))`."""
        if self.cuts_in(line):
            return
        for inner in walk(value):
            if type(inner) is not cst.Call or not inner.args:
                continue
            last = (dotted(inner.func) or "").rsplit(".", 1)[-1]
            data = dotted(inner.args[0].value) or ""
            if last == "Subset" and len(inner.args) > 1 and _test_data(data) and \
                    self.literal_size(inner.args[1].value):
                self.cuts.append((inner, f"Subset({data}, ...)", line))
                return
            step = _stride(inner, self.fixed) if last == "Subset" else None
            if step is not None:  # `subset = Subset(test_set, range(0, len(test_set), 10))`, under any name
                self.strides.append((inner, "", line, step))
                return
            if last == "DataLoader" and _test_data(data):
                sampler = next((a.value for a in inner.args if a.keyword is not None and
                                a.keyword.value in ("sampler", "batch_sampler")), None)
                if type(sampler) is cst.Call and (dotted(sampler.func) or "").endswith("SubsetRandomSampler") and \
                        sampler.args and self.literal_size(sampler.args[0].value):
                    self.cuts.append((sampler, f"{data} through its sampler", line))
                    return

    def _loader(self, value, name: str, side) -> None:
        splits = _split_comprehension(value)
        if splits:  # `{x: DataLoader(sets[x], drop_last=True) for x in ['train', 'val']}`: the val loader drops too
            side = Side("eval")
        for inner in walk(value):
            if type(inner) is cst.Call:
                func = dotted(inner.func) or ""
                last = func.rsplit(".", 1)[-1]
                if last in _TRAINING_CALLS:
                    self.trains = True
                elif last == "eval" and not inner.args:
                    self.evaluates = True
                if any(a.keyword is not None and a.keyword.value == "drop_last" for a in inner.args):
                    self.loaders.append((inner, name, side))
                for a in inner.args:
                    splat = dotted(a.value) if a.star == "**" else None
                    dropping = self.kwdicts.get(splat, self.outer.get(splat)) if splat else None
                    record = _record(a.value, self.replaced) if a.star == "**" else None
                    if dropping is not None:
                        self.splats.append((inner, name, side, dropping, splat))
                    elif record is not None:
                        if not any(b.keyword is not None and b.keyword.value == "drop_last" for b in inner.args):
                            self.record_splats.append((inner, name, side, a.value, record))
                    elif a.star == "**" and type(a.value) in (cst.Subscript, cst.Attribute) and not any(
                            b.keyword is not None and b.keyword.value == "drop_last" for b in inner.args):
                        self.config_splats.append((inner, name, side, a.value))  # `**cfg["loader"]["val"]`
                if type(inner.func) is cst.Name:  # `test_loader = make_loader(test_set)`, a partial that drops
                    bound = self.partials.get(inner.func.value, self.outer_partials.get(inner.func.value))
                    if bound is not None:
                        self.splats.append((inner, name, side, bound, PARTIAL + inner.func.value))
                self.hf_drops.extend(a.value for a in inner.args if a.keyword is not None and
                                     a.keyword.value == "dataloader_drop_last" and const(a.value) is True)

    def expressions(self, expr) -> None:
        self._loader(expr, "", None)


PARTIAL = "<partial>"
_NO_RECORD = cst.Name("_")  # a copy that sets `drop_last` itself


def _record(expr, replaced: dict):
    """The settings object whose fields a `**` spreads (core's `spread_object`: `dataclasses.asdict(args)`,
    `vars(args)`, `args.__dict__`), also through a copy bound before (`args = dataclasses.replace(self.args,
    shuffle=False)`); `_NO_RECORD` when that copy sets `drop_last`; None for any other spread."""
    inner = spread_object(expr)
    if inner is None:
        return None
    if type(inner) is cst.Name and inner.value in replaced:
        return replaced[inner.value] if replaced[inner.value] is not None else _NO_RECORD
    return inner


def _partial_drops(value) -> object:
    """The `True` of `partial(DataLoader, ..., drop_last=True)`, else None."""
    if type(value) is not cst.Call or (dotted(value.func) or "").rsplit(".", 1)[-1] != "partial" or not value.args \
            or value.args[0].keyword is not None or (dotted(value.args[0].value) or "").rsplit(".", 1)[-1] != "DataLoader":
        return None
    return next((a.value for a in value.args if a.keyword is not None and a.keyword.value == "drop_last"
                 and const(a.value) is True), None)


def _drops(value) -> object:
    """The `True` of `{'drop_last': True, ...}` or `dict(..., drop_last=True)`, else None."""
    if type(value) is cst.Dict:
        for element in value.elements:
            if type(element) is cst.DictElement and string(element.key) == "drop_last" and const(element.value) is True:
                return element.value
    elif type(value) is cst.Call and dotted(value.func) == "dict":
        for a in value.args:
            if a.keyword is not None and a.keyword.value == "drop_last" and const(a.value) is True:
                return a.value
    return None


def _evaluation_call(call: cst.Call) -> bool:
    """A call that asks for the evaluation split by its arguments: a split string (`'test'`), `is_train=False`,
    `training=False`, `is_test=True`; the training split by no argument."""
    splits = [string(a.value) for a in call.args]
    if any(s is not None and s.lower() in _SPLITS for s in splits) and \
            not any(s is not None and role(s) == "train" for s in splits):
        return True
    for arg in call.args:
        if arg.keyword is None:
            continue
        kind = role(arg.keyword.value)
        if kind == "train" and const(arg.value) is False or kind == "eval" and const(arg.value) is True:
            return True
    return False


def _split_literal(expr) -> bool:
    """A literal list of split names that holds an evaluation split and the training one: `['train', 'val']`."""
    if type(expr) not in (cst.List, cst.Tuple) or not expr.elements:
        return False
    names = [string(e.value) for e in expr.elements]
    return all(n is not None for n in names) and any(role(n) == "eval" for n in names) and \
        any(role(n) == "train" for n in names)


def _split_comprehension(value) -> bool:
    """A dict or list comprehension over a literal list of split names (`for x in ['train', 'val']`)."""
    if type(value) not in (cst.DictComp, cst.ListComp, cst.GeneratorExp):
        return False
    clause = value.for_in
    while clause is not None:
        if _split_literal(clause.iter):
            return True
        clause = clause.inner_for_in
    return False


def _body(block) -> list:
    body = getattr(block, "body", block)
    return list(body) if isinstance(body, (list, tuple)) else [body]


def _test_data(name: str) -> bool:
    """A name for held-out test data (`test_set`, `testset`, `test_data`, `dataset_test`)."""
    last = name.rsplit(".", 1)[-1].lower()
    if "test" not in last or role(last) != "eval":
        return False
    rest = last.replace("test", "").strip("_")
    return rest in ("set", "data", "dataset", "ds", "samples", "examples", "images", "imgs", "files", "pairs",
                    "list", "x", "sentences", "texts", "items", "df")


_DATA_FIELDS = ("data", "targets", "samples", "imgs", "images", "labels")


_ROBUSTBENCH_LOADERS = ("load_cifar10", "load_cifar100", "load_cifar10c", "load_cifar100c")
_TEST_SLICE = re.compile(r"^test(?:ing)?\[[^\]:]*:\d+%?\]$")  # `test[:2000]`, `test[:10%]`, not `test[10%:]`


def _test_split(expr) -> bool:
    """The test split of a data set, through the methods that keep it one (`raw["test"].shuffle(seed=42)`,
    `tokenized["test"].map(fn)`), or a name for test data (`test_ds`)."""
    while type(expr) is cst.Call and type(expr.func) is cst.Attribute:
        expr = expr.func.value
    if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
        return string(expr.slice[0].slice.value) in ("test", "testing")
    return _test_data(dotted(expr) or "")


def _held_out(name: str) -> bool:
    """Test data, or a data field of it (`test_set.data`)."""
    base, _, last = name.rpartition(".")
    return _test_data(name) or bool(base) and last in _DATA_FIELDS and _test_data(base)


def _ordinal(number: str) -> str:
    n = int(number)
    return number + ("th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th"))


def _stride(value, fixed: LiteralsAt | None = None) -> str | None:
    """Held-out data thinned to every k-th sample by a step written in the code: `test_set[::10]`,
    `test_set.data[::5]`, `Subset(test_set, range(0, len(test_set), 10))`: the step, else None."""
    if type(value) is cst.Subscript and _held_out(dotted(value.value) or "") and len(value.slice) == 1 and \
            type(value.slice[0].slice) is cst.Slice:
        step = value.slice[0].slice.step
        return str(int(step.value, 0)) if type(step) is cst.Integer and int(step.value, 0) > 1 else None
    if type(value) is cst.Call and (dotted(value.func) or "").rsplit(".", 1)[-1] == "Subset" and len(value.args) > 1 \
            and _test_data(dotted(value.args[0].value) or ""):
        indices = value.args[1].value
        if type(indices) is cst.Call and (dotted(indices.func) or "").rsplit(".", 1)[-1] in ("list", "tuple") and \
                indices.args:
            indices = indices.args[0].value
        if type(indices) is cst.Call and (dotted(indices.func) or "").rsplit(".", 1)[-1] in ("range", "arange") and \
                len(indices.args) == 3:
            step = _integer(indices.args[2].value, fixed)
            return str(step) if step is not None and step > 1 else None
    return None


def _integer(expr, fixed: LiteralsAt | None = None) -> int | None:
    """An integer written in the code: a literal, a module constant bound once to one (`N_TEST = 1000`, also an
    entry of a module-level dict, `CFG["eval_samples"]`), or a parameter every call of the module passes as one."""
    if type(expr) is cst.Integer:
        return int(expr.value, 0)
    value = _constant(expr, fixed)
    return value if type(value) is int else None


def _constant(expr, fixed: LiteralsAt | None) -> object:
    """The literal a name or a module dict's entry stands for (`N_TEST`, `CFG["drop_last"]`), else None."""
    return fixed.of(expr) if fixed is not None and type(expr) in (cst.Name, cst.Subscript) else None


def _literal_range(expr, fixed: LiteralsAt | None = None) -> bool:
    """`range(1000)`, `list(range(1000))`, `np.arange(1000)`, `[0, 1, 2]`: indices fixed in the code (also `range(n)`
    with a parameter `n` that every call of the module passes as a literal)."""
    if type(expr) is cst.Call and (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("list", "tuple") and expr.args:
        return _literal_range(expr.args[0].value, fixed)
    if type(expr) is cst.Call and (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("range", "arange"):
        return bool(expr.args) and all(_integer(a.value, fixed) is not None for a in expr.args if a.keyword is None)
    if type(expr) is cst.List:
        return all(type(e.value) is cst.Integer for e in expr.elements)
    return False


def _size_of(expr) -> bool:
    """`x.size(0)`, `x.size()[0]`, `x.shape[0]`, `len(batch)`."""
    if type(expr) is cst.Subscript:
        base = expr.value
        if type(base) is cst.Call:
            base = base.func
        return type(base) is cst.Attribute and base.attr.value in _SIZE_METHODS
    if type(expr) is cst.Call:
        func = expr.func
        if type(func) is cst.Attribute and func.attr.value in _SIZE_METHODS and expr.args:
            return const(expr.args[0].value) is None and type(expr.args[0].value) is cst.Integer \
                and expr.args[0].value.value == "0"
        return dotted(func) == "len"
    return False


def _batch_size(expr) -> bool:
    if type(expr) is cst.Integer:
        return int(expr.value, 0) > 1
    name = dotted(expr) or ""
    return "batch" in name.lower() or name.lower().endswith("bs")


def _skips_partial(stmt) -> bool:
    """`if x.size(0) != 32: continue` (or `break`, or `<` the batch size)."""
    if type(stmt) is not cst.If or stmt.orelse is not None:
        return False
    body = _body(stmt.body)
    if len(body) != 1 or type(body[0]) is not cst.SimpleStatementLine or \
            type(body[0].body[0]) not in (cst.Continue, cst.Break):
        return False
    test = stmt.test
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return False
    op = type(test.comparisons[0].operator)
    left, right = test.left, test.comparisons[0].comparator
    if op in (cst.NotEqual, cst.IsNot):
        return (_size_of(left) and _batch_size(right)) or (_size_of(right) and _batch_size(left))
    if op is cst.LessThan:
        return _size_of(left) and _batch_size(right)
    if op is cst.GreaterThan:
        return _size_of(right) and _batch_size(left)
    return False


def _stops_early(stmt, loop: cst.For, fixed: LiteralsAt | None = None) -> tuple | None:
    """`if i >= 50: break` on the loop's `enumerate` index (or an expression of it, `(i + 1) * bs > 5000`, or a
    sample counter the loop adds to, `seen >= 2000`), with a literal bound: (the bound, the counter or ""), else
    None."""
    if type(stmt) is not cst.If or stmt.orelse is not None:
        return None
    body = _body(stmt.body)
    if len(body) != 1 or type(body[0]) is not cst.SimpleStatementLine or type(body[0].body[0]) is not cst.Break:
        return None
    target = loop.target
    index = ""  # without `enumerate`, only a counter the loop adds to
    if type(loop.iter) is cst.Call and dotted(loop.iter.func) == "enumerate" and type(target) is cst.Tuple \
            and target.elements and type(target.elements[0].value) is cst.Name:
        index = target.elements[0].value.value
    test = stmt.test
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    op, left, right = type(test.comparisons[0].operator), test.left, test.comparisons[0].comparator
    counters = {dotted(n.target) for n in walk(loop.body) if type(n) is cst.AugAssign and type(n.operator) is
                cst.AddAssign and dotted(n.target)}  # `seen += labels.size(0)`: samples counted in the loop
    if _counts(left, index, counters) and (_integer(right, fixed) or 0) > 0 and \
            op in (cst.GreaterThan, cst.GreaterThanEqual, cst.Equal):
        return str(_integer(right, fixed)), dotted(left) if dotted(left) in counters else ""
    if _counts(right, index, counters) and (_integer(left, fixed) or 0) > 0 and \
            op in (cst.LessThan, cst.LessThanEqual, cst.Equal):
        return str(_integer(left, fixed)), dotted(right) if dotted(right) in counters else ""
    return None


def _counts(expr, index: str, counters: set) -> bool:
    """The loop's index, an expression of it (`(i + 1) * batch_size`), or a counter the loop adds to."""
    if type(expr) is cst.Name and expr.value == index:
        return True
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Multiply, cst.Add):
        return any(type(n) is cst.Name and n.value == index for n in walk(expr))
    name = dotted(expr) if type(expr) in (cst.Name, cst.Attribute) else None
    return bool(name) and name in counters


def _accumulates(loop: cst.For, counter: str = "") -> bool:
    """The loop adds up a metric (`correct += ...`, `metric.update(...)`, `losses.append(...)`), other than the
    counter that bounds it (`shown += 1` of a loop that plots ten images)."""
    for node in walk(loop.body):
        if type(node) is cst.AugAssign and not (counter and dotted(node.target) == counter):
            return True
        if type(node) is cst.Call and type(node.func) is cst.Attribute and \
                node.func.attr.value in ("update", "append", "add_batch", "extend"):
            return True
    return False


# --- facts --------------------------------------------------------------------------------------------


def _evaluates(node: cst.Call) -> bool:
    """`Trainer(..., eval_dataset=data)`, `trainer.evaluate()`, `trainer.predict()`."""
    return (any(a.keyword is not None and a.keyword.value == "eval_dataset" and const(a.value) is None and
                not (type(a.value) is cst.Name and a.value.value == "None") for a in node.args) or
            type(node.func) is cst.Attribute and node.func.attr.value in ("evaluate", "predict") and
            "trainer" in (dotted(node.func.value) or "").rsplit(".", 1)[-1].lower())


def loader_facts(ctx) -> LoaderFacts:
    facts = LoaderFacts()
    module = ctx.module
    functions: list[_Function] = []
    tails: set = set()
    robustbench = "robustbench" in ctx.text
    top = _Function(module, "<module>", [])
    top.robustbench = robustbench
    functions.append(top)
    evaluated = False  # an `eval_dataset`, `trainer.evaluate()`: the module evaluates through a HF Trainer
    attributes = _init_defaults(module)
    literals = FixedLiterals(ctx)
    top.fixed = LiteralsAt(literals, ctx.module_scope)
    top.run(module.body, None, False)
    for node in walk(module):
        if type(node) is cst.FunctionDef:
            params = [p.name.value for p in [*node.params.posonly_params, *node.params.params]]
            defaults = {p.name.value: p.default for p in [*node.params.posonly_params, *node.params.params,
                                                          *node.params.kwonly_params] if p.default is not None}
            f = _Function(node, node.name.value, params, defaults)
            f.robustbench = robustbench
            f.outer = top.kwdicts
            f.outer_partials = top.partials
            f.attributes = attributes.get(id(node), {})
            f.fixed = LiteralsAt(literals, ctx.scope_of(node))
            f.run(_body(node.body), None, False)
            functions.append(f)
        elif type(node) is cst.Call:
            evaluated = evaluated or _evaluates(node)
            if len(node.args) > 1 and (dotted(node.func) or "").rsplit(".", 1)[-1] == "Subset":
                # `Subset(val_dataset, range(len(val_sampler) * world_size, len(val_dataset)))`: the samples a
                # sampler drops are evaluated apart
                tails.update(dotted(inner.args[0].value) for inner in walk(node.args[1].value)
                             if type(inner) is cst.Call and dotted(inner.func) == "len" and inner.args)
            for i, arg in enumerate(node.args):
                value = string(arg.value)
                if value is None or value not in _SPLITS:
                    continue
                if arg.keyword is not None:
                    facts.splits.append((arg.keyword.value, value))
                else:
                    facts.positional.append(((dotted(node.func) or "").rsplit(".", 1)[-1], i, value))
    for f in functions:
        _drop_last(ctx, f, facts, tails)
        _config_splats(ctx, f, facts)
        _record_splats(ctx, f, facts)
        if evaluated:
            for value in f.hf_drops:
                facts.direct.append((ctx.loc(value), "`dataloader_drop_last=True` also applies to the Trainer's "
                                                     "evaluation and prediction loaders, and this module evaluates "
                                                     "(an `eval_dataset`, `trainer.evaluate()`): the samples of the "
                                                     "last incomplete evaluation batch are left out of the reported "
                                                     "metric"))
        for call, name in f.uses:
            callee = (dotted(call.func) or "").rsplit(".", 1)[-1]
            if callee and callee != "DataLoader":
                keywords = tuple(sorted(a.keyword.value for a in call.args if a.keyword is not None))
                count = sum(1 for a in call.args if a.keyword is None and not a.star)
                facts.uses.append((ctx.loc(call), callee, keywords, count, name or _code(module, call)))
                facts.uses_batch.append(frozenset([a.keyword.value for a in call.args if a.keyword is not None
                                                   and type(a.value) is cst.Integer and a.value.value == "1"] +
                                                  [i for i, a in enumerate(call.args) if a.keyword is None and
                                                   type(a.value) is cst.Integer and a.value.value == "1"]))
        _partial_batches(ctx, f, facts)
        cuts = [(node, target, line, "cut to a fixed size") for node, target, line in f.cuts] + \
            [(node, target, line, f"thinned to every {_ordinal(step)} sample") for node, target, line, step in f.strides]
        for node, target, line, how in cuts:
            if _commented(ctx, line):
                continue
            shown = f"{target} = {_code(module, node)}" if target.replace(".", "").replace("_", "").isalnum() \
                else _code(module, node)
            facts.direct.append((ctx.loc(node), f"the test set is {how} (`{shown}`) with no option or note: the "
                                                "reported metric covers only part of it"))
    facts.splits = sorted(set(facts.splits))
    facts.positional = sorted(set(facts.positional))
    return facts


def _config_splats(ctx, f: _Function, facts: LoaderFacts) -> None:
    """`DataLoader(val_set, **cfg["loader"]["val"])`: an evaluation loader (by its name, its data, its branch, or the
    key it is configured by) whose keywords come from a config mapping; the project phase reads the `drop_last` the
    configs set under that key."""
    from ...core.config_model import key_path

    for call, name, side, value in f.config_splats:
        read = key_path(value)
        if read is None or not read[1]:
            continue
        last = role(read[1].rsplit(".", 1)[-1])
        if last == "train" or last is None and _loader_role(f, call, name, side) != "eval" or _batch_one(call, f, side):
            continue
        facts.config_splats.append((ctx.loc(value), f"`{name}`" if name else "an evaluation loader",
                                    _code(ctx.module, value), read[1] + ".drop_last"))


def _record_splats(ctx, f: _Function, facts: LoaderFacts) -> None:
    """`DataLoader(self.val_dataset, **dataclasses.asdict(self.loader_args))`: an evaluation loader configured by the
    fields of a settings object; the project phase reads the `drop_last` its config classes default to (a dataclass's
    `drop_last: bool = True`) and what the config files set under that key."""
    from ...core.config_model import key_path

    for call, name, side, spread, record in f.record_splats:
        if record is _NO_RECORD:
            continue
        read = key_path(record)
        path = read[1] if read is not None and read[1] else record.value if type(record) is cst.Name else None
        if not path:
            continue
        last = role(path.rsplit(".", 1)[-1])
        if last == "train" or last is None and _loader_role(f, call, name, side) != "eval" or _batch_one(call, f, side):
            continue
        what = f"`{name}`" if name else f"the loader `{f.name}()` returns" if id(call) in f.returned \
            else "an evaluation loader"
        facts.record_drops.append((ctx.loc(spread), what, _code(ctx.module, spread), path + ".drop_last"))


def _code(module, node) -> str:
    text = module.code_for_node(node).strip()
    return text if len(text) <= 50 else text[:47] + "..."


def _commented(ctx, line) -> bool:
    from ...core.origins import comments_of

    return bool(comments_of(line, ctx.module))


def _loader_role(f: _Function, call: cst.Call, name: str, side: Side | None) -> str | None:
    """train / eval of a loader call: its assigned name, the data it loads, its branch, its function."""
    if name:
        kind = role(name.rsplit(".", 1)[-1])
        if kind:
            return kind
    data = [a.value for a in call.args if a.keyword is None][:1] + \
        [a.value for a in call.args if a.keyword is not None and a.keyword.value in ("dataset", "sampler")]
    for expr in data:
        text = dotted(expr)
        kind = role(text.rsplit(".", 1)[-1]) if text else None
        if kind:
            return kind
    if side is not None and side.role:
        return side.role
    return role(f.name) or ("eval" if _PREDICTS.match(f.name) else None)


# a function that turns a loader's batches into a generative model's score: activations for FID/KID, the
# Inception score (`calculate_activation_statistics(dataloader, model)`, `get_activations(loader, inception)`)
_METRIC_FEED = re.compile(r"activation|(?:^|_)(?:fid|kid|frechet|inception_score)(?:_|$)", re.I)


def _feeds_metric(f: _Function, call: cst.Call, name: str) -> str | None:
    """"eval" when the loader (by its name, or the call inline) is an argument of such a scoring call in the same
    function: every image counts in the score, so the images of a dropped last batch are missing from it."""
    for node in walk(f.node):
        if type(node) is not cst.Call or not _METRIC_FEED.search((dotted(node.func) or "").rsplit(".", 1)[-1]):
            continue
        if any(a.value is call or name and dotted(a.value) == name for a in node.args):
            return "eval"
    return None


# a function that runs the model on held-out inputs (`def predict(self, X):`, `inference_loop`): its loader is an
# evaluation loader, and the predictions of a dropped last batch are missing
_PREDICTS = re.compile(r"^_?(?:predict|prediction|predictions|infer|inference)(?:_|$)", re.I)


def _batch_one(call: cst.Call, f: _Function, side: Side | None) -> bool:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "batch_size":
            if type(arg.value) is cst.Integer:
                return arg.value.value == "1"
            if type(arg.value) is cst.Name:  # every assignment in the branch sets 1 (not `batch_size = 1` in
                # one task's sub-branch and the training batch size in another's)
                values = [s.value for s in f.settings.get(arg.value.value, []) if s.side is side]
                return bool(values) and all(v == 1 for v in values)
    return False


def _paths(f: _Function) -> tuple[dict, dict]:
    """(id(node) -> the split-style tests on the way to it, as `(name, values, positive)`; id(node) -> its order in
    the source) for every node of the function body: `if args.task_name == 'anomaly_detection': ... elif ...
    == 'classification': ... else: <node>` gives the node `(('args.task_name', ('anomaly_detection',), False),
    ('args.task_name', ('classification',), False))`."""
    cached = getattr(f, "_paths", None)
    if cached is not None:
        return cached
    paths: dict[int, tuple] = {}
    order: dict[int, int] = {}
    stack = [(f.node, ())]
    while stack:
        node, path = stack.pop()
        order[id(node)] = len(order)
        paths[id(node)] = path
        if type(node) is cst.If:
            compared = _compared(node.test)
            inner = []
            if node.orelse is not None:
                inner.append((node.orelse, path + (((compared[0], compared[1], not compared[2]),) if compared else ())))
            inner.append((node.body, path + ((compared,) if compared else ())))
            inner.append((node.test, path))
            stack.extend(inner)
            continue
        stack.extend((child, path) for child in reversed(list(children(node))))
    f._paths = (paths, order)  # type: ignore[attr-defined]
    return f._paths  # type: ignore[attr-defined]


def _feasible(*paths) -> bool:
    """Can the tests of these paths hold together (`task == 'classification'` and `task != 'classification'`
    cannot)?"""
    allowed: dict[str, set] = {}
    banned: dict[str, set] = {}
    for path in paths:
        for name, values, positive in path:
            if positive:
                allowed[name] = allowed[name] & set(values) if name in allowed else set(values)
            else:
                banned.setdefault(name, set()).update(values)
    return all(allowed[name] - banned.get(name, set()) for name in allowed)


def _reaching(f: _Function, settings: list, at: cst.CSTNode) -> list:
    """The settings of one variable that can reach `at`: not on a path whose tests contradict `at`'s, and not
    replaced on `at`'s own way by a later setting (`if args.task_name == 'anomaly_detection': drop_last = False;
    DataLoader(..., drop_last=drop_last)`). Settings outside the function's own statements are kept."""
    paths, order = _paths(f)
    where = paths.get(id(at))
    if where is None:
        return list(settings)
    here = order[id(at)]
    out = []
    for s in settings:
        own = paths.get(id(s.node))
        if own is None:
            out.append(s)
            continue
        if not _feasible(own, where):
            continue
        mine = order[id(s.node)]
        if any(o is not s and id(o.node) in paths and mine < order[id(o.node)] < here
               and where[:len(paths[id(o.node)])] == paths[id(o.node)] for o in settings):
            continue  # set again on the way to `at`
        out.append(s)
    return out


def _batch_one_on_path(call: cst.Call, f: _Function, setting: _Setting) -> bool:
    """Is the batch size that reaches the loader, on the evaluation branch's path, always 1? (`if flag ==
    'test': drop_last = True; if task in ('anomaly_detection', 'classification'): batch_size = args.batch_size
    else: batch_size = 1`, and the loader sits under `else` of `if task == 'anomaly_detection': ... elif task ==
    'classification': ...`: the test loader of that task has batch 1.)"""
    batch = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_size"), None)
    if type(batch) is not cst.Name:
        return False
    paths, _ = _paths(f)
    own = paths.get(id(setting.node))
    if own is None:
        return False
    values = [s.value for s in _reaching(f, f.settings.get(batch.value, []), call)
              if id(s.node) not in paths or _feasible(paths[id(s.node)], own)]
    return bool(values) and all(v == 1 for v in values)


def _batch_key(call: cst.Call, facts: LoaderFacts) -> None:
    """The config key the loader's batch size is read from, for the finding about to be added (see batch_keys)."""
    from ...core.config_model import key_path

    value = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_size"), None)
    read = key_path(value) if value is not None else None
    if read is not None and "." in read[1] and "batch" in read[1].rsplit(".", 1)[-1].lower():  # a nested config
        # key (`cfg.VAL.batch_size`); an options namespace's `args.batch_size` is no config value
        facts.batch_keys[len(facts.direct)] = read[1]


def _options(ctx) -> dict:
    """The module's command-line options by destination (core/origins.py), read once."""
    cached = getattr(ctx, "_prep_options", None)
    if cached is None:
        from ...core.origins import switch_options

        cached = switch_options(ctx.module, ctx.names)
        ctx._prep_options = cached  # type: ignore[attr-defined]
    return cached


def _tail_evaluated(name: str, tails: set) -> bool:
    """The samples this loader or sampler drops are evaluated apart: `len(val_sampler)` or `len(loader.sampler)`
    starts a `Subset` of the rest."""
    if name in tails:
        return True
    return "sampler" in name.rsplit(".", 1)[-1].lower() and \
        any("sampler" in (t or "").rsplit(".", 1)[-1].lower() for t in tails)


def _never_read(ctx, name: str) -> bool:
    """Is the loader assigned to `name` never read in its module (a data-inspection script builds `val_loader` and
    iterates only the training loader)? Then no reported number comes from it."""
    if not name:
        return False
    last = name.rsplit(".", 1)[-1]
    seen = 0
    for node in walk(ctx.module):
        if type(node) is cst.Name and node.value == last:  # also the `attr` of `self.val_loader`
            seen += 1
            if seen > 1:
                return False
    return True


def _only_cycled(ctx, name: str) -> bool:
    """Is the loader held in `name` only cycled without end in its module (`while True: for x in loader: yield x`, or
    re-iterated when its iterator runs out: `except StopIteration: it = iter(loader)`), never drawn to its last batch
    by a pass of its own? Then its consumers take batches by count."""
    if not name or not ("yield" in ctx.text and "while" in ctx.text or "StopIteration" in ctx.text):
        return False
    uses = loader_uses(ctx)
    last = name.rsplit(".", 1)[-1]
    return uses is not None and last in uses.cycled and last not in uses.consumed


def _drop_last(ctx, f: _Function, facts: LoaderFacts, tails: set = frozenset()) -> None:
    reported: set[int] = set()
    for call, name, side, dropping, splat in f.splats:  # `DataLoader(test_set, **loader_kwargs)`
        bound = splat.startswith(PARTIAL)  # `make_loader(test_set)` with `make_loader = partial(DataLoader, ...)`
        splat = splat[len(PARTIAL):] if bound else splat
        own = role(splat.rsplit(".", 1)[-1])  # a dict named for a split configures that split's loaders
        if any(a.keyword is not None and a.keyword.value == "drop_last" for a in call.args) or own == "train":
            continue  # its own drop_last; the training loaders' keywords
        named = role(name.rsplit(".", 1)[-1]) if name else None
        if (named or own or _loader_role(f, call, name, side)) == "eval" and not _batch_one(call, f, side) and \
                not _tail_evaluated(name, tails):
            what = f"`{name}`" if name else "an evaluation loader"
            how = f"is built by `{splat}`, a `partial(DataLoader, ...)` that sets" if bound else \
                f"takes `**{splat}`, which sets"
            facts.direct.append((ctx.loc(call), f"{what} {how} `drop_last=True`: the samples "
                                                "of its last incomplete batch are left out of the reported metric",
                                 [(ctx.loc(dropping), f"`drop_last=True` in `{splat}`")]))
    for call, name, side in f.loaders:
        if _partial_drops(call) is not None:
            continue  # `partial(DataLoader, ..., drop_last=True)`: judged where it is called
        value = next(a.value for a in call.args if a.keyword is not None and a.keyword.value == "drop_last")
        held = f.attributes.get(value.attr.value) if type(value) is cst.Attribute and \
            type(value.value) is cst.Name and value.value.value == "self" else None
        # `drop_last=DROP_LAST` / `CFG["drop_last"]` with a module constant True, or a name the function binds once,
        # unconditionally, to True (`drop = True`)
        through = const(value) is None and _constant(value, f.fixed) is True and \
            (type(value) is not cst.Name or len(f.settings.get(value.value, [])) <= 1)
        if const(value) is True or held is not None or through:
            kind = _loader_role(f, call, name, side) or _feeds_metric(f, call, name)
            if kind is None and f.name != "<module>" and (id(call) in f.returned or name in f.returned) and \
                    not _batch_one(call, f, side) and role(dotted(call.func) or "") is None:
                batch = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_size"),
                             next((a.value for a in call.args[1:2] if a.keyword is None), None))
                param = batch.value if type(batch) is cst.Name and batch.value in f.params else None
                index = f.params.index(param) if param else -1
                if param and f.params[0] in ("self", "cls"):
                    index -= 1
                facts.droppers.append((ctx.loc(value), f.name, param, index))
                if held is not None:
                    facts.self_defaults.append((ctx.loc(value), ctx.loc(held[1]), held[0]))
            if kind == "eval" and not _batch_one(call, f, side) and not _tail_evaluated(name, tails) \
                    and dotted(call.func) != "dict" and not _never_read(ctx, name) and not _only_cycled(ctx, name):
                # `test_kwargs = dict(drop_last=True)`: judged where it is spread
                what = f"`{name}`" if name else "an evaluation loader"
                _batch_key(call, facts)
                if held is not None:
                    facts.direct.append((ctx.loc(value), f"{what} is built with `drop_last={_code(ctx.module, value)}`, "
                                                         f"True by default (`{held[0]}=True` in `__init__`): the "
                                                         "samples of its last incomplete batch are left out of the "
                                                         "reported metric",
                                         [(ctx.loc(held[1]), f"`{held[0]}=True` by default")]))
                elif through:
                    facts.direct.append((ctx.loc(value), f"{what} is built with `drop_last={_code(ctx.module, value)}`, "
                                                         "True where it is set: the samples of its last incomplete "
                                                         "batch are left out of the reported metric"))
                else:
                    facts.direct.append((ctx.loc(value), f"{what} is built with `drop_last=True`: the samples of its "
                                                         "last incomplete batch are left out of the reported metric"))
            continue
        if type(value) is cst.Attribute:  # `drop_last=args.drop_last` with an option that defaults to True
            option = _options(ctx).get(value.attr.value)
            if option is not None and option.constant is True and option.action not in ("store_true", "store_false") \
                    and _loader_role(f, call, name, side) == "eval" and not _batch_one(call, f, side):
                what = f"`{name}`" if name else "an evaluation loader"
                facts.direct.append((ctx.loc(value), f"{what} takes `drop_last={_code(ctx.module, value)}`, whose "
                                                     f"option `{option.name}` defaults to True: the samples of its "
                                                     "last incomplete batch are left out of the reported metric"))
            elif option is None and _loader_role(f, call, name, side) == "eval" and not _batch_one(call, f, side):
                from ...core.config_model import key_path

                read = key_path(value)  # `drop_last=configs.drop_last`: a config object's value
                if read is not None:
                    facts.config_drops.append((ctx.loc(value), f"`{name}`" if name else "an evaluation loader",
                                               _code(ctx.module, value), read[1]))
            continue
        if type(value) is not cst.Name:
            continue
        variable = value.value
        default = f.defaults.get(variable)
        if default is not None and const(default) is True and variable not in f.settings:
            index = f.params.index(variable)
            if f.params and f.params[0] in ("self", "cls"):
                index -= 1
            facts.defaults.append((ctx.loc(default), f.name, variable, index))
            continue
        settings = _reaching(f, f.settings.get(variable, []), call)
        for targets, table, node in f.unpacked:
            if variable in targets and table in f.tables:
                index = targets.index(variable)
                for split, values in f.tables[table].items():
                    if index < len(values) and values[index] is True and eval_split(split):
                        settings.append(_Setting(node, True, Side("eval")))
        for setting in settings:
            if type(setting.expr) is cst.Name and setting.side is not None and setting.side.role == "eval":
                _eval_branch_parameter(f, setting.expr.value, facts, ctx, reported)
            if setting.value is not True or id(setting.node) in reported:
                continue
            where = setting.side
            if where is None or not where.role and (not where.param or where.param not in f.params and
                                                    where.param.rsplit(".", 1)[-1] not in f.params):
                # not decided by the split: `if args.model == 'MDTP': drop_last = True` (and its `else`)
                _every_split(ctx, f, facts, call, value, variable, setting, reported)
                continue
            if where.role == "eval":
                if _batch_one(call, f, where) or _batch_one_on_path(call, f, setting):
                    continue
                reported.add(id(setting.node))
                _batch_key(call, facts)
                facts.direct.append((ctx.loc(setting.node), f"`{variable} = True` in the branch that builds the "
                                                            f"evaluation loader: `drop_last={variable}` leaves the "
                                                            "samples of its last incomplete batch out of the "
                                                            "reported metric",
                                     [(ctx.loc(value), f"the loader takes `drop_last={variable}`")]))
            elif where.role is None and where.param:
                param = where.param.rsplit(".", 1)[-1]
                if param not in f.params and where.param not in f.params:
                    continue
                reported.add(id(setting.node))
                index = f.params.index(param) if param in f.params else -1
                if f.params and f.params[0] in ("self", "cls") and index > 0:
                    index -= 1
                facts.factories.append(Factory(ctx.loc(setting.node), f.name, param, index, where.excluded,
                                               ctx.loc(value)))


def _split_parameter(f: _Function) -> str | None:
    """The parameter of a loader factory that names the split it builds: compared with a split's name somewhere
    in the function (`shuffle = flag != 'test'`, `if split in ('val', 'test'):`)."""
    for node in walk(f.node):
        if type(node) is cst.Comparison or type(node) is cst.BooleanOperation:
            compared = _compared(node)
            if compared is not None and compared[0] in f.params and any(role(v) for v in compared[1]):
                return compared[0]
    return None


def _every_split(ctx, f: _Function, facts: LoaderFacts, call, value, variable: str, setting: _Setting,
                 reported: set) -> None:
    """`drop_last = True` on a path of a loader factory that the split does not decide (`if args.model == 'MDTP':
    drop_last = True` in `data_provider(args, flag)`), when no branch of the factory sets `drop_last` by the split:
    every split the factory builds drops its last batch, the test split too (judged where the project calls it)."""
    if setting.value is not True or id(setting.node) in reported or f.name == "<module>":
        return
    param = _split_parameter(f)
    if param is None:
        return

    paths, _ = _paths(f)

    def by_split(s: _Setting) -> bool:
        """Is this setting on a path the split decides: a test of the split parameter, or a branch a flag names
        (`if is_train:`), not a task or model named like a split (`args.task_name == 'TRACK_pretrain'`)?"""
        path = paths.get(id(s.node), ())
        if any(name == param for name, _, _ in path):
            return True
        return s.side is not None and s.side.role is not None and \
            not any(role(v) for _, values, _ in path for v in values)

    if any(by_split(s) for s in f.settings.get(variable, [])):
        return  # the factory decides `drop_last` by the split (judged as a branch)
    batch = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_size"), None)
    if type(batch) is cst.Name and any(s.value == 1 and by_split(s) for s in f.settings.get(batch.value, [])):
        return  # `if flag == 'test': batch_size = 1`: the evaluation loader drops nothing
    reported.add(id(setting.node))
    index = f.params.index(param)
    if f.params[0] in ("self", "cls"):
        index -= 1
    facts.factories.append(Factory(ctx.loc(setting.node), f.name, param, index, (), ctx.loc(value)))


def _init_defaults(module) -> dict:
    """id(method) -> {attribute: (parameter, its `True` default)} for the classes whose `__init__` stores a parameter
    that defaults to True on `self` (`def __init__(self, ..., drop_last: bool = True): self.drop_last = drop_last`)
    and whose methods assign that attribute nowhere else."""
    out: dict = {}
    for cls in walk(module):
        if type(cls) is not cst.ClassDef:
            continue
        methods = [m for m in _body(cls.body) if type(m) is cst.FunctionDef]
        init = next((m for m in methods if m.name.value == "__init__"), None)
        if init is None:
            continue
        defaults = {p.name.value: p.default for p in [*init.params.params, *init.params.kwonly_params]
                    if p.default is not None and const(p.default) is True}
        if not defaults:
            continue
        stored: dict = {}
        counts: dict = {}
        for m in methods:
            for node in walk(m):
                if type(node) is not cst.Assign:
                    continue
                for target in node.targets:
                    t = target.target
                    if type(t) is cst.Attribute and type(t.value) is cst.Name and t.value.value == "self":
                        counts[t.attr.value] = counts.get(t.attr.value, 0) + 1
                        if m is init and type(node.value) is cst.Name and node.value.value in defaults:
                            stored[t.attr.value] = (node.value.value, defaults[node.value.value])
        held = {attr: value for attr, value in stored.items() if counts.get(attr) == 1}
        for m in methods if held else ():
            out[id(m)] = held
    return out


def _eval_branch_parameter(f: _Function, name: str, facts: LoaderFacts, ctx, reported: set) -> None:
    """`if flag == 'test': drop_last = drop_last_test` with `def data_provider(args, flag, drop_last_test=True)`:
    the evaluation branch takes the factory's parameter, so the callers that ask for evaluation and do not pass it
    get its default True (judged at those calls, as a helper whose `drop_last` parameter defaults to True)."""
    default = f.defaults.get(name)
    if default is None or const(default) is not True or name in f.settings or name not in f.params \
            or id(default) in reported:
        return
    reported.add(id(default))
    index = f.params.index(name)
    if f.params[0] in ("self", "cls"):
        index -= 1
    facts.defaults.append((ctx.loc(default), f.name, name, index))


def _partial_batches(ctx, f: _Function, facts: LoaderFacts) -> None:
    if f.trains:
        return
    for loop in f.loops:
        iterable = dotted(loop.iter) or dotted(getattr(loop.iter, "args", [None])[0].value
                                               if type(loop.iter) is cst.Call and loop.iter.args else loop.iter) or ""
        if not iterable:  # `enumerate(tqdm(test_loader))`: the data named inside
            iterable = next((dotted(n) for n in walk(loop.iter) if type(n) in (cst.Name, cst.Attribute) and
                             dotted(n) and role(dotted(n).rsplit(".", 1)[-1])), "")
        named = role(iterable.rsplit(".", 1)[-1]) if iterable else None
        whole = _full_batches(f, loop) if named != "train" else None  # the data it batches says the role
        if whole is not None and _accumulates(loop) and not _commented(ctx, loop):
            facts.direct.append((ctx.loc(loop.iter), f"the evaluation loop runs `{_code(ctx.module, whole[1])}` "
                                                     f"full batches of `{whole[0]}`: the samples of the last "
                                                     "incomplete batch are left out of the reported metric"))
            continue
        if named == "train" or (named is None and role(f.name) != "eval" and not f.evaluates):
            continue
        limit = _islice_limit(loop.iter, f.fixed)
        if named == "eval" and limit is not None and _accumulates(loop) and not _commented(ctx, loop):
            facts.direct.append((ctx.loc(loop.iter), f"the evaluation loop over `{iterable}` takes its first {limit} "
                                                     "batches only (`islice`), a count written in the code with no "
                                                     "option or note: the reported metric covers only part of the "
                                                     "evaluation set"))
            continue
        drawn = _drawn_count(f, loop)
        if drawn is not None and _accumulates(loop) and not _commented(ctx, loop):
            facts.direct.append((ctx.loc(loop.iter), f"the evaluation loop draws `{_code(ctx.module, loop.iter.args[0].value)}` "
                                                     f"batches from `{drawn[1]}`, at most {drawn[0]}: a count "
                                                     "written in the code with no option or note, so the reported "
                                                     "metric covers only part of the evaluation set"))
            continue
        for stmt in _body(loop.body):
            if _skips_partial(stmt):
                facts.direct.append((ctx.loc(stmt), "the evaluation loop skips every batch that is not full: the "
                                                    "samples of the last incomplete batch are left out of the "
                                                    "reported metric"))
                break
            stop = _stops_early(stmt, loop, f.fixed)
            bound = stop[0] if stop is not None else None
            if named == "eval" and bound is not None and _accumulates(loop, stop[1]) and not _commented(ctx, stmt):
                facts.direct.append((ctx.loc(stmt), f"the evaluation loop over `{iterable}` stops early (`if "
                                                    f"{_code(ctx.module, stmt.test)}: break`), at a batch count "
                                                    "written in the code with no option or note: the reported "
                                                    "metric covers only part of the evaluation set"))
                break


def _drawn_count(f: _Function, loop: cst.For) -> tuple[int, str] | None:
    """`for i in range(max_iter): data = next(val_iter)` with `val_iter = iter(loader)` and a count fixed in the
    code (`max_iter = min(max_iter, len(loader))`, `def val(..., max_iter=100)`): (the count, the iterator)."""
    it = loop.iter
    if type(it) is not cst.Call or dotted(it.func) != "range" or len(it.args) != 1:
        return None
    drawn = [n.args[0].value if dotted(n.func) == "next" else n.func.value for n in walk(loop.body)
             if type(n) is cst.Call and (dotted(n.func) == "next" and n.args or type(n.func) is cst.Attribute and
                                         n.func.attr.value in ("next", "__next__") and not n.args)]
    iterators = [dotted(d) for d in drawn if type(d) is cst.Name and any(
        type(s.expr) is cst.Call and dotted(s.expr.func) == "iter" for s in f.settings.get(d.value, []))]
    if not iterators or _drains(f, loop):
        return None
    count = _literal_count(f, it.args[0].value, set())
    return (count, iterators[0]) if count is not None else None


def _drains(f: _Function, loop: cst.For) -> bool:
    """Does the count only fill one batch of a loop that drains the iterator: the drawing loop sits in a `while`
    loop of the function (`while True: try: for _ in range(batch_size): batch.append(next(it)) except
    StopIteration: ...`)? A `try` alone does not drain: `for _ in range(50): try: next(it) except StopIteration:
    break` still stops at 50."""
    return any(type(node) is cst.While and any(n is loop for n in walk(node.body)) for node in walk(f.node))


def _literal_count(f: _Function, expr, seen: set) -> int | None:
    """An int fixed in the code: a literal, `min(count, len(loader))`, a name set to one, or a parameter's default
    (`max_iter=100`)."""
    if type(expr) is cst.Integer:
        return int(expr.value, 0)
    if type(expr) is cst.Call and dotted(expr.func) == "min":
        counts = [_literal_count(f, a.value, seen) for a in expr.args]
        return min((c for c in counts if c is not None), default=None)
    if type(expr) is not cst.Name:
        return None
    name = expr.value
    settings = f.settings.get(name, []) if name not in seen else []
    if not settings:
        default = f.defaults.get(name)
        return int(default.value, 0) if type(default) is cst.Integer else None
    seen = seen | {name}  # `max_iter = min(max_iter, len(loader))`: the name read there is the parameter
    counts = [s.value if type(s.value) is int and not isinstance(s.value, bool) else
              _literal_count(f, s.expr, seen) if s.expr is not None else None for s in settings]
    return max(counts) if counts and None not in counts else None


def _islice_limit(expr, fixed: LiteralsAt | None = None) -> str | None:
    """`islice(test_loader, 50)` (also inside `enumerate(...)`, `tqdm(...)`): the literal count, else None."""
    for node in walk(expr):
        if type(node) is cst.Call and (dotted(node.func) or "").rsplit(".", 1)[-1] == "islice" and \
                len(node.args) == 2 and (_integer(node.args[1].value, fixed) or 0) > 0:
            return str(_integer(node.args[1].value, fixed))
    return None


def _held_out_size(expr) -> str | None:
    """`len(X_test)`, `X_test.shape[0]`, `test_x.size(0)`: the evaluation data it measures, else None."""
    base = None
    if type(expr) is cst.Call and dotted(expr.func) == "len" and len(expr.args) == 1:
        base = expr.args[0].value
    elif type(expr) is cst.Subscript and type(expr.value) is cst.Attribute and expr.value.attr.value == "shape":
        base = expr.value.value
    elif type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "size":
        base = expr.func.value
    name = dotted(base) if base is not None else None
    if not name:
        return None
    last = name.rsplit(".", 1)[-1].lower()
    if role(last) != "eval" or "loader" in last or "iter" in last:
        return None
    return name


def _floor_count(expr) -> str | None:
    """`len(X_test) // batch_size`, `int(len(X_test) / bs)`: the data whose remainder is dropped, else None."""
    if type(expr) is cst.Call and dotted(expr.func) == "int" and len(expr.args) == 1:
        inner = expr.args[0].value
        if type(inner) is cst.BinaryOperation and type(inner.operator) is cst.Divide:
            expr = inner
        else:
            return None
    elif not (type(expr) is cst.BinaryOperation and type(expr.operator) is cst.FloorDivide):
        return None
    if type(expr.right) is cst.Integer and int(expr.right.value, 0) <= 1:
        return None
    return _held_out_size(expr.left)


def _full_batches(f: _Function, loop: cst.For) -> tuple | None:
    """`for i in range(len(X_test) // batch_size):` (the count also through one assignment in the function), in a
    function that does not train and takes no remainder (`%`) of that data: (data, count expression)."""
    if f.trains:
        return None
    call = loop.iter
    while type(call) is cst.Call and (dotted(call.func) or "").rsplit(".", 1)[-1] in ("tqdm", "enumerate", "trange") \
            and call.args and (dotted(call.func) or "").rsplit(".", 1)[-1] != "trange":
        call = call.args[0].value
    if type(call) is not cst.Call or (dotted(call.func) or "").rsplit(".", 1)[-1] not in ("range", "trange") or \
            len(call.args) != 1:
        return None
    count = call.args[0].value
    expr = count
    if type(count) is cst.Name:
        settings = f.settings.get(count.value, ())
        if len(settings) != 1 or type(settings[0].node) is not cst.Assign:
            return None
        expr = settings[0].node.value
    data = _floor_count(expr)
    if data is None:
        return None
    for node in walk(f.node):
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.Modulo and \
                any(dotted(n) == data for n in walk(node.left) if type(n) in (cst.Name, cst.Attribute)):
            return None  # the remainder is taken care of
        if type(node) is cst.Call and (dotted(node.func) or "").rsplit(".", 1)[-1] == "ceil":
            return None
    return data, expr


# --- a sample count handed to a dataset that keeps the first N samples --------------------------------
# a parameter or keyword named for a number of samples: `num_samples`, `max_images`, `n_examples`
COUNT_NAME = re.compile(r"^(?:num|max|n|limit)_?(?:samples|images|imgs|examples|items|files)$|"
                        r"^(?:samples|images|examples)_?(?:num|limit|count)$", re.I)


def count_gate(text: str) -> bool:
    return ("samples" in text or "images" in text or "examples" in text or "imgs" in text or "items" in text) \
        and ("[:" in text or "=" in text)


def counted_facts(ctx, facts: LoaderFacts) -> None:
    """Dataset classes that keep only the first N samples when given a count (`if num_samples: self.files =
    self.files[:num_samples]` in `__init__`), and evaluation datasets built with a count read from a config."""
    module = ctx.module
    for cls in module.body:
        if type(cls) is not cst.ClassDef or type(cls.body) is not cst.IndentedBlock:
            continue
        init = next((f for f in cls.body.body if type(f) is cst.FunctionDef and f.name.value == "__init__"), None)
        if init is None:
            continue
        params = {p.name.value for p in [*init.params.params, *init.params.kwonly_params] if COUNT_NAME.match(p.name.value)}
        if not params:
            continue
        for node in walk(init.body):
            if type(node) is not cst.Assign or len(node.targets) != 1 or type(node.value) is not cst.Subscript:
                continue
            target, value = node.targets[0].target, node.value
            if dotted(target) is None or not (dotted(target) or "").startswith("self.") or len(value.slice) != 1:
                continue
            part = value.slice[0].slice
            if type(part) is cst.Slice and part.lower is None and part.step is None and type(part.upper) is cst.Name \
                    and part.upper.value in params:
                facts.truncators.append((cls.name.value, part.upper.value, ctx.loc(value),
                                         ctx.module.code_for_node(node).strip()[:60]))
                break
    for node in walk(module):
        if type(node) is not cst.Assign or len(node.targets) != 1 or type(node.targets[0].target) is not cst.Name \
                or type(node.value) is not cst.Call:
            continue
        name = node.targets[0].target.value
        if role(name) != "eval":
            continue
        for arg in node.value.args:
            if arg.keyword is None or not COUNT_NAME.match(arg.keyword.value):
                continue
            key = dotted(arg.value) or ""
            if key.count(".") >= 2:  # `config.TEST.NUM_SAMPLES`, `cfg.data.val.max_images`
                facts.counted.append((ctx.loc(node.value), name, arg.keyword.value, key))


# --- how a loader is used: does its last batch ever reach anything? ------------------------------------------
# Only names that read as loaders are recorded, to keep the facts small; what decides is their use.
_LOADERISH = re.compile(r"(?i)loader|(?:^|_)(?:dl|gen|iter|iterator|batches)(?:_|$|\d)")
_SHALLOW_CALLS = frozenset({"len", "print", "isinstance", "hasattr", "type", "id", "str", "repr"})
_WRAPPING_CALLS = frozenset({"enumerate", "zip", "tqdm", "iter"})
_SHALLOW_ATTRIBUTES = frozenset({"dataset", "sampler", "batch_size", "num_workers", "collate_fn"})


def _loader_name(expr: cst.BaseExpression) -> str | None:
    """`test_loader`, `self.test_loader` -> `test_loader`, when it reads as a loader."""
    if type(expr) is cst.Name:
        name = expr.value
    elif type(expr) is cst.Attribute and type(expr.value) is cst.Name and expr.value.value in ("self", "cls"):
        name = expr.attr.value
    else:
        return None
    return name if _LOADERISH.search(name) else None


def _iterated(expr: cst.BaseExpression) -> list[str]:
    """The loaders a `for` loop draws from: `loader`, `enumerate(loader)`, `zip(a_loader, b_loader)`, `tqdm(...)`."""
    name = _loader_name(expr)
    if name:
        return [name]
    if type(expr) is cst.Call and callee_name(expr.func) in _WRAPPING_CALLS:
        return [n for a in expr.args for n in _iterated(a.value)]
    return []


def _stops_after_count(loop: cst.For) -> bool:
    """`if t >= opts.test_batch_size: break` at the top of the body: the loop takes a fixed number of batches and
    never reaches the last one."""
    for stmt in body_of(loop):
        if type(stmt) is cst.If and type(stmt.test) is cst.Comparison and \
                any(type(c.operator) in (cst.GreaterThanEqual, cst.GreaterThan, cst.Equal) for c in stmt.test.comparisons):
            inner = body_of(stmt)
            if len(inner) == 1 and type(inner[0]) in (cst.SimpleStatementLine, cst.SimpleStatementSuite) and \
                    any(type(s) is cst.Break for s in inner[0].body):
                return True
    return False


def _stop_iteration(handler: cst.ExceptHandler) -> bool:
    """`except StopIteration:` (also in a tuple of exceptions)."""
    kind = handler.type
    names = [e.value for e in kind.elements] if type(kind) is cst.Tuple else [kind] if kind is not None else []
    return any(dotted(n) == "StopIteration" for n in names)


def _cycled(loop: cst.For, index) -> bool:
    """`while True: for batch in loader: yield batch`: the loader is cycled without end inside a generator, so its
    consumers draw batches by count and no pass over its data is ever complete."""
    if not any(type(n) in (cst.Yield,) for n in walk(loop.body)):
        return False
    for up in index.ancestors(loop):
        if type(up) is cst.While:
            return const(up.test) is True or type(up.test) is cst.Integer and up.test.value == "1"
        if type(up) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            return False
    return False


@dataclass
class LoaderUses:
    """The loader names a module uses whole (iterated to the end, handed to a call, kept under another name) and
    those it only touches (`loader.dataset[i]`, `len(loader)`, a loop that stops after a count of batches,
    `next(iter(loader))`)."""
    consumed: frozenset
    shallow: frozenset
    cycled: frozenset = frozenset()  # cycled without end inside a generator (also in `shallow`)


def loader_uses(ctx) -> LoaderUses | None:
    """A loader's uses where the module binds it, read once per module (the `prep_loader_uses` extractor, and
    PREP005's loaders for the loaders a module cycles without end)."""
    known = vars(ctx).get("_loader_uses", _UNREAD)
    if known is _UNREAD:
        known = ctx._loader_uses = _read_loader_uses(ctx)
    return known


_UNREAD = object()


def _read_loader_uses(ctx) -> LoaderUses | None:
    """A loader's uses where the module binds it: a function's parameter holds whatever a caller passed (the
    caller's argument is its use), so uses of a parameter of that name say nothing about this loader."""
    consumed: set[str] = set()
    shallow: set[str] = set()
    cycled: set[str] = set()
    index = ctx.index
    params: dict[int, frozenset] = {}

    def bound(node: cst.CSTNode, name: str) -> bool:
        for up in index.ancestors(node):
            if type(up) is cst.FunctionDef:
                known = params.get(id(up))
                if known is None:
                    ps = up.params
                    known = params[id(up)] = frozenset(
                        p.name.value for p in (*ps.posonly_params, *ps.params, *ps.kwonly_params))
                return name not in known
        return True

    loops, calls, attributes, assigns = [], [], [], []
    sort = {cst.For: loops, cst.Call: calls, cst.Attribute: attributes, cst.Assign: assigns}
    for node in index.order:
        bucket = sort.get(type(node))
        if bucket is not None:
            bucket.append(node)
    wrapped: set[int] = set()  # the calls inside a loop's iterable, or in `next(iter(...))`: judged there
    for loop in loops:
        names = [n for n in _iterated(loop.iter) if bound(loop, n)]
        endless = _cycled(loop, index)
        if endless:
            cycled.update(names)
        (shallow if endless or _stops_after_count(loop) else consumed).update(names)
        wrapped.update(id(n) for n in walk(loop.iter) if type(n) is cst.Call)
    for call in calls:
        if callee_name(call.func) == "next" and call.args and type(call.args[0].value) is cst.Call and \
                callee_name(call.args[0].value.func) == "iter":
            shallow.update(n for n in _iterated(call.args[0].value) if bound(call, n))  # one batch
            wrapped.add(id(call.args[0].value))
    # `try: x = next(it) except StopIteration: it = iter(test_loader)`: a loader re-iterated whenever its iterator runs
    # out is cycled, drawn a batch at a time
    restarted = set()
    for call in calls:
        if callee_name(call.func) == "iter" and call.args:
            name = _loader_name(call.args[0].value)
            if name and bound(call, name) and any(type(up) is cst.ExceptHandler and _stop_iteration(up)
                                                  for up in index.ancestors(call)):
                restarted.add(name)
    for call in calls:
        if restarted and callee_name(call.func) == "iter" and call.args and \
                _loader_name(call.args[0].value) in restarted:
            wrapped.add(id(call))
    cycled.update(restarted)
    shallow.update(restarted)
    for call in calls:
        if id(call) in wrapped:
            continue
        short = callee_name(call.func)
        for arg in call.args:
            name = _loader_name(arg.value)
            if name and bound(call, name):
                (shallow if short in _SHALLOW_CALLS else consumed).add(name)
    for node in attributes:
        name = _loader_name(node.value)
        if name and node.attr.value in _SHALLOW_ATTRIBUTES and bound(node, name):
            shallow.add(name)
    for node in assigns:  # `loader = test_loader`: kept under another name, judged unknown
        name = _loader_name(node.value)
        if name and bound(node, name):
            consumed.add(name)
    return LoaderUses(frozenset(consumed), frozenset(shallow), frozenset(cycled)) if consumed or shallow else None
