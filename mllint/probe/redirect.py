"""Redirected file writes, and every file operation that must follow them (runs in the user's interpreter).

A write into the project or the working folder (`open` for writing, `os.open` with a write flag, `torch.save`
anywhere) goes to the run's temporary folder. The calls that touch the same path later are given the redirected
path too, so that a save-then-rename works and what was written reads back: `os.replace`/`rename`/`link`/
`symlink`/`remove`/`unlink`, `shutil.copy*`/`move`/`rmtree`, `os.stat`/`lstat` (hence `os.path.exists`/
`isfile`/`getsize` and pathlib's `exists`), `open` for reading and `torch.load` (instrument.py).

A user file is never written, moved or removed: removing one, or moving it away, hides it from the run (it then
reads as missing) and leaves it in place. Needs only the standard library.
"""
from __future__ import annotations

import io
import os
import shutil
import builtins
from typing import Any, Callable

_SEP = os.sep
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _text(path: Any) -> str | None:
    if isinstance(path, (str, bytes, os.PathLike)):
        try:
            return os.fsdecode(path)
        except TypeError:  # a PathLike whose __fspath__ gives something else
            return None
    return None


class Redirects:
    """The map from user paths to the temporary folder, and the decisions of each patched call."""

    def __init__(self, tmpdir: str, protected: list[str], site_of: Callable[[], Any]):
        self.tmpdir = os.path.abspath(tmpdir)
        self.root = os.path.join(self.tmpdir, "writes")
        self.protected = [os.path.abspath(p).rstrip(_SEP) + _SEP for p in protected if p]
        self.site_of = site_of
        self.map: dict[str, dict] = {}  # absolute user path -> {"path", "to", "kind", "site"}
        self.hidden: list[dict] = []  # user files the script removed or moved away: left in place, hidden
        self.skipped: list[str] = []  # removals of user folders that were not done
        self.copy: Callable | None = None  # the original shutil.copy2, once install() ran

    # -- decisions
    def absolute(self, path: Any) -> str | None:
        text = _text(path)
        return os.path.abspath(text) if text is not None else None

    def inside(self, absolute: str | None) -> bool:
        """A path the probe protects: in the project or the working folder, not in its own folder or /dev."""
        if absolute is None or absolute.startswith(self.tmpdir + _SEP) or absolute.startswith("/dev/"):
            return False
        return any(absolute.startswith(prefix) or absolute + _SEP == prefix for prefix in self.protected)

    def entry(self, path: Any) -> dict | None:
        if not self.map:
            return None
        absolute = self.absolute(path)
        return self.map.get(absolute) if absolute is not None else None

    def _target(self, absolute: str) -> str:
        for prefix in self.protected:
            if absolute.startswith(prefix):
                return os.path.join(self.root, os.path.relpath(absolute, prefix))
        return os.path.join(self.root, absolute.lstrip(_SEP))

    def write(self, path: Any, kind: str, always: bool = False, update: bool = False) -> Any:
        """The path a write goes to: the temporary folder for a protected path (any path when `always`).
        update: the write keeps what is there (append, `r+`): a user file is copied over first."""
        absolute = self.absolute(path)
        if absolute is None or absolute.startswith(self.tmpdir + _SEP) or absolute.startswith("/dev/"):
            return path
        known = self.map.get(absolute)
        if known is None:
            if not always and not self.inside(absolute):
                return path
            known = {"path": absolute, "to": self._target(absolute), "kind": kind, "site": self.site_of()}
            os.makedirs(os.path.dirname(known["to"]), exist_ok=True)
            if update and self.copy is not None and os.path.isfile(absolute):
                self.copy(absolute, known["to"])  # before the map sends reads of the path to the copy
            self.map[absolute] = known
        elif known.get("hidden"):  # a hidden user file written again: now a redirected write
            known.update(hidden=False, kind=kind)
        os.makedirs(os.path.dirname(known["to"]), exist_ok=True)
        return known["to"]

    def read(self, path: Any) -> Any:
        known = self.entry(path)
        return known["to"] if known else path

    def hide(self, absolute: str, how: str) -> None:
        """The script removed or moved a user file away: the run sees it missing, the file stays."""
        self.map[absolute] = {"path": absolute, "to": self._target(absolute) + ".mllint-hidden", "kind": how,
                              "site": self.site_of(), "hidden": True}
        self.hidden.append({"path": absolute, "how": how, "site": self.site_of()})

    def related(self, *paths: Any) -> dict | None:
        """The entry a failing call's paths belong to (a user path or its redirected target), if any."""
        for path in paths:
            absolute = self.absolute(path)
            if absolute is None:
                continue
            known = self.map.get(absolute)
            if known:
                return known
            for entry in self.map.values():
                if entry["to"] == absolute:
                    return entry
            if absolute.startswith(self.tmpdir + _SEP):
                return {"path": absolute, "to": absolute, "kind": "?", "site": None}
        return None

    def to_json(self) -> dict:
        return {"redirects": [e for e in self.map.values() if not e.get("hidden")], "hidden": self.hidden,
                "skipped_removals": self.skipped}


def _dest(dst: Any, src: Any) -> Any:
    """shutil's rule: a destination that is a folder receives the source's base name."""
    return os.path.join(dst, os.path.basename(os.fsdecode(src))) if os.path.isdir(dst) else dst


def install(red: Redirects) -> dict[str, Callable]:
    """Patch the file operations; returns the originals (instrument.py wraps torch.save/load on top)."""
    o = {name: getattr(os, name) for name in ("stat", "lstat", "replace", "rename", "link", "symlink", "remove",
                                              "unlink", "open")}
    o.update(open=builtins.open, os_open=os.open, copyfile=shutil.copyfile, copy=shutil.copy,
             copy2=shutil.copy2, move=shutil.move, rmtree=shutil.rmtree)

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            if any(flag in mode for flag in "wax+"):
                file = red.write(file, "open", update="w" not in mode and "x" not in mode)
            else:
                file = red.read(file)
        return o["open"](file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if "dir_fd" not in kwargs:
            path = red.write(path, "os.open") if flags & _WRITE_FLAGS else red.read(path)
        return o["os_open"](path, flags, *args, **kwargs)

    def _stat(name: str):
        original = o[name]

        def stat(path, *args, **kwargs):
            if red.map and not isinstance(path, int) and "dir_fd" not in kwargs:
                path = red.read(path)
            return original(path, *args, **kwargs)

        return stat

    def _move(name: str, copy_user_file: Callable):
        """os.replace/rename/link: a redirected source moves within the temporary folder; a user file as the
        source is copied (never moved or linked) and hidden when it was meant to go away."""
        original = o[name]

        def move(src, dst, *args, **kwargs):
            if args or kwargs:  # src_dir_fd/dst_dir_fd: paths relative to a folder descriptor
                return original(src, dst, *args, **kwargs)
            known = red.entry(src)
            src_abs, dst_abs = red.absolute(src), red.absolute(dst)
            if known is None and not red.inside(src_abs) and not red.inside(dst_abs):
                return original(src, dst)
            target = red.write(dst, f"os.{name}", always=True)
            if known is not None or not red.inside(src_abs):
                return original(red.read(src), target)
            copy_user_file(src_abs, target)
            if name != "link":
                red.hide(src_abs, f"os.{name}")
            return None

        return move

    def symlink(src, dst, *args, **kwargs):
        dst_abs = red.absolute(dst)
        if red.inside(dst_abs) or red.entry(dst):
            known = red.entry(src)
            return o["symlink"](known["to"] if known else src, red.write(dst, "os.symlink"), *args, **kwargs)
        return o["symlink"](src, dst, *args, **kwargs)

    def _remove(name: str):
        original = o[name]

        def remove(path, *args, **kwargs):
            if not args and not kwargs:
                known = red.entry(path)
                if known is not None:
                    return original(known["to"])  # FileNotFoundError when it is gone, as for the real path
                absolute = red.absolute(path)
                if red.inside(absolute) and os.path.lexists(absolute):
                    red.hide(absolute, f"os.{name}")
                    return None
            return original(path, *args, **kwargs)

        return remove

    def _copy(name: str):
        original = o[name]

        def copy(src, dst, *args, **kwargs):
            known = red.entry(src)
            final = _dest(dst, src) if name != "copyfile" else dst
            if known is None and not red.inside(red.absolute(final)):
                return original(src, dst, *args, **kwargs)
            original(red.read(src), red.write(final, f"shutil.{name}", always=True), *args, **kwargs)
            return final

        return copy

    def move(src, dst, *args, **kwargs):
        known = red.entry(src)
        src_abs = red.absolute(src)
        final = _dest(dst, src)
        if known is None and not red.inside(src_abs) and not red.inside(red.absolute(final)):
            return o["move"](src, dst, *args, **kwargs)
        target = red.write(final, "shutil.move", always=True)
        if known is not None or not red.inside(src_abs):
            o["move"](red.read(src), target, *args, **kwargs)
        else:
            (o["copy2"] if os.path.isfile(src_abs) else shutil.copytree)(src_abs, target)
            red.hide(src_abs, "shutil.move")
        return final

    def rmtree(path, *args, **kwargs):
        absolute = red.absolute(path)
        if absolute is not None and red.inside(absolute):
            for entry in list(red.map.values()):  # what the run wrote there goes; the user's files stay
                if entry["path"].startswith(absolute.rstrip(_SEP) + _SEP) and not entry.get("hidden"):
                    o["rmtree"](entry["to"], ignore_errors=True) if os.path.isdir(entry["to"]) else \
                        _quiet(o["remove"], entry["to"])
            red.skipped.append(absolute)
            return None
        return o["rmtree"](path, *args, **kwargs)

    red.copy = o["copy2"]
    builtins.open = io.open = open_
    os.open = os_open
    os.stat, os.lstat = _stat("stat"), _stat("lstat")
    copy_user = lambda s, d: o["copy2"](s, d)  # noqa: E731 - a user file is copied, never linked
    os.replace, os.rename, os.link = _move("replace", copy_user), _move("rename", copy_user), _move("link", copy_user)
    os.symlink = symlink
    os.remove, os.unlink = _remove("remove"), _remove("unlink")
    shutil.copyfile, shutil.copy, shutil.copy2 = _copy("copyfile"), _copy("copy"), _copy("copy2")
    shutil.move, shutil.rmtree = move, rmtree
    return o


def _quiet(call: Callable, *args: Any) -> None:
    try:
        call(*args)
    except OSError:
        pass
