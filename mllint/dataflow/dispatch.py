"""Callees looked up at run time, for any family: what namespace a call's function is taken from when it is not
written as a plain name (`datasets.__dict__[name](...)`, `getattr(models, arch)(...)`, `vars(mod)[name](...)`,
`DATASETS[name](...)`, `REGISTRY.get(name)(...)`, `functools.partial(CIFAR10, root)(...)`)."""
from __future__ import annotations

import libcst as cst

from ..core.names import dotted


def dynamic_callee(func: cst.BaseExpression) -> str:
    """The namespace (as written) a called expression is looked up in, or "" for a plain callee."""
    kind = type(func)
    if kind is cst.Subscript:
        owner = func.value
        if type(owner) is cst.Attribute and owner.attr.value == "__dict__":  # `datasets.__dict__[name]`
            return dotted(owner.value) or ""
        if type(owner) is cst.Call and (dotted(owner.func) or "") in ("vars", "globals", "locals"):
            return (dotted(owner.args[0].value) or "") if owner.args else "globals"
        return dotted(owner) or ""  # `DATASETS[name]`, `self.loaders[split]`
    if kind is cst.Call:
        name = dotted(func.func) or ""
        if name == "getattr" and func.args:  # `getattr(datasets, name)`
            return dotted(func.args[0].value) or ""
        if name.rsplit(".", 1)[-1] == "get" and type(func.func) is cst.Attribute:  # `REGISTRY.get(name)`
            return dotted(func.func.value) or ""
        if name.rsplit(".", 1)[-1] == "partial" and func.args:  # `partial(CIFAR10, root)`
            return dotted(func.args[0].value) or ""
    return ""
