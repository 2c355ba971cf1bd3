"""PREP's per-module facts: normalisation statistics and the dataset they are applied to (PREP003),
training and evaluation transform pipelines (PREP004), and the protocol of PSNR/SSIM functions (PREP002).

One walk per module, with the context a finding needs: the enclosing branches (`if args.dataset ==
"cifar100":`, a dict keyed by dataset name) and the name a pipeline is assigned to. The protocol of the
PSNR/SSIM functions the walk finds is read in metric_protocol.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ...core.walk import Visitor, children, walk
from ...core.names import dotted
from .statistics import DATASET_NAMES, KNOWN_WRONG, Matched, dataset_of, is_symmetric, match, numbers
from ...core.syntax import const, string

# statistics written as literals: a triple of numbers with a decimal point, or a one-channel `(0.1307,)`
STATS_TEXT = re.compile(r"\d\.\d+\s*,\s*\d+\.?\d*\s*,\s*\d+\.?\d*|\(\s*0\.\d+\s*,\s*\)")
# a widely copied wrong value, written anywhere (`STATS = {'cifar10': ((0.4914, ...), (0.2023, 0.1994, 0.2010))}`):
# its module is read whatever it names its statistics
WRONG_TEXT = re.compile("|".join(r"\s*,\s*".join(re.escape(f"{v:g}") for v in w.values[:2]) for w in KNOWN_WRONG))
_TRAIN = re.compile(r"(?:^|_)(?:train|training|tr)(?:_|$)|^train|train$", re.I)
_EVAL = re.compile(r"(?:^|_)(?:test|val|valid|validation|eval|evaluation|te)(?:_|$)|^(?:test|val|eval)|(?:test|val|eval)$", re.I)
_ROLE_TOKEN = re.compile(r"train(?:ing)?|test|val(?:id(?:ation)?)?|eval(?:uation)?", re.I)
METRIC_NAME = re.compile(r"psnr|ssim", re.I)
_PROTOCOL_KEYWORD = re.compile(r"y_channel|crop_border|border_crop|shave|test_y|only_y|y_only", re.I)
LIBRARY_METRICS = ("peak_signal_noise_ratio", "structural_similarity")  # skimage.metrics, torchmetrics


def role(name: str) -> str | None:
    """train / eval from a name (`transform_train`, `val_transforms`, `testset`)."""
    if _TRAIN.search(name):
        return "train"
    if _EVAL.search(name):
        return "eval"
    return None


@dataclass
class Branch:
    node: cst.CSTNode  # the If / dict element that opens it
    dataset: str | None  # the known dataset this branch is for, if its test or key names one
    label: str  # how it is written (`args.dataset == 'cifar100'`)
    excluded: tuple = ()  # for an else branch: the datasets its if/elif chain names (it takes every other one)
    split: str | None = None  # "train" / "eval": the split this branch builds (`if is_train:`, `split == 'test'`)
    admits: tuple | None = None  # a test on the dataset's name and the side taken: (how, literals, holds)


@dataclass
class StatsUse:
    node: cst.CSTNode
    values: tuple
    matched: Matched
    branches: tuple  # enclosing Branch chain, outermost first
    statement: cst.CSTNode  # the enclosing statement (one finding per statement)
    owner: cst.CSTNode  # the top-level function or class it is in, or the module


@dataclass
class Pipeline:
    node: cst.Call  # the Compose call
    role: str
    group: str  # the name without its role token, to pair `transform_train` with `transform_test`
    scope: cst.CSTNode
    branches: tuple
    normalize: tuple | None  # (node, scope) of its Normalize call or normalize object, if any
    swap: bool
    order: int = 0  # in source order
    unknown: bool = False  # a step that may normalise with constants not read here
    pairs: object = None  # where its train/eval counterpart is looked for: its scope, or the owner of a function
    # named for its split (`train_transforms()` / `test_transforms()`)
    tensor: bool = False  # it makes a model input (ToTensor/Normalize, no ToPILImage): not a rendering pipeline
    inline: bool = False  # a dataset's whole transform written in its call as one step (`transform=ToTensor()`)
    used: bool = False  # its split told only by the dataset it is given to (`CIFAR10(train=False, transform=tf)`)
    datasets: frozenset = frozenset()  # the dataset classes it is given to, where read (`CIFAR10`, `ImageFolder`)
    renders: bool = False  # it makes an image to show (`ToPILImage`), not a model input
    function_role: str | None = None  # "train" / "eval": the split its function is named for (`get_test_loader`)
    owner: int = 0  # id of the top-level function or class (or module) it is built in


_FOLDER_DATASETS = frozenset({"ImageFolder", "DatasetFolder"})  # (root, transform) positionally
_INFERENCE_CONTEXTS = frozenset({"no_grad", "inference_mode"})
_PREDICTS = re.compile(r"^_?(?:predict|prediction|infer|inference)(?:_|$)", re.I)  # a function that predicts
_PREDICT_NAME = re.compile(r"(?:^|_)(?:predict|prediction|infer|inference)(?:_|$)", re.I)  # not `pred`: an output
_SPLIT_KEYWORDS = ("split", "mode", "subset", "image_set", "phase")
_ROOT_KEYWORDS = ("root", "root_dir", "data_dir", "data_root")  # the folder a dataset reads, as a keyword

# transforms that make a model input on their own, when a dataset's `transform=` is one of them and no Compose
_SINGLE_STEPS = frozenset({"ToTensor", "PILToTensor", "Normalize"})


class Scan(Visitor):
    """Statistics, datasets, pipelines and metric functions of one module, with their context."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.branches: list[Branch] = []
        self.names: list[str] = []  # assignment targets / dict keys being evaluated
        self.scope: list[cst.CSTNode] = [module]
        self.statement: cst.CSTNode = module
        self.stats: list[StatsUse] = []
        self.datasets: dict[str, cst.CSTNode] = {}  # constructed or selected in a branch
        self.owned: dict[int, dict[str, cst.CSTNode]] = {}  # the same, per top-level function or class
        self.owner: cst.CSTNode = module
        self.pipelines: list[Pipeline] = []
        self.metric_defs: list[cst.FunctionDef] = []
        self.metric_calls: list[tuple[str, dict]] = []
        self.metric_uses: list[tuple] = []  # (call, metric name, scope, branches, assigned name) outside metric functions
        self.assigned: dict[tuple[int, str], list[cst.BaseExpression]] = {}  # (id(scope), name) -> values
        self.value_guards: dict[int, tuple[str, ...]] = {}  # id(assigned value) -> the tests of the ifs around it
        self.parents: dict[int, cst.FunctionDef] = {}
        self.chains: dict[int, tuple] = {}  # id(elif If) -> datasets the if/elif chain above it names
        self.lambdas = 0  # how many lambdas the walk is inside
        self.built: dict[tuple[int, str], dict] = {}  # (id(scope), name) -> a list or Compose built by `.append()`
        self.rest: dict[int, str] = {}  # id(function) -> the split its statements build after an early-return branch
        self.constructed: dict[int, dict[str, cst.CSTNode]] = {}  # datasets constructed, per top-level owner
        self.all_constructed: dict[str, cst.CSTNode] = {}
        self.pretrained: bool | None = None  # whether the module loads pretrained weights (computed on demand)
        self.loose: list[Pipeline] = []  # pipelines nothing around them gives a split (a script's `transform = ...`)
        self.single: set[int] = set()  # a dataset's whole transform written as one step (`transform=ToTensor()`)
        self.in_call: dict[int, str] = {}  # a dataset's whole transform, a Compose written in its call -> the class
        self.folder_given: dict[int, str] = {}  # a Compose passed positionally to a folder dataset -> the class
        self.owner_of: dict[int, cst.CSTNode] = {}  # id(function) -> its top-level function or class, or the module
        self.named_loose: dict[tuple[int, str], list[Pipeline]] = {}  # (id(scope), name) -> loose pipelines so bound
        self.inference = 0  # depth of `with torch.no_grad():` / `torch.inference_mode()` blocks around the walk
        self.applied: dict[tuple[int, str], str] = {}  # (id(scope), name) -> the callee of `name = f(...)`
        self.given: list[tuple[cst.CSTNode, str, str, str]] = []  # (scope, transform name, split, dataset class) of `Dataset(...,
        # transform=tf)` calls whose split the call says (`train=False`, `split='test'`, `test_set = ...`)

    def _keyword(self, expr: cst.BaseExpression) -> object:
        """A metric call's keyword value; a local name bound once to a name or option (`border = sf`) is read
        through, so that the message names what the crop is."""
        if isinstance(expr, cst.Name):
            values = self.assigned.get((id(self.scope[-1]), expr.value), [])
            value = values[0] if len(values) == 1 else None
            if isinstance(value, cst.IfExp) and const_int(value.orelse) == 0:
                value = value.body  # `border = sf if task == 'sr' else 0`
            if isinstance(value, cst.Integer):
                return int(value.value, 0)  # `border = 10` set once in the caller's scope: the crop it passes
            if isinstance(value, (cst.Name, cst.Attribute, cst.Subscript)):
                inner = _keyword_value(value)
                if isinstance(inner, str) and inner.startswith((FORWARDED, OPTION)):
                    return inner
        return _keyword_value(expr)

    def code(self, node: cst.CSTNode) -> str:
        text = self.module.code_for_node(node).strip()
        return text if len(text) <= 60 else text[:57] + "..."

    # --- context ----------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if METRIC_NAME.search(node.name.value):
            self.metric_defs.append(node)
            if isinstance(self.scope[-1], cst.FunctionDef):
                self.parents[id(node)] = self.scope[-1]  # a closure: its flags may be the enclosing function's
        self.scope.append(node)
        self._owned(node)
        self.scope.pop()
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        """`Lambda(lambda crops: stack([Compose(normalize)(ToTensor()(c)) for c in crops]))`: a Compose inside a
        step is part of that step (which then mentions normalisation), not a pipeline of its own."""
        self.lambdas += 1
        self.visit_children(node)
        self.lambdas -= 1
        return False

    def visit_IfExp(self, node: cst.IfExp) -> bool | None:
        """`Compose([...]) if is_train else Compose([...])`: each side builds the split its test gives;
        `CIFAR_MEAN if args.dataset.startswith('cifar') else [.5, .5, .5]`: each side serves the datasets whose
        name its test admits."""
        when_true, when_false = split_sides(node.test)
        if when_true is None and when_false is None:
            test = name_test(node.test)
            if test is None:
                return None
            self.visit(node.test)
            for side, holds in ((node.body, True), (node.orelse, False)):
                self.branches.append(Branch(node, None, self.code(node.test), admits=(*test, holds)))
                self.visit(side)
                self.branches.pop()
            return False
        self.visit(node.test)
        for side, split in ((node.body, when_true), (node.orelse, when_false)):
            if split is not None:
                self.branches.append(Branch(node, None, self.code(node.test), split=split))
            self.visit(side)
            if split is not None:
                self.branches.pop()
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._owned(node)
        return False

    def _owned(self, node) -> None:
        top = self.owner is self.module
        # a top-level function's siblings are the module's functions; a method's, its class's
        self.owner_of[id(node)] = self.module if top else self.owner
        if top:
            self.owner = node
        self.visit(node.body)
        if top:
            self.owner = self.module

    def dataset(self, name: str, node: cst.CSTNode) -> None:
        self.datasets.setdefault(name, node)
        self.owned.setdefault(id(self.owner), {}).setdefault(name, node)
        if type(node) is cst.Call:  # constructed, not only named in a test
            self.all_constructed.setdefault(name, node)
            self.constructed.setdefault(id(self.owner), {}).setdefault(name, node)

    def visit_SimpleStatementLine(self, node) -> None:
        self.statement = node

    def visit_With(self, node: cst.With) -> bool | None:
        """`with torch.no_grad():` / `torch.inference_mode()`: what runs inside predicts."""
        if not any(isinstance(item.item, cst.Call) and short_name(item.item.func) in _INFERENCE_CONTEXTS
                   for item in node.items):
            return None
        for item in node.items:
            self.visit(item)
        self.inference += 1
        self.visit(node.body)
        self.inference -= 1
        return False

    def _predicting(self) -> bool:
        scope = self.scope[-1]
        return bool(self.inference) or isinstance(scope, cst.FunctionDef) and bool(_PREDICTS.match(scope.name.value))

    def _predicted(self, node: cst.Call) -> None:
        """A pipeline applied to what the model predicts on: `tf(image)` inside `with torch.inference_mode():` or in
        a `predict` function, or `x = tf(image)` whose `x` such a block passes on (`model(x.unsqueeze(0))`)."""
        scope = self.scope[-1]
        if isinstance(node.func, cst.Name):
            self.given.append((scope, node.func.value, "eval", ""))
        elif isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and \
                node.func.value.value == "self" and isinstance(self.owner, cst.ClassDef):
            self.given.append((self.owner, node.func.attr.value, "eval", ""))  # `self.tf(image)`: set in a method
        for arg in node.args:
            base = arg.value
            while True:
                if isinstance(base, cst.Call) and isinstance(base.func, cst.Attribute):
                    base = base.func.value  # `x.unsqueeze(0)`, `x.to(device)`
                elif isinstance(base, (cst.Attribute, cst.Subscript)):
                    base = base.value
                else:
                    break
            if isinstance(base, cst.Name) and (id(scope), base.value) in self.applied:
                self.given.append((scope, self.applied[(id(scope), base.value)], "eval", ""))

    def visit_If(self, node: cst.If) -> bool:
        self.visit(node.test)
        dataset = _branch_dataset(node.test)
        when_true, when_false = split_sides(node.test)
        self.branches.append(Branch(node, dataset, self.code(node.test), split=when_true))
        if dataset:
            self.dataset(dataset, node.test)
        self.visit(node.body)
        self.branches.pop()
        if node.orelse is not None:
            chain = self.chains.pop(id(node), ()) + ((dataset,) if dataset else ())
            if isinstance(node.orelse, cst.If):
                self.chains[id(node.orelse)] = chain
            self.branches.append(Branch(node.orelse, None, "else", chain, split=when_false))
            self.visit(node.orelse)
            self.branches.pop()
        elif when_false and _returns(node.body) and isinstance(self.scope[-1], cst.FunctionDef) \
                and any(stmt is node for stmt in _body_of(self.scope[-1])):
            # `if is_train: return Compose(...)`, then the evaluation transform: the rest of the function is the else
            self.rest[id(self.scope[-1])] = when_false
        return False

    def visit_Comparison(self, node: cst.Comparison) -> None:
        """`assert args.dataset in ('cifar10', 'cifar100')`, `10 if args.dataset == 'cifar10' else 100`: the
        datasets a module tells apart can reach its statistics."""
        dataset = _branch_dataset(node)
        if dataset:
            self.dataset(dataset, node)

    def _guards(self) -> tuple[str, ...]:
        """The tests of the ifs whose body holds the statement being read (`if args.y_only:`)."""
        return tuple(b.label for b in self.branches if b.label != "else" and isinstance(b.node, cst.If))

    def visit_Assign(self, node: cst.Assign) -> bool:
        target = node.targets[-1].target
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(node.value, (cst.Tuple, cst.List)) and \
                len(target.elements) == len(node.value.elements):
            guards = self._guards()
            for name, value in zip(target.elements, node.value.elements):  # `MEAN, STD = (...), (...)`
                if isinstance(name.value, cst.Name):
                    self.assigned.setdefault((id(self.scope[-1]), name.value.value), []).append(value.value)
                    if guards:
                        self.value_guards[id(value.value)] = guards
        name = target.value if isinstance(target, cst.Name) else \
            target.attr.value if isinstance(target, cst.Attribute) else ""
        for chosen in _class_references(node.value):  # `dataloader = datasets.CIFAR100`, constructed later
            dataset = dataset_of(short_name(chosen))
            if dataset:
                self.dataset(dataset, chosen)
        if name:
            self.assigned.setdefault((id(self.scope[-1]), name), []).append(node.value)
            if isinstance(target, cst.Name) and isinstance(node.value, cst.Call) and isinstance(node.value.func, cst.Name):
                self.applied[(id(self.scope[-1]), name)] = node.value.func.value  # `x = tf(image)`
            guards = self._guards()
            if guards:
                self.value_guards[id(node.value)] = guards
            value = node.value
            empty_compose = isinstance(value, cst.Call) and short_name(value.func) == "Compose" and value.args and \
                isinstance(value.args[0].value, (cst.List, cst.Tuple)) and not value.args[0].value.elements
            if isinstance(value, cst.List) or empty_compose:
                self.built[(id(self.scope[-1]), name)] = {
                    "steps": [(isinstance(e, cst.StarredElement), e.value) for e in getattr(value, "elements", ())],
                    "depth": len(self.branches), "conditional": False, "name": name,
                    "compose": (value, tuple(self.branches), self.scope[-1], name) if empty_compose else None}
                if empty_compose or not value.elements:
                    return False
        if not name and isinstance(target, (cst.Tuple, cst.List)) and isinstance(node.value, (cst.Tuple, cst.List)) \
                and len(target.elements) == len(node.value.elements):
            for element, value in zip(target.elements, node.value.elements):  # `train_tf, test_tf = Compose(..), ..`
                self.names.append(element.value.value if isinstance(element.value, cst.Name) else "")
                self.visit(value.value)
                self.names.pop()
            return False
        self.names.append(name)
        self.visit(node.value)
        self.names.pop()
        return False

    def visit_DictElement(self, node: cst.DictElement) -> bool:
        key = string(node.key)
        dataset = dataset_of(key) if key else None
        if dataset:
            self.branches.append(Branch(node, dataset, repr(key)))
        self.names.append(key or "")
        self.visit(node.value)
        self.names.pop()
        if dataset:
            self.branches.pop()
        return False

    def visit_AugAssign(self, node: cst.AugAssign) -> bool | None:
        """`pre_process += [transforms.ToTensor(), normalize]`: steps added to a pipeline list, as `.extend()`."""
        if isinstance(node.operator, cst.AddAssign) and isinstance(node.value, (cst.List, cst.Tuple)):
            self._grow(node.target, [e.value for e in node.value.elements])
        return None

    def _concatenated(self, expr: cst.BaseExpression) -> list | None:
        """The steps of lists joined by `+`: list displays, and names of lists built in this scope (`normalize =
        [Normalize(...)]`); None when a part is anything else."""
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left, right = self._concatenated(expr.left), self._concatenated(expr.right)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, (cst.List, cst.Tuple)):
            return [(isinstance(e, cst.StarredElement), e.value) for e in expr.elements]
        built = self.built.get((id(self.scope[-1]), expr.value)) if isinstance(expr, cst.Name) else None
        return list(built["steps"]) if built is not None and built["compose"] is None else None

    def _grow(self, target: cst.BaseExpression, steps: list) -> None:
        """Steps appended to a list or an empty Compose built in this scope (`.append()`, `.extend()`, `+=`); under
        the split's own test (`if train:`) they are that side's steps."""
        built = self.built.get((id(self.scope[-1]), target.value)) if isinstance(target, cst.Name) else None
        if built is None:
            return
        for step in steps:
            built["steps"].append((False, step))
            if len(self.branches) > built["depth"]:
                inner = self.branches[built["depth"]:]
                splits = {b.split for b in inner}
                if len(splits) == 1 and None not in splits:  # `if train: steps.append(...)`: one side's step
                    built.setdefault("sides", {})[id(step)] = next(iter(splits))
                else:
                    built["conditional"] = True

    # --- what is recorded ---------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> bool | None:
        short = short_name(node.func)
        self._given(node, short)
        if self._predicting():
            self._predicted(node)
        dataset = dataset_of(short) if short[:1].isupper() else None
        if dataset:
            self.dataset(dataset, node)
        if METRIC_NAME.search(short) or short in LIBRARY_METRICS or any(
                a.keyword is not None and _PROTOCOL_KEYWORD.search(a.keyword.value) for a in node.args):
            # also the calls of a metric function named otherwise, by a keyword named for the protocol
            # (`calc_metrics(sr, hr, crop_border=scale)`): the project phase matches them to definitions by name
            self.metric_calls.append((short, {a.keyword.value: self._keyword(a.value) for a in node.args if a.keyword}))
        if METRIC_NAME.search(short) or short in LIBRARY_METRICS:
            if not (isinstance(self.scope[-1], cst.FunctionDef) and METRIC_NAME.search(self.scope[-1].name.value)):
                target = next((n for n in reversed(self.names) if n), "")
                self.metric_uses.append((node, short, self.scope[-1], tuple(self.branches), target))
        for arg in node.args:  # `CIFAR10(root, train=False, transform=transforms.ToTensor())`: a one-step pipeline
            if arg.keyword is not None and arg.keyword.value == "transform" and isinstance(arg.value, cst.Call):
                if short_name(arg.value.func) in _SINGLE_STEPS:
                    self.single.add(id(arg.value))
                elif short_name(arg.value.func) == "Compose":
                    self.in_call[id(arg.value)] = short  # a whole Compose written in the dataset's call: no group either
        if short in _FOLDER_DATASETS and len(node.args) > 1 and node.args[1].keyword is None \
                and isinstance(node.args[1].value, cst.Call) and short_name(node.args[1].value.func) == "Compose":
            self.folder_given[id(node.args[1].value)] = short  # `ImageFolder(root, Compose([...]))`: the data it serves
        if id(node) in self.single:
            self._pipeline(node, [(False, node)])
            for pipeline in self.pipelines[-1:] + self.loose[-1:]:
                if pipeline.node is node:
                    pipeline.inline = True
        elif short == "Compose" and self.lambdas:
            pass  # a Compose inside a step's lambda belongs to that step
        elif short == "Compose" and node.args and isinstance(node.args[0].value, (cst.List, cst.Tuple)):
            self._pipeline(node, [(isinstance(e, cst.StarredElement), e.value) for e in node.args[0].value.elements])
        elif short == "Compose" and node.args and isinstance(node.args[0].value, cst.BinaryOperation):
            steps = self._concatenated(node.args[0].value)  # `Compose([flip, crop, ToTensor()] + normalize)`
            if steps is not None:
                self._pipeline(node, steps)
        elif short == "Compose" and node.args and isinstance(node.args[0].value, cst.Name):
            built = self.built.get((id(self.scope[-1]), node.args[0].value.value))
            if built is not None and built["compose"] is None:
                name = next((n for n in reversed(self.names) if n and role(n)), "") or built["name"]
                built["compose"] = (node, tuple(self.branches), self.scope[-1], name)
        elif short in ("append", "insert", "extend") and isinstance(node.func, cst.Attribute) and node.args:
            target = node.func.value
            if isinstance(target, cst.Attribute) and target.attr.value == "transforms":
                target = target.value  # `train_transform.transforms.append(...)`
            value = node.args[-1].value
            steps = [e.value for e in value.elements] if short == "extend" and isinstance(value, (cst.List, cst.Tuple)) \
                else [] if short == "extend" else [value]
            self._grow(target, steps)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in ("train", "training") and const(arg.value) in (True, False):
                self.names.append("train" if const(arg.value) else "test")
                self.visit(arg.value)
                for other in node.args:
                    if other is not arg:
                        self.visit(other.value)
                self.names.pop()
                self.visit(node.func)
                return False
        if any(arg.keyword is not None and isinstance(arg.value, cst.Call) and role(arg.keyword.value)
               for arg in node.args):  # `dict(train=Compose(...), test=Compose(...))`: the keyword names the value
            self.visit(node.func)
            for arg in node.args:
                named = arg.keyword is not None and isinstance(arg.value, cst.Call) and role(arg.keyword.value)
                if named:
                    self.names.append(arg.keyword.value)
                self.visit(arg.value)
                if named:
                    self.names.pop()
            return False
        return None

    def _given(self, node: cst.Call, short: str) -> None:
        """`CIFAR10(root, train=False, transform=tf)`, `ImageFolder(os.path.join(root, 'val'), tf)`, `test_set =
        Dataset(..., transform=tf)`: the split the dataset call is for, which a transform named for no split
        takes on."""
        given = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "transform"), None)
        if given is None and short in _FOLDER_DATASETS and len(node.args) > 1 and node.args[1].keyword is None:
            given = node.args[1].value
        if not isinstance(given, cst.Name):
            return
        split = None
        for arg in node.args:
            key = arg.keyword.value if arg.keyword is not None else None
            if key in ("train", "training") and const(arg.value) in (True, False):
                split = "train" if const(arg.value) else "eval"
            elif key in _SPLIT_KEYWORDS and isinstance(string(arg.value), str):
                split = role(string(arg.value))
            if split:
                break
        # the folder it reads: `root + '/val'`, positionally or as `root=` (`ImageFolder(root='data/train', ...)`)
        folder = node.args[0].value if node.args and node.args[0].keyword is None else \
            next((a.value for a in node.args if a.keyword is not None and a.keyword.value in _ROOT_KEYWORDS), None)
        if split is None and folder is not None:
            texts = [string(n) for n in walk(folder) if isinstance(n, cst.SimpleString)]
            texts = [t for t in texts if isinstance(t, str)]
            splits = {role(part) for t in texts for part in re.split(r"[/\\]", t.strip("/\\")) if part}
            splits.discard(None)
            split = splits.pop() if len(splits) == 1 else None
        if split is None:
            target = next((n for n in reversed(self.names) if n), "")
            split = role(target) if target else None
        if split is not None:
            self.given.append((self.scope[-1], given.value, split, short))

    def visit_Tuple(self, node) -> None:
        self._numbers(node)

    def visit_List(self, node) -> None:
        self._numbers(node)

    def _numbers(self, node) -> None:
        values = numbers(node)
        if values is None or is_symmetric(values):
            return
        matched = match(values)
        if matched is not None:
            self.stats.append(StatsUse(node, values, matched, tuple(self.branches), self.statement, self.owner))

    def _pipeline(self, node: cst.Call, steps: list, name: str | None = None, branches: tuple | None = None,
                  scope: cst.CSTNode | None = None, conditional: bool = False) -> None:
        if name is None:
            name = next((n for n in reversed(self.names) if n and role(n)), "") or \
                next((n for n in reversed(self.names) if n), "")
        kind = role(name) if name else None
        predicts = kind is None and bool(name) and bool(_PREDICT_NAME.search(name)) and not any(
            isinstance(v, cst.Call) and short_name(v.func) == "ToPILImage" for _, v in steps)
        if predicts:  # `predict_transform`, `inference_tf`: the pipeline of predictions, an evaluation pipeline
            kind = "eval"
        branches = tuple(self.branches) if branches is None else branches
        scope = scope if scope is not None else self.scope[-1]
        pairs = scope
        if kind is None:  # the split the code around it builds: its branch, the rest after an early return
            kind = next((b.split for b in reversed(branches) if b.split), None) or self.rest.get(id(scope))
            if kind is None and isinstance(scope, cst.FunctionDef) and not branches:
                kind = role(scope.name.value)  # `def test_transforms(): return Compose(...)`
                if kind is not None:
                    name, pairs = scope.name.value, ("function", id(self.owner) if self.owner is not scope else 0)
            owner = self.owner_of.get(id(scope)) if isinstance(scope, cst.FunctionDef) else None
            if kind is None and isinstance(owner, cst.ClassDef) and not branches and role(owner.name.value):
                # `class TestImages: def __init__(self): self.transform = Compose(...)`: the class names the split
                kind, name, pairs = role(owner.name.value), owner.name.value, ("function", id(self.module))
        loose = kind is None
        branches = tuple(b for b in branches if not b.split)  # the train/eval branches are the pair's two sides
        normalize, swap, unknown = None, False, conditional  # steps appended under a condition: not judged absent
        for starred, value in steps:
            if starred:
                unknown = True  # steps spliced in from elsewhere: they may normalise
                continue
            step = short_name(value.func) if isinstance(value, cst.Call) else dotted(value) or ""
            if isinstance(value, cst.Call) and step == "Normalize":
                normalize = (value, scope)
            elif not isinstance(value, cst.Call) and "normal" in step.lower():
                normalize = (value, scope)
            elif _mentions_normalisation(self.module.code_for_node(value)):  # the whole step, not its shown prefix
                unknown = True  # a step of its own that normalises (`NormalizePerImage()`, a Lambda with the mean)
            if pipeline_swaps_channels(value):
                swap = True
        group = _ROLE_TOKEN.sub("", name.lower()).strip("_")
        names = {short_name(v.func) if isinstance(v, cst.Call) else dotted(v) or "" for _, v in steps}
        tensor = bool(names & {"ToTensor", "PILToTensor", "ToTensorV2", "Normalize"}) and "ToPILImage" not in names
        pipeline = Pipeline(node, kind or "", group, scope, branches, normalize, swap, len(self.pipelines) + len(self.loose), unknown,
                            pairs, tensor, inline=id(node) in self.in_call,
                            datasets=frozenset([self.in_call[id(node)]]) if id(node) in self.in_call else
                            frozenset([self.folder_given[id(node)]]) if id(node) in self.folder_given else frozenset())
        if isinstance(scope, cst.FunctionDef):
            owner = self.owner_of.get(id(scope))
            pipeline.function_role, pipeline.owner = role(scope.name.value), id(owner)
            if pipeline.function_role is None and isinstance(owner, cst.ClassDef):
                # a method of a class named for its split (`class TrainDataset`, `class TransformationVal`): the
                # module's classes are the siblings
                pipeline.function_role, pipeline.owner = role(owner.name.value), id(self.module)
        pipeline.used = predicts
        pipeline.renders = "ToPILImage" in names
        if predicts and _inverse(self, pipeline):  # `inference_unnormalize = Normalize(-mean / std, 1 / std)`
            pipeline.role, pipeline.used, loose = "", False, True
        if loose:
            self.loose.append(pipeline)
            if name:
                self.named_loose.setdefault((id(scope), name), []).append(pipeline)
        else:
            self.pipelines.append(pipeline)

    def finish(self) -> None:
        """Pipelines built by `.append()` onto a list or an empty Compose, once every step is seen."""
        for built in self.built.values():
            if built["compose"] is not None and built["steps"]:
                node, branches, scope, name = built["compose"]
                sides = built.get("sides")
                if sides and not any(b.split for b in branches) and not role(name) and not (
                        isinstance(scope, cst.FunctionDef) and role(scope.name.value)):
                    # steps appended under the split's own test (`if train:`): the function builds both
                    # pipelines, each of the steps that are not the other side's
                    for kind in ("train", "eval"):
                        steps = [(starred, v) for starred, v in built["steps"] if sides.get(id(v), kind) == kind]
                        self._pipeline(node, steps, kind, branches, scope, built["conditional"])
                    continue
                self._pipeline(node, built["steps"], name, branches, scope, built["conditional"])
        self._adopt()

    def _adopt(self) -> None:
        """A pipeline whose name and place say no split, given only to datasets of one split (`tf` to
        `CIFAR10(train=True, transform=tf)`): it builds that split. Looked up in the scope of the call, then the
        module's; one given to both splits stays without one."""
        splits: dict[int, set] = {}
        classes: dict[int, set] = {}
        for scope, name, split, short in self.given:
            if isinstance(scope, cst.ClassDef):  # `self.tf`: bound in a method of the class
                found = [p for (at, bound), ps in self.named_loose.items() if bound == name
                         and self.owner_of.get(at) is scope for p in ps]
            else:
                found = self.named_loose.get((id(scope), name)) or self.named_loose.get((id(self.module), name)) or []
            if len(found) != 1 or not short and (found[0].renders or _inverse(self, found[0])):
                continue  # applied at prediction time to make an image to show (`ToPILImage()`, an inverse
                # normalisation `Normalize(-mean / std, 1 / std)`): no model input
            splits.setdefault(id(found[0]), set()).add(split)
            classes.setdefault(id(found[0]), set()).update([short] if short else [])
        for pipeline in list(self.loose):
            kinds = splits.get(id(pipeline))
            if kinds is None or len(kinds) != 1:
                continue
            pipeline.role, pipeline.used = kinds.pop(), True
            pipeline.datasets = frozenset(classes[id(pipeline)])
            self.loose.remove(pipeline)
            self.pipelines.append(pipeline)
        self.pipelines.sort(key=lambda p: p.order)


OPTION = "<option>"  # a metric call's keyword passed from an option or a config: `<option>test_y_channel`


FORWARDED = "<name>"  # a metric call's keyword passed a name (`test_y_channel=test_y_channel` in a wrapper)


def _keyword_value(expr: cst.BaseExpression) -> object:
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    value = const(expr)
    if value is None and isinstance(expr, (cst.Attribute, cst.Subscript)):
        key = expr.attr.value if isinstance(expr, cst.Attribute) else \
            string(expr.slice[0].slice.value) if isinstance(expr.slice[0].slice, cst.Index) else None
        return f"{OPTION}{key}" if key else None
    if value is None and isinstance(expr, cst.Name):
        return f"{FORWARDED}{expr.value}"
    return value


_SPLIT_NAME = re.compile(r"(?:^|_)(?:split|mode|phase|stage|flag|subset|set_?name|kind)$", re.I)


def split_sides(test: cst.BaseExpression) -> tuple[str | None, str | None]:
    """The split each side of an `if` builds: `if is_train:` / `if not self.training:` / `if split == 'train':` /
    `if mode in ('val', 'test'):` -> (role when true, role when false); (None, None) for other tests."""
    positive = True
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, positive = test.expression, not positive
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):  # `mode == 'val' or mode == 'test'`
        left, right = split_sides(test.left), split_sides(test.right)
        if left != (None, None) and left[0] == right[0]:
            named = {string(n).lower() for n in walk(test) if isinstance(n, cst.SimpleString) and string(n)}
            both = (left[0], "train") if left[0] == "eval" and len(named) > 1 else left
            return both if positive else (both[1], both[0])  # `val or test`: the other side trains
        return None, None
    kind, other = None, None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        tested, values = None, None
        for side, rest in ((comparison.comparator, test.left), (test.left, comparison.comparator)):
            items = [side] if string(side) is not None else list(getattr(side, "elements", ())) \
                if isinstance(side, (cst.Tuple, cst.List, cst.Set)) else []
            strings = [string(e.value if isinstance(e, cst.BaseElement) else e) for e in items]
            if strings and all(s is not None for s in strings):
                tested, values = rest, strings
                break
        name = (dotted(tested) or "").rsplit(".", 1)[-1] if tested is not None else ""
        if not name or not (_SPLIT_NAME.search(name) or role(name)):
            return None, None
        roles = {role(v) for v in values}
        if None in roles or len(roles) != 1:
            return None, None
        kind = roles.pop()
        if isinstance(comparison.operator, (cst.NotEqual, cst.NotIn, cst.IsNot)):
            positive = not positive
        elif not isinstance(comparison.operator, (cst.Equal, cst.In, cst.Is)):
            return None, None
        # `split == 'test'` is false for 'val' and 'train' alike; `split in ('val', 'test')` is false for training
        other = "eval" if kind == "train" else "train" if len({v.lower() for v in values}) > 1 else None
    else:
        name = (dotted(test) or "").rsplit(".", 1)[-1]
        kind = role(name) if name and name.lower() not in ("val", "value", "values") else None
        if kind is None or not re.match(r"^(?:is_|do_|use_|self\.)?(?:train|training|test|testing|eval|evaluate|"
                                        r"evaluation|val|valid|validation|is_train|is_training|is_test|is_eval|"
                                        r"test_mode|eval_mode|train_mode|is_val)$", name, re.I):
            return None, None
        other = "eval" if kind == "train" else "train"
    return (kind, other) if positive else (other, kind)


def _returns(block) -> bool:
    body = getattr(block, "body", ())
    last = body[-1] if body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)


def _body_of(node: cst.FunctionDef) -> list:
    return list(getattr(node.body, "body", ()))


def const_int(expr) -> object:
    return int(expr.value, 0) if isinstance(expr, cst.Integer) else None


def short_name(func: cst.BaseExpression) -> str:
    return func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""


def name_test(test: cst.BaseExpression) -> tuple[str, tuple[str, ...]] | None:
    """A test on a dataset's name as an option spells it: `name.startswith('cifar')` ("prefix"), `name ==
    'cifar10'` / `name in ('cifar10', 'cifar100')` ("one of"), `'cifar' in name` ("part"); negations flip the
    side. (how, the literals), or None when the test is about something else."""
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, True
    found: tuple[str, tuple[str, ...]] | None = None
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "startswith" \
            and test.args:
        literals = _literals(test.args[0].value)
        found = ("prefix", literals) if literals else None
    elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        operator, right = test.comparisons[0].operator, test.comparisons[0].comparator
        if isinstance(operator, (cst.NotEqual, cst.NotIn)):
            negated = not negated
        if isinstance(operator, (cst.Equal, cst.NotEqual, cst.In, cst.NotIn)):
            literals = _literals(right)
            left = string(test.left)
            if literals and left is None:
                found = ("one of", literals)
            elif left is not None and isinstance(operator, (cst.In, cst.NotIn)):
                found = ("part", (left,))
    if found is None or not any(dataset_of(t) or _named_like_dataset(t) for t in found[1]):
        return None
    return (found[0], found[1]) if not negated else (found[0] + " not", found[1])


def _literals(node: cst.BaseExpression) -> tuple[str, ...]:
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        texts = tuple(string(e.value) for e in node.elements)
        return texts if all(texts) else ()  # type: ignore[return-value]
    text = string(node)
    return (text,) if text else ()


def _spelt(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _named_like_dataset(text: str) -> bool:
    """A prefix or part of a dataset's name (`'cifar'`, `'imagenet'`)."""
    spelt = _spelt(text)
    return len(spelt) >= 3 and any(key.startswith(spelt) for key in DATASET_NAMES)


def admitted(branches: tuple, dataset: str) -> bool:
    """Does every name test on the way to a statistic admit `dataset` (CIFAR-100 passes `startswith('cifar')`,
    SVHN does not; a test that names no known dataset admits all)?"""
    spelt = _spelt(dataset)
    for branch in branches:
        if branch.admits is None:
            continue
        how, literals, holds = branch.admits
        negated = how.endswith(" not")
        how = how.removesuffix(" not")
        if how == "prefix":
            result = any(spelt.startswith(_spelt(t)) for t in literals)
        elif how == "one of":
            result = any(dataset_of(t) == dataset or _spelt(t) == spelt for t in literals)
        else:
            result = any(_spelt(t) in spelt for t in literals)
        if (result != negated) != holds:  # the test's value for this dataset sends it to the other side
            return False
    return True


def _branch_dataset(test: cst.BaseExpression) -> str | None:
    """`args.dataset == 'cifar100'`, `'svhn' in args.data`, `dataset.lower() == "cifar-100"`."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    comparison = test.comparisons[0]
    if not isinstance(comparison.operator, (cst.Equal, cst.In, cst.Is)):
        return None
    for side in (test.left, comparison.comparator):
        text = string(side)
        if text and dataset_of(text):
            return dataset_of(text)
    return None


def swaps_channels(node: cst.CSTNode) -> bool:
    """A channel swap written in node: a reversed slice, `[2, 1, 0]`, or `cvtColor(..., COLOR_BGR2RGB)`."""
    for inner in walk(node):
        if isinstance(inner, cst.Slice) and isinstance(inner.step, cst.UnaryOperation) and \
                isinstance(inner.step.operator, cst.Minus):
            return True
        if isinstance(inner, (cst.List, cst.Tuple)) and [getattr(e.value, "value", None) for e in inner.elements] == ["2", "1", "0"]:
            return True
        if isinstance(inner, cst.Attribute) and inner.attr.value in ("COLOR_BGR2RGB", "COLOR_BGRA2RGB"):
            return True
    return False


def pipeline_swaps_channels(node: cst.CSTNode) -> bool:
    """A channel swap as a pipeline step: `cvtColor(..., COLOR_BGR2RGB)`, `x[[2, 1, 0]]`, `x[..., ::-1]`.

    A reversed slice without an ellipsis (`x[:, ::-1]`, `x[:, :, ::-1]`) is not counted: on a CHW tensor it
    is a flip, an augmentation that belongs to the training transform only."""
    for inner in walk(node):
        if isinstance(inner, cst.Subscript) and any(isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.Ellipsis)
                                                    for e in inner.slice):
            last = inner.slice[-1].slice
            if isinstance(last, cst.Slice) and isinstance(last.step, cst.UnaryOperation) and \
                    isinstance(last.step.operator, cst.Minus):
                return True
        if isinstance(inner, (cst.List, cst.Tuple)) and [getattr(e.value, "value", None) for e in inner.elements] == ["2", "1", "0"]:
            return True
        if isinstance(inner, cst.Attribute) and inner.attr.value in ("COLOR_BGR2RGB", "COLOR_BGRA2RGB", "COLOR_RGB2BGR"):
            return True
    return False


def _mentions_normalisation(code: str) -> bool:
    lowered = code.lower()
    return "norm" in lowered or "mean" in lowered or "std" in lowered


# constants of libraries that name normalisation statistics (timm, open_clip, torchvision's presets)
LIBRARY_STATS = {
    "IMAGENET_DEFAULT_MEAN": (0.485, 0.456, 0.406), "IMAGENET_DEFAULT_STD": (0.229, 0.224, 0.225),
    "IMAGENET_INCEPTION_MEAN": (0.5, 0.5, 0.5), "IMAGENET_INCEPTION_STD": (0.5, 0.5, 0.5),
    "OPENAI_CLIP_MEAN": (0.48145466, 0.4578275, 0.40821073), "OPENAI_CLIP_STD": (0.26862954, 0.26130258, 0.27577711),
    "IMAGENET_MEAN": (0.485, 0.456, 0.406), "IMAGENET_STD": (0.229, 0.224, 0.225),
}


def scan(module: cst.Module) -> Scan:
    found = Scan(module)
    found.visit(module)
    found.finish()
    return found


# --- PREP003 ----------------------------------------------------------------------------------------


@dataclass
class StatsMismatch:
    node: cst.CSTNode
    message: str
    related: list  # (node, message)


def _class_references(value) -> list:
    """The classes an assignment selects without calling them: `Data = datasets.CIFAR100`, either side of
    `datasets.CIFAR10 if small else datasets.CIFAR100` (capitalised names only: a class, not a value)."""
    if isinstance(value, cst.IfExp):
        return _class_references(value.body) + _class_references(value.orelse)
    if isinstance(value, (cst.Name, cst.Attribute)) and short_name(value)[:1].isupper():
        return [value]
    return []


def stats_mismatches(found: Scan) -> list[StatsMismatch]:
    out: list[StatsMismatch] = []
    seen: set[tuple[int, str]] = set()  # (statement, "wrong" | "dataset"): one finding per statement and fact
    by_statement: dict[int, StatsMismatch] = {}  # a statement's finding: its other fact joins the same message
    copies: dict[tuple, StatsMismatch] = {}  # one finding per module for the copies of one wrong value
    own = {use.matched.stats.dataset for use in found.stats}
    named = _named_statistics(found)  # `SVHN_MEAN = (0.5, 0.5, 0.5)`: SVHN's statistics, chosen (not the table's)

    facts: dict[tuple, StatsMismatch] = {}  # one finding per module for one dataset's statistics on another

    def emit(use, found_: StatsMismatch, fact: tuple | None = None) -> None:
        if fact is not None:
            if fact in facts:  # the mean and the std, or the train and the test transform: the same fact again
                seen.add((id(use.statement), "dataset"))
                facts[fact].related.append((use.node, "the same statistics"))
                return
            facts[fact] = found_
        prior = by_statement.get(id(use.statement))
        if prior is None:
            by_statement[id(use.statement)] = found_
            out.append(found_)
        else:  # `MEAN, STD = (CIFAR-10 mean), (the wrong std)` used for CIFAR-100 too: both facts, one finding
            prior.message += "; and " + found_.message
            prior.related.extend(found_.related)

    for use in found.stats:
        kind = "wrong" if use.matched.stats.wrong or use.matched.typo else "dataset"
        if (id(use.statement), kind) in seen:
            continue
        stats = use.matched.stats
        order = " (BGR order)" if use.matched.bgr else ""
        written = f"{stats.dataset} {stats.kind}{order}"
        values = f"{stats.dataset} statistics ({stats.kind}{order} {_shown(use.values)})"
        if stats.wrong or use.matched.typo:
            seen.add((id(use.statement), kind))
            key = (stats, tuple(round(v, 4) for v in use.values))
            if key in copies:
                copies[key].related.append((use.node, "the same value, copied"))
                continue
            if stats.wrong:
                message = (f"{written} {_shown(use.values)} is a widely copied wrong value: {stats.wrong} "
                           f"(source: {stats.source})")
            else:
                message = (f"{written} {_shown(use.values)} differs in a digit from the published {stats.dataset} "
                           f"{stats.kind} {_shown(stats.values)} (source: {stats.source}): a mistyped copy")
            copies[key] = StatsMismatch(use.node, message, [])
            emit(use, copies[key])
            continue
        branch = next((b for b in reversed(use.branches) if b.dataset), None)
        if branch is not None:
            if branch.dataset != stats.dataset and (stats.dataset != "ImageNet" or branch.dataset in own):
                seen.add((id(use.statement), kind))
                emit(use, StatsMismatch(use.node, f"{values} normalise the {branch.dataset} branch "
                                                   f"(`{branch.label}`)", [(branch.node, f"the {branch.dataset} branch")]),
                     (stats.dataset, branch.dataset, id(branch.node)))
            continue
        if stats.dataset == "ImageNet":
            small = _from_scratch(found, use)
            if small is not None:
                seen.add((id(use.statement), kind))
                emit(use, StatsMismatch(use.node, f"{values} normalise {small[0]} data, and nothing in this module "
                                                   "loads pretrained weights: a model trained from scratch on "
                                                   f"{small[0]} is normalised with another dataset's constants",
                                         [(small[1], f"{small[0]} is used here")]), (stats.dataset, small[0]))
            continue
        otherwise = next((b for b in reversed(use.branches) if b.label == "else"), None)
        if otherwise is not None and not otherwise.excluded:
            continue  # the else of a test that is not about the dataset
        # the datasets of the same top-level function or class (a module of several data modules is not one
        # script), or of the whole module for module-level constants
        near = found.datasets if use.owner is found.module else found.owned.get(id(use.owner), {})
        others = {d: n for d, n in near.items() if d != stats.dataset and d not in own and d not in named
                  and d != "ImageNet" and (otherwise is None or d not in otherwise.excluded)
                  and admitted(use.branches, d)}
        if others:
            dataset, node = sorted(others.items())[0]
            seen.add((id(use.statement), kind))
            if otherwise is not None:
                named = ", ".join(otherwise.excluded)
                emit(use, StatsMismatch(use.node, f"{values} normalise every dataset but {named} (the `else` "
                                                   f"branch), {dataset} included, and {dataset}'s own statistics "
                                                   "appear nowhere in this module", [(node, f"{dataset} is used here")]),
                     (stats.dataset, dataset, "else", named))
                continue
            verb = "also normalise" if stats.dataset in near else "normalise"
            emit(use, StatsMismatch(use.node, f"{values} {verb} {dataset} data, and {dataset}'s own "
                                               f"statistics appear nowhere in this module",
                                     [(node, f"{dataset} is used here")]), (stats.dataset, dataset))
    return out


# a dataset named in a string (`STATS["cifar10"]`, `get_stats('svhn')`): read before the walk
CHOSEN_TEXT = re.compile(r"""\(\s*\*|\[\s*["'](?:cifar|svhn|mnist|fashion)|\(\s*["'](?:cifar|svhn|mnist|fashion)""", re.I)


_OUTLIERS = re.compile(r"\bood\b|out.of.distribution|outlier|open.?set|anomal|novelty", re.I)


def chosen_statistics(module: cst.Module, text: str) -> list[StatsMismatch]:
    """Statistics chosen by a dataset's name written in the code (`Normalize(*STATS["cifar10"])`, `mean, std =
    STATS["cifar10"]`, `Normalize(**NORM["cifar10"])`, `Normalize(*get_stats("cifar10"))`, the table in this module
    or imported) in a function, or a script's top level, that constructs another small dataset and not the one
    named: CIFAR-10's statistics picked by hand for the CIFAR-100 data built next to them. One finding per pair of
    datasets in the module, at the name."""
    out: list[StatsMismatch] = []
    if _OUTLIERS.search(text):
        return out  # out-of-distribution data is normalised with the in-distribution statistics on purpose
    facts: dict[tuple, StatsMismatch] = {}
    for nodes in _scoped_nodes(module, "Normalize"):
        constructed: dict[str, cst.CSTNode] = {}
        bound: dict[str, list] = {}
        for node in nodes:
            if type(node) is cst.Call:
                dataset = dataset_of(short_name(node.func) or "")
                if dataset in _SMALL:
                    constructed.setdefault(dataset, node)
            elif type(node) is cst.Assign:
                for target in node.targets:
                    names = [target.target] if type(target.target) is cst.Name else \
                        [e.value for e in target.target.elements] if type(target.target) in (cst.Tuple, cst.List) else []
                    for name in names:
                        if type(name) is cst.Name:
                            bound.setdefault(name.value, []).append(node.value)
        if not constructed:
            continue
        for node in nodes:
            if type(node) is not cst.Call or short_name(node.func) != "Normalize":
                continue
            for arg in node.args:
                chosen = _chosen_key(arg.value, bound, 0)
                if chosen is None:
                    continue
                key, where = chosen
                named = dataset_of(key)
                if named not in _SMALL or named in constructed:
                    continue
                other, built = sorted(constructed.items())[0]
                fact = (named, other)
                if fact in facts:
                    continue
                facts[fact] = StatsMismatch(where, f"`{module.code_for_node(where).strip()}` chooses {named}'s "
                                                   f"statistics by name, and they normalise the {other} data built "
                                                   f"here", [(built, f"{other} is used here")])
                out.append(facts[fact])
                break
    return out


def _scoped_nodes(module: cst.Module, callee: str | None = None) -> list[list]:
    """The nodes of each function body and of the module's top level (a class body counts as the module's), in one
    walk, in source order; only the scopes that call `callee` (by its short name) when one is given."""
    scopes: list[list] = []
    pending = [(list(module.body), scopes.__len__())]
    scopes.append([])
    wanted: set[int] = set()
    while pending:
        items, index = pending.pop()
        stack = list(reversed(items))
        while stack:
            node = stack.pop()
            if type(node) is cst.FunctionDef:
                scopes.append([])
                pending.append((list(children(node.body)), len(scopes) - 1))
                continue
            if type(node) is cst.Lambda:
                continue
            scopes[index].append(node)
            if callee is not None and type(node) is cst.Call and short_name(node.func) == callee:
                wanted.add(index)
            stack.extend(reversed(list(children(node))))
    return [nodes for i, nodes in enumerate(scopes) if callee is None or i in wanted]


def _chosen_key(expr, bound: dict, depth: int):
    """The dataset name a statistics expression is chosen by: `STATS["cifar10"]`, `STATS["cifar10"]["mean"]`,
    `get_stats("cifar10")`, or a name bound once to one of them (`mean, std = STATS["cifar10"]`): (key, node)."""
    if depth > 3:
        return None
    if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
        key = string(expr.slice[0].slice.value)
        if isinstance(key, str) and dataset_of(key):
            return key, expr
        return _chosen_key(expr.value, bound, depth + 1)
    if type(expr) is cst.Call and type(expr.func) in (cst.Name, cst.Attribute):
        keys = [string(a.value) for a in expr.args if isinstance(string(a.value), str)]
        if len(keys) == 1 and dataset_of(keys[0]) and len(expr.args) == 1:
            return keys[0], expr
        return None
    if type(expr) is cst.Name and len(bound.get(expr.value, ())) == 1:
        return _chosen_key(bound[expr.value][0], bound, depth + 1)
    return None


_STAT_WORD = re.compile(r"mean|std", re.I)


def _named_statistics(found: Scan) -> set:
    """Datasets whose statistics the module binds to names that say so, whatever the values (`SVHN_MEAN = (0.5, 0.5,
    0.5)`, `cifar100_std = [...]`): the dataset has statistics of its own here, chosen rather than the table's."""
    out = set()
    for (_, name), values in found.assigned.items():
        if not _STAT_WORD.search(name) or not any(numbers(v) is not None for v in values):
            continue
        dataset = dataset_of(_STAT_WORD.sub("", name))
        if dataset is not None:
            out.add(dataset)
    return out


_SMALL = ("CIFAR-10", "CIFAR-100", "SVHN", "MNIST", "Fashion-MNIST")
_PRETRAINED_CALLS = ("from_pretrained", "load_url", "load_state_dict_from_url", "create_model", "get_weight",
                     "get_model_weights", "load_pretrained")
_PRETRAINED_TEXT = re.compile(r"ImageFolder|model_zoo|hub\.load|^\s*(?:from|import)\s+(?:timm|transformers|open_clip|"
                              r"clip)\b|['\"]imagenet", re.I | re.M)


def _from_scratch(found: Scan, use) -> tuple | None:
    """ImageNet statistics, the only statistics of the module, outside any dataset branch in a function (or script)
    that constructs a small dataset (`datasets.CIFAR10(...)`) and no ImageNet-style one, in a module that loads no pretrained weights
    (`pretrained=`/`weights=` arguments, `from_pretrained`, `load_url`, timm, a hub): (dataset, its node)."""
    if any(b.label == "else" for b in use.branches) or \
            any(other.matched.stats.dataset != "ImageNet" for other in found.stats):
        return None  # a module with statistics of its own: a mismatch there is PREP004's or a branch's
    near = found.constructed.get(id(use.owner), {}) if use.owner is not found.module else found.all_constructed
    small = sorted((d, n) for d, n in near.items() if d in _SMALL)
    if not small or "ImageNet" in near or len({d for d, _ in small}) != len(near):
        return None
    return None if loads_pretrained(found) else small[0]


def _shown(values: tuple) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


# --- PREP004 ----------------------------------------------------------------------------------------


@dataclass
class TransformMismatch:
    node: cst.CSTNode
    message: str
    related: list
    unnormalised: str | None = None  # "train" / "eval": the side that does not normalise, when that is the mismatch


# what a script that trains or evaluates a model writes; a script with none of it that computes a standard deviation
# measures its data (`prepare_static.py`: the mean and std of the un-normalised training images)
_MODEL_USE = (".backward(", ".step(", "zero_grad", ".eval()", "no_grad", "inference_mode", "load_state_dict",
              "torch.load(", ".fit(", "Trainer(", ".predict(", ".forward(")


def measures_data(text: str) -> bool:
    """A module that computes its data's statistics (`.std(`) and trains and evaluates no model: its pipeline that
    does not normalise is the data it measures, not a training input."""
    return "std(" in text and not any(use in text for use in _MODEL_USE)


def _inverse(found: Scan, pipeline: Pipeline) -> bool:
    """Its normalisation undoes one (a negative mean, `Normalize(-mean / std, 1 / std)`, or a mean it cannot read)."""
    if pipeline.normalize is None:
        return False
    stats = statistics_of(found, *pipeline.normalize)
    return stats is None or any(v < 0 for part in stats for v in part)


def _identity(stats: tuple | None) -> bool:
    """`Normalize(mean=[0, 0, 0], std=[1, 1, 1])`: a normalisation that changes nothing."""
    return stats is not None and all(v == 0 for v in stats[0]) and all(v == 1 for v in stats[1])


def _normalises(found: Scan, pipeline: Pipeline) -> bool:
    """The pipeline has a normalisation step that changes its input (not the identity `Normalize(0, 1)`)."""
    return pipeline.normalize is not None and not _identity(statistics_of(found, *pipeline.normalize))


def transform_mismatches(found: Scan) -> list[TransformMismatch]:
    out: list[TransformMismatch] = []
    trains = [p for p in found.pipelines if p.role == "train"]
    for test in (p for p in found.pipelines if p.role == "eval"):
        candidates = [t for t in trains if t.group == test.group and t.pairs == test.pairs and _nested(t, test)]
        if not candidates:
            # a dataset's transform written in its call names no group: its counterpart is the only training
            # pipeline around it (`transform=transform_train` for the training set, `transform=ToTensor()` for the test set)
            pool = [t for t in trains if t.pairs == test.pairs and _nested(t, test)]
            if len(pool) == 1 and (test.used or pool[0].used) and test.datasets and pool[0].datasets and \
                    not test.datasets & pool[0].datasets:
                pool = []  # given to other datasets (MNIST for training, CIFAR-10 for the test): not a pair
            if len(pool) == 1 and (test.inline or pool[0].inline or test.used or pool[0].used):
                candidates = pool
        if not candidates:
            candidates = _sibling(found, test, trains)
        if not candidates:
            continue
        # the training transform of the same branch: the longest shared branch chain, then the nearest before
        train = max(candidates, key=lambda t: (_shared(t, test), _before(t, test)))
        related = [(train.node, "the training transform")]
        if _normalises(found, train) != _normalises(found, test):
            if train.unknown or test.unknown:
                continue  # a step of its own may normalise the other side
            missing = "evaluation" if not _normalises(found, test) else "training"
            present = "training" if missing == "evaluation" else "evaluation"
            out.append(TransformMismatch(test.node, f"the {missing} transform does not normalise; the {present} "
                                                    f"transform does", related,
                                         "train" if missing == "training" else "eval"))
            continue
        if _normalises(found, train):
            a, b = statistics_of(found, *train.normalize), statistics_of(found, *test.normalize)
            if a is not None and b is not None and not _same(a, b):
                out.append(TransformMismatch(test.node, "the evaluation transform normalises with other constants "
                                                        f"({_signature(b)}) than the training transform "
                                                        f"({_signature(a)})", related + [(test.normalize[0], "evaluation Normalize"), (train.normalize[0], "training Normalize")]))
                continue
        if train.swap != test.swap:
            out.append(TransformMismatch(test.node, f"the {'training' if train.swap else 'evaluation'} transform "
                                                    f"swaps the channel order; the other does not", related))
    return out


# --- PREP004 on tabular features: a scaler fitted on the training features that the evaluation features skip ----

_SCALERS = frozenset({"StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "QuantileTransformer",
                      "PowerTransformer"})
_EVALUATES = frozenset({"predict", "predict_proba", "score", "evaluate", "decision_function"})
SCALER_TEXT = re.compile(r"\b(?:Standard|MinMax|Robust|MaxAbs)Scaler\b|QuantileTransformer|PowerTransformer")


def unscaled_evaluations(module: cst.Module) -> list[TransformMismatch]:
    """A model fitted on features a scaler was fitted on (`X_train = scaler.fit_transform(X_train)`, then
    `model.fit(X_train, y_train)`) and evaluated on held-out features that never go through that scaler
    (`model.score(X_test, y_test)` with no `scaler.transform(X_test)` anywhere in the function or script): the
    evaluation features are on another scale than the ones the model learnt. One finding per model and features."""
    out: list[TransformMismatch] = []
    for nodes in _scoped_nodes(module):
        scalers = set()  # names bound to a scaler
        scaled: dict[str, str] = {}  # feature name -> the scaler it went through
        where: dict[str, cst.CSTNode] = {}  # feature name -> the assignment that scaled it
        called: dict[str, int] = {}  # names rebound by a call of anything else
        fits: dict[str, list] = {}  # model name -> the first argument of each `.fit(...)`
        for node in nodes:
            if type(node) is not cst.Assign:
                continue
            value = node.value
            targets = [t.target for t in node.targets]
            names = [t.value for t in targets if type(t) is cst.Name] + \
                [e.value.value for t in targets if type(t) in (cst.Tuple, cst.List) for e in t.elements
                 if type(e.value) is cst.Name]
            if type(value) is cst.Call and short_name(value.func) in _SCALERS:
                scalers.update(names)
                continue
            if type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "fit" and \
                    value.args and len(names) == 1:  # `model = LogisticRegression().fit(X_train, y_train)`
                fits.setdefault(names[0], []).append(dotted(value.args[0].value))
                continue
            through = next((dotted(n.func.value) for n in walk(value) if type(n) is cst.Call and
                            type(n.func) is cst.Attribute and n.func.attr.value in ("fit_transform", "transform")
                            and dotted(n.func.value)), None)
            for name in names:
                if through is not None:
                    scaled[name] = through
                    where.setdefault(name, node)
                elif type(value) is cst.Call and short_name(value.func) != "train_test_split":
                    called[name] = called.get(name, 0) + 1
        if not scalers:
            continue
        transformed = {dotted(a.value) for n in nodes if type(n) is cst.Call and type(n.func) is cst.Attribute and
                       n.func.attr.value in ("transform", "fit_transform") for a in n.args if dotted(a.value)}
        for node in nodes:
            if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value == "fit" and \
                    dotted(node.func.value) and node.args and dotted(node.func.value) not in scalers:
                fits.setdefault(dotted(node.func.value), []).append(dotted(node.args[0].value))
        reported = set()
        for node in nodes:
            if type(node) is not cst.Call or type(node.func) is not cst.Attribute or \
                    node.func.attr.value not in _EVALUATES or not node.args:
                continue
            model, features = dotted(node.func.value), dotted(node.args[0].value)
            if not model or not features or type(node.args[0].value) is not cst.Name:
                continue
            trained = fits.get(model, [])
            if not trained or any(t not in scaled or scaled[t] not in scalers for t in trained):
                continue  # fitted on features no scaler of this scope went through (or on several kinds)
            if features in scaled or features in transformed or features in called or role(features) != "eval" or \
                    (model, features) in reported:
                continue
            reported.add((model, features))
            scaler = scaled[trained[0]]
            out.append(TransformMismatch(node, f"`{model}` is fitted on `{trained[0]}`, scaled by `{scaler}`, and "
                                               f"evaluated on `{features}`, which never goes through "
                                               f"`{scaler}.transform()`: the evaluation features are on another "
                                               "scale than the ones the model learnt",
                                         [(where[trained[0]], f"`{trained[0]}` scaled by `{scaler}`")]))
    return out


def _sibling(found: Scan, test: Pipeline, trains: list) -> list:
    """An evaluation pipeline built in a function named for evaluation (`get_test_loader`, `val_dataloader`) pairs
    with the one training pipeline of its group built in a sibling function named for training (`get_train_loader`,
    `train_dataloader`) of the same class or module, when neither function builds the other split's pipeline and
    neither pipeline sits in a branch of its own (a dataset switch)."""
    if test.function_role != "eval" or test.branches:
        return []
    pool = [t for t in trains if t.function_role == "train" and t.owner == test.owner and t.group == test.group
            and t.scope is not test.scope and not t.branches]
    if len(pool) != 1 or len({id(t.scope) for t in trains if t.function_role == "train" and t.owner == test.owner}) != 1:
        return []
    train = pool[0]
    if any(p.scope is train.scope and p.role == "eval" or p.scope is test.scope and p.role == "train"
           for p in found.pipelines):
        return []
    return pool


_INFERENCE_MODULE = re.compile(r"^(?:predict|prediction|infer|inference)(?:_|$)", re.I)


def module_role(module_name: str) -> str | None:
    """train / eval of a script by its file name: `train.py`, `test.py`, `eval_cifar.py`, `predict.py`."""
    base = module_name.rsplit(".", 1)[-1]
    if _INFERENCE_MODULE.match(base):
        return "eval"
    return role(base)


def module_pipelines(found: Scan, module_name: str, loc, text: str | None = None) -> list:
    """A training or evaluation script's pipelines that make model inputs, for pairing across the scripts of a
    unit: [(loc, role, normalisation, swaps, the dataset classes it is given to)] (`"hand"` in their place for a
    normalisation written by hand), normalisation = "none", "unknown" or the (mean, std) numbers.
    Empty for a module whose file name gives no split, or whose evaluation pipelines have a training pipeline of
    their own in it (paired by the per-module check)."""
    kind = module_role(module_name)
    text = found.module.code if text is None and kind is None else text
    by_role = kind is None and infers(text)
    if by_role:
        kind = "eval"  # a script named for no split that only predicts with the project's weights (`app.py`)
    if kind is None:  # a data module (`data.py`, `datasets.py`): its training pipelines, when it builds no
        # evaluation pipeline of its own (then the per-module check pairs them)
        if any(p.role == "eval" for p in found.pipelines):
            return []
        kind, own = "train", [p for p in found.pipelines if p.role == "train"]
    else:
        own = [p for p in found.pipelines if p.role == kind] + [p for p in found.loose]
    if kind == "eval" and any(p.role == "train" for p in found.pipelines):
        return []
    out = []
    if by_role and not own:
        return out  # its preprocessing is not a pipeline it builds: nothing to compare
    # a script read by what it does that normalises elsewhere than in its pipeline (a `Normalize` layer wrapped
    # around the model, `(x - mean) / std` in a helper): a pipeline without one says nothing of its input
    elsewhere = by_role and len(_NORMALISING.findall(text)) > sum(
        1 for p in own if p.normalize is not None)
    if kind == "eval" and not own:  # an inference script that normalises by hand
        hands = [(loc(node), kind, stats, False, "hand") for node, stats in hand_normalisations(found)]
        if not hands:  # or that reads images and only scales them to [0, 1] (`img / 255.`): no normalisation
            scaled = hand_scaling(found)
            return [(loc(scaled), kind, "none", False, frozenset())] if scaled is not None else []
        return hands
    for p in own:
        if not p.tensor:
            continue
        if p.normalize is None:
            norm = "unknown" if p.unknown or elsewhere else "none"
        else:
            stats = statistics_of(found, *p.normalize)
            if stats is not None and any(v < 0 for part in stats for v in part):
                continue  # an inverse normalisation (`Normalize(-mean / std, 1 / std)`): rendering, not input
            norm = "none" if _identity(stats) else stats if stats is not None else "unknown"
        out.append((loc(p.node), kind, norm, p.swap, frozenset(p.datasets)))
    return out


_LOADS_CHECKPOINT = re.compile(r"\bload_state_dict\(|\btorch\.load\(|\.load_from_checkpoint\(")
_PREDICTS_TEXT = re.compile(r"\.eval\(\)|no_grad|inference_mode")
_TRAINS_TEXT = re.compile(r"\.backward\(|\.step\(|zero_grad|\.fit\(|Trainer\(")
_PRETRAINED_WEIGHTS = re.compile(r"pretrained\s*=\s*True|from_pretrained|hub\.load|load_state_dict_from_url|"
                                 r"weights\s*=\s*(?![\s)]*None\b)[\"'\w]")


def infers(code: str) -> bool:
    """A script that only predicts with the project's own weights: it loads a checkpoint (`torch.load`,
    `load_state_dict`), runs the model in evaluation mode (`.eval()`, `no_grad`), trains nothing and loads no
    pretrained weights (a demo of a torchvision model on a photo is no evaluation of the project's model)."""
    return bool(_LOADS_CHECKPOINT.search(code) and _PREDICTS_TEXT.search(code)) and \
        not _TRAINS_TEXT.search(code) and not _PRETRAINED_WEIGHTS.search(code)


def hand_normalisations(found: Scan) -> list:
    """`(img - MEAN) / STD` written by hand with three numbers per channel each (through names): [(node, (mean,
    std))], values on the 0-255 scale brought to 0-1. An inference script that preprocesses by hand instead of a
    `Compose`."""
    out, seen = [], set()
    scopes = [n for n in walk(found.module) if type(n) is cst.FunctionDef] + [found.module]
    for scope in scopes:
        for node in walk(scope.body if scope is not found.module else found.module):
            if type(node) is not cst.BinaryOperation or type(node.operator) is not cst.Divide or id(node) in seen:
                continue
            left = node.left
            if type(left) is not cst.BinaryOperation or type(left.operator) is not cst.Subtract:
                continue
            seen.add(id(node))
            mean, std = _values_of(found, _unwrapped(left.right), scope, 0), \
                _values_of(found, _unwrapped(node.right), scope, 0)
            if mean is None or std is None or len(mean) != 3 or len(std) != 3:
                continue
            if max(mean) > 1.5 and max(std) > 1.5:  # pixel scale
                mean, std = tuple(v / 255 for v in mean), tuple(v / 255 for v in std)
            if max(mean) > 1.5 or max(std) > 1.5:
                continue
            out.append((node, (mean, std)))
    return out


_READS_IMAGES = re.compile(r"\bimread\b|Image\.open|read_image|decode_image|VideoCapture")
_NORMALISES = re.compile(r"mean|std|normali[sz]|standardi[sz]|whiten", re.I)
# a normalisation named in the code (not `.mean()` of a metric): `Normalize(`, `self.mean`, `std=`, `standardize`
_NORMALISING = re.compile(r"normali[sz]|standardi[sz]|whiten|\b(?:mean|std)\b(?!\s*\()", re.I)


def hand_scaling(found: Scan) -> cst.CSTNode | None:
    """The first `x / 255` (`/ 255.`) of an evaluation script that reads images itself and names no mean, std or
    normalisation anywhere: the script feeds [0, 1] pixels, not normalised ones. None otherwise."""
    code = found.module.code
    if not _READS_IMAGES.search(code) or _NORMALISES.search(code):
        return None
    for node in walk(found.module):
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.Divide and \
                type(node.right) in (cst.Integer, cst.Float) and float(node.right.value) == 255.0:
            return node
    return None


def _unwrapped(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`np.array(MEAN)`, `torch.tensor(MEAN).view(3, 1, 1)`: the name or display inside."""
    while type(expr) is cst.Call and (type(expr.func) is cst.Attribute and expr.func.attr.value in
                                      ("view", "reshape", "to", "cuda", "float") or
                                      short_name(expr.func) in ("array", "asarray", "tensor", "as_tensor", "Tensor",
                                                                "FloatTensor")):
        if type(expr.func) is cst.Attribute and expr.func.attr.value in ("view", "reshape", "to", "cuda", "float"):
            expr = expr.func.value
        elif expr.args:
            expr = expr.args[0].value
        else:
            break
    return expr


def statistics_of(found: Scan, node: cst.CSTNode, scope: cst.CSTNode, depth: int = 0) -> tuple | None:
    """(mean, std) of a Normalize call or of the normalize object a name holds, as numbers; None when any part is
    not known here (an option, a config value, a parameter): then no mismatch can be claimed."""
    if depth > 4:
        return None
    if isinstance(node, cst.Call):
        if short_name(node.func) != "Normalize":
            return None
        mean = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "mean"), None)
        std = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "std"), None)
        positional = [a.value for a in node.args if a.keyword is None]
        mean = mean if mean is not None else positional[0] if positional else None
        std = std if std is not None else positional[1] if len(positional) > 1 else None
        if mean is None or std is None:
            return None
        values = (_values_of(found, mean, scope, depth), _values_of(found, std, scope, depth))
        return values if None not in values else None
    value = _assigned(found, node, scope)
    return statistics_of(found, value, scope, depth + 1) if value is not None else None


def _assigned(found: Scan, node: cst.CSTNode, scope: cst.CSTNode) -> cst.BaseExpression | None:
    """The one value a name is assigned in its scope (or at module level)."""
    if not isinstance(node, cst.Name):
        return None
    for where in (scope, found.module):
        values = found.assigned.get((id(where), node.value))
        if values:
            texts = {found.module.code_for_node(v) for v in values}
            return values[0] if len(texts) == 1 else None
    return None


def _values_of(found: Scan, expr: cst.BaseExpression, scope: cst.CSTNode, depth: int) -> tuple | None:
    values = numbers(expr)
    if values is not None:
        return values
    if isinstance(expr, (cst.Float, cst.Integer)):  # `Normalize(0.5, 0.5)`: one value for every channel
        return (float(expr.value),)
    name = dotted(expr) or ""
    last = name.rsplit(".", 1)[-1]
    if last in LIBRARY_STATS and (last.startswith(("IMAGENET_DEFAULT", "IMAGENET_INCEPTION", "OPENAI"))
                                  or _assigned(found, expr, scope) is None):
        return LIBRARY_STATS[last]
    if depth < 4:
        value = _assigned(found, expr, scope)
        if value is not None:
            return _values_of(found, value, scope, depth + 1)
    return None


def _signature(args: tuple) -> str:
    return ", ".join(_shown(a) if isinstance(a, tuple) else f"`{a}`" for a in args)


def _shared(a: Pipeline, b: Pipeline) -> int:
    return sum(1 for x, y in zip(a.branches, b.branches) if x.node is y.node)


def _before(a: Pipeline, b: Pipeline) -> int:
    """Source order without positions: a pipeline's index among those recorded (the walk is in order)."""
    return a.order if a.order < b.order else -a.order


def _nested(a: Pipeline, b: Pipeline) -> bool:
    """Same branch, or one inside the other's branch (not the MNIST branch against the CIFAR one)."""
    short, long = sorted((a.branches, b.branches), key=len)
    return all(x.node is y.node for x, y in zip(short, long))


def _same(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, tuple) and isinstance(y, tuple):
            if len(x) == 1 or len(y) == 1:  # one value broadcast over the channels
                if any(abs(u - v) > 1e-4 for u in x for v in y):
                    return False
            elif len(x) != len(y) or any(abs(u - v) > 1e-4 for u, v in zip(x, y)):
                return False
        elif x != y:
            return False
    return True


# --- PREP003 across modules ---------------------------------------------------------------------------


def exported_statistics(found: Scan) -> list:
    """Module-level names bound to one small dataset's statistics (`cifar10_mean = (0.4914, 0.4822, 0.4465)`):
    [(name, dataset, node)], for the modules that import them."""
    out = []
    for use in found.stats:
        statement = use.statement
        if use.owner is not found.module or use.branches or type(statement) is not cst.SimpleStatementLine:
            continue
        small = statement.body[0]
        if type(small) is not cst.Assign or len(small.targets) != 1 or small.value is not use.node or \
                type(small.targets[0].target) is not cst.Name or use.matched.stats.dataset not in _SMALL:
            continue
        out.append((small.targets[0].target.value, use.matched.stats.dataset, use.node))
    return out


def exported_pipelines(found: Scan) -> list:
    """Module-level names bound to a `Normalize(...)` or a `Compose([...])` whose normalisation is a known dataset's
    statistics (`normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD)`, `transforms_train = Compose([..., normalize])`):
    [(name, dataset, node)], for the modules that import them and give them to their datasets."""
    out = []
    pipelines = {id(p.node): p for p in found.pipelines + found.loose}
    for stmt in found.module.body:
        if type(stmt) is not cst.SimpleStatementLine or type(stmt.body[0]) is not cst.Assign:
            continue
        assign = stmt.body[0]
        if len(assign.targets) != 1 or type(assign.targets[0].target) is not cst.Name:
            continue
        if type(assign.value) is cst.Dict:  # `data_transform = {"train": Compose([...]), "val": Compose([...])}`
            kept = [pipelines[id(e.value)] for e in assign.value.elements if type(e) is cst.DictElement and
                    id(e.value) in pipelines and pipelines[id(e.value)].normalize]
            stats = [statistics_of(found, *p.normalize) for p in kept]
            matched = [match(st[0]) if st is not None else None for st in stats]
            datasets = {m.stats.dataset for m in matched if m is not None and m.stats.kind == "mean" and not m.bgr}
            if matched and all(m is not None for m in matched) and len(datasets) == 1:
                out.append((assign.targets[0].target.value, datasets.pop(), assign.value))
            continue
        if type(assign.value) is not cst.Call:
            continue
        short = short_name(assign.value.func)
        if short == "Normalize":
            stats = statistics_of(found, assign.value, found.module)
        elif short == "Compose" and id(assign.value) in pipelines and pipelines[id(assign.value)].normalize:
            stats = statistics_of(found, *pipelines[id(assign.value)].normalize)
        else:
            continue
        matched = match(stats[0]) if stats is not None else None
        if matched is not None and matched.stats.kind == "mean" and not matched.bgr:
            out.append((assign.targets[0].target.value, matched.stats.dataset, assign.value))
    return out


def imported_transforms(found: Scan, imported: dict, stars: tuple = ()) -> list:
    """Imported names this module gives to its datasets (`CIFAR10(root, transform=transforms_train)`, also an entry
    of an imported dict of pipelines, `transform=data_transform["train"]`) or puts in a pipeline of its own
    (`Compose([..., normalize])`): [(name, qualified, node of the use)]. A name the module never binds, read where
    it imports modules whole (`from tool.constants import *`), gives one candidate per such module (`stars`); the
    project phase keeps the one that defines it."""
    out, seen = [], set()
    bound = _bound_names(found.module) if stars else set()
    for node in walk(found.module):
        if type(node) is not cst.Call:
            continue
        values = [a.value for a in node.args if a.keyword is not None and a.keyword.value == "transform"]
        if short_name(node.func) == "Compose" and node.args and isinstance(node.args[0].value, (cst.List, cst.Tuple)):
            values += [e.value for e in node.args[0].value.elements]
        for value in values:
            if type(value) is cst.Subscript and string(value.slice[0].slice.value if len(value.slice) == 1 and
                                                       type(value.slice[0].slice) is cst.Index else None):
                value = value.value  # `data_transform["train"]`: the dict of pipelines
            if type(value) is not cst.Name or value.value in seen:
                continue
            if value.value in imported:
                seen.add(value.value)
                out.append((value.value, imported[value.value], value))
            elif stars and value.value not in bound:
                seen.add(value.value)
                out.extend((value.value, f"{star}.{value.value}", value) for star in stars)
    return out


def _bound_names(module: cst.Module) -> set[str]:
    """Every name the module binds anywhere (assignments, parameters, loop targets, `with ... as`, definitions,
    imports): what a star import cannot be the source of."""
    out: set[str] = set()
    for node in walk(module):
        kind = type(node)
        target = None
        if kind in (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor):
            target = node.target
        elif kind is cst.WithItem and node.asname is not None:
            target = node.asname.name
        elif kind is cst.Param or kind in (cst.FunctionDef, cst.ClassDef):
            out.add(node.name.value)
        elif kind is cst.ImportAlias:
            alias = node.asname.name if node.asname is not None else node.name
            out.add((dotted(alias) or "").split(".", 1)[0])
        if target is not None:
            out.update(n.value for n in walk(target) if type(n) is cst.Name)
    return out


def loads_pretrained(found: Scan) -> bool:
    """The module loads pretrained weights (`pretrained=`/`weights=` arguments, `from_pretrained`, `load_url`, timm,
    a hub)."""
    if found.pretrained is None:
        found.pretrained = bool(_PRETRAINED_TEXT.search(found.module.code)) or any(
            type(node) is cst.Call and (
                (dotted(node.func) or "").rsplit(".", 1)[-1] in _PRETRAINED_CALLS or
                any(a.keyword is not None and re.match(r"pretrain|weights?$|init_weights?_from|checkpoint",
                                                       a.keyword.value, re.I) and
                    not (type(a.value) is cst.Name and a.value.value in ("False", "None")) for a in node.args))
            for node in walk(found.module))
    return found.pretrained


def imported_normalisations(found: Scan, imported: dict) -> list:
    """Imported names a `Normalize(...)` call of this module takes (`Normalize(cifar10_mean, cifar10_std)`):
    [(name, qualified, call node)]."""
    out, seen = [], set()
    for node in walk(found.module):
        if type(node) is not cst.Call or short_name(node.func) != "Normalize":
            continue
        for arg in node.args:
            value = arg.value
            if type(value) is cst.Name and value.value in imported and value.value not in seen:
                seen.add(value.value)
                out.append((value.value, imported[value.value], node))
    return out
