"""`python -m mllint.probe [OPTIONS] -- python SCRIPT ARGS`: the probe without the `mllint` group."""
from .cli import probe

probe(prog_name="mllint probe")
