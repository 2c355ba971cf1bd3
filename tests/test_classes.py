"""The project's classes (core/classes.py): each module's classes and their bases, resolved across modules, and
which class a method call on `self` may run; and a name imported on two branches (core/names.py)."""
import textwrap
from pathlib import Path

import libcst as cst

from mllint.context import ModuleContext
from mllint.core.classes import Hierarchy, extract_classes
from mllint.core.walk import Index
from mllint.project import FileResult, Project

MODULES = frozenset({"models", "models.base", "models.sr", "models.gan", "train"})


def _ctx(code: str, rel: str) -> ModuleContext:
    module = cst.parse_module(textwrap.dedent(code).lstrip("\n"))
    return ModuleContext(module, rel, module.code, MODULES, index=Index(module))


def test_classes_and_their_bases_across_modules(tmp_path: Path):
    sources = {
        "models/base.py": """
            class BaseModel:
                class Options(dict, metaclass=type):
                    pass
            """,
        "models/sr.py": """
            import torch.nn as nn
            from models.base import BaseModel

            class SRModel(BaseModel):
                pass

            class VideoSRModel(SRModel, nn.Module):
                pass
            """,
        "models/gan.py": """
            from .base import BaseModel

            class GANModel(BaseModel):
                pass
            """,
    }
    files = {}
    for rel, code in sources.items():
        result = files[rel] = FileResult(rel, rel)
        result.facts["classes"] = extract_classes(_ctx(code, rel))
    assert files["models/base.py"].facts["classes"] == {"models.base.BaseModel": (),
                                                        "models.base.BaseModel.Options": ("dict",)}
    assert files["models/sr.py"].facts["classes"]["models.sr.VideoSRModel"] == ("models.sr.SRModel", "torch.nn.Module")
    classes = Hierarchy(Project(str(tmp_path), files))
    assert classes.ancestors("models.sr.VideoSRModel") == {"models.sr.SRModel", "models.base.BaseModel",
                                                          "torch.nn.Module"}
    assert classes.related("models.sr.VideoSRModel", "models.base.BaseModel")  # inherited
    assert classes.related("models.base.BaseModel", "models.gan.GANModel")  # overridden on the instance
    assert not classes.related("models.sr.SRModel", "models.gan.GANModel")  # siblings: `self.test()` in one
    assert classes.known("models.gan.GANModel") and not classes.known("torch.nn.Module")


def test_a_name_imported_on_two_branches_keeps_every_target():
    ctx = _ctx("""
        import argparse

        if argparse.ArgumentParser().parse_args().fast:
            from models.sr import build as make
        else:
            from models.gan import build as make
        from models.base import BaseModel
        """, "train.py")
    assert ctx.names.alternatives == {"make": ("models.sr.build", "models.gan.build")}
    assert ctx.names.qualify(cst.Name("make")) == "models.gan.build"  # the last binding
    assert ctx.names.qualify(cst.Name("BaseModel")) == "models.base.BaseModel"


def test_a_call_of_a_name_imported_on_two_branches_runs_either_project_function(tmp_path: Path):
    from mllint.core.calls import alternatives
    from mllint.core.names import extract_alternatives, extract_imports

    sources = {
        "models/sr.py": "def build():\n    return 1\n",
        "models/gan.py": "def build():\n    return 2\n",
        "train.py": """
            import argparse

            if argparse.ArgumentParser().parse_args().fast:
                from models.sr import build as make
            else:
                from models.gan import build as make
            from models.sr import build
            """,
    }
    files = {}
    for rel, code in sources.items():
        ctx = _ctx(code, rel)
        result = files[rel] = FileResult(rel, rel)
        result.facts["alternatives"] = extract_alternatives(ctx)
        result.facts["imports"] = extract_imports(ctx)
    project = Project(str(tmp_path), files)
    assert files["models/sr.py"].facts["alternatives"] is None  # one binding per name: no fact
    assert alternatives(project, "train.py", "make") == ("models.sr.build", "models.gan.build")
    assert alternatives(project, "train.py", "build") == ()  # bound once: `qualify` answers alone
