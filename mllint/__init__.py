"""mllint: a linter for red flags in machine-learning training code."""
__version__ = "0.1.0"
