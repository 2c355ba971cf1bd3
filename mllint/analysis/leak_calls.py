"""How the LEAK interpreter reads a call: project code or a library, the held-out data a call
creates (sources), the sinks it is (backward, fit, Trainer, schedulers, statistics), and what
its result carries."""
from __future__ import annotations

from dataclasses import replace

import libcst as cst

from . import leak_patterns as P
from .flow import (CLEAN, COND, GLOBAL, PARAM, RET, CallSite, Term, Val, derive, index, is_empty, is_held_out_split,
                   iterate, predicate_holds, terms_val, union)
from .leak_patterns import LEAK_FIT, LEAK_SELECT, LEAK_TRAIN
from .leak_syntax import arg_keys, const, receiver_name, string, text_of
from .names import dotted
from .values import str_value


class CallReader:
    """Call handling, mixed into LeakInterpreter (which provides expr, _source, _sink, frame, facts)."""

    def _path_source(self, node: cst.BinaryOperation, operands: list) -> Term | None:
        """`root / "test"` with pathlib."""
        for operand in operands:
            text = text_of(operand)
            if text and P.held_out_path(text, self.splits, bare=True):
                return self._source(operand, f"the path {text!r}")
        return None

    # --- calls ---------------------------------------------------------------------------------------
    def call(self, node: cst.Call, env: dict) -> Val:
        func = node.func
        receiver = self.expr(func.value, env) if isinstance(func, cst.Attribute) else CLEAN
        args = []
        for position, arg in arg_keys(node):
            args.append((position, self.expr(arg.value, env), arg))
        written = dotted(func) or ""
        short = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        qualified = self.ctx.names.callee(node) or written
        if short == "add_argument":
            self._option(node)
        site = self._project_callee(func, receiver, qualified, short)
        self._library_site = f"{self.ctx.rel}#{len(self.facts.calls)}" if site is not None else ""  # its key, below
        self._call_sinks(node, short, qualified, receiver, args, env)
        self._library_site = ""
        self._mutate(func, short, args, env)
        sources = self._call_sources(node, short, qualified, args, env)
        if site is not None:
            callee, offset = site
            # if the project index finds no such function (a module shadowing a library, a star import),
            # the call is read as a library call
            fallback = self._library_result(node, short, qualified, receiver, args)
            fallback = union(fallback, terms_val(sources)) if sources else fallback
            key = f"{self.ctx.rel}#{len(self.facts.calls)}"
            self._call_nodes.append((key, node))
            self.facts.calls[key] = CallSite(
                key, self.ctx.rel, callee, None,
                tuple((p, v) for p, v, _ in args if p is not None), offset, fallback, short,
            )
            cls = callee if short[:1].isupper() else None
            return Val(frozenset({Term(RET, key)}) | sources, cls=cls)
        result = self._library_result(node, short, qualified, receiver, args)
        result = union(result, terms_val(sources)) if sources else result
        if self._train_marked and not sources:
            result = replace(result, train_split=True)
        return result

    def _option(self, node: cst.Call) -> None:
        """`add_argument("--split", default="test")`: a split or train flag whose default decides the data."""
        flags = [string(a.value) for a in node.args if a.keyword is None]
        flags = [f for f in flags if f]
        default = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "default"), None)
        if not flags or default is None:
            return
        dest_arg = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "dest"), None)
        longs = [f for f in flags if f.startswith("--")] or flags
        dest = string(dest_arg) if dest_arg is not None else longs[0].lstrip("-").replace("-", "_")
        value = const(default)
        if dest and isinstance(value, (str, bool)):
            self.options[dest] = value

    def _project_callee(self, func, receiver: Val, qualified: str, short: str) -> tuple[str, int] | None:
        """(callee as written for the project index, self offset) when the call may run project code."""
        if isinstance(func, cst.Name):
            local = self.frame.local_functions.get(func.value)
            if local is not None:
                return local, 0
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and \
                func.value.value == self.frame.self_name and self.frame.cls:
            return f"{self.module}.{self.frame.cls}.{short}", 1
        if isinstance(func, cst.Attribute) and receiver.cls:
            return f"{receiver.cls}.{short}", 1
        if qualified and self.ctx.names.qualify(func) and self.ctx.is_project_name(qualified) \
                and qualified not in P.LIBRARY_APIS:
            return qualified, 0
        return None

    def _library_result(self, node: cst.Call, short: str, qualified: str, receiver: Val, args: list) -> Val:
        values = [v for p, v, _ in args]
        if short in P.CLEAN_CALLS:
            return CLEAN
        if short == "train_test_split":
            return self._train_test_split(node, receiver, args)
        if short == "enumerate":
            first = values[0] if values else CLEAN
            return Val(elem=Val(parts=(CLEAN, iterate(first))))
        if short == "zip":
            return Val(elem=Val(parts=tuple(iterate(v) for v in values)))
        if short in ("dict", "SimpleNamespace", "Namespace", "EasyDict", "edict", "namedtuple") and all(isinstance(p, str) for p, _, _ in args):
            return Val(fields=tuple((p, v) for p, v, _ in args))
        if short in ("get", "pop") and receiver.fields is not None and values and isinstance(values[0].const, str):
            return index(receiver, values[0].const)
        if short in ("next", "iter") and values:
            return iterate(values[0]) if short == "next" else values[0]
        is_method = isinstance(node.func, cst.Attribute)
        if is_method and (short in P.DATA_METHODS and not is_empty(receiver) or receiver.fields is not None):
            # a view of the receiver; a dataset dict keeps its splits through .map(), .with_transform(), ...
            kept = receiver if short not in ("items", "values") else Val(elem=iterate(receiver))
            return union(kept, *(derive(v) for v in values if v.tainted()))
        if short in P.DATA_CALLS:
            data = [v for p, v, _ in args if p == 0 or p in ("dataset", "datasets", "data", "tensors", "objs")]
            if short in P.CONCAT_CALLS or short in ("TensorDataset", "array", "stack"):
                data = [v for p, v, _ in args if isinstance(p, int) or p in ("dataset", "datasets", "tensors", "objs")]
            result = union(*(index(d, None) if short in P.CONCAT_CALLS and d.parts is not None else d for d in data))
            if isinstance(node.func, cst.Attribute):
                result = union(result, receiver)
            return replace(result, const=None) if result.const is not None else result  # data, not the path
        ctor = short if short[:1].isupper() else None
        # sizes and counts given by keyword (`num_labels=`) configure an object; they are not its data
        carried = [v for p, v, _ in args if not (isinstance(p, str) and P.CONFIG_KEYWORD.search(p))]
        result = derive(union(receiver, *carried))
        return Val(result.terms, ctor=ctor) if ctor else result

    def _train_test_split(self, node: cst.Call, receiver: Val, args: list) -> Val:
        """sklearn's function returns (train, test) per array; a HF Dataset's method a {"train", "test"} dict.
        What is carved from a known training split is a validation split, not held-out data."""
        method = isinstance(node.func, cst.Attribute) and self.ctx.names.qualify(node.func) is None
        arrays = [receiver] if method else [v for p, v, _ in args if isinstance(p, int)] or [CLEAN]
        carved = all(a.train_split for a in arrays)
        held_out = CLEAN if carved else terms_val({self._source(node, "a test output of train_test_split()")})
        pieces = [(replace(a, train_split=True), union(a if not carved else replace(a, train_split=False), held_out))
                  for a in arrays]
        if method:
            return Val(fields=(("train", pieces[0][0]), ("test", pieces[0][1])))
        return Val(parts=tuple(p for pair in pieces for p in pair))

    def _mutate(self, func, short: str, args: list, env: dict) -> None:
        """`losses.append(loss.item())`: the container now holds what was added."""
        if short in P.MUTATORS and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            added = union(*(v for _, v, _ in args))
            name = func.value.value
            if added.tainted() and name in env:
                env[name] = union(env[name], derive(added))
            elif added.tainted() and self.frame.is_module:
                env[name] = derive(added)

    def _call_sources(self, node: cst.Call, short: str, qualified: str, args: list, env: dict) -> frozenset:
        found: set[Term] = set()
        self._train_marked = False
        data_like = P.dataset_like(short)
        for position, value, arg in args:
            if position in P.TRAIN_KEYWORDS and data_like:
                term = self._split_term(node, arg.value, value, env, f"{short}({position}=False)", "false", short, position)
                if term is not None:
                    found.add(term)
            elif position in P.SPLIT_KEYWORDS and (data_like or position == "split") and (
                    position not in P.GENERIC_SPLIT_KEYWORDS or P.DATASET_LIKE.search(short)):
                term = self._split_term(node, arg.value, value, env, None, "heldout", short, position)
                if term is not None:
                    found.add(term)
            elif isinstance(position, int) and data_like and isinstance(value.const, str) and \
                    value.const.lower() in self.splits:
                found.add(self._source(node, f"{short}({value.const!r})"))
            text = text_of(arg.value) if isinstance(position, int) or position in ("root", "path", "data_files", "data_dir", "file", "filename", "path_or_buf") else None
            if text is None and isinstance(value.const, str) and isinstance(arg.value, cst.Name):
                text = value.const
            if text and (data_like or short in ("join", "Path", "open")) and \
                    P.held_out_path(text, self.splits, bare=short in ("join", "joinpath", "Path")):
                found.add(self._source(arg.value, f"the path {text!r}"))
        return frozenset(found)

    def _split_term(self, node: cst.Call, expr: cst.BaseExpression, value: Val, env: dict, label: str | None,
                    mode: str, short: str, keyword: str) -> Term | None:
        """A source when the split argument says held-out; a conditional term when a parameter decides."""
        if isinstance(value.const, bool) and mode == "false":
            self._train_marked |= value.const is True
            return self._source(node, label) if value.const is False else None
        if isinstance(value.const, str) and mode == "heldout":
            if is_held_out_split(value.const, self.splits):
                shown = repr(value.const) if string(expr) is not None else f"{self.ctx.module.code_for_node(expr)} = {value.const!r}"
                return self._source(node, f"{short}({keyword}={shown})")
            self._train_marked |= value.const.split("[", 1)[0].lower() in ("train", "training")
            return None
        written = self.ctx.module.code_for_node(expr)
        written = written if len(written) <= 40 else written[:37] + "..."
        predicate: tuple = (mode, None)
        operand = expr
        if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1 and mode == "false":
            literal = str_value(expr.comparisons[0].comparator)
            op = expr.comparisons[0].operator
            if literal is not None and isinstance(op, (cst.Equal, cst.NotEqual)):
                operand = expr.left
                # train=(split == "train") is held-out when split != "train"
                predicate = ("ne" if isinstance(op, cst.Equal) else "eq", literal)
        elif isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not) and mode == "false":
            operand, predicate = expr.expression, ("true", None)
        inner = self.expr(operand, env) if operand is not expr else value
        if isinstance(inner.const, (str, bool)) or inner.const is None and operand is not expr and const(operand) is not None:
            holds = predicate_holds(predicate, inner.const, self.splits)
            return self._source(node, f"{short}({keyword}={written})") if holds else None
        bare = [t for t in inner.terms if t.kind in (PARAM, GLOBAL) and not t.path]
        if len(bare) == 1 and not inner.parts and not inner.fields:
            src = self._source(node, f"{short}({keyword}={written})")
            return Term(COND, (bare[0], predicate, src.ref))
        return None

    def _call_sinks(self, node: cst.Call, short: str, qualified: str, receiver: Val, args: list, env: dict) -> None:
        values = {p: v for p, v, _ in args}
        is_method = isinstance(node.func, cst.Attribute)
        if short == "backward" and is_method and receiver.tainted():
            self._sink(LEAK_TRAIN, node, receiver, "the loss of `backward()`")
        elif short in ("backward", "manual_backward") and any(v.tainted() for v in values.values()):
            self._sink(LEAK_TRAIN, node, union(*values.values()), f"the loss of `{short}()`")
        elif short in P.FIT_METHODS and is_method:
            called_on = receiver_name(node.func)
            if P.PREPROCESSORS.search(receiver.ctor or "") or P.PREPROCESSORS.search(called_on):
                data = union(*(v for p, v in values.items() if p in (0, 1, "X", "x", "raw_documents", "y")))
                if data.tainted():
                    self._sink(LEAK_FIT, node, data, f"`{short}()` of a preprocessing step")
            else:
                data = union(*(v for p, v in values.items() if p in (0, 1, "x", "X", "y", "train_dataloaders",
                                                                     "train_dataloader", "datamodule", "dataset")))
                if data.tainted():
                    self._sink(LEAK_TRAIN, node, data, f"`{short}()`")
                validation = values.get("validation_data")
                if validation is not None and validation.tainted() and "callbacks" in values:
                    self._sink(LEAK_SELECT, node, validation, "is the validation data of `fit()` with callbacks")
        elif short in P.VOCAB_CALLS:
            data = union(*values.values())
            if data.tainted():
                self._sink(LEAK_FIT, node, data, f"`{short}()`")
        elif short in P.STAT_METHODS and is_method and receiver.tainted() and self._assigned(node) and not self._in_forward():
            self._sink(LEAK_FIT, node, receiver, f"statistics (`.{short}()`)", raw_only=True)
        elif qualified in P.STAT_FUNCS and values.get(0) is not None and values[0].tainted() and self._assigned(node) \
                and not self._in_forward():
            self._sink(LEAK_FIT, node, values[0], f"statistics (`{short}()`)", raw_only=True)
        elif short.endswith("Trainer"):
            train = values.get("train_dataset")
            if train is not None and train.tainted():
                self._sink(LEAK_TRAIN, node, train, "`train_dataset` of a Trainer")
            evaluation = values.get("eval_dataset")
            if evaluation is not None and evaluation.tainted() and (self.load_best or "callbacks" in values):
                self._sink(LEAK_SELECT, node, evaluation, "is the `eval_dataset` of a Trainer that keeps the best model")
        elif short == "step" and is_method and values.get(0) is not None and values[0].tainted() and (
            P.SCHEDULER_NAME.search(receiver_name(node.func)) or "Plateau" in (receiver.ctor or "")
        ):
            self._sink(LEAK_SELECT, node, values[0], "drives a learning-rate schedule (`ReduceLROnPlateau`)")
        elif (P.EARLY_STOP_CALL.search(short) or P.EARLY_STOP_CALL.search(receiver_name(node.func)) or
              "EarlyStopping" in (receiver.ctor or "")) and any(v.tainted() for v in values.values()):
            self._sink(LEAK_SELECT, node, union(*values.values()), "drives early stopping")

    def _in_forward(self) -> bool:
        """Statistics inside a model's forward pass are layers (normalisation), not fitted preprocessing."""
        last = self.frame.qual.rsplit(".", 1)[-1]
        return last.startswith(("forward", "_forward")) or last == "__call__"

    def _assigned(self, node: cst.Call) -> bool:
        """Statistics only matter when kept (`mean = x.mean()`), not when printed."""
        return self.assigning
