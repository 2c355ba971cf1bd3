"""The ecosystem check: mllint on pinned real training repositories, scored against blind labels.

    python bench/ecosystem.py CORPUS_DIR [--half check|tune|all] [--base REV] [--markdown FILE]
    python bench/ecosystem.py label CORPUS_DIR --repo OWNER/NAME --path P --line N --code LEAK002 ...
    python bench/ecosystem.py export CORPUS_DIR --repo OWNER/NAME [--dest DIR]
    python bench/ecosystem.py validate CORPUS_DIR
    python bench/ecosystem.py pin CORPUS_DIR --repo OWNER/NAME --half tune|check --domain DOMAIN

CORPUS_DIR holds one git repository per corpus entry, as `OWNER+NAME/repo` (a clone, or a bare git
directory); nothing here uses the network. Each pinned commit is exported once into a cache folder
(`git archive`; when large blobs are missing, the text files one by one) and linted with the mllint of
this checkout (or of `--head REV`); with `--base REV` the mllint of that revision runs too and the findings
that appeared and disappeared are printed per repository, as mypy_primer does.

Scores, per half (`tune`, `check`), per family and per code: blind recall (certain labels, and all labels)
and false alarms on negatives (look-alikes that must stay silent). A label whose source line no longer
hashes to its `line_hash` is stale: reported, never scored. See bench/ECOSYSTEM.md.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS_FILE = HERE / "ecosystem" / "corpus.json"
LABELS_FILE = HERE / "ecosystem" / "labels.jsonl"
FAMILIES = ("LEAK", "SEED", "HPARAM", "EVAL", "PREP")
TEXT_SUFFIXES = (".py", ".ipynb", ".sh", ".bash", ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".md", ".rst",
                 ".txt")
# A positive label is found by a finding of its family whose span, widened by this many lines, holds the
# label's line (a statement's report line may be the call or its first argument), or by a related location
# on the line. A negative is a false alarm only when a finding's own span holds its line.
POSITIVE_SLACK = 2
NEUTRAL_CONFIG = "# ecosystem check: mllint's defaults, whatever the repository configures\n"


def line_hash(text: str) -> str:
    """The hash a label keeps of its source line: whitespace-insensitive at both ends."""
    return hashlib.sha1(text.strip().encode("utf-8", "surrogateescape")).hexdigest()[:12]


def family_of(code: str) -> str:
    return code.rstrip("0123456789")


# ---------------------------------------------------------------------------------------------- the corpus

@dataclasses.dataclass(frozen=True)
class Entry:
    repo: str
    commit: str
    domain: str
    half: str

    @property
    def slug(self) -> str:
        return self.repo.replace("/", "+")


def load_corpus(path: Path = CORPUS_FILE) -> list[Entry]:
    data = json.loads(path.read_text())
    return [Entry(e["repo"], e["commit"], e.get("domain", ""), e["half"]) for e in data["repositories"]]


def load_labels(path: Path = LABELS_FILE) -> list[dict]:
    if not path.exists():
        return []
    labels = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                labels.append(json.loads(line))
            except ValueError as exc:
                raise SystemExit(f"{path}:{number}: not JSON: {exc}")
    return labels


def git_dir(corpus_dir: Path, repo: str) -> Path:
    base = corpus_dir / repo.replace("/", "+") / "repo"
    if (base / ".git").is_dir():
        return base / ".git"
    if base.is_dir():
        return base
    raise FileNotFoundError(f"{repo}: no git directory at {base}")


def git(gdir: Path, *args: str, binary: bool = False) -> str | bytes:
    proc = subprocess.run(["git", "--git-dir", str(gdir), *args], capture_output=True, check=True)
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace")


def head_commit(corpus_dir: Path, repo: str) -> str:
    return str(git(git_dir(corpus_dir, repo), "rev-parse", "HEAD")).strip()


def export(gdir: Path, commit: str, dest: Path) -> Path:
    """The tree of `commit` in `dest`, written once (a marker file says it is complete)."""
    done = dest / ".ecosystem-export"
    if done.exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(["bash", "-o", "pipefail", "-c", f"git --git-dir '{gdir}' archive {commit} | tar -x -C '{dest}'"],
                             capture_output=True)
    if archive.returncode != 0:  # blobs missing from the snapshot: write the text files that are there
        shutil.rmtree(dest)
        dest.mkdir(parents=True)
        listing = str(git(gdir, "ls-tree", "-r", "-z", commit))
        for item in listing.split("\0"):
            if not item:
                continue
            meta, _, rel = item.partition("\t")
            mode, kind, sha = meta.split()
            if kind != "blob" or mode == "120000" or not rel.endswith(TEXT_SUFFIXES):
                continue
            try:
                blob = git(gdir, "cat-file", "blob", sha, binary=True)
            except subprocess.CalledProcessError:
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)  # type: ignore[arg-type]
    done.write_text(commit + "\n")
    return dest


def notebook_place(tree: Path, path: str, line: int) -> tuple[int, int] | None:
    """(cell, line within the cell) of raw line `line` of a notebook's JSON, as mllint numbers them.

    A label names the notebook file's own line (the editor's view of the .ipynb); mllint reports cells. The
    raw line is a JSON string of one source line: the same occurrence of that text among the cells' lines is
    the place."""
    try:
        raw = (tree / path).read_text(encoding="utf-8").splitlines()
        cells = json.loads("\n".join(raw)).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None

    def decoded(text: str) -> str | None:
        text = text.strip().rstrip(",")
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value.rstrip("\n") if isinstance(value, str) else None

    if not 0 < line <= len(raw) or (wanted := decoded(raw[line - 1])) is None:
        return None
    occurrence = sum(decoded(text) == wanted for text in raw[:line - 1])
    for index, cell in enumerate(cells, start=1):
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        lines = ("".join(source) if isinstance(source, list) else str(source)).split("\n")
        for number, text in enumerate(lines, start=1):
            if text == wanted:
                if occurrence == 0:
                    return index, number
                occurrence -= 1
    return None


def source_line(tree: Path, path: str, line: int) -> str | None:
    try:
        lines = (tree / path).read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None


# ---------------------------------------------------------------------------------------------- running

def mllint_tree(rev: str | None, workdir: Path, root: Path = HERE.parent) -> Path:
    """A folder whose `mllint` package is `root`'s working tree (rev None) or that of git revision `rev`."""
    if rev is None:  # a snapshot of the working tree: an edit during the run changes neither it nor its digest
        dest = workdir / f"mllint-worktree-{code_digest(root)}"
        if not dest.exists():
            scratch = Path(tempfile.mkdtemp(dir=workdir))
            for part in ("mllint", "rules"):
                if (root / part).is_dir():
                    shutil.copytree(root / part, scratch / part, ignore=shutil.ignore_patterns("__pycache__"))
            try:
                scratch.rename(dest)
            except OSError:  # another run made the same snapshot meanwhile
                shutil.rmtree(scratch, ignore_errors=True)
        return dest
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", rev], capture_output=True, text=True,
                            check=True).stdout.strip()
    dest = workdir / f"mllint-{commit[:12]}"
    if not dest.exists():
        dest.mkdir(parents=True)
        subprocess.run(f"git -C '{root}' archive {rev} | tar -x -C '{dest}'", shell=True, check=True)
    return dest


def code_digest(code_root: Path) -> str:
    """A digest of the mllint package under `code_root` (its .py and .md files) and of the interpreter."""
    digest = hashlib.sha1(sys.version.encode())
    for path in sorted((code_root / "mllint").rglob("*")):
        if path.suffix in (".py", ".md") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(code_root)).encode() + b"\0" + path.read_bytes())
    for path in sorted((code_root / "rules").glob("*.md")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def run_mllint(code_root: Path, tree: Path, jobs: int, config: Path, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_root), "NO_COLOR": "1"}
    env.pop("MLLINT_OUTPUT_FORMAT", None)
    command = [sys.executable, "-m", "mllint", "--format", "json", "--no-cache", "--exit-zero", "--jobs", str(jobs),
               "--config", str(config), "."]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"findings": [], "seconds": time.perf_counter() - start, "problems": [f"timed out after {timeout:.0f} s"]}
    seconds = time.perf_counter() - start
    problems = []
    try:
        findings = json.loads(proc.stdout) if proc.stdout.strip() else []
    except ValueError:
        findings, problems = [], ["output is not JSON"]
    if proc.returncode == 2:
        problems.append(f"exit code 2: {proc.stderr.strip()[-300:]}")
    if "Traceback" in proc.stderr:
        problems.append("traceback on stderr: " + proc.stderr.strip()[-300:])
    problems += [line for line in proc.stderr.splitlines() if line.startswith("mllint: warning: rule ")]
    problems += [f"{f['code']} {f['path']}: {f['message']}" for f in findings if f["code"] in ("FILE008", "FILE009")]
    return {"findings": findings, "seconds": seconds, "problems": problems}


# ---------------------------------------------------------------------------------------------- scoring

def spans(finding: dict) -> tuple[int, int]:
    return finding["line"], max(finding.get("end_line") or finding["line"], finding["line"])


def places(label: dict) -> list[tuple[str, int | None, int]]:
    """(path, cell, line) where a report of `label` may sit (cells for notebooks, see `notebook_place`)."""
    found = [(label["path"], label.get("_cell"), label.get("_cell_line", label["line"]))]
    return found + [(a["path"], a.get("_cell"), a.get("_cell_line", a["line"])) for a in label.get("also", [])]


def finds(finding: dict, label: dict) -> bool:
    """Whether `finding` reports the red flag that positive `label` describes."""
    if family_of(finding["code"]) != family_of(label["code"]):
        return False
    first, last = spans(finding)
    for path, cell, line in places(label):
        if finding["path"] == path and finding.get("cell") == cell and first - POSITIVE_SLACK <= line <= last + POSITIVE_SLACK:
            return True
        if any(r.get("path") == path and abs(r.get("line", 0) - line) <= 1 for r in finding.get("related", [])):
            return True
    return False


def flags(finding: dict, label: dict) -> bool:
    """Whether `finding` is a false alarm on negative `label` (a look-alike that must stay silent). A negative
    that names a code claims that code only (`EVAL004` on an evaluation that calls `.eval()` may still rightly
    carry an EVAL005 for its missing `no_grad`); a negative that names a family claims the whole family."""
    if label["code"] != family_of(label["code"]):
        if finding["code"] != label["code"]:
            return False
    elif family_of(finding["code"]) != label["code"]:
        return False
    if finding["path"] != label["path"]:
        return False
    path, cell, line = places(label)[0]
    first, last = spans(finding)
    return finding.get("cell") == cell and first <= line <= last


@dataclasses.dataclass
class Tally:
    positives: int = 0
    found: int = 0
    certain: int = 0
    certain_found: int = 0
    negatives: int = 0
    alarms: int = 0

    def row(self) -> list[str]:
        def ratio(a: int, b: int) -> str:
            return f"{a}/{b} = {a / b:.2f}" if b else "-"
        return [ratio(self.certain_found, self.certain), ratio(self.found, self.positives),
                ratio(self.alarms, self.negatives)]


def located(label: dict, tree: Path) -> dict:
    """`label` with the cell places of its notebook locations filled in."""
    def place(item: dict) -> dict:
        if not item["path"].endswith(".ipynb"):
            return item
        cell_line = notebook_place(tree, item["path"], item["line"])
        return {**item, "_cell": cell_line[0], "_cell_line": cell_line[1]} if cell_line else {**item, "_cell": -1}
    located_label = place(label)
    if "also" in label:
        located_label["also"] = [place(a) for a in label["also"]]
    return located_label


def score(entries: list[Entry], labels: list[dict], results: dict[str, dict], trees: dict[str, Path]) -> dict:
    """Tallies per (half, family) and per (half, code); stale and unscored labels listed."""
    half_of = {e.repo: e.half for e in entries}
    tallies: dict[tuple[str, str], Tally] = collections.defaultdict(Tally)
    stale, missed, alarms, non_blind = [], [], [], 0
    for label in labels:
        repo = label["repo"]
        if repo not in results:
            continue
        if not label.get("blind", False):
            non_blind += 1
            continue
        text = source_line(trees[repo], label["path"], label["line"])
        if text is None or line_hash(text) != label["line_hash"]:
            stale.append(label)
            continue
        label = located(label, trees[repo])
        findings = results[repo]["findings"]
        keys = [(half_of[repo], family_of(label["code"]))]
        if label["code"] != family_of(label["code"]):
            keys.append((half_of[repo], label["code"]))
        if label["polarity"] == "positive":
            hit = any(finds(f, label) for f in findings)
            exact = hit and any(finds(f, label) and f["code"] == label["code"] for f in findings)
            for key in keys:
                tally = tallies[key]
                got = hit if key[1] == family_of(label["code"]) else exact
                tally.positives += 1
                tally.found += got
                if label.get("confidence") == "certain":
                    tally.certain += 1
                    tally.certain_found += got
            if not hit:
                missed.append(label)
        else:
            alarm = [f for f in findings if flags(f, label)]
            for key in keys:
                tallies[key].negatives += 1
                tallies[key].alarms += bool(alarm)
            if alarm:
                alarms.append((label, alarm[0]))
    return {"tallies": tallies, "stale": stale, "missed": missed, "alarms": alarms, "non_blind": non_blind}


def finding_key(f: dict) -> tuple:
    return (f["path"], f["line"], f.get("column", 0), f["code"], f.get("message", ""))


def diff(base: dict[str, dict], head: dict[str, dict]) -> dict[str, tuple[list[dict], list[dict]]]:
    """Per repository: findings that appeared at head and findings that disappeared."""
    changes = {}
    for repo in head:
        before = {finding_key(f): f for f in base.get(repo, {}).get("findings", [])}
        after = {finding_key(f): f for f in head[repo]["findings"]}
        gone = [before[k] for k in sorted(set(before) - set(after))]
        new = [after[k] for k in sorted(set(after) - set(before))]
        if gone or new:
            changes[repo] = (new, gone)
    return changes


# ---------------------------------------------------------------------------------------------- report

def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + ["| " + " | ".join(r) + " |" for r in rows]


def report(entries: list[Entry], scored: dict, results: dict[str, dict], halves: list[str], changes: dict | None,
           base_scored: dict | None, show: set[str], label: str) -> str:
    out = [f"# Ecosystem check ({label})", ""]
    repos = [e for e in entries if e.repo in results]
    out.append(f"{len(repos)} repositories, {sum(len(results[e.repo]['findings']) for e in repos)} findings.")
    out.append("")
    for half in halves:
        out += [f"## Half `{half}`", ""]
        rows = []
        for key in sorted(scored["tallies"], key=lambda k: (FAMILIES.index(family_of(k[1])) if family_of(k[1]) in FAMILIES else 9, k[1])):
            if key[0] != half:
                continue
            row = [f"**{key[1]}**" if key[1] in FAMILIES else key[1]] + scored["tallies"][key].row()
            if base_scored is not None:
                row += base_scored["tallies"].get(key, Tally()).row()
            rows.append(row)
        headers = ["family / code", "recall (certain)", "recall (all)", "false alarms on negatives"]
        if base_scored is not None:
            headers += ["base: recall (certain)", "base: recall (all)", "base: false alarms"]
        out += table(headers, rows) + [""]
    out += ["## Repositories", ""]
    rows = []
    for e in repos:
        r = results[e.repo]
        files = collections.Counter(f["code"] for f in r["findings"] if f["code"].startswith("FILE"))
        rows.append([e.repo, e.half, e.domain, str(len(r["findings"])), f"{r['seconds']:.1f}",
                     ", ".join(f"{c} {n}" for c, n in sorted(files.items())) or "-", "; ".join(r["problems"]) or "-"])
    out += table(["repository", "half", "domain", "findings", "seconds", "FILE diagnostics", "crashes"], rows) + [""]
    if scored["stale"]:
        out += ["## Stale labels (not scored)", ""]
        out += [f"- {l['repo']} {l['path']}:{l['line']} {l['code']}: {l['reason']}" for l in scored["stale"]] + [""]
    half_of = {e.repo: e.half for e in entries}
    shown = [l for l in scored["missed"] if half_of[l["repo"]] in show]
    if shown:
        out += [f"## Missed positives ({', '.join(sorted(show))})", ""]
        out += [f"- {l['repo']} `{l['path']}:{l['line']}` {l['code']} ({l['confidence']}): {l['reason']}" for l in shown]
        out.append("")
    shown_alarms = [(l, f) for l, f in scored["alarms"] if half_of[l["repo"]] in show]
    if shown_alarms:
        out += [f"## False alarms ({', '.join(sorted(show))})", ""]
        out += [f"- {l['repo']} `{l['path']}:{l['line']}` {f['code']}: {l['reason']} -- mllint: {f['message'][:160]}"
                for l, f in shown_alarms]
        out.append("")
    if changes is not None:
        out += ["## Diff against base", ""]
        total_new = sum(len(n) for n, _ in changes.values())
        total_gone = sum(len(g) for _, g in changes.values())
        out.append(f"{total_new} findings appeared and {total_gone} disappeared in {len(changes)} repositories.")
        out.append("")
        for repo in sorted(changes):
            new, gone = changes[repo]
            if half_of[repo] not in show:
                out.append(f"- {repo} ({half_of[repo]}): +{len(new)} -{len(gone)} (details hidden: measure-only half)")
                continue
            out += [f"### {repo} ({half_of[repo]})", ""]
            out += [f"+ {f['path']}:{f['line']}:{f.get('column', 0)}: {f['code']} {f['message'][:200]}" for f in new]
            out += [f"- {f['path']}:{f['line']}:{f.get('column', 0)}: {f['code']} {f['message'][:200]}" for f in gone]
            out.append("")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- commands

def cache_dir(option: str | None) -> Path:
    path = Path(option or os.environ.get("MLLINT_ECOSYSTEM_CACHE") or Path(tempfile.gettempdir()) / "mllint-ecosystem")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_all(entries: list[Entry], corpus_dir: Path, code_root: Path, cache: Path, jobs: int, timeout: float,
            trees: dict[str, Path], quiet: bool, fresh: bool = False) -> dict[str, dict]:
    config = cache / "neutral-mllint.toml"
    config.write_text(NEUTRAL_CONFIG)
    digest = code_digest(code_root)
    results = {}
    for entry in entries:
        if entry.repo not in trees:
            try:
                trees[entry.repo] = export(git_dir(corpus_dir, entry.repo), entry.commit,
                                           cache / "trees" / f"{entry.slug}@{entry.commit[:12]}")
            except (FileNotFoundError, subprocess.CalledProcessError) as exc:
                print(f"ecosystem: skipped {entry.repo}: {exc}", file=sys.stderr)
                continue
        kept = cache / "results" / digest / f"{entry.slug}@{entry.commit[:12]}.json"
        if kept.exists() and not fresh:  # the same mllint on the same commit: the same findings
            results[entry.repo] = json.loads(kept.read_text())
        else:
            results[entry.repo] = run_mllint(code_root, trees[entry.repo], jobs, config, timeout)
            if not results[entry.repo]["problems"]:
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_text(json.dumps(results[entry.repo]))
        if not quiet:
            r = results[entry.repo]
            print(f"  {entry.repo}: {len(r['findings'])} findings, {r['seconds']:.1f} s"
                  + (f", PROBLEMS: {r['problems']}" if r["problems"] else ""), file=sys.stderr)
    return results


def command_check(args: argparse.Namespace) -> int:
    corpus_dir = Path(args.corpus_dir)
    entries = load_corpus(Path(args.corpus))
    if args.repo:
        entries = [e for e in entries if e.repo in args.repo]
    if args.half != "all":
        entries = [e for e in entries if e.half == args.half]
    labels = load_labels(Path(args.labels))
    cache = cache_dir(args.cache_dir)
    trees: dict[str, Path] = {}
    mllint_repo = Path(args.mllint_repo)
    head_root = mllint_tree(args.head, cache, mllint_repo)
    print(f"ecosystem: mllint {args.head or 'working tree'} on {len(entries)} repositories", file=sys.stderr)
    head = run_all(entries, corpus_dir, head_root, cache, args.jobs, args.timeout, trees, args.quiet, args.fresh)
    scored = score(entries, labels, head, trees)
    changes = base_scored = None
    if args.base:
        print(f"ecosystem: mllint {args.base} (base)", file=sys.stderr)
        base = run_all(entries, corpus_dir, mllint_tree(args.base, cache, mllint_repo), cache, args.jobs, args.timeout, trees,
                       args.quiet, args.fresh)
        base_scored = score(entries, labels, base, trees)
        changes = diff(base, head)
    halves = ["tune", "check"] if args.half == "all" else [args.half]
    show = {"tune", "check"} if args.show_check else {"tune"}
    text = report(entries, scored, head, halves, changes, base_scored, show & set(halves) if args.half != "all" else show,
                  f"head {args.head or 'working tree'}" + (f", base {args.base}" if args.base else ""))
    if args.markdown:
        Path(args.markdown).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({repo: r for repo, r in head.items()}, indent=1))
    print(text)
    crashed = any(r["problems"] for r in head.values())
    return 1 if crashed else 0


def command_label(args: argparse.Namespace) -> int:
    corpus_dir = Path(args.corpus_dir)
    gdir = git_dir(corpus_dir, args.repo)
    commit = args.commit or head_commit(corpus_dir, args.repo)
    try:
        text = str(git(gdir, "show", f"{commit}:{args.path}")).splitlines()
    except subprocess.CalledProcessError:
        print(f"no file {args.path} at {commit[:12]} in {args.repo}", file=sys.stderr)
        return 2
    if not 0 < args.line <= len(text) or not text[args.line - 1].strip():
        print(f"{args.path}:{args.line} is not a non-blank line of the file ({len(text)} lines)", file=sys.stderr)
        return 2
    if family_of(args.code) not in FAMILIES:
        print(f"code {args.code}: not one of the families {FAMILIES}", file=sys.stderr)
        return 2
    also = []
    for item in args.also or []:
        path, _, line = item.rpartition(":")
        also.append({"path": path, "line": int(line)})
    label = {"repo": args.repo, "commit": commit, "path": args.path, "line": args.line, "code": args.code,
             "polarity": args.polarity, "confidence": args.confidence, "reason": args.reason,
             "line_hash": line_hash(text[args.line - 1]), "blind": not args.not_blind, "labeller": args.labeller}
    if also:
        label["also"] = also
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(label) + "\n")
    print(f"labelled {args.repo} {args.path}:{args.line} {args.code} {args.polarity}: {text[args.line - 1].strip()[:120]}")
    return 0


def command_pin(args: argparse.Namespace) -> int:
    """Add a repository to the corpus (or re-pin it) at its snapshot's HEAD, or at --commit."""
    corpus_path = Path(args.corpus)
    data = json.loads(corpus_path.read_text()) if corpus_path.exists() else {"repositories": []}
    commit = args.commit or head_commit(Path(args.corpus_dir), args.repo)
    kept = [e for e in data["repositories"] if e["repo"] != args.repo]
    if len(kept) != len(data["repositories"]) and not args.replace:
        print(f"{args.repo} is in the corpus already (--replace re-pins it; its labels then go stale)", file=sys.stderr)
        return 2
    kept.append({"repo": args.repo, "commit": commit, "domain": args.domain, "half": args.half})
    data["repositories"] = sorted(kept, key=lambda e: (e["half"], e["domain"], e["repo"].lower()))
    corpus_path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"pinned {args.repo} at {commit[:12]} ({args.half}, {args.domain})")
    return 0


def command_export(args: argparse.Namespace) -> int:
    corpus_dir = Path(args.corpus_dir)
    commit = args.commit or head_commit(corpus_dir, args.repo)
    dest = Path(args.dest) if args.dest else cache_dir(None) / "trees" / f"{args.repo.replace('/', '+')}@{commit[:12]}"
    print(export(git_dir(corpus_dir, args.repo), commit, dest))
    return 0


def command_validate(args: argparse.Namespace) -> int:
    corpus_dir = Path(args.corpus_dir)
    entries = {e.repo: e for e in load_corpus(Path(args.corpus))}
    problems = 0
    counts = collections.Counter()
    for label in load_labels(Path(args.labels)):
        where = f"{label.get('repo')} {label.get('path')}:{label.get('line')}"
        missing = [k for k in ("repo", "commit", "path", "line", "code", "polarity", "confidence", "reason",
                               "line_hash", "blind") if k not in label]
        if missing:
            print(f"{where}: missing {missing}")
            problems += 1
            continue
        entry = entries.get(label["repo"])
        if entry is None:
            print(f"{where}: repository not in the corpus")
            problems += 1
            continue
        if label["commit"] != entry.commit:
            print(f"{where}: labelled at {label['commit'][:12]}, corpus pins {entry.commit[:12]}")
            problems += 1
        try:
            text = str(git(git_dir(corpus_dir, label["repo"]), "show", f"{entry.commit}:{label['path']}")).splitlines()
            current = text[label["line"] - 1] if 0 < label["line"] <= len(text) else None
        except (FileNotFoundError, subprocess.CalledProcessError):
            current = None
        if current is None or line_hash(current) != label["line_hash"]:
            print(f"{where}: stale (the line no longer matches its hash)")
            problems += 1
        counts[(entry.half, family_of(label["code"]), label["polarity"])] += 1
    for key in sorted(counts):
        print(f"{key[0]:6} {key[1]:7} {key[2]:9} {counts[key]}")
    print(f"{sum(counts.values())} labels, {problems} problems")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"label": command_label, "export": command_export, "validate": command_validate, "pin": command_pin}
    verb = argv.pop(0) if argv and argv[0] in commands else "check"
    parser = argparse.ArgumentParser(prog=f"ecosystem.py {verb}")
    parser.add_argument("corpus_dir", help="folder holding OWNER+NAME/repo git directories")
    parser.add_argument("--corpus", default=str(CORPUS_FILE))
    parser.add_argument("--labels", default=str(LABELS_FILE))
    if verb == "check":
        parser.add_argument("--half", choices=("tune", "check", "all"), default="all")
        parser.add_argument("--repo", action="append", help="only this repository (repeatable)")
        parser.add_argument("--base", help="also run mllint at this git revision and print the diff")
        parser.add_argument("--head", help="run mllint at this git revision instead of the working tree")
        parser.add_argument("--markdown", help="write the report to this file")
        parser.add_argument("--json", help="write every finding to this file")
        parser.add_argument("--show-check", action="store_true",
                            help="list the check half's misses, false alarms and diff (for the final measurement)")
        parser.add_argument("--jobs", type=int, default=2)
        parser.add_argument("--fresh", action="store_true",
                            help="run mllint again even where the same code already ran on the same commit (timings)")
        parser.add_argument("--timeout", type=float, default=900)
        parser.add_argument("--mllint-repo", default=str(HERE.parent),
                            help="the git repository whose revisions --head and --base name (default: this checkout)")
        parser.add_argument("--cache-dir")
        parser.add_argument("--quiet", action="store_true")
    elif verb == "label":
        parser.add_argument("--repo", required=True)
        parser.add_argument("--path", required=True)
        parser.add_argument("--line", type=int, required=True)
        parser.add_argument("--code", required=True, help="a family (SEED) or a code (SEED001)")
        parser.add_argument("--polarity", choices=("positive", "negative"), required=True)
        parser.add_argument("--confidence", choices=("certain", "likely"), required=True)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--also", action="append", help="another acceptable report place, PATH:LINE")
        parser.add_argument("--labeller", default="")
        parser.add_argument("--commit")
        parser.add_argument("--not-blind", action="store_true", help="written after reading mllint's output")
        parser.add_argument("--out", default=str(LABELS_FILE))
    elif verb == "pin":
        parser.add_argument("--repo", required=True)
        parser.add_argument("--half", choices=("tune", "check"), required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--commit")
        parser.add_argument("--replace", action="store_true")
    elif verb == "export":
        parser.add_argument("--repo", required=True)
        parser.add_argument("--commit")
        parser.add_argument("--dest")
    args = parser.parse_args(argv)
    return (commands.get(verb) or command_check)(args)


if __name__ == "__main__":
    sys.exit(main())
