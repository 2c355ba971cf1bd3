"""The recipe card (`mllint recipe`): every training choice of an entry point on one page, and the diff
between two recipes. `extract` runs in the engine's workers (one parse per file, cached like the rules'
facts); `card` assembles a card per entry point in the project phase; `render` and `diff` print them."""
