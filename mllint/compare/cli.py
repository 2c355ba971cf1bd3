"""`mllint stats A B`: is method A better than B over these seeds, or is the gap seed noise?

Imports only click until it runs (the `mllint` group loads it lazily). Exit codes: 0 the comparison was made,
2 a usage error or results that cannot be read, with the reason.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import click


class StatsError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mllint stats: error: {self.message}", err=True)


def _labels(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, str]:
    if value is None:
        return ("A", "B")
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise click.BadParameter("two different names separated by a comma, e.g. baseline,ours")
    return parts[0], parts[1]


def _pick(metrics: list[str], a: Any, b: Any) -> list[str]:
    """The metrics to compare: the ones asked for (each on both sides), else every metric both sides have."""
    from difflib import get_close_matches

    ours, theirs = a.metrics(), b.metrics()
    if metrics:
        for name in metrics:
            for results, available in ((a, ours), (b, theirs)):
                if name not in available:
                    close = get_close_matches(name, available, n=3)
                    hint = (f" (did you mean {', '.join(close)}?)" if close
                            else f" (it has: {', '.join(available[:20])})")
                    raise StatsError(f"no metric {name!r} in {results.path}{hint}")
        return list(dict.fromkeys(metrics))
    common = [m for m in ours if m in theirs]
    if not common:
        raise StatsError(f"{a.path} and {b.path} have no metric in common ({', '.join(ours[:10])} against "
                         f"{', '.join(theirs[:10])}); name them the same, or choose one with --metric")
    return common


@click.command(name="stats", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("a", type=click.Path(exists=True))
@click.argument("b", type=click.Path(exists=True))
@click.option("--metric", "metrics", multiple=True,
              help="A metric to compare (repeatable); default: every metric both sides have.")
@click.option("--higher-is-better", "direction", flag_value="higher", default=None,
              help="Higher values are better (default: guessed from each metric's name, e.g. acc, loss).")
@click.option("--lower-is-better", "direction", flag_value="lower", help="Lower values are better.")
@click.option("--reduce", type=click.Choice(["last", "min", "max", "mean"]), default="last", show_default=True,
              help="A training log (rows with a step or epoch column, TensorBoard scalars): its value per run.")
@click.option("--effect", type=float, default=None,
              help="The difference that matters to you: the verdict says how many seeds would detect it "
                   "(default: the observed difference).")
@click.option("--labels", callback=_labels, default=None, help="Names for A and B in the output, e.g. baseline,ours.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write the report to a file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Draw both distributions per metric (PNG, SVG or PDF by the name; matplotlib).")
def stats(a: str, b: str, metrics: tuple[str, ...], direction: str | None, reduce: str, effect: float | None,
          labels: tuple[str, str], fmt: str, output: str | None, plot_path: str | None) -> None:
    """Compare two sets of per-seed results, A and B: mean ± std and a Student-t 95 % interval each, the
    difference with its Welch interval and p-value, the smallest difference the seeds can detect, and a verdict.

    A and B are CSV/TSV, JSON or JSON-lines files (a row per run, or a training log with a step column), folders
    of them, `mllint probe --format json` reports, or folders of TensorBoard event files (a run per folder).
    """
    from . import readers, render
    from .welch import compare, guess_direction

    if plot_path and importlib.util.find_spec("matplotlib") is None:
        raise StatsError("--plot needs matplotlib: pip install matplotlib (or 'mllint-redflags[stats]')")
    try:
        side_a, side_b = readers.read(a, reduce), readers.read(b, reduce)
    except readers.ReadError as exc:
        raise StatsError(str(exc)) from None
    comparisons, notes = [], [*side_a.notes, *side_b.notes]
    for metric in _pick(list(metrics), side_a, side_b):
        values_a, values_b = side_a.values(metric), side_b.values(metric)
        if len(values_a) < 2 or len(values_b) < 2:
            notes.append(f"{metric}: {len(values_a)} and {len(values_b)} values; at least two per side are needed")
            continue
        way, origin = (direction, "option") if direction else (guess_direction(metric), "name")
        comparisons.append(compare(metric, values_a, values_b, way, origin if way else None, effect, labels))
    if not comparisons:
        raise StatsError("nothing to compare: " + "; ".join(notes[-3:]))
    only = sorted(set(side_a.metrics()) ^ set(side_b.metrics()))
    if only and not metrics:
        notes.append(f"on one side only, not compared: {', '.join(only[:10])}{' ...' if len(only) > 10 else ''}")
    report = render.Report(a, b, labels, reduce, comparisons, side_a.logs or side_b.logs,
                           (len(side_a.runs), len(side_b.runs)), notes)
    text = render.RENDERERS[fmt](report)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if plot_path:
        render.plot(report, plot_path)


def main() -> None:
    stats(prog_name="mllint stats")
