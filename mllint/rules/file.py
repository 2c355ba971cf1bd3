"""FILE: diagnostics about inputs that could not be analysed. The engine emits them; these classes
carry their metadata (code, name, severity, docs)."""
from __future__ import annotations

from ..findings import Severity
from .base import Rule


class CannotDecode(Rule):
    code, name, severity = "FILE001", "cannot-decode", Severity.ERROR
    summary = "The file cannot be decoded with its declared (or default UTF-8) encoding."
    hint = "Save the file as UTF-8, or declare its encoding with a PEP 263 coding cookie."


class SyntaxErrorInFile(Rule):
    code, name, severity = "FILE002", "syntax-error", Severity.ERROR
    summary = "The file (or a notebook cell) is not valid Python 3 and was not analysed."
    hint = "Fix the syntax error; Python 2 code must be ported before it can be linted."


class InvalidNotebook(Rule):
    code, name, severity = "FILE003", "invalid-notebook", Severity.ERROR
    summary = "The .ipynb file is not valid notebook JSON, or a cell is malformed."
    hint = "Open and re-save the notebook in Jupyter, or repair its JSON."


class TooDeep(Rule):
    code, name, severity = "FILE004", "too-deeply-nested", Severity.WARNING
    summary = "The syntax tree is too deep to analyse safely; the file was skipped."
    hint = "Usually generated code; exclude it with `extend-exclude`."


class BinaryFile(Rule):
    code, name, severity = "FILE005", "binary-file", Severity.WARNING
    summary = "The file contains NUL bytes: it is binary, not Python source."
    hint = "Exclude it, or rename it if it is not meant to be Python."


class TooLarge(Rule):
    code, name, severity = "FILE006", "file-too-large", Severity.WARNING
    summary = "The file is larger than `max-file-size` and was skipped."
    hint = "Raise `max-file-size` in the configuration, or exclude the file."


class Unreadable(Rule):
    code, name, severity = "FILE007", "unreadable-file", Severity.WARNING
    summary = "The path cannot be read: a broken symlink, a symlink loop, or no permission."
    hint = "Fix or remove the link, or exclude the path."


class AnalysisFailed(Rule):
    code, name, severity = "FILE008", "analysis-failed", Severity.WARNING
    summary = "An analysis of this file failed internally; the rest of the run went on."
    hint = "Please report this with the file (or a reduced copy) to the mllint issue tracker."
    in_tests = True  # about mllint, not about the code: never hidden


class AnalysisTimeout(Rule):
    code, name, severity = "FILE009", "analysis-timeout", Severity.WARNING
    summary = "The analysis of this file took longer than the per-file time limit and was stopped."
    hint = "Usually generated or pathological code; exclude it, or report it if it is ordinary code."
    in_tests = True


class SuppressionWithoutReason(Rule):
    code, name, severity = "FILE010", "suppression-without-reason", Severity.WARNING
    summary = "A `# mllint: ignore[...]` or `# noqa: CODE` comment gives no reason."
    hint = "Say why the finding does not apply after the codes: `# mllint: ignore[SEED001] fixed split, not training`."
    in_tests = True


RULES = [
    CannotDecode, SyntaxErrorInFile, InvalidNotebook, TooDeep, BinaryFile, TooLarge, Unreadable,
    AnalysisFailed, AnalysisTimeout, SuppressionWithoutReason,
]


class UnusedSuppression(Rule):
    code, name, severity = "FILE011", "unused-suppression", Severity.WARNING
    summary = "A suppression comment names an unknown code, or silenced nothing in this run."
    hint = "Remove the comment, correct its code, or move it to the line the finding is reported on."
    in_tests = True


RULES.append(UnusedSuppression)


class OlderGrammar(Rule):
    code, name, severity = "FILE012", "older-python-grammar", Severity.INFO
    summary = "The file is valid only under an older Python grammar (`async` as a name); it was parsed with that one."
    hint = "Rename the argument or name (`.cuda(non_blocking=True)` since PyTorch 0.4) so that current Python runs it."
    in_tests = True


RULES.append(OlderGrammar)
