"""LEAK004's per-module analysis: the split whose metric selects is also the split whose number is reported.

A *selection* is a running best over evaluations: `best = max(best, acc)`, `if acc > best: best = acc` (with or
without a checkpoint), `is_best = acc > best`. Its *report* is the best value printed, logged or written out
(directly, or through a dict or a string built from it), in the selecting function, in the module for a global,
or in the class for an attribute; or, when the selection saves a checkpoint, the same split evaluated again
outside the training loop and printed (an evaluation-only path of the same script). The finding is silenced when
another split that is not training data is evaluated in the selecting function or after a call of it (a final
test after selection), or when the class also defines a Lightning `test_step`.

The split is read from the role of values, not their names: the data handed to the call that computed the metric,
or the loop that accumulated it; training data is what a loop with `backward()`/`.step()` iterates.
Cost: one walk of the module's statements, and only for modules whose text holds a best-score word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from ...core.names import dotted
from ...core.walk import walk
from ...findings import Loc

_BEST_TARGET = re.compile(r"best|^max_|_max$|^min_|_min$|highest|lowest|^top_?acc", re.IGNORECASE)
_REPORT_CALLS = frozenset({
    "print", "info", "warning", "log", "write", "writelines", "dump", "log_metrics", "add_scalar", "add_scalars",
    "log_dict", "pprint", "set_postfix", "log_metric", "critical", "debug", "echo", "cprint", "print_log",
    "save_metrics",
})
_NOT_REPORT = re.compile(r"oracle|upper[ _-]?bound|for reference", re.IGNORECASE)
_DATA = re.compile(r"loader|data(?!_?parallel)|dataset|(?:^|_)ds$|^ds_|(?:^|_)dl$|iter$|_set$|set$|^set_|split|"
                   r"batches|queue|^dev$|^val$|^valid$|^test$|corpus|^x_|_x$", re.IGNORECASE)
_CONFIG_HEAD = re.compile(r"^(?:args|opts?|options|cfg|config|conf|configs|hparams|hp|params|settings|flags|FLAGS)$")
_NOT_DATA = re.compile(r"model|net$|optim|criterion|loss|device|args|cfg|config|opt$|logger|writer|epoch|"
                       r"sampler|transform|collate|size|num_|^n_|path|dir$|root|name|len|_seen$|count", re.IGNORECASE)
_TRAINING = re.compile(r"train|(?:^|_)tr(?:_|$)", re.IGNORECASE)
_CONSTRUCTS = re.compile(r"DataLoader|Dataset|Sampler|^len$|^enumerate$|^zip$|^iter$|^next$|^list$|^tqdm$|"
                         r"^isinstance$|^hasattr$|^getattr$|^print$|^range$|^str$|^int$|^float$|^format$|"
                         r"^set_epoch$|^append$|^extend$|^update$|^makedirs$|^join$|^exists$", re.IGNORECASE)
_EVALUATES = re.compile(r"eval|valid|test|infer|predict|score|metric|accuracy|run_epoch", re.IGNORECASE)
_SPLIT_WORD = re.compile(r"train|val|dev|test|eval|hold", re.IGNORECASE)
_OPT_STEP = re.compile(r"(?:^|\.)(?:backward|step|manual_backward)$")


@dataclass
class Selection:
    loc: Loc
    test: str  # the selection as written
    best: str  # the running best
    split: str  # the selecting split as written ("" when not known)
    report: Loc | None
    report_text: str
    scope: str
    # the other splits a conditional expression could choose instead (`valid_loader if valid_loader else
    # test_loader`): the reported split selects on the path where it is chosen
    others: str = ""


@dataclass
class ReportFacts:
    selections: list[Selection] = field(default_factory=list)


def _text(module: cst.Module, node: cst.CSTNode, limit: int = 60) -> str:
    text = " ".join(module.code_for_node(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _name_of(node: cst.CSTNode) -> str:
    """`best_acc`, `self.best_acc`, `best_acc.top1`: the dotted text of a name or attribute chain, else ""."""
    return dotted(node) or ""


def _ordering(op) -> bool:
    return isinstance(op, (cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual))


def _root(expr: cst.BaseExpression) -> str:
    """The variable a metric is read from: `test_stats['acc1']` -> test_stats, `top1.avg.item()` -> top1."""
    while True:
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif isinstance(expr, cst.Attribute):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        else:
            break
    return expr.value if isinstance(expr, cst.Name) else ""


def _leaf(text: str) -> str:
    return text.rsplit(".", 1)[-1]


def _best_like(text: str) -> bool:
    """`best_acc`, `max_accuracy`, `best_acc.top1`, `self.best_iou`."""
    return any(_BEST_TARGET.search(part) for part in text.split(".")[-2:] if part != "self")


class _Scope:
    """One function (or the module body): its statements in order, each with its enclosing loops."""

    def __init__(self, name: str, node: cst.CSTNode, cls: str | None) -> None:
        self.name, self.node, self.cls = name, node, cls
        self.stmts: list[tuple[cst.CSTNode, tuple[cst.For | cst.While, ...]]] = []
        self.globals: set[str] = set()
        self.training_loops: set[int] = set()


def _collect(body, scope: _Scope, loops: tuple, scopes: list, cls: str | None, prefix: str) -> None:
    for stmt in body:
        if type(stmt) is cst.FunctionDef:
            inner = _Scope(f"{prefix}{stmt.name.value}", stmt, cls)
            scopes.append(inner)
            _collect(_block(stmt.body), inner, (), scopes, cls, f"{prefix}{stmt.name.value}.")
            continue
        if type(stmt) is cst.ClassDef:
            _collect(_block(stmt.body), scope, loops, scopes, stmt.name.value, f"{prefix}{stmt.name.value}.")
            continue
        scope.stmts.append((stmt, loops))
        if isinstance(stmt, (cst.For, cst.While)):
            _collect(_block(stmt.body), scope, loops + (stmt,), scopes, cls, prefix)
            if stmt.orelse is not None:
                _collect(_block(stmt.orelse.body), scope, loops, scopes, cls, prefix)
        elif isinstance(stmt, cst.If):
            node: cst.CSTNode | None = stmt
            while isinstance(node, cst.If):
                _collect(_block(node.body), scope, loops, scopes, cls, prefix)
                node = node.orelse
            if node is not None:
                _collect(_block(node.body), scope, loops, scopes, cls, prefix)
        elif isinstance(stmt, (cst.With, cst.Try)) or type(stmt).__name__ == "TryStar":
            _collect(_block(stmt.body), scope, loops, scopes, cls, prefix)
            for handler in getattr(stmt, "handlers", ()):
                _collect(_block(handler.body), scope, loops, scopes, cls, prefix)
            for extra in (getattr(stmt, "orelse", None), getattr(stmt, "finalbody", None)):
                if extra is not None:
                    _collect(_block(extra.body), scope, loops, scopes, cls, prefix)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Global):
                    scope.globals.update(n.name.value for n in small.names)


def _block(body) -> list:
    return list(body.body) if isinstance(body, cst.IndentedBlock) else list(getattr(body, "body", ()))


def _small(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    return list(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else []


def _header(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The expressions a compound statement evaluates itself (not its body)."""
    if isinstance(stmt, cst.If):
        return [stmt.test]
    if isinstance(stmt, cst.For):
        return [stmt.iter]
    if isinstance(stmt, cst.While):
        return [stmt.test]
    if isinstance(stmt, cst.With):
        return [item.item for item in stmt.items]
    return _small(stmt)


def _calls(stmt: cst.CSTNode):
    for part in _header(stmt):
        for node in walk(part):
            if type(node) is cst.Call:
                yield node


def _data_args(call: cst.Call) -> list[str]:
    """The data a call is given: names and attributes (`val_loader`, `self.dev_iter`), the container of a
    subscript (`Data.valid[0]` -> `Data.valid`), through `enumerate`/`tqdm`; a container whose part is also given
    (`evaluate(Data, Data.valid[0], ...)`) gives way to the part. A call given no data but a split's name
    (`evaluate(dataset='val')`) evaluates that split (`'val'`); beside data, such a string is a mode."""
    found = []
    values = []
    for arg in call.args:  # `valid_loader if valid_loader else test_loader`: either split, by the test
        values.extend([arg.value.body, arg.value.orelse] if isinstance(arg.value, cst.IfExp) else [arg.value])
    for value in values:
        while isinstance(value, cst.Subscript):
            value = value.value
        for node in ([value] if isinstance(value, (cst.Name, cst.Attribute)) else
                     [a.value for a in value.args] if isinstance(value, cst.Call) and
                     (dotted(value.func) or "").rsplit(".", 1)[-1] in ("enumerate", "tqdm", "iter", "zip") else []):
            text = _name_of(node)
            if _is_data(text) or "." in text and _DATA.search(text.split(".")[-2]) and _SPLIT_WORD.search(_leaf(text)):
                found.append(text)
    if not found and _EVALUATES.search((dotted(call.func) or "").rsplit(".", 1)[-1]):
        # `evaluate(dataset='val', batches_seen=n)`: an evaluation given no data names its split
        return [f"'{text}'" for arg in call.args if (text := _split_literal(arg.value))]
    return [t for t in found if not any(other.startswith(t + ".") for other in found)]


_SPLIT_LITERAL = frozenset({"val", "valid", "validation", "dev", "test", "testing", "eval", "evaluation", "holdout",
                            "train", "training"})


def _split_literal(expr: cst.BaseExpression) -> str | None:
    """A string argument that is a split's name (`'val'`, `"test"`)."""
    if isinstance(expr, cst.SimpleString):
        text = expr.evaluated_value
        if isinstance(text, str) and text in _SPLIT_LITERAL:
            return text
    return None


def _iterated(loop: cst.For) -> list[str]:
    expr = loop.iter
    while isinstance(expr, cst.Call) and (dotted(expr.func) or "").rsplit(".", 1)[-1] in ("enumerate", "tqdm", "iter", "zip"):
        if not expr.args:
            return []
        expr = expr.args[0].value
    text = _name_of(expr)
    return [text] if _is_data(text) else []


def _is_data(text: str) -> bool:
    """A name or attribute that holds data, not a setting (`args.dataset`) or a model."""
    if not text:
        return False
    parts = text.split(".")
    if _CONFIG_HEAD.match(parts[0]) or (parts[0] == "self" and len(parts) > 2 and _CONFIG_HEAD.match(parts[1])):
        return False
    leaf = parts[-1]
    return bool(_DATA.search(leaf)) and not _NOT_DATA.search(leaf)


class _Module:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.module: cst.Module = ctx.module
        self.top = _Scope("<module>", ctx.module, None)
        self.scopes: list[_Scope] = [self.top]
        _collect(ctx.module.body, self.top, (), self.scopes, None, "")
        self.by_name: dict[str, list[_Scope]] = {}
        for scope in self.scopes[1:]:
            self.by_name.setdefault(scope.name.rsplit(".", 1)[-1], []).append(scope)
        for scope in self.scopes:
            self._training(scope)

    def _training(self, scope: _Scope) -> None:
        """Loops whose body steps an optimiser or calls backward(): what they iterate is training data."""
        for stmt, loops in scope.stmts:
            if not loops:
                continue
            for call in _calls(stmt):
                if _OPT_STEP.search(dotted(call.func) or ""):
                    scope.training_loops.update(id(loop) for loop in loops)

    def training_data(self, scope: _Scope) -> set[str]:
        data: set[str] = set()
        for stmt, _ in scope.stmts:
            if isinstance(stmt, cst.For) and id(stmt) in scope.training_loops:
                data.update(_iterated(stmt))
        return data

    # --- selections --------------------------------------------------------------------------------
    def selections(self, scope: _Scope):
        """(node, best, metric expression, saves) per running-best update of the scope, first per best."""
        seen: set[str] = set()
        for stmt, loops in scope.stmts:
            found = None
            if isinstance(stmt, cst.If):
                found = self._if_selection(stmt)
            for small in _small(stmt):
                if found is None and isinstance(small, cst.Assign) and len(small.targets) == 1:
                    found = self._assign_selection(small)
            if found is not None and found[1] not in seen:
                seen.add(found[1])
                yield (*found, stmt, loops)

    def _if_selection(self, stmt: cst.If):
        for node in walk(stmt.test):
            if type(node) is not cst.Comparison or len(node.comparisons) != 1 or not _ordering(node.comparisons[0].operator):
                continue
            left, right = node.left, node.comparisons[0].comparator
            assigned = self._assigned_in(stmt.body)
            for best, metric in ((left, right), (right, left)):
                text = _name_of(best)
                if text and text in assigned and _best_like(text) and self._metric(metric):
                    return stmt.test, text, metric, self._saves(stmt.body)
        return None

    def _assign_selection(self, small: cst.Assign):
        target = _name_of(small.targets[0].target)
        value = small.value
        if not target:
            return None
        if type(value) is cst.Call and (dotted(value.func) or "").rsplit(".", 1)[-1] in ("max", "min") \
                and len(value.args) == 2 and _best_like(target):
            texts = [_name_of(a.value) for a in value.args]
            if target in texts:
                metric = value.args[1 - texts.index(target)].value
                if self._metric(metric):
                    return value, target, metric, False
        if type(value) is cst.Comparison and len(value.comparisons) == 1 and _ordering(value.comparisons[0].operator) \
                and re.search(r"best", _leaf(target), re.IGNORECASE):
            for best, metric in ((value.left, value.comparisons[0].comparator), (value.comparisons[0].comparator, value.left)):
                text = _name_of(best)
                if text and _best_like(text) and self._metric(metric):
                    return value, text, metric, True  # `is_best` exists to choose a checkpoint
        return None

    @staticmethod
    def _metric(expr: cst.BaseExpression) -> bool:
        """A score, not a literal or a counter."""
        if isinstance(expr, (cst.Integer, cst.Float)) or (isinstance(expr, cst.UnaryOperation)):
            return False
        root = _root(expr)
        leaf = _leaf(_name_of(expr)) if _name_of(expr) else root
        return bool(root) and not re.search(r"epoch|step|iter|^i$|^n$|time|count|len|size|idx|index|best", leaf, re.IGNORECASE)

    def _assigned_in(self, body) -> set[str]:
        names = set()
        for node in walk(body):
            if type(node) is cst.AssignTarget:
                text = _name_of(node.target)
                if text:
                    names.add(text)
        return names

    def _saves(self, body) -> bool:
        for node in walk(body):
            if type(node) is cst.Call:
                last = (dotted(node.func) or "").rsplit(".", 1)[-1]
                if "save" in last.lower() or last in ("deepcopy", "copyfile", "copy", "state_dict"):
                    return True
        return False

    # --- the split a metric comes from ---------------------------------------------------------------
    def split_of(self, scope: _Scope, metric: cst.BaseExpression, before: cst.CSTNode) -> list[str]:
        """The data evaluated to compute the metric, by a short backward slice of the statements before the
        selection: the data arguments of a call that assigned a variable the metric depends on
        (`prec1 = validate(val_loader, ...)`), or what the loop that accumulated it iterates
        (`for x, y in loader: correct += ...`, `top1.update(...)`), following `acc = correct / total`."""
        if type(metric) is cst.Call:
            args = _data_args(metric)
            if args:
                return args
        wanted = {_root(metric)} - {""}
        done: set[str] = set()
        stmts = []
        for stmt, loops in scope.stmts:
            if stmt is before:
                break
            stmts.append((stmt, loops))
        for _ in range(4):
            if not wanted:
                break
            found: list[str] = []
            deps: set[str] = set()
            for stmt, loops in stmts:
                for small in _small(stmt):
                    value = None
                    if isinstance(small, cst.Assign) and any(wanted & _target_names(t.target) for t in small.targets):
                        value = small.value
                    elif isinstance(small, cst.AugAssign) and _name_of(small.target) in wanted:
                        value = small.value
                    elif isinstance(small, cst.Expr) and type(small.value) is cst.Call and \
                            isinstance(small.value.func, cst.Attribute) and _root(small.value.func) in wanted:
                        value = small.value  # `top1.update(acc1, n)`: accumulated where it is updated
                    if value is None:
                        continue
                    args = [a for call in walk(value) if type(call) is cst.Call for a in _data_args(call)]
                    loops_data = [d for loop in loops if isinstance(loop, cst.For) for d in _iterated(loop)]
                    if args:
                        found = args
                    elif loops_data:
                        found = loops_data[-1:]
                    deps.update(n.value for n in walk(value) if type(n) is cst.Name)
            if found:
                return found
            done |= wanted
            wanted = deps - done
        return []

    # --- reports -------------------------------------------------------------------------------------
    def report(self, scope: _Scope, best: str, stmt: cst.CSTNode):
        """The first statement that prints, logs or writes the best value, in the places that can see it."""
        places: list[_Scope] = [scope]
        head = best.split(".", 1)[0]
        if head == "self" and scope.cls is not None:
            places += [s for s in self.scopes if s.cls == scope.cls and s is not scope]
        elif head in scope.globals or scope is self.top:
            places += [s for s in self.scopes if s is not scope and not _binds_locally(s, head)]
        returned = False
        for place in places:
            found, gives = self._reported(place, {best}, stmt if place is scope else None)
            if found is not None:
                return found
            returned = returned or place is scope and gives
        if returned:  # `return best_acc` (or a dict holding it): reported where a caller prints the result
            for caller, call in self.callers(scope):
                found, _ = self._reported(caller, set(), self._statement_of(caller, call), call)
                if found is not None:
                    return found
        return None

    def _statement_of(self, scope: _Scope, node: cst.CSTNode) -> cst.CSTNode | None:
        for stmt, _ in scope.stmts:
            if any(n is node for part in _header(stmt) for n in walk(part)):
                return stmt
        return None

    def _reported(self, place: _Scope, tracked: set[str], start: cst.CSTNode | None,
                  result: cst.Call | None = None) -> tuple[cst.CSTNode | None, bool]:
        """The first report of a tracked value in place, from the statement start on (the whole scope when None),
        following assignments (`stats = dict(best=best)`); and whether place returns a tracked value.
        result: a call whose value is tracked (the selecting function's result, in a caller)."""
        started = start is None
        returns = False
        for stmt2, _ in place.stmts:
            if stmt2 is start:
                started = True
            if not started:
                continue
            for small in _small(stmt2):
                if isinstance(small, cst.Assign) and (_mentions(small.value, tracked) or
                                                      result is not None and _holds(small.value, result)):
                    for t in small.targets:
                        tracked.update(_target_names(t.target))
                        target = t.target
                        if isinstance(target, cst.Subscript) and _name_of(target.value).rsplit(".", 1)[-1] == "summary":
                            return small, returns  # `wandb.run.summary["best_acc"] = best_acc`
                if isinstance(small, cst.Return) and small.value is not None and _mentions(small.value, tracked):
                    returns = True
            for call in _calls(stmt2):
                last = (dotted(call.func) or "").rsplit(".", 1)[-1]
                if last in _REPORT_CALLS and any(_mentions(a.value, tracked) or result is not None and
                                                 _holds(a.value, result) for a in call.args) \
                        and not _NOT_REPORT.search(self.module.code_for_node(call)):
                    return call, returns
        return None, returns

    def evaluation_report(self, scope: _Scope, split: list[str], loop: cst.CSTNode | None):
        """Outside the training loop, the same split evaluated and printed (an evaluation-only path)."""
        if not split:
            return None
        for stmt, loops in scope.stmts:
            if loop is not None and loop in loops or stmt is loop:
                continue
            for call in _calls(stmt):
                last = (dotted(call.func) or "").rsplit(".", 1)[-1]
                if _CONSTRUCTS.search(last) or last[:1].isupper() or not _EVALUATES.search(last):
                    continue
                if set(_data_args(call)) & set(split):
                    return call
        return None

    # --- silencers -----------------------------------------------------------------------------------
    def other_evaluations(self, scope: _Scope, split: list[str], exclude: set[str]) -> str | None:
        """Another split (not the selecting one, not training data) evaluated in the scope."""
        training = self.training_data(scope) | exclude
        for stmt, loops in scope.stmts:
            candidates: list[str] = []
            if isinstance(stmt, cst.For) and id(stmt) not in scope.training_loops:
                candidates += _iterated(stmt)
            for call in _calls(stmt):
                last = (dotted(call.func) or "").rsplit(".", 1)[-1]
                if _CONSTRUCTS.search(last) or last[:1].isupper() or _OPT_STEP.search(last) or last in _REPORT_CALLS:
                    continue
                if re.search(r"train|fit", last, re.IGNORECASE) and not re.search(r"eval|test|valid", last, re.IGNORECASE):
                    continue
                if any(isinstance(loop, cst.For) and id(loop) in scope.training_loops for loop in loops) and \
                        not re.search(r"eval|test|valid|infer|predict|score|metric", last, re.IGNORECASE):
                    continue
                candidates += _data_args(call)
            for data in candidates:
                if data not in split and data not in training and not _TRAINING.search(_leaf(data)):
                    return data
        return None

    def callers(self, scope: _Scope):
        """(caller scope, the statement that calls the scope's function) in this module."""
        short = scope.name.rsplit(".", 1)[-1]
        if scope is self.top:
            return
        for place in self.scopes:
            if place is scope:
                continue
            for stmt, _ in place.stmts:
                for call in _calls(stmt):
                    if (dotted(call.func) or "").rsplit(".", 1)[-1] == short:
                        yield place, call


def _binds_locally(scope: _Scope, name: str) -> bool:
    """Does the function have its own `name` (a parameter or an assignment without `global`)?"""
    if scope.node is None or type(scope.node) is not cst.FunctionDef or name in scope.globals:
        return False
    params = scope.node.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return True
    return any(isinstance(small, cst.Assign) and any(name in _target_names(t.target) for t in small.targets)
               for stmt, _ in scope.stmts for small in _small(stmt))


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for e in target.elements for n in _target_names(e.value)}
    text = _name_of(target)
    return {text} if text else set()


def _holds(expr: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(n is node for n in walk(expr))


def _mentions(expr: cst.CSTNode, tracked: set[str]) -> bool:
    for node in walk(expr):
        if type(node) in (cst.Name, cst.Attribute) and _name_of(node) in tracked:
            return True
    return False


def _gate(text: str) -> bool:
    lowered = text.lower()
    return "best" in lowered or "max_" in lowered or "min_" in lowered


def report_facts(ctx) -> ReportFacts | None:
    if ctx.is_test or not _gate(ctx.text):
        return None
    mod = _Module(ctx)
    facts = ReportFacts()
    tests = {s.cls for s in mod.scopes if s.name.rsplit(".", 1)[-1] == "test_step" and s.cls}
    for scope in mod.scopes:
        if scope.cls in tests:
            continue  # a Lightning module with a test step evaluates another split after selection
        done: set[str] = set()
        for node, best, metric, saves, stmt, loops in mod.selections(scope):
            split = mod.split_of(scope, metric, stmt)
            if not split or ", ".join(split) in done:  # no data evaluated: not known to be an evaluation
                continue  # `best_acc.top1` and `best_acc.top5` on one split: one finding
            training = mod.training_data(scope)
            if split and all(s in training or _TRAINING.search(_leaf(s)) for s in split):
                continue  # a best training loss, not an evaluation
            report = mod.report(scope, best, stmt)
            kind = "best"
            if report is None and (saves or mod._saves(stmt)):
                report = mod.evaluation_report(scope, split, loops[0] if loops else None)
                kind = "evaluation"
            if report is None:
                continue
            if mod.other_evaluations(scope, split, set()) is not None:
                continue
            silenced = False
            for caller, call in mod.callers(scope):
                passed = set(_data_args(call))
                if mod.other_evaluations(caller, split + sorted(passed), set()) is not None:
                    silenced = True
                    break
            if silenced:
                continue
            done.add(", ".join(split))
            again = set(_data_args(report)) if kind == "evaluation" else set(split)
            shared = [s for s in split if s in again]
            others = [s for s in split if s not in shared] if shared else []
            facts.selections.append(Selection(
                ctx.loc(node), _text(mod.module, node), best, ", ".join(shared or split), ctx.loc(report),
                ("reports the best value" if kind == "best" else "evaluates the same split again") +
                f": `{_text(mod.module, report)}`", scope.name, ", ".join(others)))
    if "load_best_model_at_end" in ctx.text:
        facts.selections.extend(_trainer_selections(ctx, mod))
    return facts if facts.selections else None


def _trainer_selections(ctx, mod: _Module) -> list[Selection]:
    """A Hugging Face `Trainer(eval_dataset=E)` whose arguments keep the best checkpoint on E
    (`load_best_model_at_end=True`), then `trainer.evaluate()` on E reported (printed, `log_metrics`,
    `save_metrics`), with no evaluation or prediction on another dataset."""
    found = []
    for scope in mod.scopes:
        keeps = None
        trainers: dict[str, str] = {}  # trainer variable -> eval dataset as written
        for stmt, _ in scope.stmts:
            for node in (n for part in _header(stmt) for n in walk(part)):
                if type(node) is cst.Arg and node.keyword is not None and node.keyword.value == "load_best_model_at_end" \
                        and type(node.value) is cst.Name and node.value.value == "True":
                    keeps = node
            for small in _small(stmt):
                if isinstance(small, cst.Assign) and type(small.value) is cst.Call and \
                        (dotted(small.value.func) or "").endswith("Trainer"):
                    evaluated = next((a.value for a in small.value.args if a.keyword is not None
                                      and a.keyword.value == "eval_dataset"), None)
                    target = _name_of(small.targets[0].target)
                    if evaluated is not None and target and _name_of(evaluated):
                        trainers[target] = _name_of(evaluated)
        if keeps is None or not trainers:
            continue
        report = None
        other = False
        for stmt, _ in scope.stmts:
            for call in _calls(stmt):
                func = call.func
                if type(func) is not cst.Attribute or _name_of(func.value) not in trainers:
                    continue
                split = trainers[_name_of(func.value)]
                given = [_name_of(a.value) for a in call.args if a.keyword is None or
                         a.keyword.value in ("eval_dataset", "test_dataset")]
                if func.attr.value == "predict" or func.attr.value == "evaluate" and any(g and g != split for g in given):
                    other = True
                elif func.attr.value == "evaluate" and report is None:
                    report = mod._reported(scope, set(), stmt, call)[0]
                    if report is not None:
                        found.append(Selection(
                            ctx.loc(keeps), "load_best_model_at_end=True", "the best checkpoint", split,
                            ctx.loc(report), f"reports the selected checkpoint's evaluation: `{_text(mod.module, report)}`",
                            scope.name))
        if other and found and found[-1].scope == scope.name:
            found.pop()
    return found
