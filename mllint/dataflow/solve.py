"""The data-flow engine's project phase for a family: its sinks resolved to sources across the
project (resolve.py), memoised in the cache with what the result depended on.

A family calls `solve` with its facts and a `report` that turns (sink, chains) pairs into findings.
The result is kept (`Project.keep`) with a digest of everything the resolution reads in the open
(every module's sinks, the names it calls and its imports, the project's module names, the family's
settings) and the bulk digests of the modules it read; a later run reuses it while those are
unchanged, so an edit to a file no sink reaches costs nothing.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable

from ..findings import Finding, retarget

if TYPE_CHECKING:  # the data-flow modules load when the resolution runs, not at start-up
    from ..project import Project
    from .terms import FlowFile
    from .resolve import Atom, Decide, Resolver

Report = Callable[[list, "Resolver"], "dict[str, list[Finding]]"]  # [(Sink, [Atom])] -> findings by code


def solve(project: Project, family: str, files: dict[str, FlowFile], kept: list[tuple[str, int]],
          decide: Decide, settings: Any, report: Report) -> dict[str, list[Finding]]:
    """Findings by code. kept: the (module, sink index) pairs to resolve; settings: what else the result
    depends on (repr-able)."""
    name = f"{family}:{_open_digest(project, files, settings, kept)}"
    memo = project.recall(name)
    if _holds(memo, files) and not _names_moved_files(memo, project):
        return _retargeted(memo, project)
    from .resolve import Resolver, import_aliases, reach

    aliases = import_aliases(imports for _, imports in project.facts("imports"))
    resolver = Resolver(files, project, decide, aliases)
    sinks = [files[rel].sinks[i] for rel, i in kept]
    sinks = [sink for sink in sinks if not (sink.site and resolver.runs_function(sink.site))]
    reached = reach(resolver, sinks)
    result = report([(sinks[i], atoms) for i, atoms in sorted(reached.items())], resolver)
    project.keep(name, {
        "bulk": {rel: files[rel].bulk_digest for rel in resolver.read},
        "displays": {rel: r.display for rel, r in project.files.items()},
        "findings": result,
    })
    return result


def lazy(make: Callable[[], "Decide"]) -> "Decide":
    """A decide function built on first use: the family's domain (and the interpreter it imports) is loaded
    only when the kept result does not hold, never on a warm run."""
    made: list = []

    def decide(*args: Any) -> Any:
        if not made:
            made.append(make())
        return made[0](*args)

    return decide


def _open_digest(project: Project, files: dict, settings: Any, kept: list) -> str:
    digest = hashlib.blake2b(repr((settings, kept)).encode(), digest_size=16)
    digest.update("\0".join(project.files).encode())
    for rel, file in files.items():
        digest.update(f"\0{rel}\0{file.light_digest}".encode())
    for result, imports in project.facts("imports"):
        digest.update(f"\0{result.rel}\0{imports!r}".encode())
    return digest.hexdigest()


def _holds(memo: Any, files: dict) -> bool:
    try:
        return all(rel in files and files[rel].bulk_digest == bulk for rel, bulk in memo["bulk"].items()) \
            and isinstance(memo["findings"], dict) and isinstance(memo["displays"], dict)
    except Exception:  # noqa: BLE001 - absent (None) or not what this code writes: recompute
        return False


def _names_moved_files(memo: dict, project: Project) -> bool:
    """Does a kept message name a file whose display path changed (a run from another working folder)? Messages
    may name other files by that path (PREP001's `it comes from cv2.imread() (data.py:6)`); Locs are retargeted,
    text is not, so such a result is computed again."""
    moved = [old for rel, old in memo["displays"].items()
             if rel in project.files and project.files[rel].display != old]
    if not moved:
        return False
    texts = [text for findings in memo["findings"].values() for finding in findings
             for text in (finding.message, *(related.message for related in finding.related))]
    return any(old in text for old in moved for text in texts)


def _retargeted(memo: dict, project: Project) -> dict[str, list[Finding]]:
    """The kept findings, with the display paths of this run (they depend on the working folder)."""
    for rel, old in memo["displays"].items():
        result = project.files.get(rel)
        if result is not None and result.display != old:
            retarget(memo["findings"], old, result.display)
    return memo["findings"]


def chain_related(atom: Atom, resolver: Resolver, label: str) -> list:
    """Related locations of a chain: the source (`label: what`), then each call it passed through."""
    from ..findings import Related

    source = resolver.source(atom.source)
    related = [Related(source.loc, f"{label}: {source.what}")]
    for hop in atom.hops:
        site = resolver.call(hop.site)
        if site is not None and site.loc is not None and site.loc.line:
            related.append(Related(site.loc, hop.message))
    return related
