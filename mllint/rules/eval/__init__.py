"""EVAL: evaluation that hides extra machinery (averaged weights, ensembles, test-time augmentation), or
runs the model in training mode or with gradients on. The analysis is in extract.py (per
module), domain.py (averaged weights followed across modules) and project.py."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from ...findings import Finding, Severity
from ...project import Project
from ..base import Rule, extractor
from ...dataflow.families import family, interpretation

if TYPE_CHECKING:
    from ...context import ModuleContext


@family("eval")
def _eval_lane(ctx: ModuleContext) -> Any:
    """EVAL001's lane of the module's one interpretation (dataflow/families.py)."""
    from .domain import eval_domain

    return eval_domain(ctx)


@extractor("eval")
def extract_eval_facts(ctx: ModuleContext) -> Any:
    if ctx.is_test:
        return None
    from .domain import analysed, lite_flow_facts
    from .extract import BN_EVIDENCE, EvalFacts, EvalModule, evaluation_script
    from ...core.text_gates import averaged_text, worth_reading_for_eval

    # A module that is worth a walk of every function: evaluation-like definitions or calls, gradient or mode
    # switches, flips, ensembles, averaged weights. The others (model definitions, data code) give only the
    # batch-norm fact.
    if not worth_reading_for_eval(ctx.text) and not evaluation_script(ctx.names.module_name, ctx.text):
        return EvalModule(EvalFacts(bn=True), None) if BN_EVIDENCE.search(ctx.text) else None

    facts, analysis = analysed(ctx)
    flow = None
    if averaged_text(ctx.text):  # averaged weights may be built or handed on here: the whole data flow
        flow = interpretation(ctx, "eval")[0]
        flow.globals = {k: v for k, v in flow.globals.items() if v.tainted() or v.const is not None}
        flow.notes["averaged"] = bool(flow.sources)  # no averaged weights anywhere: nothing to resolve
    elif analysis.lite:  # evaluation code only: its sinks on parameters, bound to callers elsewhere
        flow = lite_flow_facts(ctx, analysis)
    return EvalModule(facts, flow)


# a TTA-like key set to a list or a boolean: on an attribute (`_C.TEST.SCALE_LIST = [1]`), as a dict key
# (`"flip": False`) or a module global or class field (`flip_test: bool = False`); not a keyword argument (`scale=2`)
_TTA_CONFIG = re.compile(r"(?im)\.\w*(?:scale|flip|tta|augment)\w*\s*=\s*(?:\[|\(|True\b|False\b)|"
                         r"['\"]\w*(?:scale|flip|tta|augment)\w*['\"]\s*:\s*(?:\[|\(|True\b|False\b)|"
                         r"^\s*\w*(?:scale|flip|tta|augment)\w*\s*(?::\s*[\w\[\], ]+\s*)?=\s*(?:\[|\(|True\b|False\b)")

_TTA_KEY = re.compile(r"(?i)scale|flip|tta|augment")


@extractor("eval_configs")
def extract_eval_configs(ctx: ModuleContext) -> Any:
    """Config values that may switch test-time augmentation (`_C.TEST.SCALE_LIST = [1]`, `FLIP_TEST = False`): the
    shared config model's facts, those keys only, for a caller that passes them (`scales=config.TEST.SCALE_LIST`)."""
    from ...core.text_gates import search_at_words  # _TTA_CONFIG.search, where a match can start

    if ctx.is_test or not search_at_words(_TTA_CONFIG, ctx.text, ("scale", "flip", "tta", "augment")):
        return None
    from ...core.config_model import collect

    facts = collect(ctx, want=lambda key: bool(_TTA_KEY.search(key)))
    return facts if facts.values else None


def findings(project: Project) -> dict[str, list[Finding]]:
    """The project's EVAL findings by code, computed once for the 5 rules."""
    from .project import eval_findings

    return project.shared("eval", lambda p: eval_findings(p, {rule.code: rule for rule in RULES}))


class _EvalRule(Rule):
    needs = ("eval", "imports", "eval_configs", "classes", "alternatives")

    def check_project(self, project: Project) -> Iterator[Finding]:
        return iter(findings(project).get(self.code, []))


class AveragedWeightsEvaluated(_EvalRule):
    code, name, severity = "EVAL001", "averaged-weights-evaluated", Severity.WARNING
    summary = ("EMA, SWA or other averaged weights are evaluated without a working switch and without the raw "
               "model's result beside them.")
    hint = ("Report both numbers (the raw model's and the averaged model's, e.g. `top1` and `top1 (EMA)`), or put "
            "the averaged weights behind an option that can be turned off (`--eval-ema`), and say which one a "
            "table shows.")


class EnsembleEvaluated(_EvalRule):
    code, name, severity = "EVAL002", "ensemble-evaluated", Severity.WARNING
    summary = "Outputs of several models or checkpoints are combined at evaluation."
    hint = ("Report the single model's result beside the ensemble's, or put the ensemble behind an option "
            "(`--ensemble`) and say which one a table shows.")


class TestTimeAugmentation(_EvalRule):
    code, name, severity = "EVAL003", "test-time-augmentation", Severity.WARNING
    summary = "Model outputs are combined over flipped, rotated or rescaled inputs at evaluation."
    hint = ("Report the result without test-time augmentation beside it, or put it behind an option that can be "
            "turned off (`--tta`, `--self-ensemble`) and say which one a table shows.")


class EvaluationInTrainingMode(_EvalRule):
    code, name, severity = "EVAL004", "evaluation-in-training-mode", Severity.WARNING
    summary = ("An evaluation function runs a model with batch-norm or dropout without calling `.eval()` "
               "(directly, through a helper, or in every caller).")
    hint = ("Call `model.eval()` before evaluating (and `model.train()` after, if training goes on); batch-norm "
            "then uses its running statistics and dropout is off.")


class EvaluationTracksGradients(_EvalRule):
    code, name, severity = "EVAL005", "evaluation-tracks-gradients", Severity.INFO
    summary = ("Evaluation runs with gradients on (no `torch.no_grad()` / `torch.inference_mode()`), or relies "
               "on `volatile=True`, a no-op since PyTorch 0.4.")
    hint = ("Wrap evaluation in `with torch.no_grad():` or decorate it with `@torch.inference_mode()`: it saves "
            "memory and time, and shows the numbers were computed as intended.")


RULES = [AveragedWeightsEvaluated, EnsembleEvaluated, TestTimeAugmentation, EvaluationInTrainingMode,
         EvaluationTracksGradients]
