"""`mllint stats` output: text (a block per metric), JSON, and Markdown (a table for a pull-request comment)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .welch import ALPHA, POWER, Comparison, number, p_text

REDUCE_TEXT = {"last": "its last step's", "min": "its minimum over the steps", "max": "its maximum over the steps",
               "mean": "its mean over the steps"}
PERCENT = f"{ALPHA * 100:g} %", f"{POWER * 100:g} %"


@dataclass
class Report:
    a: str  # paths
    b: str
    labels: tuple[str, str]
    reduce: str
    comparisons: list[Comparison]
    logs: bool  # some run was a training log: say how it was reduced
    runs: tuple[int, int]
    notes: list[str] = field(default_factory=list)


def _direction(c: Comparison) -> str:
    if c.direction is None:
        return "direction unknown: --higher-is-better or --lower-is-better"
    return f"{c.direction} is better" + (", guessed from the name" if c.direction_from == "name" else "")


def _pairs(c: Comparison, labels: tuple[str, str]) -> str:
    p = c.pairs
    if c.direction:
        wins, losses, word = p["a_better"], p["b_better"], "better"
    else:
        wins, losses, word = p["a_higher"], p["b_higher"], "higher"
    return (f"one seed against one seed: {labels[0]} {word} in {wins} of {p['total']} pairs, {labels[1]} in {losses}"
            + (f", {p['ties']} ties" if p["ties"] else ""))


def values_text(report: Report) -> str:
    if not report.logs:
        return "one value per run"
    return f"one value per run; a training log gives {REDUCE_TEXT[report.reduce]} value (--reduce)"


def text(report: Report) -> str:
    la, lb = report.labels
    width = max(len(la), len(lb))
    lines = [f"{la}: {report.a} ({report.runs[0]} runs)", f"{lb}: {report.b} ({report.runs[1]} runs)",
             f"values: {values_text(report)}; 95 % Student-t intervals, Welch's t-test", ""]
    for c in report.comparisons:
        lines.append(f"{c.metric} ({_direction(c)})")
        for label, side in ((la, c.a), (lb, c.b)):
            lines.append(f"  {label:<{width}}  n = {side.n:<3} mean {number(side.mean, 4)} ± {number(side.std)} "
                         f"(std)  "
                         f"95 % interval [{number(side.low, 4)}, {number(side.high, 4)}]")
        stat = f"t = {c.t:.2f}, df = {c.df:.1f}, {p_text(c.p)}" if c.t is not None else "no seed variation"
        lines.append(f"  {la} - {lb}: {number(c.difference)}  95 % Welch interval [{number(c.low)}, {number(c.high)}]  "
                     f"{stat}")
        lines.append(f"  smallest detectable difference with these seeds: {number(c.detectable)} "
                     f"(two-sided {PERCENT[0]} test, {PERCENT[1]} power)")
        lines.append(f"  {_pairs(c, report.labels)}")
        lines.append(f"  verdict: {c.verdict}")
        lines.append("")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def to_json(report: Report) -> str:
    data = {
        "a": {"path": report.a, "label": report.labels[0], "runs": report.runs[0]},
        "b": {"path": report.b, "label": report.labels[1], "runs": report.runs[1]},
        "reduce": report.reduce if report.logs else None, "alpha": ALPHA, "power": POWER, "confidence": 0.95,
        "metrics": [c.to_json() for c in report.comparisons],
        "notes": report.notes,
    }
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(report: Report) -> str:
    la, lb = report.labels
    lines = [f"### Seed statistics: {_cell(la)} vs {_cell(lb)}", "",
             f"{_cell(la)} = `{report.a}` ({report.runs[0]} runs), {_cell(lb)} = `{report.b}` ({report.runs[1]} runs); "
             f"{values_text(report)}. Means ± std with 95 % Student-t intervals; the difference with its Welch "
             f"interval and Welch's t-test.", "",
             f"| metric | {_cell(la)} | {_cell(lb)} | {_cell(la)} − {_cell(lb)} | p | detectable | verdict |",
             "|---|---|---|---|---|---|---|"]
    for c in report.comparisons:
        arrow = {"higher": " ↑", "lower": " ↓"}.get(c.direction or "", "")
        sides = [f"{number(s.mean, 4)} ± {number(s.std)} (n={s.n})<br>[{number(s.low, 4)}, {number(s.high, 4)}]"
                 for s in (c.a, c.b)]
        difference = f"{number(c.difference)}<br>[{number(c.low)}, {number(c.high)}]"
        p = "–" if c.t is None else ("< 0.001" if c.p < 0.001 else f"{c.p:.3f}")
        lines.append(f"| `{_cell(c.metric)}`{arrow} | {sides[0]} | {sides[1]} | {difference} | {p} | "
                     f"{number(c.detectable)} | {_cell(c.verdict)} |")
    lines.append("")
    lines.append(f"*detectable*: the smallest difference these seeds tell from seed noise (two-sided {PERCENT[0]} "
                 f"test, "
                 f"{PERCENT[1]} power). ↑/↓: higher/lower is better.")
    for note in report.notes:
        lines.append(f"\n> {_cell(note)}")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": text, "json": to_json, "markdown": markdown}


def plot(report: Report, path: str) -> None:
    """Both sides' values per metric: the seeds as points, the mean with its 95 % interval (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = report.comparisons[:12]
    columns = min(3, len(shown))
    rows = (len(shown) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.2 * rows), squeeze=False)
    for axis, c in zip(axes.flat, shown):
        for position, (label, side, colour) in enumerate(((report.labels[0], c.a, "tab:blue"),
                                                          (report.labels[1], c.b, "tab:orange"))):
            count = len(side.values)
            offsets = [position + 0.12 * ((i - (count - 1) / 2) / max(1, count - 1)) for i in range(count)]
            axis.scatter(offsets, side.values, color=colour, alpha=0.6, s=18, label=f"{label} (n={side.n})")
            axis.errorbar([position + 0.3], [side.mean], yerr=[[side.mean - side.low], [side.high - side.mean]],
                          fmt="o", color=colour, capsize=4)
        axis.set_xticks([0, 1], list(report.labels))
        axis.set_xlim(-0.5, 1.6)
        stat = "no variation" if c.t is None else p_text(c.p)
        axis.set_title(f"{c.metric}{' ↑' if c.direction == 'higher' else ' ↓' if c.direction == 'lower' else ''}"
                       f"  ({stat})", fontsize=9)
    for axis in list(axes.flat)[len(shown):]:
        axis.axis("off")
    figure.suptitle("per-seed values, mean and 95 % interval", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
