"""LEAK: held-out (test) data reaching training, model selection or fitted statistics."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ...dataflow.families import family, interpretation
from ...dataflow.solve import chain_related
from .patterns import LEAK_FIT, LEAK_REPORT, LEAK_SELECT, LEAK_TRAIN
from ...findings import Finding, Loc, Related, Severity
from ...project import Project
from ..base import Rule, aux_extractor, extractor

if TYPE_CHECKING:  # the data-flow modules load when a cached file is read or the resolution runs, not at start-up
    from .configs import Hit
    from ...dataflow.terms import FlowFacts, Sink
    from ...dataflow.resolve import Atom, Resolver
    from ...context import ModuleContext


@family("leak")
def _leak_lane(ctx: ModuleContext):
    """LEAK's lane of the module's one interpretation (dataflow/families.py)."""
    if ctx.is_test:
        return None  # unit tests build tiny "test" datasets on purpose
    from .domain import LeakDomain, held_out_splits  # the interpreter is not needed when every file is cached

    return LeakDomain(held_out_splits(ctx.options("LEAK")))


@extractor("leak")
def extract_leak_facts(ctx: ModuleContext) -> FlowFacts | None:
    found = interpretation(ctx, "leak")
    if found is None:
        return None
    facts = found[0]
    facts.globals = {k: v for k, v in facts.globals.items() if v.tainted() or v.const is not None}
    if not (facts.sources or facts.sinks or facts.calls or facts.attrs or facts.globals
            or facts.notes.get("config_names") or any(f.returns.tainted() for f in facts.functions.values())):
        return None
    return facts


@extractor("leak-report")
def extract_report_facts(ctx: ModuleContext):
    """LEAK004: running bests over evaluations and where they are reported (report.py)."""
    from .report import report_facts

    return report_facts(ctx)


@aux_extractor("leak")
def config_file(path: str, rel: str, display: str):
    """YAML/JSON/TOML files, read in the project phase only if a module names them (config_values.py)."""
    from .configs import read_config_file

    return read_config_file(path, rel, display)


def findings(project: Project) -> dict[str, list[Finding]]:
    """The project's LEAK findings by code, computed once for the 3 rules (and kept in the cache, see
    dataflow/solve.py)."""
    return project.shared("leak", _findings)


def _findings(project: Project) -> dict[str, list[Finding]]:
    from .configs import confirm
    from ...dataflow.solve import lazy, solve
    from ...config import DEFAULT_HELD_OUT_SPLITS

    files = {result.rel: f for result, f in project.facts("leak")}
    held_out = tuple(s.lower() for s in project.options("LEAK").get("held-out-splits", DEFAULT_HELD_OUT_SPLITS))
    monitored = {project.unit_of(rel) for rel, f in files.items() if f.notes.get("monitors")}
    kept = [  # a Lightning validation loader selects only where a checkpoint or early stopping monitors it
        (rel, i) for rel, f in files.items() for i, sink in enumerate(f.sinks)
        if sink.requires != "monitored" or any(project.covers(unit, rel) for unit in monitored)
    ]
    # config values read where data is chosen are sources only where a config the project loads names held-out
    # data under that key; the others are dropped from every chain
    hits = confirm(project, files, held_out)
    misnamed = {(rel, i): name for rel, f in files.items() for i, name in f.notes.get("misnamed", {}).items()}
    undecided = {(rel, i) for rel, f in files.items() for i, _, _ in f.notes.get("config_uses", ())} - hits.keys()

    def report(found: list, resolver: Resolver) -> dict[str, list[Finding]]:
        if undecided:
            found = [(sink, kept_atoms) for sink, atoms in found
                     if (kept_atoms := [a for a in atoms if a.source not in undecided])]
        return {rule.code: list(rule().report(found, resolver, hits, misnamed)) for rule in FLOW_RULES}

    def decide():  # imported only when the kept result does not hold
        from .domain import LeakDomain

        return LeakDomain(held_out).decide

    result = solve(project, "leak", files, kept, lazy(decide), (held_out, sorted(hits.items())), report)
    before = [(fit, split, what) for f in files.values() for fit, split, what in f.notes.get("fit_before_split", ())]
    if before:  # fitted on the whole array, then split: found within a function, no resolution needed
        rule = TestSplitInFitting()
        result = {**result, LEAK_FIT: sorted(result.get(LEAK_FIT, []) + [rule.finding(
            fit, f"preprocessing is fitted before the split: {what}, which the split at line {split.line} then divides "
                 "into training and held-out data", related=[Related(split, "split here, after the statistics were fitted")])
            for fit, split, what in before], key=lambda f: (f.loc.path, f.loc.cell or 0, f.loc.line, f.loc.column))}
    return result


def _where(item: Any) -> tuple | None:
    """Where a source or call site is, to compare them."""
    loc = getattr(item, "loc", None)
    return (loc.path, loc.cell, loc.line, loc.column) if loc is not None else None


class _LeakRule(Rule):
    severity = Severity.ERROR
    needs = ("leak", "imports")  # imports: re-exports, for resolving names across modules
    sink_code = ""

    def message(self, sink: Sink, what: str) -> str:
        raise NotImplementedError

    def check_project(self, project: Project) -> Iterator[Finding]:
        return iter(findings(project).get(self.code, []))

    def report(self, found: list[tuple[Sink, list[Atom]]], resolver: Resolver,
               hits: dict[tuple, Hit] | None = None, misnamed: dict | None = None) -> Iterator[Finding]:
        reported: set[tuple] = set()
        reached = [r for r in found if r[0].code == self.code]
        reached.sort(key=lambda r: (r[0].loc.path, r[0].loc.cell or 0, r[0].loc.line, r[0].loc.column))
        for sink, atoms in reached:
            # one selection is often written three ways in a row (`is_best = ...`, `best = max(...)`,
            # `if is_best: save`): report the first per function and source
            key = (sink.scope, atoms[0].source)
            if self.code == LEAK_SELECT and key in reported:
                continue
            reported.add(key)
            first = atoms[0]
            source = resolver.source(first.source)
            hit = (hits or {}).get(first.source)
            what = source.what if hit is None else f"{source.what} (`{hit.key}: {hit.value}` in {hit.display})"
            message = self.message(sink, what)
            name = (misnamed or {}).get(first.source)
            if name:
                message += f"; `{name}` is named as validation data but is built from held-out data: the name misleads"
            # a project call written `loader(train=False)` is a source of its own and also the hop that
            # decides the source inside `loader`: one source, not two
            hops = {_where(resolver.call(hop.site)) for hop in first.hops}
            others = {a.source for a in atoms if _where(resolver.source(a.source)) not in hops} - {first.source}
            if others:
                message += f" (+{len(others)} more held-out source{'s' if len(others) > 1 else ''})"
            related = chain_related(first, resolver, "held-out data")
            if hit is not None:  # the config line that names the held-out data, first: where the chain starts
                last = hit.key.rsplit(".", 1)[-1]
                related.insert(0, Related(Loc(hit.line, hit.column, hit.line, hit.column + len(last), hit.display),
                                          f"held-out data named in the config: `{hit.key}: {hit.value}`"))
            yield self.finding(sink.loc, message, related=related)


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


class SelectionAndReportOnOneSplit(Rule):
    code, name, severity = LEAK_REPORT, "selection-and-report-on-one-split", Severity.WARNING
    summary = ("The split whose metric selects the model (best checkpoint, best epoch) is also the split whose "
               "number is reported, and no other split is evaluated after the selection.")
    hint = ("Report a number the selection did not see: carve a validation split from the training data for the "
            "selection and evaluate the selected model once on a separate test split; or report the last epoch.")
    needs = ("leak-report",)

    def check_project(self, project: Project) -> Iterator[Finding]:
        for result, facts in project.facts("leak-report"):
            for sel in facts.selections:
                split = f"the split `{sel.split}`" if sel.split else "the evaluated split"
                if getattr(sel, "others", ""):
                    split += f" (where a condition chooses it over `{sel.others}`)"
                how, _, code = sel.report_text.partition(": ")
                reported = (f"line {sel.report.line}, outside the training loop, evaluates the same split again "
                            f"({code})" if how.startswith("evaluates") else f"line {sel.report.line} {how} (`{sel.best}`)")
                message = (f"{split} both selects and reports: `{sel.test}` keeps the best score over the "
                           f"evaluations, and {reported}; no other split is evaluated after the selection, so the "
                           "reported number is the maximum of noisy evaluations (biased upward)")
                yield self.finding(sel.loc, message, related=[
                    Related(sel.report, f"the selected split's number is reported here: {sel.report_text}")])


FLOW_RULES = [TestSplitInTraining, TestSplitSelectsModel, TestSplitInFitting]  # the data-flow engine's
RULES = [*FLOW_RULES, SelectionAndReportOnOneSplit]
