"""PREP: preprocessing that does not match the data or the model, and metric protocols to declare."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Iterator

from ...findings import Finding, Related, Severity
from ...project import Project
from ..base import Rule, aux_extractor, extractor
from ...dataflow.families import family, interpretation

if TYPE_CHECKING:
    from ...dataflow.terms import FlowFacts
    from .protocol import MetricFacts
    from ...context import ModuleContext


@family("prep")
def _prep_lane(ctx: ModuleContext):
    """PREP001's lane of the module's one interpretation (dataflow/families.py)."""
    from .domain import PrepDomain, worth_interpreting

    if ctx.is_test or not worth_interpreting(ctx.text):
        return None  # a module without images or colour handling: its calls read as library calls
    return PrepDomain()


@extractor("prep")
def extract_prep_flow(ctx: ModuleContext) -> FlowFacts | None:
    from .domain import noted

    found = interpretation(ctx, "prep")
    if found is None:
        return None
    facts = noted(*found)
    facts.globals = {k: v for k, v in facts.globals.items() if v.tainted()}
    if not (facts.sources or facts.sinks or facts.calls or facts.attrs or facts.globals or facts.notes
            or any(f.returns.tainted() for f in facts.functions.values())):
        return None
    return facts


@extractor("prep_metrics")
def extract_metric_protocols(ctx: ModuleContext) -> MetricFacts | None:
    from .protocol import metric_facts
    from .extract import scan
    from ...core.text_gates import mentions_restoration_metric

    if ctx.is_test or not mentions_restoration_metric(ctx.text):
        return None
    facts = metric_facts(scan(ctx.module), ctx.loc, ctx.names)
    return facts if facts.defs or facts.calls or facts.uses or facts.places or facts.crop_helpers or facts.pending \
        else None


class BgrIntoRgb(Rule):
    code, name, severity = "PREP001", "bgr-into-rgb", Severity.WARNING
    summary = ("An image OpenCV read in BGR order reaches a consumer that expects RGB (ImageNet-style normalisation, "
               "an RGB transform, a pretrained model, PIL) without a channel swap.")
    hint = "Swap the channels after reading: `img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)` (or `img[..., ::-1]`)."
    needs = ("prep", "imports")

    def check_project(self, project: Project) -> Iterator[Finding]:
        return iter(project.shared("prep", _bgr_findings).get(self.code, []))


def _bgr_findings(project: Project) -> dict[str, list[Finding]]:
    from ...dataflow.solve import chain_related, lazy, solve
    from ...findings import Related

    files = {result.rel: f for result, f in project.facts("prep")}
    if not any(f.notes.get("reads") for f in files.values()):
        return {}  # no module reads BGR images: no sink can be reached
    kept = [(rel, i) for rel, f in files.items() for i in range(len(f.sinks))]
    # units whose own code turns RGB images into BGR before the model's input pipeline: their model takes BGR
    bgr_units = {project.unit_of(rel) for rel, f in files.items() if f.notes.get("to_bgr")}
    rel_of = {r.display: r.rel for r in project.files.values()} if bgr_units else {}

    def report(found, resolver) -> dict[str, list[Finding]]:
        from .domain import CONSUMER, CONSUMER_TAGS

        out, seen = [], set()
        if bgr_units:
            found = [(sink, atoms) for sink, atoms in found
                     if not any(project.covers(u, rel_of.get(sink.loc.path, sink.loc.path)) for u in bgr_units)]
        # one finding per image and function: the first consumer it reaches (the inner call of a line)
        for sink, atoms in sorted(found, key=lambda r: (r[0].loc.path, r[0].loc.cell or 0, r[0].loc.line, -r[0].loc.column)):
            images = [a for a in atoms if not a.tags & CONSUMER_TAGS]  # BGR reads, not transforms or models
            consumers = [a for a in atoms if CONSUMER in a.tags and a.tags & (CONSUMER_TAGS - {CONSUMER})]
            if not images or sink.requires == CONSUMER and not consumers:
                continue
            if (sink.scope, images[0].source) in seen:
                continue
            seen.add((sink.scope, images[0].source))
            source = resolver.source(images[0].source)
            where = f"{source.loc.path}:{source.loc.line}" if source.loc.path != sink.loc.path else f"line {source.loc.line}"
            what, related = sink.what, chain_related(images[0], resolver, "read in BGR order")
            if sink.requires == CONSUMER:
                consumer = resolver.source(consumers[0].source)
                what = f"{sink.what}, which holds {consumer.what}"
                related.append(Related(consumer.loc, f"RGB consumer: {consumer.what}"))
            out.append(BgrIntoRgb.finding(
                sink.loc, f"a BGR image reaches {what}: it comes from {source.what} ({where}) with no channel swap "
                          "on the way", related=related))
        out.sort(key=lambda f: (f.loc.path, f.loc.cell or 0, f.loc.line, f.loc.column))
        return {BgrIntoRgb.code: out}

    def decide():  # imported only when the kept result does not hold
        from .domain import PrepDomain

        return PrepDomain().decide

    return solve(project, "prep", files, kept, lazy(decide), None, report)


@extractor("prep_stats_configs")
def _no_module_statistics(ctx: ModuleContext) -> None:
    """PREP003 reads Python modules in its per-file check; this need names only its config reader below."""
    return None


@aux_extractor("prep_stats_configs")
def scan_statistics_configs(path: str, rel: str, display: str):
    """Widely copied wrong normalisation statistics in YAML/JSON/TOML configs (`std: [0.2023, 0.1994, 0.2010]`)."""
    from .statistics import config_statistics

    found = config_statistics(path)
    return (display or rel, found) if found else None


@aux_extractor("prep_metrics")
def scan_metric_configs(path: str, rel: str, display: str):
    """Metric protocol keys (`test_y_channel: false`, `crop_border: 4`) in YAML/JSON/TOML configs."""
    from .protocol import config_protocol

    return config_protocol(path)


class MetricProtocol(Rule):
    code, name, severity = "PREP002", "metric-protocol", Severity.INFO
    summary = ("A PSNR/SSIM function computes on the Y channel, crops a border or fixes a data range: a protocol to "
               "state with the numbers.")
    hint = "State the protocol next to the numbers (e.g. \"PSNR on Y of YCbCr (BT.601), 4-pixel border crop\"), or report RGB and Y."
    needs = ("prep_metrics", "imports")

    def check_project(self, project: Project) -> Iterator[Finding]:
        facts = [(result.rel, f) for result, f in project.facts("prep_metrics")]
        by_rel = dict(facts)
        calls: dict[str, list[tuple[str, str, dict]]] = {}  # by the called function's last name
        defined: dict[str, set] = {}  # name -> the files that define a metric function of that name
        for rel, f in facts:
            for name, keywords in f.calls:
                calls.setdefault(name, []).append((rel, project.unit_of(rel), keywords))
            for d in f.defs:
                defined.setdefault(d.name, set()).add(rel)
        places = {}  # the PSNR/SSIM functions of the project, by name
        for rel, f in facts:
            for name, where in getattr(f, "places", {}).items():
                places.setdefault(name, []).append((rel, where))
        for rel, f in facts:
            for loc, metric, parts, related in [*getattr(f, "uses", ()), *_helper_crops(project, rel, f, by_rel)]:
                defined_at = [where for r, where in places.get(metric, ())
                              if r == rel or project.covers(project.unit_of(r), rel)][:1]
                yield self.finding(loc, f"`{metric}` is computed on arguments the caller prepared "
                                        + " and ".join(parts) + ", and neither the metric's name nor its log says "
                                        "so: state this protocol with the numbers",
                                   related=[Related(where, f"computed {what} here") for where, what in related]
                                   + [Related(where, f"`{metric}` is defined here") for where in defined_at])
        configs = project.aux_facts("prep_metrics")
        for rel, f in facts:
            unit = project.unit_of(rel)
            configured: dict[str, set] = {}  # protocol keys set by the configs of this unit
            for path, keys in configs.items():
                if keys and (project.covers(unit, path) or project.covers(project.unit_of(path), rel)):
                    for key, value in keys:
                        configured.setdefault(key, set()).add(value)
            for d in f.defs:
                # the calls that run this definition: its own file's, and those of files of its unit that do not
                # define their own copy (a notebook's `PSNR(a, b)` is not eval.py's `PSNR(a, b, shave_border=scale)`)
                near = [k for r, u, k in calls.get(d.name, [])
                        if r == rel or r not in defined[d.name] and project.covers(u, rel)]
                if _decided_elsewhere(d, near, configured):
                    continue
                yield self.finding(d.loc, f"`{d.name}` computes {d.metric} " + ", ".join(d.parts)
                                   + _passed(d.crop_param, near) + ": state this protocol with the numbers")


def _helper_crops(project: Project, rel: str, f, by_rel: dict) -> Iterator[tuple]:
    """The uses whose arguments pass through project calls: a call that runs a function of the project cropping a
    border by a parameter (`shave(img, border)`, resolved through the imports like any call) adds that crop, with
    what the caller passes (`crop_size`), unless it passes 0."""
    from ...core.calls import target

    for loc, metric, parts, related, helpers in getattr(f, "pending", ()):
        parts, related = list(parts), list(related)
        for written, passed, where in helpers:
            found = target(project, rel, written)
            if found is None or not found[1]:
                continue
            module, _, name = found[1].rpartition(".")
            helper = getattr(by_rel.get(found[0]), "crop_helpers", {}).get(name)
            if helper is None or module.count(".") != found[1].count(".") - 1:
                continue
            border = passed.get(helper[0], passed.get(helper[1]))
            if border is None or border == "0":
                continue
            what = f"with a border crop of `{border}` pixels"
            if what not in parts:
                parts.append(what)
                related.append((where, f"{what} by `{name}()`"))
        if parts:
            yield loc, metric, parts, related


def _decided_elsewhere(d, near: list[dict], configured: dict[str, set]) -> bool:
    """Is the protocol of a metric with parameters chosen where it can be read: the Y flag passed both ways (the
    RGB and the Y numbers are both computed), each parameter passed from an option named for it
    (`crop_border=opt.crop_border`), or set off in every call and config that names it?"""
    from .extract import FORWARDED, OPTION
    from .protocol import protocol_key

    if d.flag and _both_reported(near, d.flag, d.flag_default):
        return True
    knobs = [(k, default) for k, default in ((d.flag, d.flag_default), (d.crop_param, d.crop_default)) if k]
    if not knobs:
        return False
    if any(not part.startswith("in ") and not any(f"`{k}`" in part for k, _ in knobs) for part in d.parts):
        return False  # part of the protocol is written in the function, whatever the callers pass
    for knob, _ in knobs:
        values = configured.get(knob, set())
        if any(bool(v) for v in values) and any(not v for v in values):
            return True  # the configs set it both ways: each experiment's config states its protocol
    for knob, default in knobs:
        seen = {k.get(knob, default) for k in near} | configured.get(knob, set())
        if not seen and default is not None:
            seen = {default}  # no call or config of its unit sets it: its default is the protocol that runs
        seen.discard(FORWARDED + knob)  # a wrapper forwarding its own parameter: its callers decide
        options = {v for v in seen if isinstance(v, str) and v.startswith(OPTION)}
        if options and all(protocol_key(v[len(OPTION):]) or v[len(OPTION):] == knob for v in options):
            continue  # the caller passes it from a named option
        if seen and all(v is False or (type(v) is int and v == 0) for v in seen):
            continue  # never on: nothing to state
        return False
    return True


def _passed(knob: str | None, near: list[dict]) -> str:
    """`; callers pass shave_border=scale`: the crop the callers set in code (`border = scale`)."""
    from .extract import FORWARDED, OPTION

    if not knob:
        return ""
    names = sorted({v.replace(FORWARDED, "").replace(OPTION, "") for k in near for v in [k.get(knob)]
                    if isinstance(v, str) and v.startswith((FORWARDED, OPTION)) and v != FORWARDED + knob})
    names += sorted({str(v) for k in near for v in [k.get(knob)] if type(v) is int and v})  # `border = 10`
    return f" (callers pass " + ", ".join(f"`{knob}={n}`" for n in names) + ")" if names else ""


def _both_reported(calls: list[dict], flag: str, default: object) -> bool:
    seen = {bool(k[flag]) if flag in k and isinstance(k[flag], bool) else (bool(default) if flag not in k else None)
            for k in calls}
    return True in seen and False in seen


class StatisticsMismatch(Rule):
    code, name, severity = "PREP003", "statistics-mismatch", Severity.WARNING
    summary = ("Normalisation statistics of one dataset applied to another (CIFAR-10 constants on CIFAR-100), or a "
               "widely copied wrong value.")
    hint = "Use the statistics of the dataset being normalised (see the table in `mllint rule PREP003`)."
    needs = ("prep_stats_configs", "prep_stats_names")

    def check_project(self, project: Project) -> Iterator[Finding]:
        """Widely copied wrong statistics in YAML/JSON/TOML configs: one finding per file and value, the other
        copies of that file as related locations; and statistics imported from another module (above)."""
        from ...findings import Loc

        yield from cross_module_statistics(self, project)

        for _, (display, found) in sorted(project.aux_facts("prep_stats_configs").items()):
            first = None
            for line, column, end, message in found:
                loc = Loc(line, column, line, end, display)
                if message is not None:
                    if first is not None:
                        yield self.finding(first[0], first[1], related=first[2])
                    first = (loc, message, [])
                elif first is not None:
                    first[2].append(Related(loc, "the same value, copied"))
            if first is not None:
                yield self.finding(first[0], first[1], related=first[2])

    def check_module(self, ctx: ModuleContext) -> None:
        from .extract import CHOSEN_TEXT, STATS_TEXT, WRONG_TEXT, chosen_statistics, scan, stats_mismatches

        text = ctx.text
        if "ormalize" in text and CHOSEN_TEXT.search(text):
            for found in chosen_statistics(ctx.module, text):
                ctx.report(self, found.node, found.message, related=found.related)
        if not ("ormalize" in text or "mean" in text or "MEAN" in text or WRONG_TEXT.search(text)) or \
                not STATS_TEXT.search(text):
            return
        for found in stats_mismatches(_scan(ctx, scan)):
            ctx.report(self, found.node, found.message, related=found.related)


# how a module-level name bound to literal statistics starts (`MEAN = (0.4914, ...`, `mean = [125.3, ...`)
_BOUND_STATS = ("= (0.", "= [0.", "=(0.", "=[0.", "= (1", "= [1", "=(1", "=[1")


@extractor("prep_stats_names")
def extract_stats_names(ctx: ModuleContext):
    """PREP003 across modules: the small datasets' statistics a module binds to module-level names, the imported names
    its `Normalize` calls take, the datasets it uses and those whose statistics it writes itself."""
    text = ctx.text
    exports = any(start in text for start in _BOUND_STATS)
    imports = "Normalize" in text and bool(ctx.names.imported)
    # pipelines imported (by name, or with a module's every name: `from tool.constants import *`) and given to
    # datasets
    given = "transform" in text and bool(ctx.names.imported or ctx.names.stars)
    # a module-level dict of pipelines with statistics written inline (`data_transform = {"train": Compose([...`)
    tables = "ormalize" in text and "Compose" in text and "= {" in text
    if ctx.is_test or not (exports or imports or given or tables):
        return None
    from .gates import binds_pipeline, binds_small_statistics, names_small_dataset  # exact: see gates.py

    # each clause is necessary for one part of the facts: `imports`; `exports` (statistics bound at module level);
    # `pipelines` (a top-level Normalize/Compose/dict binding, in a text that says Normalize); `given` (a small
    # dataset constructed)
    if not (imports or exports and binds_small_statistics(ctx.module, ctx.index)
            or "ormalize" in text and binds_pipeline(ctx.module) or given and names_small_dataset(text)):
        return None

    import libcst as cst

    from .extract import (_SMALL, exported_pipelines, exported_statistics, imported_normalisations,
                          imported_transforms, loads_pretrained, scan)

    found = _scan(ctx, scan)
    out = {"exports": [(name, dataset, ctx.loc(node)) for name, dataset, node in exported_statistics(found)]
           if exports else [],
           "imports": [(name, qualified, ctx.loc(node)) for name, qualified, node in
                       imported_normalisations(found, ctx.names.imported)] if imports else []}
    pipelines = [(name, dataset, ctx.loc(node)) for name, dataset, node in exported_pipelines(found)
                 if exports or type(node) is cst.Dict] if exports and "ormalize" in text or tables else []
    uses = [(name, qualified, ctx.loc(node)) for name, qualified, node in
            imported_transforms(found, ctx.names.imported, tuple(ctx.names.stars))] if given else []
    if pipelines:
        out["pipelines"] = pipelines
    if uses and any(d in _SMALL for d in found.all_constructed):
        # the constructed datasets, and whether the module could fine-tune: ImageNet statistics are judged here
        out["given"] = uses
        out["constructed"] = sorted(found.all_constructed)
        out["own_stats"] = bool(found.stats)
        out["pretrained"] = loads_pretrained(found)
    if out["imports"]:
        out["datasets"] = sorted(found.datasets)
        out["own"] = sorted({use.matched.stats.dataset for use in found.stats})
        out["bound"] = sorted(ctx.names.imported.items())  # every imported name: statistics passed on otherwise too
    return out if out["exports"] or out["imports"] or pipelines or out.get("given") else None


def cross_module_statistics(rule, project: Project) -> Iterator[Finding]:
    """A module whose `Normalize` takes a name imported from another module of the project, bound there to one small
    dataset's statistics, while this module uses another small dataset whose own statistics it neither writes nor
    imports: one finding per module, at the first such call."""
    from .extract import _SMALL

    exports: dict[tuple[str, str], tuple] = {}
    importers = []
    pipelines: dict[tuple[str, str], tuple] = {}
    receivers = []
    for result, facts in project.facts("prep_stats_names"):
        for name, dataset, loc in facts["exports"]:
            exports[(result.rel, name)] = (dataset, loc)
        for name, dataset, loc in facts.get("pipelines", ()):
            pipelines[(result.rel, name)] = (dataset, loc)
        if facts["imports"]:
            importers.append((result.rel, facts))
        if facts.get("given"):
            receivers.append((result.rel, facts))
    yield from _imported_pipelines(rule, project, pipelines, receivers)
    if not exports:
        return
    for rel, facts in importers:
        resolved = []
        for name, qualified, loc in facts["imports"]:
            target = project.resolve(rel, qualified)
            hit = exports.get(target) if target is not None else None
            if hit is not None:
                resolved.append((name, hit[0], hit[1], loc))
        if not resolved:
            continue
        normalised = set(facts["own"]) | {dataset for _, dataset, _, _ in resolved}
        for _, qualified in facts["bound"]:  # `cifar100_mean` imported and put in a dict of per-dataset statistics
            target = project.resolve(rel, qualified)
            if target in exports:
                normalised.add(exports[target][0])
        others = [d for d in facts["datasets"] if d in _SMALL and d not in normalised]
        if not others:
            continue
        name, dataset, where, loc = resolved[0]
        if dataset in facts["own"]:
            continue  # the module writes those statistics itself too: judged by the per-module check
        names = sorted({n for n, d, _, _ in resolved if d == dataset})
        yield rule.finding(loc, f"{', '.join(f'`{n}`' for n in names)} (imported) hold{'s' if len(names) == 1 else ''} "
                                f"{dataset} statistics and also normalise{'s' if len(names) == 1 else ''} "
                                f"{others[0]} data here, and {others[0]}'s own statistics appear nowhere in this "
                                "module", related=[Related(where, f"{dataset} statistics bound here")])


def _imported_pipelines(rule, project: Project, pipelines: dict, receivers: list) -> Iterator[Finding]:
    """A pipeline (or `normalize` object) bound at module level in one module to a known dataset's statistics and
    given in another module to that module's datasets (`CIFAR10(root, transform=transforms_train)`): ImageNet
    statistics on a small dataset of a module that loads no pretrained weights and writes no statistics of its own
    (a network trained from scratch), or one small dataset's statistics on another small dataset only. One finding
    per module, at the first such use."""
    from .extract import _SMALL

    for rel, facts in receivers:
        for name, qualified, loc in facts["given"]:
            target = project.resolve(rel, qualified)
            hit = pipelines.get(target) if target is not None else None
            if hit is None:
                continue
            dataset, where = hit
            small = [d for d in facts["constructed"] if d in _SMALL]
            if not small or len(small) != len(facts["constructed"]) or facts["own_stats"]:
                break  # an ImageNet-style dataset too, or statistics of its own: judged by the module's own check
            if dataset == "ImageNet":
                if facts["pretrained"]:
                    break  # fine-tuning pretrained weights keeps ImageNet's statistics
                yield rule.finding(loc, f"`{name}` (imported) normalises with ImageNet statistics the {small[0]} data "
                                        "of this module, which loads no pretrained weights: a network trained from "
                                        f"scratch on {small[0]} with another dataset's constants",
                                   related=[Related(where, "ImageNet statistics bound here")])
            elif dataset in _SMALL and dataset not in small:
                yield rule.finding(loc, f"`{name}` (imported) normalises with {dataset} statistics the {small[0]} "
                                        f"data of this module, and {small[0]}'s own statistics appear nowhere in it",
                                   related=[Related(where, f"{dataset} statistics bound here")])
            else:
                continue
            break


class TransformMismatch(Rule):
    code, name, severity = "PREP004", "train-test-transform-mismatch", Severity.WARNING
    summary = ("The evaluation transform normalises with other constants, or converts channels otherwise, than the "
               "training transform of the same data.")
    hint = "Use the same Normalize (and channel order) in the training and the evaluation transform."

    needs = ("prep_pipelines", "imports")

    def check_module(self, ctx: ModuleContext) -> None:
        from .extract import SCALER_TEXT, measures_data, scan, transform_mismatches, unscaled_evaluations

        if ".fit" in ctx.text and SCALER_TEXT.search(ctx.text):
            for found in unscaled_evaluations(ctx.module):
                ctx.report(self, found.node, found.message, related=found.related)
        if "Compose" not in ctx.text or "ormalize" not in ctx.text:
            return
        measured = measures_data(ctx.text)
        for found in transform_mismatches(_scan(ctx, scan)):
            if measured and found.unnormalised == "train":
                continue  # the script measures the statistics of the training images it does not normalise
            ctx.report(self, found.node, found.message, related=found.related)

    def check_project(self, project: Project) -> Iterator[Finding]:
        """An evaluation script's transform (test.py, predict.py) against the training script's of its unit,
        when every training pipeline there agrees."""
        from .extract import _same, _shown

        units: dict[str, dict[str, list]] = {}
        hands: dict[str, list] = {}
        for result, pipes in project.facts("prep_pipelines"):
            unit = project.unit_of(result.rel)
            for loc, kind, norm, swap, given in pipes:
                if given == "hand":  # normalised by hand: compared only by its constants
                    hands.setdefault(unit, []).append((loc, norm, result.rel))
                    continue
                units.setdefault(unit, {}).setdefault(kind, []).append((loc, norm, swap, result.rel, given))
        for unit, kinds in units.items():
            trains, evals = kinds.get("train", []), kinds.get("eval", [])
            if not trains or not evals and not hands.get(unit):
                continue
            agreed = _agreed(trains)
            for rel, (loc, norm, swap, hand, given) in _evaluations(evals, hands.get(unit, [])):
                # the training scripts of the unit when they agree; else those of its own folder that a script
                # imports together with it (a unit that keeps one experiment per folder: `main.py` takes its
                # training loader from the folder's data module and its test loader from the test pipeline's)
                near = trains if agreed else [t for t in trains if os.path.dirname(t[3]) == os.path.dirname(rel)
                                              and t[3] in _joined(project, rel)]
                # pipelines given to other dataset classes (CIFAR-10 for the test, an ImageNet folder for training)
                # are no pair
                near = [t for t in near if not (given and t[4] and not given & t[4])]
                if not near or not agreed and not _agreed(near):
                    continue  # the training scripts disagree among themselves (several datasets): nothing to pair
                first = near[0]
                where = Related(first[0], "the training transform")
                if hand:
                    if first[1] == "none" or first[2] or _same(norm, first[1]) or \
                            sorted(norm[0]) == sorted(first[1][0]):
                        continue  # the same constants, or the same in another channel order (PREP001's question)
                    yield self.finding(loc, "the evaluation script normalises by hand with other constants "
                                            f"({', '.join(_shown(v) for v in norm)}) than the training script's "
                                            f"transform ({', '.join(_shown(v) for v in first[1])})", related=[where])
                    continue
                if norm == "unknown":
                    continue
                if (norm == "none") != (first[1] == "none"):
                    missing = "evaluation" if norm == "none" else "training"
                    yield self.finding(loc, f"the {missing} script's transform does not normalise; the "
                                            f"{'training' if missing == 'evaluation' else 'evaluation'} script's "
                                            "does", related=[where])
                elif norm != "none" and not _same(norm, first[1]):
                    yield self.finding(loc, "the evaluation script's transform normalises with other constants "
                                            f"({', '.join(_shown(v) for v in norm)}) than the training script's "
                                            f"({', '.join(_shown(v) for v in first[1])})", related=[where])
                elif swap != first[2]:
                    yield self.finding(loc, f"the {'training' if first[2] else 'evaluation'} script's transform "
                                            "swaps the channel order; the other does not", related=[where])


def _agreed(trains: list) -> bool:
    """Every training pipeline is known and normalises (and orders channels) like the first."""
    from .extract import _same

    first = trains[0]
    return not any(n == "unknown" for _, n, _, _, _ in trains) and not any(
        (n == "none") != (first[1] == "none") or n != "none" and not _same(n, first[1]) or s != first[2]
        for _, n, s, _, _ in trains[1:])


def _joined(project: Project, rel: str) -> set:
    """The files imported together with `rel` by one module of the project (or by `rel` itself)."""
    def build(p: Project) -> dict:
        together: dict[str, set] = {}
        for result, imports in p.facts("imports"):
            files = {result.rel}
            for qualified in set(imports.values()):
                found = p.resolve(result.rel, qualified)
                if found is not None:
                    files.add(found[0])
            for f in files:
                together.setdefault(f, set()).update(files)
        return together

    return project.shared("prep_imported_together", build).get(rel, set())


def _evaluations(evals: list, hands: list) -> list:
    """The evaluation pipelines of a unit (the hand normalisations first, as before), each with its file's path:
    [(path, (loc, norm, swap, hand, the dataset classes it is given to))]."""
    return [(path, (loc, norm, False, True, frozenset())) for loc, norm, path in hands] + \
        [(path, (loc, norm, swap, False, given)) for loc, norm, swap, path, given in evals]


@extractor("prep_pipelines")
def extract_pipelines(ctx: ModuleContext):
    from .extract import infers, module_pipelines, module_role, scan
    from ...core.text_gates import may_infer  # a necessary condition of infers, without its slow regex

    kind = module_role(ctx.names.module_name)
    if ctx.is_test or "Compose" not in ctx.text and not ((kind == "eval" or kind is None and may_infer(ctx.text) and
                                                          infers(ctx.text)) and
                                                         "/" in ctx.text):
        return None
    return module_pipelines(_scan(ctx, scan), ctx.names.module_name, ctx.loc, ctx.text) or None


@extractor("prep_loaders")
def extract_loaders(ctx: ModuleContext):
    from .loaders import gate, loader_facts

    if ctx.is_test:
        return None
    from .loaders import LoaderFacts, count_gate, counted_facts

    facts = loader_facts(ctx) if gate(ctx.text) else LoaderFacts()
    if count_gate(ctx.text):
        counted_facts(ctx, facts)
    return facts if facts.direct or facts.factories or facts.splits or facts.positional or facts.defaults \
        or facts.uses or facts.droppers or facts.config_drops or facts.truncators or facts.counted \
        or facts.config_splats or facts.record_drops else None


@extractor("prep_loader_uses")
def extract_loader_uses(ctx: ModuleContext):
    """How the module uses loaders (whole, or only their dataset, length or first batches), for PREP005: a loader
    whose last batch nothing reaches drops nothing from a metric."""
    if ctx.is_test or "oader" not in ctx.text and "gen" not in ctx.text and "iter" not in ctx.text and \
            "dl" not in ctx.text and "batches" not in ctx.text:
        return None
    from ...core.text_gates import names_loader  # exact: loader_uses reads only names that read as loaders

    if not names_loader(ctx.text):
        return None
    from .loaders import loader_uses

    return loader_uses(ctx)


# a batch size written as a config value: on an attribute (`_C.VAL.batch_size = 1`), as a dict key or a keyword
# of a config-building call (`{"batch_size": 1}`, `EasyDict(batch_size=1)`), or as a config class's field
_BATCH_CONFIG = re.compile(r"\.\w*batch\w*\s*=[^=]|[\"']\w*batch\w*[\"']\s*:|\bbatch\w*\s*:\s*\w+\s*=|"
                           r"(?:dict|Dict|EasyDict|edict|Namespace|Config\w*)\([^)]*\bbatch\w*\s*=", re.IGNORECASE)


@extractor("prep_batch_configs")
def extract_batch_configs(ctx: ModuleContext):
    """Batch sizes set in config objects (`_C.VAL.batch_size = 1`, `dict(batch_size=1)`, config classes), for
    PREP005's loaders whose batch size is read from a config: the config model's facts, batch keys only."""
    from ...core.text_gates import search_at_words  # _BATCH_CONFIG.search, where a match can start

    if ("batch" not in ctx.text or not search_at_words(_BATCH_CONFIG, ctx.text, ("batch",),
                                                       ("dict(", "namespace(", "config"))) \
            and "drop_last" not in ctx.text.lower():
        return None
    from ...core.config_model import collect

    facts = collect(ctx, want=lambda key: "batch" in key.lower() or key.lower().replace("_", "").endswith("droplast"))
    return facts if facts.values else None


class EvalLoaderDropsSamples(Rule):
    code, name, severity = "PREP005", "eval-loader-drops-samples", Severity.WARNING
    summary = ("An evaluation loader or loop leaves samples out of the reported metric: `drop_last=True` on a "
               "test/validation loader (also through a loader factory's test branch), a loop that skips batches "
               "that are not full, or a test set cut to a fixed size.")
    hint = ("Evaluate every sample: `drop_last=False` on evaluation loaders (batch-size-dependent models can pad "
            "the last batch), no size check in the evaluation loop; state any subset with the numbers.")
    needs = ("prep_loaders", "prep_batch_configs", "prep_loader_uses")

    def check_project(self, project: Project) -> Iterator[Finding]:
        facts = [(result.rel, f) for result, f in project.facts("prep_loaders")]
        touched = [(result.rel, u) for result, u in project.facts("prep_loader_uses")]

        def untouched_tail(what: str, rel: str) -> bool:
            """Is the loader only touched where the project uses it (its dataset, its length, a few batches), never
            drawn to its last batch? Then `drop_last` drops nothing from any metric."""
            name, unit = what.rsplit(".", 1)[-1], project.unit_of(rel)
            mine = [u for other, u in touched if project.covers(unit, other)]
            return any(name in u.shallow for u in mine) and not any(name in u.consumed for u in mine)

        yield from self._counted(project, facts)
        for rel, f in facts:
            for number, (loc, message, *related) in enumerate(f.direct):
                key = getattr(f, "batch_keys", {}).get(number)
                if key is not None and _config_batch_one(project, key, rel):
                    continue  # `batch_size=cfg.VAL.batch_size`, 1 wherever the project sets it: nothing dropped
                yield self.finding(loc, message, related=[Related(where, what) for where, what in related[0]]
                                   if related else [])
        # `drop_last=configs.drop_last` (config objects in code), `**cfg["loader"]["val"]` (YAML/JSON/TOML files)
        for attribute, judge, says in (("config_drops", _config_drops_true, "takes `drop_last={}`, which"),
                                       ("config_splats", _config_files_true, "is configured by `**{}`, whose "
                                                                             "`drop_last`"),
                                       ("record_drops", _record_defaults_true, "is configured by `**{}`, a "
                                                                               "settings object whose `drop_last` "
                                                                               "field")):
            for rel, f in facts:
                for loc, what, written, key in getattr(f, attribute, ()):
                    where = judge(project, key, rel)
                    if where:
                        told = "defaults to True and no config of the project sets otherwise" \
                            if attribute == "record_drops" else "the project's configs set to True"
                        yield self.finding(loc, f"{what} {says.format(written)} {told}: "
                                                "the samples of its last incomplete batch are left out of the "
                                                "reported metric",
                                           related=[Related(w, "`drop_last` set to True here") for w in where[:3]])
        helpers = _by_function(facts, "defaults")  # helpers whose `drop_last` parameter defaults to True
        droppers = _by_function(facts, "droppers")  # helpers that always drop (batch-size parameter, index)
        held_defaults = {(site.path, site.line, site.column): (default, param) for _, f in facts
                         for site, default, param in getattr(f, "self_defaults", ())}
        for rel, f in facts if helpers or droppers else ():
            uses = getattr(f, "uses", ())
            literal_ones = getattr(f, "uses_batch", None) or [{}] * len(uses)  # per use: the 1s it passes
            for (loc, callee, keywords, count, what), ones in zip(uses, literal_ones):
                if untouched_tail(what, rel):
                    continue  # test loaders that only give display images (`test_loader.dataset[i]`)
                for where, default, param, index in helpers.get(callee, ()):
                    if param in keywords or 0 <= index < count or not project.covers(project.unit_of(where), rel):
                        continue
                    yield self.finding(loc, f"`{what}` is built by `{callee}()` with its default `{param}=True`: "
                                            "that evaluation loader leaves the samples of its last incomplete "
                                            "batch out of the reported metric",
                                       related=[Related(default, f"`{param}=True` by default")])
                    break
                for where, site, param, index in droppers.get(callee, ()) if "drop_last" not in keywords else ():
                    if not project.covers(project.unit_of(where), rel) or param in ones or index in ones:
                        continue
                    held = held_defaults.get((site.path, site.line, site.column)) if held_defaults else None
                    if held is not None and where != rel:
                        continue  # a method of the class that holds the attribute: called in its own module
                    if held is not None:  # `drop_last=self.drop_last`, True by the `__init__` parameter's default
                        yield self.finding(loc, f"`{what}` is built by `{callee}()`, whose loader takes "
                                                f"`drop_last=self.{held[1]}`, True by default: that evaluation loader "
                                                "leaves the samples of its last incomplete batch out of the reported "
                                                "metric",
                                           related=[Related(held[0], f"`{held[1]}=True` by default"),
                                                    Related(site, f"the loader of `{callee}()`")])
                        break
                    yield self.finding(loc, f"`{what}` is built by `{callee}()`, which builds its loader with "
                                            "`drop_last=True`: that evaluation loader leaves the samples of its last "
                                            "incomplete batch out of the reported metric",
                                       related=[Related(site, f"`drop_last=True` in `{callee}()`")])
                    break
        for rel, f in facts:
            unit = project.unit_of(rel)
            for factory in f.factories:
                passed = set()
                for other, g in facts:
                    if not project.covers(unit, other):
                        continue
                    passed |= {split for keyword, split in g.splits if keyword == factory.param}
                    passed |= {split for name, index, split in g.positional
                               if name == factory.function and index == factory.index}
                missing = sorted(passed - set(factory.excluded))
                if not missing:
                    continue
                where = (f"in `{factory.function}` on a path that `{factory.param}` does not decide, so every "
                         "split it builds drops, and the project calls it"
                         if not factory.excluded else  # a path the split does not decide
                         f"in the branch of `{factory.function}` that builds every split other than "
                         f"{_splits(factory.excluded)}, which the project calls")
                yield self.finding(factory.loc, f"`drop_last = True` {where} with {factory.param}="
                                                f"{_splits(missing)}: that evaluation loader leaves the samples "
                                                "of its last incomplete batch out of the reported metric",
                                   related=[Related(factory.used, "the loader takes `drop_last`")]
                                   if getattr(factory, "used", None) is not None else [])


    def _counted(self, project: Project, facts: list) -> Iterator[Finding]:
        """An evaluation dataset built with a sample count read from a config (`num_samples=config.TEST.NUM_SAMPLES`)
        by a project dataset class of its unit that keeps only the first `num_samples` samples, when a config file
        of the unit sets that key to a positive number: the metric is computed on a subset it does not declare."""
        truncating = [(rel, t) for rel, f in facts for t in getattr(f, "truncators", ())]
        for rel, f in facts:
            unit = project.unit_of(rel)
            for loc, name, keyword, key in getattr(f, "counted", ()):
                cuts = [(r, t) for r, t in truncating if t[1] == keyword and project.covers(unit, r)]
                if not cuts:
                    continue
                counts = [(v, where) for v, where in _config_counts(project, key, rel) if type(v) is int and v > 0]
                if not counts:
                    continue
                shown = ", ".join(sorted({str(v) for v, _ in counts}))
                yield self.finding(loc, f"`{name}` is built with `{keyword}={key}`, which the configs set to {shown}, "
                                        f"and `{cuts[0][1][0]}` keeps only the first `{keyword}` samples: the "
                                        "evaluation runs on a subset that the reported metric does not declare",
                                   related=[Related(t[2], f"keeps the first `{keyword}` samples: `{t[3]}`")
                                            for _, t in cuts[:2]]
                                   + [Related(where, f"`{key.split('.', 1)[-1]}` = {v}") for v, where in counts[:3]])


def _config_counts(project: Project, key: str, rel: str) -> list:
    """(value, loc) of the config files of the unit of `rel` (YAML/JSON/TOML) that set the key (two components or
    more: `TEST.NUM_SAMPLES`, not any `num_samples`)."""
    import dataclasses
    import os

    from ...core.config_model import CONFIG_FILE, ConfigModel, path_matches

    def build(p: Project) -> ConfigModel:
        return ConfigModel({r.rel: f for r, f in p.facts("prep_batch_configs")}, p.root, p.files)

    model = project.shared("prep-batch-configs", build)
    unit = project.unit_of(rel)
    out = []
    for folder, dirs, files in os.walk(os.path.join(project.root, unit)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__"))
        for name in sorted(files):
            if CONFIG_FILE.search(name):
                config = os.path.relpath(os.path.join(folder, name), project.root).replace(os.sep, "/")
                shown = os.path.relpath(os.path.join(project.root, config)).replace(os.sep, "/")  # as printed
                out += [(v.value, dataclasses.replace(v.loc, path=shown)) for v in model.file_values(config)
                        if path_matches(key, v.path) and v.path.count(".") >= 1]
    return out


def _splits(values) -> str:
    return ", ".join(repr(v) for v in values)


def _scan(ctx: ModuleContext, scan):
    """One scan per module for PREP003 and PREP004."""
    cached = getattr(ctx, "_prep_scan", None)
    if cached is None:
        cached = scan(ctx.module)
        ctx._prep_scan = cached  # type: ignore[attr-defined]
    return cached


RULES = [BgrIntoRgb, MetricProtocol, StatisticsMismatch, TransformMismatch, EvalLoaderDropsSamples]


def _config_batch_one(project: Project, key: str, rel: str) -> bool:
    """Is the config value a loader's batch size is read from 1 wherever the unit of the loader's file `rel` sets
    it: in code (the config model: yacs defaults, config dicts and classes) and in every config file of the unit
    that sets that key?"""
    from ...core.config_model import ConfigModel, path_matches

    def build(p: Project) -> ConfigModel:
        return ConfigModel({r.rel: f for r, f in p.facts("prep_batch_configs")}, p.root, p.files)

    model = project.shared("prep-batch-configs", build)
    unit = project.unit_of(rel)
    values = [d.value.value for d in model.resolve(key, where=lambda where, _: project.covers(unit, where))]
    if not values:
        return False
    for config in _unit_config_files(project, unit):
        values += [v.value for v in model.file_values(config) if path_matches(key, v.path)]
    return all(v == 1 for v in values)


def _unit_config_files(project: Project, unit: str) -> Iterator[str]:
    """The YAML/JSON/TOML files below a unit, relative to the root."""
    import os

    from ...core.config_model import CONFIG_FILE

    for folder, dirs, files in os.walk(os.path.join(project.root, unit)):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        for name in files:
            if CONFIG_FILE.search(name):
                yield os.path.relpath(os.path.join(folder, name), project.root).replace(os.sep, "/")


def _config_files_true(project: Project, key: str, rel: str) -> list:
    """Where the YAML/JSON/TOML configs of the unit of `rel` set the key (`loader.val.drop_last`), when every one that
    sets it sets it to True; empty when none does or any sets it otherwise."""
    from ...core.config_model import ConfigModel, path_matches

    def build(p: Project) -> ConfigModel:
        return ConfigModel({r.rel: f for r, f in p.facts("prep_batch_configs")}, p.root, p.files)

    model = project.shared("prep-batch-configs", build)
    found = []
    for config in _unit_config_files(project, project.unit_of(rel)):
        found += [v for v in model.file_values(config, lambda k: k == "drop_last") if path_matches(key, v.path)]
    if not found or any(v.value is not True for v in found):
        return []
    return [_path_loc(project.root, v) for v in found]


def _path_loc(root: str, value) -> Loc:
    """The line of a config file's key by its whole path (`loader.val.drop_last`: the `drop_last` below `val:` below
    `loader:`), where the config model gives the key's first occurrence (`loader.train.drop_last`'s)."""
    import os
    import re
    from dataclasses import replace

    try:
        with open(os.path.join(root, value.loc.path), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return value.loc
    at, column = 0, 0
    for part in value.path.split("."):
        pattern = re.compile(r"""(^|[\s{,])["']?""" + re.escape(part) + r"""["']?\s*[:=]""")
        for number in range(at, len(lines)):
            hit = pattern.search(lines[number])
            if hit:
                at, column = number, hit.start() + len(hit.group(1))
                break
        else:
            return value.loc
    return replace(value.loc, line=at + 1, column=column + 1, end_line=at + 1,
                   end_column=column + 1 + len(value.path.rsplit(".", 1)[-1]))


def _config_drops_true(project: Project, key: str, rel: str) -> list:
    """Where the config objects of the unit of `rel` set the key a loader's `drop_last` is read from, when every one
    of them sets it to True (`self.drop_last = True` in each dataset's config class, `_C.DATA.DROP_LAST = True`);
    empty when none does or any sets it otherwise."""
    from ...core.config_model import ConfigModel

    def build(p: Project) -> ConfigModel:
        return ConfigModel({r.rel: f for r, f in p.facts("prep_batch_configs")}, p.root, p.files)

    model = project.shared("prep-batch-configs", build)
    unit = project.unit_of(rel)
    found = model.resolve(key, where=lambda where, _: project.covers(unit, where),
                          kinds=("attribute", "field", "module"))
    if not found or any(d.value.value is not True for d in found):
        return []
    return [d.value.loc for d in found]


def _record_defaults_true(project: Project, key: str, rel: str) -> list:
    """Where the config classes of the unit of `rel` define the field a spread settings object gives its loader
    (`**dataclasses.asdict(self.loader_args)` with `drop_last: bool = True`), when every definition of it in code
    (class fields, constructor calls, assignments) is True and no YAML/JSON/TOML config of the unit sets it under
    that key otherwise; empty when none is a class field."""
    from ...core.config_model import ConfigModel, path_matches

    def build(p: Project) -> ConfigModel:
        return ConfigModel({r.rel: f for r, f in p.facts("prep_batch_configs")}, p.root, p.files)

    model = project.shared("prep-batch-configs", build)
    unit = project.unit_of(rel)
    found = model.resolve(key, where=lambda where, _: project.covers(unit, where))
    fields = [d for d in found if d.value.kind == "field"]
    if not fields or any(d.value.value is not True for d in found):
        return []
    for config in _unit_config_files(project, unit):
        if any(v.value is not True for v in model.file_values(config, lambda k: k == "drop_last")
               if path_matches(key, v.path)):
            return []
    return [d.value.loc for d in fields]


def _by_function(facts: list, attribute: str) -> dict[str, list]:
    """function -> [(module, loc, parameter, index)] of the loader facts' `attribute` entries."""
    found: dict[str, list] = {}
    for rel, f in facts:
        for loc, function, param, index in getattr(f, attribute, ()):
            found.setdefault(function, []).append((rel, loc, param, index))
    return found
