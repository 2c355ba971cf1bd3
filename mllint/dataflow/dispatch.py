"""Callees looked up at run time, for any family.

Per module (the interpreter asks): what namespace a call's function is taken from when it is not written as a
plain name (`dynamic_callee`: `datasets.__dict__[name](...)`, `getattr(models, arch)(...)`, `vars(mod)[name]`,
`DATASETS[name](...)`, `REGISTRY.get(name)(...)`, `functools.partial(CIFAR10, root)(...)`), and the *value* of
such a callee (`callee_value`) when it may hold project functions: a function is referred to by a `GlobalTerm`
of its name, so a dict of getters (`{"cifar": get_cifar}`, `dict(cifar=get_cifar)`), a list of hooks, a registry
filled by `REGISTRY[name] = fn` or by a decorator (`@register("x")`, `@MODELS.register_module()`), a module
(`getattr(datasets, name)`) and a `partial` all carry their candidates as values. The call becomes a call site
whose callee is that value (`CallSite.dynamic`).

Per project (resolve.py, `targets`): the value is resolved into the project functions it may hold, at most
`MAX_CANDIDATES`, narrowed to one where the key is decided (a literal, an option's literal default): the call runs
the union of its candidates, their returns flow back, the arguments flow in.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import re

import libcst as cst

from ..core.names import dotted
from ..core.syntax import string
from .terms import ANY, ITER, GlobalTerm, ReturnTerm, Val, index, iterate, terms_val, union

if TYPE_CHECKING:
    from .interpreter import Lane

DISPATCH = "<dispatch>"  # the callee, as written, of a call site through a run-time lookup
MAX_CANDIDATES = 16
PARTIAL = "<partial>"  # a path step: (PARTIAL, positional arguments bound, ((keyword, literal), ...))


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
        if name == "eval":  # `eval("datasets." + name)`
            looked_up = evaluated_name(func)
            if looked_up is not None:
                return looked_up[0] or "globals"
    return ""


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z")


def evaluated_name(call: cst.Call) -> tuple[str, object] | None:
    """`eval(...)` of a name: (the namespace as written, "" for the module's own names; the key: its literal, or
    the expression that gives it at run time). The string is never evaluated as code: only a literal dotted
    prefix and one name are read: `eval("datasets." + name)`, `eval(f"datasets.{name}")`, `eval("Cls")`,
    `eval("datasets.Cls")`; anything else (a suffix after the name, an operator, a call in the string) is None."""
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return None
    arg = call.args[0].value
    text = string(arg)
    if text is not None:
        if not _DOTTED.match(text):
            return None
        prefix, _, key = text.rpartition(".")
        return prefix, key
    if type(arg) is cst.BinaryOperation and type(arg.operator) is cst.Add:
        prefix, key = string(arg.left), arg.right
    elif type(arg) is cst.FormattedString and len(arg.parts) == 2 and type(arg.parts[0]) is cst.FormattedStringText \
            and type(arg.parts[1]) is cst.FormattedStringExpression and arg.parts[1].conversion is None \
            and arg.parts[1].format_spec is None:
        prefix, key = arg.parts[0].value, arg.parts[1].expression
    else:
        return None
    if prefix is None or not prefix.endswith(".") or not _DOTTED.match(prefix[:-1]) or string(key) is not None:
        return None
    return prefix[:-1], key


def _namespace_node(prefix: str) -> cst.BaseExpression:
    """`a.b` as the expression that names it (read like the namespace of `getattr(a.b, name)`)."""
    parts = prefix.split(".")
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


# --- per module -------------------------------------------------------------------------------------


def function_ref(flow: "Lane", name: str) -> Val | None:
    """At module level, the value of a name defined by `def` in this module: a reference to the function."""
    if name in flow.ctx.names.functions:
        return terms_val({GlobalTerm(flow.ctx.rel, f"{flow.module}.{name}")})
    return None


def _refs(val: Val) -> bool:
    """Does the value hold a reference to a project name (a function, a registry, a module), as itself, an entry
    or an attribute of it (not a computation on it, `model.to(device)`)?"""
    return any(map(_is_ref, val.flat()))


def _is_ref(term) -> bool:
    return type(term) is GlobalTerm and term.raw


def _key(flow: "Lane", node: cst.BaseExpression, env: dict) -> object:
    """A lookup key: a literal, or the literal a name or an option (`args.dataset`, default "cifar") holds."""
    text = string(node)
    if text is not None:
        return text
    value = flow.expr(node, env)
    if isinstance(value.const, str) and not value.tainted():
        return value.const
    return None


def _lookup(flow: "Lane", namespace: cst.BaseExpression, key: object, env: dict) -> Val | None:
    owner = flow.expr(namespace, env)
    if flow.frame.is_module and type(namespace) is cst.Name and namespace.value in flow.module_names \
            and not any(type(t) is GlobalTerm for t in owner.terms):
        # a module-level registry read at module level: refer to the global, which holds every entry
        owner = union(owner, terms_val({GlobalTerm(flow.ctx.rel, f"{flow.module}.{namespace.value}")}))
    if not _refs(owner):
        return None
    return index(owner, ANY if key is None else key)


def callee_value(flow: "Lane", func: cst.BaseExpression, env: dict) -> Val | None:
    """The value of a called expression that is looked up at run time and may hold project functions, or None."""
    kind = type(func)
    if kind is cst.Name:
        value = env.get(func.value)
        if value is None and flow.frame.outer is not None:
            value = flow.frame.outer.get(func.value)
        if value is None:
            return None
        value = union(value, *_looked_up(flow, value))
        return value if _refs(value) else None
    if kind is cst.Subscript:
        if len(func.slice) != 1 or type(func.slice[0].slice) is not cst.Index:
            return None
        owner = func.value
        key = _key(flow, func.slice[0].slice.value, env)
        if type(owner) is cst.Attribute and owner.attr.value == "__dict__":
            return _lookup(flow, owner.value, key, env)
        if type(owner) is cst.Call and (dotted(owner.func) or "") == "vars" and owner.args:
            return _lookup(flow, owner.args[0].value, key, env)
        if type(owner) is cst.Call and (dotted(owner.func) or "") == "globals":
            if isinstance(key, str):
                return function_ref(flow, key)
            return None
        return _lookup(flow, owner, key, env)
    if kind is cst.Call:
        name = dotted(func.func) or ""
        if name == "getattr" and len(func.args) >= 2:
            return _lookup(flow, func.args[0].value, _key(flow, func.args[1].value, env), env)
        if name.rsplit(".", 1)[-1] == "get" and type(func.func) is cst.Attribute and func.args \
                and func.args[0].keyword is None:
            return _lookup(flow, func.func.value, _key(flow, func.args[0].value, env), env)
        if name.rsplit(".", 1)[-1] == "partial":
            value = flow.expr(func, env)
            return value if _refs(value) else None
        if name == "eval" and env.get("eval") is None:
            return _evaluated(flow, func, env)
    return None


def _evaluated(flow: "Lane", call: cst.Call, env: dict) -> Val | None:
    """`eval("datasets." + name)`: read as `getattr(datasets, name)`; `eval("Cls")`: the module's own name or an
    imported one."""
    looked_up = evaluated_name(call)
    if looked_up is None:
        return None
    prefix, key = looked_up
    if prefix:
        return _lookup(flow, _namespace_node(prefix), key if isinstance(key, str) else _key(flow, key, env), env)
    names = flow.ctx.names
    if key in names.functions or key in names.classes:
        return terms_val({GlobalTerm(flow.ctx.rel, f"{flow.module}.{key}")})
    qualified = names.qualify(cst.Name(key))
    if qualified and flow.ctx.is_project_name(qualified):
        return terms_val({GlobalTerm(flow.ctx.rel, qualified)})
    return None


def _looked_up(flow: "Lane", value: Val) -> list:
    """`fn = REGISTRY.get(name)` on a project registry: a call site (`REGISTRY.get` may be project code) whose
    fallback holds the registry; the entry it looks up, by the key given."""
    found = []
    for term in value.terms:
        if type(term) is ReturnTerm and not term.path:
            site = flow.facts.calls.get(term.site)
            if site is not None and site.dynamic is None and site.dotted.rsplit(".", 1)[-1] in ("get", "pop") \
                    and _refs(site.fallback):
                key = next((v.const for p, v in site.args if p == 0), None)
                refs = terms_val(t for t in site.fallback.flat() if type(t) is GlobalTerm)
                found.append(index(refs, key if isinstance(key, str) else ANY))
    return found


def partial_value(flow: "Lane", call) -> Val | None:
    """`partial(fn, a, k=v)`: the function, with how many positional arguments it binds and the literals bound by
    keyword (they decide the callee's branches), plus what the bound arguments carry."""
    if not call.args or call.args[0][0] != 0:
        return None
    func = call.args[0][1]
    refs = [t for t in func.flat() if _is_ref(t)]
    if not refs:
        return None
    positional = sum(1 for p, _, _ in call.args if isinstance(p, int)) - 1
    literals = tuple(sorted((p, v.const) for p, v, _ in call.args
                            if isinstance(p, str) and v.const is not None and not v.tainted()))
    step = (PARTIAL, positional, literals)
    bound = [v for p, v, _ in call.args[1:] if v.tainted()]
    marked = terms_val(t if len(t.path) >= 5 else GlobalTerm(t.rel, t.dotted, path=t.path + (step,), raw=t.raw,
                                                                 tags=t.tags) for t in refs)
    return union(marked, *bound) if bound else marked


def decorated(flow: "Lane", node: cst.FunctionDef, env: dict) -> None:
    """A module-level function registered by its decorator (`@register("resnet")`, `@MODELS.register_module()`,
    `@REGISTRY.register`): the registry global holds it under its key (the literal, else its name)."""
    for decorator in node.decorators:
        expr = decorator.decorator
        call = expr if type(expr) is cst.Call else None
        target = call.func if call is not None else expr
        written = dotted(target) or ""
        if "register" not in written.rsplit(".", 1)[-1].lower():
            continue
        key = node.name.value
        if call is not None:
            for arg in call.args:
                text = string(arg.value)
                if text is not None and arg.keyword is None or arg.keyword is not None and arg.keyword.value == "name":
                    key = text if text is not None else key
                    break
        registry = _registry_of(flow, target)
        if registry is None:
            continue
        ref = Val(fields=((key, terms_val({GlobalTerm(flow.ctx.rel, f"{flow.module}.{node.name.value}")})),))
        old = flow.facts.globals.get(registry)
        flow.facts.globals[registry] = union(old, ref) if old is not None else ref
        if registry in env:
            env[registry] = union(env[registry], ref)


def _registry_of(flow: "Lane", target: cst.BaseExpression) -> str | None:
    """The module-level name a decorator registers into: `MODELS` of `@MODELS.register_module()`; for a plain
    `@register(...)` defined here, the module-level dict its body writes (`REGISTRY[name] = fn`)."""
    if type(target) is cst.Attribute and type(target.value) is cst.Name:
        name = target.value.value
        return name if name in flow.module_names else None
    if type(target) is cst.Name:
        definition = flow.ctx.names.functions.get(target.value)
        if definition is None:
            return None
        from ..core.walk import walk

        for inner in walk(definition.body):
            if type(inner) is cst.AssignTarget and type(inner.target) is cst.Subscript \
                    and type(inner.target.value) is cst.Name and inner.target.value.value in flow.module_names:
                return inner.target.value.value
    return None


# --- per project ------------------------------------------------------------------------------------


def folded(term: GlobalTerm) -> GlobalTerm:
    """`steps.HOOKS` read as `steps` then `.HOOKS`: the attributes of a name are part of the dotted name."""
    path, name = term.path, term.dotted
    while path and type(path[0]) is str and path[0][:1] == ".":
        name, path = name + path[0], path[1:]
    return GlobalTerm(term.rel, name, path=path, raw=term.raw, tags=term.tags) if name != term.dotted else term


def split_path(path: tuple) -> tuple[tuple, int, tuple]:
    """(lookup steps, positional arguments bound by partials, keyword literals bound by partials)."""
    steps, positional, literals = [], 0, ()
    for step in path:
        if type(step) is tuple and step and step[0] == PARTIAL:
            positional += step[1]
            literals += step[2]
        else:
            steps.append(step)
    return tuple(steps), positional, literals


def lookup(val: Val, steps: tuple) -> Val:
    """A registry's value looked up by steps; a decided key it does not hold (`args.dataset.upper()`, a default
    spelt otherwise) reads as an unknown key: every candidate."""
    for step in steps:
        if step == ITER:
            val = iterate(val)
            continue
        if step == ANY or step is None:
            val = index(val, None)
            continue
        if val.fields is not None and not any(name == step for name, _ in val.fields):
            val = index(val, None)
            continue
        val = index(val, step)
    return val  # a whole registry called (`REGISTRY.get(k)` read as the registry): its flat terms, any entry
