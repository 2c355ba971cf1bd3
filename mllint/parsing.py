"""One libcst parse per file, guarded.

libcst's native parser can overflow its stack on pathological input (a 10,000-term `1+1+...`
expression crashes the process). Files that could be pathological (large, very long lines or
deep brackets) are first measured with CPython's own parser, which fails safely; too deep a
tree becomes a FILE004 diagnostic instead of a crash. Code that only an older grammar accepts (`async` as a
name, before Python 3.7) is parsed with that grammar and analysed, with a FILE012 note.
"""
from __future__ import annotations

import ast
import os
import re

import libcst as cst

from .source import Diagnostic, Source

MAX_TREE_DEPTH = 400
OLDER_GRAMMAR = "3.6"  # the last grammar in which `async` and `await` are names
_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_PAIR = re.compile(r"\(\)|\[\]|\{\}")
_CLOSERS = re.compile(r"[\]\)}]+")
SUSPICIOUS_DEPTH = 90


def _bracket_depth(text: str, limit: int = SUSPICIOUS_DEPTH) -> int:
    """Nesting depth of brackets (approximate: brackets in strings count), up to limit + 1.

    Each pass removes the innermost pairs, in C; typical code needs fewer than ten passes over a
    string of its brackets only, where a character loop in Python cost 7% of the parse."""
    brackets = _NOT_BRACKETS.sub("", text)
    for depth in range(limit + 1):
        brackets, removed = _PAIR.subn("", brackets)
        if not removed:
            unmatched = len(_CLOSERS.sub("", brackets))  # openers left: "((((]" is deep as well
            return depth + unmatched
    return limit + 1


def _suspicious(text: str) -> bool:
    if len(text) > 64 * 1024:
        return True
    if max(map(len, text.splitlines()), default=0) > 4000:
        return True
    return _bracket_depth(text) > SUSPICIOUS_DEPTH


def _ast_depth(tree: ast.AST) -> int:
    """The depth of the tree (once over MAX_TREE_DEPTH, the first depth found over it). `ast.iter_child_nodes`,
    inlined: each class's fields read from a table, no generator per node (the walk cost ~2x the parse it guards)."""
    best = 0
    stack = [(tree, 1)]
    pop, push, fields_of, node_type = stack.pop, stack.append, _AST_FIELDS, ast.AST
    while stack:
        node, depth = pop()
        if depth > best:
            best = depth
            if best > MAX_TREE_DEPTH:
                return best
        kind = type(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = fields_of[kind] = kind._fields
        below = depth + 1
        for name in fields:
            try:
                field = getattr(node, name)
            except AttributeError:
                continue
            if isinstance(field, node_type):
                push((field, below))
            elif isinstance(field, list):
                for item in field:
                    if isinstance(item, node_type):
                        push((item, below))
    return best


_AST_FIELDS: dict[type, tuple[str, ...]] = {}


_GUARDED: list = [None, None]  # (text, CPython's tree of it) of the last file the depth guard measured


def guard_tree(text: str) -> ast.Module | None:
    """CPython's tree of `text` if the depth guard parsed that very text (large files), else None (positions.py
    reads it: the guard's parse is then free)."""
    return _GUARDED[1] if _GUARDED[0] is text else None


def _too_deep(text: str) -> Diagnostic | None:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        if "too many nested" in str(exc):
            return Diagnostic("FILE004", f"too deeply nested to analyse: {exc.msg}", exc.lineno or 1, 1)
        return None  # libcst will report the syntax error with its own position
    except (RecursionError, MemoryError):
        return Diagnostic("FILE004", "too deeply nested to analyse")
    except ValueError:
        return None
    if _ast_depth(tree) > MAX_TREE_DEPTH:
        return Diagnostic("FILE004", f"syntax tree deeper than {MAX_TREE_DEPTH} levels: skipped")
    _GUARDED[:] = text, tree
    return None


# libcst checks every node it builds (`CSTNode.__post_init__` calls `_validate`: parentheses, required
# whitespace, ...), the parser's nodes too, although the parser only builds what the grammar accepts; libcst's own
# comment there says as much ("avoid validating the tree when parsing a file"). The checks raise or do nothing:
# they read the node and change nothing. Skipped while the native parser builds a module, they cost ~14 % of the
# parse. Every node built otherwise (an analysis's own, or the older grammar's parser) is still checked.
_CHECKED_INIT = cst.CSTNode.__dict__.get("__post_init__")


def _unchecked(self: cst.CSTNode) -> None:
    return None


def _parse_module(text: str) -> cst.Module:
    """cst.parse_module(text), without libcst's per-node checks (see above)."""
    if _CHECKED_INIT is None:
        return cst.parse_module(text)  # a libcst laid out otherwise: parsed as it comes
    cst.CSTNode.__post_init__ = _unchecked
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = _CHECKED_INIT


def _parse_text(text: str) -> tuple[cst.Module | None, Diagnostic | None]:
    _GUARDED[:] = None, None
    if _suspicious(text):
        problem = _too_deep(text)
        if problem:
            return None, problem
    try:
        return _parse_module(text), None
    except cst.ParserSyntaxError as exc:
        error = _syntax_error(text, exc)
        module = _parse_older(text) if _names_async(text, error.line) else None
        if module is None:
            return None, error
        return module, Diagnostic("FILE012", "valid only before Python 3.7 (`async` or `await` used as a name, e.g. "
                                  f"`.cuda(async=True)`): parsed with the Python {OLDER_GRAMMAR} grammar and analysed",
                                  error.line, error.column)
    except RecursionError:
        return None, Diagnostic("FILE004", "too deeply nested to analyse")
    except Exception as exc:  # noqa: BLE001 - the parser's failure must not stop the run
        return None, Diagnostic("FILE002", f"cannot parse: {type(exc).__name__}: {exc}"[:200])


def _names_async(text: str, line: int) -> bool:
    """Whether the line of the first syntax error uses `async`/`await` (then the older grammar may accept the
    file; any other syntax error would fail there too, after a parse ten times slower than the native one)."""
    lines = text.splitlines()
    return 0 < line <= len(lines) and ("async" in lines[line - 1] or "await" in lines[line - 1])


def _parse_older(text: str) -> cst.Module | None:
    """Code written for Python 3.6 and older (`input.cuda(async=True)`, 2017-2018 training scripts): `async`
    became a keyword in 3.7. libcst's native parser reads only the current grammar; its pure-Python parser,
    still shipped, takes a version. Its entry point is private, so any change to it only loses the fallback
    (the file is then a FILE002 as before). Slow (~0.3 s per 500 lines), so only after the native parse failed
    at a line that uses one of those names."""
    try:
        from libcst._parser.detect_config import detect_config
        from libcst._parser.grammar import get_grammar, validate_grammar
        from libcst._parser.python_parser import PythonCSTParser

        partial = cst.PartialParserConfig(python_version=OLDER_GRAMMAR)
        detected = detect_config(text, partial=partial, detect_trailing_newline=True, detect_default_newline=True)
        validate_grammar()
        grammar = get_grammar(partial.parsed_python_version, detected.config.future_imports)
        module = PythonCSTParser(tokens=detected.tokens, config=detected.config, pgen_grammar=grammar).parse()
    except Exception:  # noqa: BLE001 - a syntax error under this grammar too, or a libcst without this parser
        return None
    return module if isinstance(module, cst.Module) and module.code == text else None


def _syntax_error(text: str, exc: cst.ParserSyntaxError) -> Diagnostic:
    """Prefer CPython's account of a syntax error: its place is exact and its message plainer
    ("Missing parentheses in call to 'print'" for Python 2 code); libcst's when CPython accepts the code."""
    try:
        ast.parse(text)
    except SyntaxError as error:
        column = error.offset or 1
        return Diagnostic("FILE002", f"syntax error: {error.msg}", error.lineno or 1, max(1, column))
    except (RecursionError, MemoryError, ValueError):
        pass
    message = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
    return Diagnostic("FILE002", f"syntax error: {message}", exc.raw_line, exc.raw_column + 1)


_PREPARSED: dict[str, tuple[str, tuple]] = {}  # absolute path -> (text, parse_with_text's result)


def preparse(path: str, max_size: int) -> None:
    """In a worker started early for `mllint FILE` (workers.start_early): parse the Python file the run is about
    to send while the parent still discovers and hashes the project. `parse_for` gives that parse back to the
    analysis when the text it loads is the same (a parse depends on the text alone)."""
    from .source import load_python

    source = load_python(path, max_size)
    if source.text is not None:
        _PREPARSED[os.path.abspath(path)] = (source.text, parse_with_text(source))


def parse_for(path: str, source: Source) -> tuple[cst.Module | None, list[Diagnostic], str]:
    """parse_with_text(source) for the file at path: the early parse of that same text if there is one."""
    kept = _PREPARSED.pop(os.path.abspath(path), None) if _PREPARSED else None
    if kept is not None and not source.is_notebook and kept[0] == source.text:
        return kept[1]
    return parse_with_text(source)


def parse(source: Source) -> tuple[cst.Module | None, list[Diagnostic]]:
    """Parse a loaded source; for notebooks, blank out cells that do not parse and keep the rest."""
    module, diagnostics, _ = parse_with_text(source)
    return module, diagnostics


def parse_with_text(source: Source) -> tuple[cst.Module | None, list[Diagnostic], str]:
    """Like parse, and also the exact text the module was parsed from (positions.py uses it)."""
    assert source.text is not None
    module, problem = _parse_text(source.text)
    if module is not None or not source.is_notebook:
        return module, [problem] if problem else [], source.text
    if problem and problem.code == "FILE004":
        return None, [problem], source.text
    lines = source.text.split("\n")
    bounds = [start for start, _ in source.cell_starts] + [len(lines) + 1]
    diagnostics: list[Diagnostic] = []
    for (start, index), end in zip(source.cell_starts, bounds[1:]):
        cell_text = "\n".join(lines[start - 1 : end - 1]) + "\n"
        _, cell_problem = _parse_text(cell_text)
        if cell_problem:
            cell_problem.cell = index
            cell_problem.message += " (cell skipped)"
            diagnostics.append(cell_problem)
            for i in range(start - 1, end - 1):
                lines[i] = ""
    text = "\n".join(lines)
    module, problem = _parse_text(text)
    if problem:
        diagnostics.append(problem)
    return module, diagnostics, text
