"""`mllint recipe [PATH] [--entry SCRIPT] [--config FILE] [--format markdown|json] [--diff A B]`.

Kept light: click only at import; the engine, libcst and the analysis load when the command runs."""
from __future__ import annotations

import json
import os

import click


@click.command("recipe", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("path", required=False, default=".", type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--entry", metavar="SCRIPT", help="The entry point to describe (default: every training script).")
@click.option("--config", "config_path", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="A YAML/JSON/TOML config the entry point loads (timm's --config), or a nanoGPT-style Python config.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--diff", nargs=2, metavar="A B", default=None,
              help="Compare two recipes: two paths, two git revisions of PATH's repository, two entry points, or two configs.")
@click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Worker processes for parsing.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Keep per-file results in DIR (the engine's cache) for the next run.")
def recipe(path: str, entry: str | None, config_path: str | None, fmt: str, diff: tuple[str, str] | None,
           jobs: int, cache_dir: str | None) -> None:
    """Print the training-recipe card of PATH: every training choice with its value, origin and file:line."""
    from .card import RecipeError
    from ..core.configs import ConfigFileError

    try:
        if diff:
            text = _diff(path, entry, config_path, fmt, diff, jobs)
        else:
            text = _cards(path, entry, config_path, fmt, jobs, cache_dir)
    except (RecipeError, ConfigFileError) as exc:
        click.echo(f"mllint: error: {exc}", err=True)
        raise SystemExit(2)
    click.echo(text, nl=False)


def _cards(path: str, entry: str | None, config_path: str | None, fmt: str, jobs: int, cache_dir: str | None) -> str:
    from . import render
    from .card import analyse, build, pick_entries

    project = analyse(path, max(1, jobs), cache_dir, entry=entry)
    cards = [build(project, rel, config_path) for rel in pick_entries(project, path, entry)]
    return render.markdown(cards) if fmt == "markdown" else render.as_json(cards)


def _diff(path: str, entry: str | None, config_path: str | None, fmt: str, diff: tuple[str, str], jobs: int) -> str:
    from contextlib import ExitStack

    from . import diff as diffing

    with ExitStack() as stack:
        a = diffing.resolve_side(diff[0], os.path.abspath(path), entry, config_path, stack)
        b = diffing.resolve_side(diff[1], os.path.abspath(path), entry, config_path, stack)
        card_a, card_b = diffing.card_of(a, max(1, jobs)), diffing.card_of(b, max(1, jobs))
        if fmt == "json":
            return json.dumps(diffing.as_dict(card_a, card_b, diff[0], diff[1]), indent=2) + "\n"
        return diffing.markdown(card_a, card_b, diff[0], diff[1])
