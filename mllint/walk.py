"""The light walker, where third-party rules (the `mllint.rules` entry point) have always imported it from."""
from .core.walk import Visitor, walk

__all__ = ["Visitor", "walk"]
