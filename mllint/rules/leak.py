"""LEAK: held-out (test) data reaching training, model selection or fitted statistics."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ..analysis.flow import Atom, FlowFacts, Resolver, Sink, reach
from ..analysis.leak_patterns import LEAK_FIT, LEAK_SELECT, LEAK_TRAIN
from ..analysis.names import module_dotted_name
from ..config import DEFAULT_HELD_OUT_SPLITS
from ..findings import Finding, Related, Severity
from ..project import Project
from .base import Rule, extractor

if TYPE_CHECKING:
    from ..context import ModuleContext


@extractor("leak")
def extract_leak_facts(ctx: ModuleContext) -> FlowFacts | None:
    from ..analysis.leak_facts import LeakInterpreter  # the interpreter is not needed when every file is cached

    if ctx.is_test:
        return None  # unit tests build tiny "test" datasets on purpose
    facts = LeakInterpreter(ctx).run()
    facts.globals = {k: v for k, v in facts.globals.items() if v.tainted() or v.const is not None}
    if not (facts.sources or facts.sinks or facts.calls or facts.attrs or facts.globals
            or any(f.returns.tainted() for f in facts.functions.values())):
        return None
    return facts


def analyse(project: Project) -> list[tuple[Sink, list[Atom], Resolver]]:
    """Every sink reached by held-out data, with the chains that reach it (shared by the 3 rules)."""
    return project.shared("leak", _analyse)


def _analyse(project: Project) -> list[tuple[Sink, list[Atom], Resolver]]:
    facts = {result.rel: f for result, f in project.facts("leak")}
    held_out = next((f.splits for f in facts.values() if f.splits), DEFAULT_HELD_OUT_SPLITS)
    resolver = Resolver(facts, project.resolve, module_dotted_name, held_out)
    monitored = {project.unit_of(rel) for rel, f in facts.items() if f.monitors}
    sinks = [
        sink for rel, f in facts.items() for sink in f.sinks
        if not sink.needs_monitor or any(project.covers(unit, rel) for unit in monitored)
    ]
    reached = reach(resolver, sinks)
    return [(sinks[i], atoms, resolver) for i, atoms in sorted(reached.items())]


def _related(atom: Atom, resolver: Resolver) -> list[Related]:
    source = resolver.source(atom.source)
    related = [Related(source.loc, f"held-out data: {source.what}")]
    for hop in atom.hops:
        site = resolver.calls.get(hop.site)
        if site is not None and site.loc is not None and site.loc.line:
            related.append(Related(site.loc, hop.message))
    return related


class _LeakRule(Rule):
    severity = Severity.ERROR
    needs = ("leak",)
    sink_code = ""

    def message(self, sink: Sink, what: str) -> str:
        raise NotImplementedError

    def check_project(self, project: Project) -> Iterator[Finding]:
        reported: set[tuple] = set()
        reached = [r for r in analyse(project) if r[0].code == self.code]
        reached.sort(key=lambda r: (r[0].loc.path, r[0].loc.cell or 0, r[0].loc.line, r[0].loc.column))
        for sink, atoms, resolver in reached:
            # one selection is often written three ways in a row (`is_best = ...`, `best = max(...)`,
            # `if is_best: save`): report the first per function and source
            key = (sink.scope, atoms[0].source)
            if self.code == LEAK_SELECT and key in reported:
                continue
            reported.add(key)
            first = atoms[0]
            source = resolver.source(first.source)
            message = self.message(sink, source.what)
            others = {a.source for a in atoms} - {first.source}
            if others:
                message += f" (+{len(others)} more held-out source{'s' if len(others) > 1 else ''})"
            yield self.finding(sink.loc, message, related=_related(first, resolver))


class TestSplitInTraining(_LeakRule):
    code, name = LEAK_TRAIN, "test-split-in-training"
    summary = "Held-out (test) data is trained on: its loss reaches backward(), or it is given to fit() or a Trainer."
    hint = ("Train only on the training split. If you meant to train on more data, carve a validation split from "
            "the training data and keep the test set for the one final evaluation.")

    def message(self, sink: Sink, what: str) -> str:
        return f"held-out data is trained on: {sink.what} comes from {what}"


class TestSplitSelectsModel(_LeakRule):
    code, name = LEAK_SELECT, "test-split-selects-model"
    summary = ("A metric computed on held-out data selects the model: checkpoint saving, the best epoch, early "
               "stopping, a learning-rate schedule or a hyper-parameter search.")
    hint = ("Select on a validation split carved from the training data (e.g. random_split of the training set), "
            "and evaluate the chosen model once on the test set; or keep the last epoch's model.")

    def message(self, sink: Sink, what: str) -> str:
        return f"a metric on held-out data selects the model: computed on {what}, it {sink.what}"


class TestSplitInFitting(_LeakRule):
    code, name = LEAK_FIT, "test-split-in-fitting"
    summary = ("Statistics, scalers, vocabularies or tokenizers are fitted on held-out data, or on a concatenation "
               "of training and held-out data.")
    hint = ("Fit normalisation statistics, scalers and vocabularies on the training split only, then apply them "
            "unchanged to the validation and test splits.")

    def message(self, sink: Sink, what: str) -> str:
        return f"preprocessing is fitted on held-out data: {sink.what} on {what}"


RULES = [TestSplitInTraining, TestSplitSelectsModel, TestSplitInFitting]
