"""EVAL's project phase: the modules' evaluation facts combined by the names they call (does a caller set
`eval()` or turn gradients off, is a helper's switch ever turned off), and averaged weights followed to the
evaluated model by the data-flow engine (flow_project.solve)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.calls import CallIndex, alternatives, qualify
from ...findings import Finding, Related
from .extract import DATA, EVAL_NAME, KEEPS, METHOD, PRESENTS, SCORES, Switch
from .extract import LIGHTNING_EVAL, LIGHTNING_LOOPS

if TYPE_CHECKING:
    from ...project import Project
    from .extract import EvalCall, EvalFacts, Site

MAX_DEPTH = 4


class Index:
    """Every module's evaluation facts, looked up by the names functions are called by."""

    def __init__(self, modules: list, project: Project) -> None:
        self.modules = modules  # [(FileResult, EvalModule)]
        self.project = project
        self.rel_of: dict[int, str] = {}  # id(call) -> the module it is in
        self.callers: CallIndex[EvalCall] = CallIndex()  # by the name they call
        self.calls_of: dict[str, set[str]] = {}  # caller's qual -> the names it calls
        self.eval_setters: set[str] = set()
        self.restorers: set[str] = set()
        self.grad_helpers: set[str] = set()
        # functions and plain classes' methods -> does one run a model on data with gradients on
        self.plain_defs: dict[str, bool] = {}
        self.model_methods: set[str] = set()
        self.bn = self.trains = False
        self.toplevel: set[str] = set()
        self.roles: dict[str, int] = {}  # qual -> SCORES | PRESENTS | DATA
        self.calls_in: dict[str, list] = {}  # scope -> the calls made there
        self._scoring_memo: dict[str, bool] = {}
        for result, module in modules:
            facts: EvalFacts = module.facts
            self.toplevel |= getattr(facts, "toplevel", set())
            self.roles.update(getattr(facts, "roles", {}))
            for site in facts.calls:
                self.calls_in.setdefault(site.scope, []).append(site)
                self.callers.add(site)
                self.rel_of[id(site)] = result.rel
                self.calls_of.setdefault(site.scope, set()).add(site.name)
            self.eval_setters |= facts.eval_setters
            self.restorers |= getattr(facts, "restorers", set())
            self.grad_helpers |= facts.grad_helpers
            for name, forwards in getattr(facts, "plain_defs", {}).items():
                self.plain_defs[name] = self.plain_defs.get(name, False) or forwards
            self.model_methods |= getattr(facts, "model_methods", set())
            self.bn |= facts.bn
            self.trains |= facts.trains

    def _callers(self, name: str, qual: str) -> list:
        """Call sites of the function: by name, unless the call resolves to another function."""
        return [c for c in self.callers.named(name) if c.scope != qual and self._runs(c, qual)]

    def _runs(self, c: EvalCall, qual: str) -> bool:
        """Does the call (named as the function) run it? A method of an object may, unless the function is a
        module's top-level one; a name the module's imports or definitions qualify runs the project function
        that name resolves to (core/calls.py), and nothing else; an unqualified name (a local) may."""
        if c.target == METHOD:
            return qual not in self.toplevel and self._dispatches(c, qual)
        if not c.target:
            return True
        rel = self.rel_of[id(c)]
        if qualify(self.project, rel, c.target) == qual:
            return True
        # a name imported on two branches (`from a import f` / `from b import f`) runs either
        return not c.attribute and qual in alternatives(self.project, rel, c.name)

    def _dispatches(self, c: EvalCall, qual: str) -> bool:
        """Can `self.name()` in a method of class C run the method `qual` of class D? Only when D is C, an
        ancestor of C (inherited) or a descendant (overridden, dispatched on the instance): `self.test()` in
        `SRModel` does not run the unrelated `StyleGAN2Model.test` (core/classes.py). Classes the project does
        not define decide nothing."""
        from ...core.classes import hierarchy

        caller = getattr(c, "own_class", "")
        owner = qual.rsplit(".", 1)[0]
        classes = hierarchy(self.project)
        if not caller or not classes.known(caller) or not classes.known(owner):
            return True
        return classes.related(caller, owner)

    def covered(self, name: str, qual: str, test, depth: int = 0, guards: tuple = ()) -> bool:
        """Does every path into the function run under `test` (a caller's property)? Callers are found by
        name; a function nobody calls is covered (a framework calls it, or nothing does). `guards`: the
        `if kind == "val":` tests on the function's parameters that the path into it sits under; a caller
        passing another literal (`self.loop("train")`) is not on the path."""
        return self.uncovered(name, qual, test, depth, guards) is None

    def uncovered(self, name: str, qual: str, test, depth: int = 0, guards: tuple = ()) -> EvalCall | None:
        """The call into the function (from its nearest caller) on a path that does not run under `test`, or None
        (covered)."""
        callers = [c for c in self._callers(name, qual) if _on_path(c, guards)]
        if not callers or depth >= MAX_DEPTH:
            return None
        for caller in callers:
            if test(caller):
                continue
            outer = caller.scope.rsplit(".", 1)[-1]
            if outer in LIGHTNING_LOOPS and caller.scope not in self.toplevel and not self._callers(outer, caller.scope):
                continue  # a hook Lightning's evaluation loops call: in eval mode, without gradients
            if outer == "<module>" or not self._callers(outer, caller.scope):
                return caller
            inner = tuple(s for s in caller.switches if s.family == "guard")
            if self.uncovered(outer, caller.scope, test, depth + 1, inner) is not None:
                return caller
        return None

    def project_call(self, method: str) -> bool:
        """Is `obj.method(...)` a call of project code rather than a model: the project defines `method` only as a
        function or a method of a class that is no model (`RunManager.net_latency`, `Separation.inference`), and
        none of those definitions runs a model on data with gradients on (none at all, or only under `no_grad`), or
        it is named as an evaluation itself (`inference()`, reported where it is defined, not again at each call)?
        What such code does is judged where it is defined."""
        return method in self.plain_defs and method not in self.model_methods and \
            (not self.plain_defs[method] or bool(EVAL_NAME.match(method)))

    def in_eval_mode(self, caller: EvalCall) -> bool:
        """The caller puts the model in evaluation mode: it calls `.eval()`, the callee sets it, or the caller
        calls a project function that does (`model = get_model(train=False)`, whose body calls `model.eval()`)."""
        return caller.sets_eval or caller.name in self.eval_setters or \
            any(name in self.eval_setters for name in self.calls_of.get(caller.scope, ()))

    def outside_evaluation(self, name: str, qual: str, depth: int = 0) -> bool:
        """Is the function called only from code that computes or reports no metric, on every path: a
        helper that only a `__main__` demo (rendering an image) or a plotting cell calls? A function nobody
        calls (a model's `forward`, a framework's hook) is undecided, so not outside."""
        callers = self._callers(name, qual)
        if not callers or depth >= MAX_DEPTH:
            return False
        for caller in callers:
            if caller.evaluates:
                return False
            outer = caller.scope.rsplit(".", 1)[-1]
            if outer != "<module>" and not self.outside_evaluation(outer, caller.scope, depth + 1):
                return False
        return True

    def feeds_training(self, name: str, qual: str) -> bool:
        """Is the function called, and on every path up its callers reached from code that trains, none named for
        evaluation: a loss helper that the training step back-propagates (`calculate_NCE_loss()` called by
        `compute_G_loss()`, called by `optimize_parameters()`, which calls `backward()`)?"""
        def decide(q: str, depth: int) -> bool | None:
            outer = q.rsplit(".", 1)[-1]
            if depth == 0:
                return None  # the function itself: its callers decide
            if EVAL_NAME.match(outer) or outer in LIGHTNING_EVAL:
                return False
            return True if self._trains(q) else None

        return self._every_path(name, qual, decide, self._trains)

    def _trains(self, scope: str) -> bool:
        """Does the code of this scope train (a backward pass or an optimiser step of its own)?"""
        return any(c.trains for c in self.calls_in.get(scope, ()))

    def only_training_calls(self, name: str, qual: str) -> bool:
        """Is the function called, and only by code that trains and is no evaluation (a training loop computing
        features to cluster, a module-level script estimating a matrix from the training set)?"""
        callers = self._callers(name, qual)
        return bool(callers) and all(c.trains and not c.evaluates for c in callers)

    def prediction_only(self, name: str, qual: str) -> bool:
        """Are the function's predictions only shown, drawn, saved or printed, never scored: neither it nor any
        caller up its call paths computes a metric, compares with targets, loops over a loader or a held-out
        folder, or trains, and it or its callers on every path present the outputs (a demo predicting one image,
        drawing poses on video frames)? Predictions saved in a loop over a test set, or scored by the caller
        (`test(...)` then `cal_acc(...)`), are evaluation."""
        return self.shown_only(qual) or self._quiet(name, qual, 0) and self._presented(name, qual, 0)

    def shown_only(self, qual: str) -> bool:
        """Does the function only show what the model makes of its inputs: it prints, draws or saves the outputs,
        computes no metric, reads no data of its own, and hands nothing on (no return value, nothing stored), so
        no caller can score it, whatever the caller does (a tutorial's `test()` printing a forward on a word it
        spells, called before the training loop)?"""
        return self.roles.get(qual, 0) & (SCORES | PRESENTS | DATA | KEEPS) == PRESENTS

    def scoring(self, qual: str, depth: int = 0) -> bool:
        """Does the code score predictions, itself or through a project function it calls (`evaluate_detections()`
        computing the mAP of the detections it wrote), or loop over data (a loader, a held-out split, a folder) or
        train, itself? A callee's loop (building a gallery from a folder) scores nothing."""
        if self.roles.get(qual, 0) & (SCORES | DATA if depth == 0 else SCORES):
            return True
        if depth >= 2:
            return False
        known = self._scoring_memo.get(qual) if depth == 0 else None
        if known is not None:
            return known
        found = False
        for call in self.calls_in.get(qual, ()):
            if call.target and call.target != METHOD:
                callee = qualify(self.project, self.rel_of[id(call)], call.target)
                if callee and callee != qual and self.scoring(callee, depth + 1):
                    found = True
                    break
        if depth == 0:
            self._scoring_memo[qual] = found
        return found

    def _quiet(self, name: str, qual: str, depth: int) -> bool:
        return self._every_path(name, qual, lambda q, d: False if self.scoring(q) or d >= MAX_DEPTH else None,
                                lambda scope: not self.scoring(scope), depth, nobody=True)

    def rendered_only(self, name: str, qual: str, depth: int = 0) -> bool:
        """Are the function's outputs only rendered: it computes no metric, and on every path up its callers a
        caller that shows, draws or saves them comes before any that scores (a GAN's `test()` generating a fixed
        sample that the validation hook only writes as an image)? Stricter than `prediction_only` about what is
        shown, looser about training callers: a training loop that calls the rendering is not scoring it."""
        def decide(q: str, _: int) -> bool | None:
            role = self.roles.get(q, 0)
            return False if role & SCORES else True if role & PRESENTS else None

        return self._every_path(name, qual, decide,
                                lambda scope: self.roles.get(scope, 0) & (SCORES | PRESENTS) == PRESENTS, depth)

    def _presented(self, name: str, qual: str, depth: int) -> bool:
        return self._every_path(name, qual, lambda q, _: True if self.roles.get(q, 0) & PRESENTS else None,
                                lambda scope: bool(self.roles.get(scope, 0) & PRESENTS), depth)

    def _every_path(self, name: str, qual: str, decide, module_ok, depth: int = 0, nobody: bool = False) -> bool:
        """Does every path up the function's callers satisfy a test? `decide(qual, depth)` answers for a function
        whose own code settles it (None: ask its callers); module-level code is judged by `module_ok(scope)`; a
        function nobody calls (or one too deep) gives `nobody`."""
        found = decide(qual, depth)
        if found is not None:
            return found
        callers = self._callers(name, qual)
        if not callers or depth >= MAX_DEPTH:
            return nobody
        for caller in callers:
            outer = caller.scope.rsplit(".", 1)[-1]
            if outer == "<module>":
                if not module_ok(caller.scope):
                    return False
            elif not self._every_path(outer, caller.scope, decide, module_ok, depth + 1, nobody):
                return False
        return True

    def list_switched(self, caller: EvalCall, param: tuple) -> bool:
        """Does the caller pass a one-element list for the scales parameter, longer only behind a working
        switch (`scales = [1]; if multiscale: scales = [...]`, `multiscale` off by default)?"""
        name, position = param
        for index, keyword, switch in getattr(caller, "lists", ()):
            if keyword == name or not keyword and index == position:
                return switch is None or self.switch_works(switch, caller.scope.rsplit(".", 1)[-1], caller.scope)[0]
        for index, keyword, path in getattr(caller, "configs", ()):
            if keyword == name or not keyword and index == position:
                return self.config_off(path, self.rel_of.get(id(caller), ""))
        return False

    def config_off(self, path: str, rel: str) -> bool:
        """Is the config key a caller passes (`config.TEST.SCALE_LIST`) off where the project defines it: every
        defining value in code (yacs `_C.TEST.SCALE_LIST = [1]`, a config class's field, a config dict) a
        one-element list or False? A config file or a command-line override turns it on: a switch."""
        from ...core.config_model import ATTRIBUTE, CALL, DICT, FIELD, MODULE, ConfigModel

        project = self.project
        model = project.shared("eval-configs", lambda p: ConfigModel(
            {r.rel: f for r, f in p.facts("eval_configs") if f}, p.root, p.files))
        unit = project.unit_of(rel) if rel else None
        found = model.resolve(path, where=None if unit is None else (lambda where, _: project.covers(unit, where)),
                              kinds=(ATTRIBUTE, FIELD, MODULE, CALL, DICT))
        return bool(found) and all(d.value.value is False or isinstance(d.value.value, tuple) and
                                   len(d.value.value) == 1 for d in found)

    def switch_works(self, switch: Switch, function: str, qual: str) -> tuple[bool, str]:
        """A parameter switch works when its default is off, or a caller passes another value."""
        if not switch.working:
            return False, switch.why
        if not switch.param:
            return True, ""
        if switch.default is not True:
            return True, ""
        callers = self._callers(function, qual)
        if not callers and function not in ("forward", "__call__"):
            return True, ""  # nothing in the project calls it (a model's forward runs as `model(x)`): its user's switch
        for caller in callers:
            passed = dict(caller.passed)
            if switch.param in passed and passed[switch.param] is not True:
                return True, ""
            position = getattr(switch, "position", -1)
            if switch.param not in passed and 0 <= position < len(caller.literals) and caller.literals[position] is not True:
                return True, ""  # `validate(loader, model, args.flip)`: passed by position
        return False, f"the helper default `{switch.param}=True` is never overridden by a caller"


def eval_findings(project: Project, rules: dict[str, Any]) -> dict[str, list[Finding]]:
    modules = [(result, module) for result, module in project.facts("eval")]
    units: dict[str, list] = {}  # names are looked up within a unit (a folder with a README, pyproject...)
    for result, module in modules:
        units.setdefault(project.unit_of(result.rel), []).append((result, module))
    indexes = {unit: Index(members, project) for unit, members in units.items()}
    out: dict[str, list[Finding]] = {code: [] for code in rules}
    for result, module in modules:
        index = indexes[project.unit_of(result.rel)]
        facts = module.facts
        for function in facts.functions:
            _modes(index, facts, function, rules, out)
        for loc, model, function, helpers in getattr(facts, "after_helpers", ()):
            local = {q.rsplit(".", 1)[-1] for q in getattr(facts, "toplevel", ())}
            # a helper the module defines itself is that one (`attack_pgd` of utils_plus.py, not train.py's)
            restoring = [h for h in helpers if h in index.restorers and (h not in local or h in facts.restorers)]
            if restoring and index.bn:
                out["EVAL004"].append(rules["EVAL004"].finding(
                    loc, f"`{restoring[0]}()`, called in `{function}()` after `.eval()`, ends with `.train()`: "
                         f"`{model}` then evaluates in training mode (batch-norm and dropout on)"))
        for loc, model, where, grad_off in getattr(facts, "loop_modes", ()):
            if facts.bn and not facts.module_eval:  # the module's own layers or models: a script holds its model
                out["EVAL004"].append(rules["EVAL004"].finding(
                    loc, f"`{model}` is evaluated {where}, which never calls `.eval()`: batch-norm and dropout stay "
                         "in training mode for the reported number"))
            if not grad_off and not facts.module_grad_off:
                out["EVAL005"].append(rules["EVAL005"].finding(
                    loc, f"`{model}` is evaluated {where} with gradients on (no `no_grad`/`inference_mode`)"))
        if not facts.module_grad_off:
            for loc, model, where, qual in getattr(facts, "inline", ()):
                if index.prediction_only(qual.rsplit(".", 1)[-1], qual):
                    continue  # a script that predicts one image and shows it: not evaluation
                out["EVAL005"].append(rules["EVAL005"].finding(
                    loc, f"`{model}` is evaluated {where} with gradients on (no `no_grad`/`inference_mode`)"))
        for site in facts.tta:
            _gated_site(index, site, "tta", rules["EVAL003"], out["EVAL003"], "test-time augmentation", result.rel)
        for site in facts.ensembles:
            _gated_site(index, site, "ensemble", rules["EVAL002"], out["EVAL002"], "an ensemble", result.rel)
        for site in facts.averaged:
            if site.both or index.rendered_only(site.function, site.qual):
                continue  # the raw model's number beside it, or averaged weights that only render samples
            works, why = (index.switch_works(site.switch, site.function, site.qual) if site.switch is not None
                          else (False, ""))
            if works:
                continue
            message = f"averaged weights are evaluated: {site.what}" + (f" ({why}, so it is no switch)" if why else "")
            out["EVAL001"].append(rules["EVAL001"].finding(site.loc, message, related=_related(site)))
    out["EVAL001"].extend(_averaged_flow(project, modules, rules["EVAL001"], indexes))
    for code in out:
        out[code].sort(key=lambda f: (f.loc.path, f.loc.cell or 0, f.loc.line, f.loc.column))
    return out


def _related(site: Site) -> list:
    return [Related(loc, message) for loc, message in site.related]


def _modes(index: Index, facts: EvalFacts, function, rules: dict, out: dict) -> None:
    qual, name = function.qual, function.name
    if index.prediction_only(name, qual):
        return  # a demo's prediction, shown or saved and scored nowhere: not evaluation
    if function.via and all(index.project_call(method) for method in function.via):
        return  # its "forward" is a project method that runs no model (`run_manager.net_latency()`)
    if getattr(function, "by_shape", False) and (index.only_training_calls(name, qual)
                                                 or index.outside_evaluation(name, qual)):
        return  # a pass over data that only training code calls (features to cluster, a matrix to estimate)
    if not function.sets_eval and not facts.module_eval and index.bn and index.trains \
            and not any(c in index.eval_setters for c in function.calls) \
            and index._callers(name, qual) \
            and (path := index.uncovered(name, qual, index.in_eval_mode)) is not None:
        out["EVAL004"].append(rules["EVAL004"].finding(
            function.loc, f"`{name}()` evaluates `{function.model_text}` without `.eval()` here, in a helper or in "
            f"its callers{_path_note(index, name, qual, index.in_eval_mode, path)}: batch-norm and dropout stay in "
            f"training mode", related=[Related(function.model_call, "the model is run here")]))
    grad_off = function.grad_off or function.needs_grad or facts.module_grad_off or \
        any(d in index.grad_helpers for d in function.decorators)
    if grad_off or not index._callers(name, qual):
        return
    path = index.uncovered(name, qual, _grad_off)
    if path is None:
        return
    if function.volatile is not None:
        message = (f"`{name}()` relies on `volatile=True` to turn gradients off: a no-op since PyTorch 0.4, so "
                   f"evaluation tracks gradients")
        related = [Related(function.volatile, "volatile=True here")]
    else:
        message = f"`{name}()` evaluates `{function.model_text}` with gradients on (no `no_grad`/`inference_mode`" \
                  f"{_path_note(index, name, qual, _grad_off, path)})"
        related = [Related(function.model_call, "the model is run here")]
    out["EVAL005"].append(rules["EVAL005"].finding(function.loc, message, related=related))


def _grad_off(caller: EvalCall) -> bool:
    return caller.grad_off


def _path_note(index: Index, name: str, qual: str, test, path: EvalCall) -> str:
    """Where the unguarded path enters, when another caller does run the function under `test`: the finding
    then reads as false unless it names the path (`validate()` under `no_grad` in the loop, bare under
    `--evaluate`)."""
    if not any(test(c) for c in index._callers(name, qual)):
        return ""
    outer = path.scope.rsplit(".", 1)[-1]
    where = "the module's top-level code" if outer == "<module>" else f"`{outer}()`"
    return f" on the path through {where}"


def _gated_site(index: Index, site: Site, family: str, rule, out: list, what: str, rel: str = "") -> None:
    """A TTA or ensemble site, unless a working switch gates it where it is or in every caller of its helper."""
    why = ""
    if not site.evaluates and (index.outside_evaluation(site.function, site.qual)
                               or index.feeds_training(site.function, site.qual)):
        return  # its callers decide, and none of them computes or reports a metric with it, or all train with it
    if index.prediction_only(site.function, site.qual):
        return  # a demo's prediction, shown or saved and scored nowhere: not evaluation
    if site.switch is not None:
        works, why = index.switch_works(site.switch, site.function, site.qual)
        if works:
            return
    elif getattr(site, "config_list", "") and index.config_off(site.config_list, rel):
        return  # `scales = cfg.TEST.SCALES`, `[1.0]` wherever the project defines it: a config switch, off
    elif not index._callers(site.function, site.qual):
        if site.function not in LIGHTNING_EVAL and site.function != "<module>":
            return  # nothing calls it (or a framework does, with its own switches): nothing says it runs
    else:
        callers = index._callers(site.function, site.qual)
        dead = ""
        for caller in callers:
            switches = [s for s in caller.switches if s.family == family]
            if not switches and site.list_param and index.list_switched(caller, site.list_param):
                continue  # `infer(net, img, scales)` with `scales = [1]` unless `--multiscale`
            if not switches:
                break
            works, reason = index.switch_works(switches[-1], caller.scope.rsplit(".", 1)[-1], caller.scope)
            if not works:
                dead = reason
                break
        else:
            return  # every caller runs it behind a working switch
        why = dead
    message = f"{what} at evaluation: {site.what}" + (f" ({why}, so it is no switch)" if why else "")
    out.append(rule.finding(site.loc, message, related=_related(site)))


def _averaged_flow(project: Project, modules: list, rule, indexes: dict) -> list[Finding]:
    """EVAL001 through the data flow: an averaged-weights object reaching the model called in evaluation code."""
    from ...dataflow.solve import chain_related, solve

    files = {result.rel: module.flow for result, module in modules if module.flow is not None}
    kept = [(rel, i) for rel, f in files.items() for i, sink in enumerate(f.sinks) if sink.val.tainted()]
    if not kept or not any(f.notes.get("averaged") for f in files.values()):
        return []  # no averaged weights built anywhere in the project

    def report(found: list, resolver) -> dict[str, list[Finding]]:
        findings = []
        done: set = set()
        through = {(a.source, hop.site) for sink, atoms in found if not sink.requires for a in atoms for hop in a.hops}
        # a function's own forward of the averaged model says more than the model handed to a call named like an
        # evaluation in it (`with ctx_noparamgrad_and_eval(self.wa_model):` before `self.wa_model(x)`)
        for sink, atoms in sorted(found, key=lambda pair: bool(pair[0].requires)):
            if sink.requires.startswith("arg-of:") and any(
                    (a.source, sink.requires[len("arg-of:"):]) in through for a in atoms):
                continue  # the evaluation inside the function, reached through this call, is reported
            # a construction (`ModelEMA(...)`) says more than a name; the engine's order is by source position
            atom = min(atoms, key=lambda a: "named as" in resolver.source(a.source).what)
            if (sink.scope, atom.source) in done:
                continue
            if any(hop.site in (files[hop.site.rpartition("#")[0]].notes.get("switched") or ())
                   for hop in atom.hops if hop.site.rpartition("#")[0] in files):
                continue
            if _both_reported(sink, atom, files, resolver) or _labelled(sink, atom, files):
                continue
            rel = _rel_of(files, sink)
            if rel and indexes[project.unit_of(rel)].rendered_only(sink.scope.rsplit(".", 1)[-1], sink.scope):
                continue  # averaged weights that only render samples
            done.add((sink.scope, atom.source))
            source = resolver.source(atom.source)
            message = f"averaged weights are evaluated: {sink.what} is the averaged model {source.what}"
            dead = _dead_switch(files, [atom.source[0], sink.loc and rel] +
                                [hop.site.rpartition("#")[0] for hop in atom.hops])
            if dead:
                message += f"; the switch is no switch: {dead}"
            findings.append(rule.finding(sink.loc, message,
                                         related=chain_related(atom, resolver, "averaged weights built here")))
        return {rule.code: findings}

    return solve(project, "eval", files, kept, lambda predicate, value: None, None, report).get(rule.code, [])


def _labelled(sink, atom, files: dict) -> bool:
    """The averaged model is handed to an evaluation whose result is named for it (`swa_res = eval(loader,
    swag_model)`): the reported number says it is the averaged model's."""
    sites = [hop.site for hop in atom.hops if hop.message.startswith("passed to")]
    if sink.requires.startswith("arg-of:"):
        sites.append(sink.requires[len("arg-of:"):])  # the model handed to the evaluation call itself
    for site in sites:
        f = files.get(site.rpartition("#")[0])
        if f is not None and site in (f.notes.get("labelled") or ()):
            return True
    return False


def _rel_of(files: dict, sink) -> str:
    for rel, f in files.items():
        if any(s is sink for s in f.sinks):
            return rel
    return ""


def _dead_switch(files: dict, rels: list) -> str:
    for rel in rels:
        f = files.get(rel) if rel else None
        for _, why in (f.notes.get("dead") or ()) if f is not None else ():
            return why
    return ""


def _both_reported(sink, atom, files: dict, resolver) -> bool:
    """The raw model is evaluated beside the averaged one: another model call in the same evaluation function
    that the averaged weights do not reach, or the same function called with another model."""
    rel = _rel_of(files, sink)
    for other in files[rel].sinks if rel else ():
        if other is not sink and other.scope == sink.scope and other.code == sink.code and other.what != sink.what:
            if not any(a.source == atom.source for a in resolver.atoms(other.val)):
                return True
    hop = next((h for h in atom.hops if h.message.startswith("passed to") and h.message.endswith("`")), None)
    first = resolver.call(hop.site) if hop is not None else None
    if first is None:
        return False
    func, offset = resolver.callee(first)
    facts = resolver.facts(first.rel)
    if func is None or facts is None:
        return False
    name = hop.message.rsplit("`", 2)[-2]
    if not name or name not in func.params:
        return False
    position = func.params.index(name)
    for site in facts.calls.values():
        if site is first or site.dotted != first.dotted or not _near(site.loc, first.loc):
            continue  # another evaluation far away (the final test of a saved checkpoint) is not beside it
        passed = resolver.argument(site, func, offset, position, name)
        if passed is not None and not any(a.source == atom.source for a in resolver.atoms(passed)):
            return True
    return False


def _near(a, b, lines: int = 25) -> bool:
    return a is not None and b is not None and a.cell == b.cell and abs(a.line - b.line) <= lines


def _on_path(caller: EvalCall, guards: tuple) -> bool:
    """Does the call pass what the guards on the path ask for (or something unknown)?"""
    for guard in guards:
        index, literal = guard.default
        passed = dict(caller.passed).get(guard.param, "?")
        if passed == "?" and 0 <= index < len(caller.literals):
            passed = caller.literals[index]
        if passed != "?" and passed != literal:
            return False
    return True
