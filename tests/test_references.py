"""The `references` fact (core/names.py): the names a module's code uses, for project rules that ask whether a
function is named anywhere without reading source text."""
import pickle
import textwrap

import libcst as cst

from mllint.context import ModuleContext
from mllint.core.names import extract_references
from mllint.core.walk import Index


def _refs(code: str, rel: str = "pkg/train.py"):
    module = cst.parse_module(textwrap.dedent(code))
    return extract_references(ModuleContext(module, rel, module.code, frozenset({"pkg"}), index=Index(module)))


def test_names_attributes_strings_and_stars():
    refs = _refs("""
        from pkg.helpers import *
        from . import tools
        import pkg.schedules as S

        def build(optimizer, lr=0.1):
            # warm_restart is not used: a comment names nothing
            hook = getattr(tools, "on_epoch")
            factory = registry["pkg.models.resnet_tiny"]
            return S.cosine(optimizer), make_loader(batch=4)

        class Trainer:
            pass
    """)
    assert {"build", "Trainer"}.isdisjoint(refs.names)  # a definition's own name is no use of it
    assert {"optimizer", "lr", "tools", "make_loader", "batch", "getattr", "S", "registry"} <= refs.names
    assert "cosine" in refs.attributes and "cosine" not in refs.names
    assert {"on_epoch", "resnet_tiny"} <= refs.strings
    assert "warm_restart" not in refs.names | refs.attributes | refs.strings
    assert refs.stars == ("pkg.helpers",)
    assert pickle.loads(pickle.dumps(refs)) == refs  # cached with the module's facts


def test_prose_strings_and_relative_stars():
    refs = _refs('''
        """Train the model: see old_schedule for the paper's policy."""
        from .utils import *

        print("epoch done")
    ''', rel="pkg/sub/run.py")
    assert "old_schedule" not in refs.strings and "epoch done" not in refs.strings
    assert refs.stars == ("pkg.sub.utils",)


def test_empty_module_has_no_fact():
    assert _refs("") is None
