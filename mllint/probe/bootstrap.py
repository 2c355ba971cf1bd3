"""The probe's entry point inside the user's interpreter: `python -m mllint.probe.bootstrap`.

Reads the run's configuration (a JSON file named by MLLINT_PROBE_CONFIG), installs the instrumentation, runs the
script (`runpy`, as `python SCRIPT` or `python -m MODULE` would) and writes what it saw to the record file,
whatever way the script ends: the step budget, its own end, sys.exit, an exception, or SIGTERM on timeout.
Imports only the standard library until torch is known to be there.
"""
from __future__ import annotations

import json
import os
import re
import runpy
import signal
import sys
import traceback


def _write(path: str, record: dict) -> None:
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle, default=repr)
    os.replace(tmp, path)


def _crash_site(exc: BaseException, project: str) -> list | None:
    site = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        name = os.path.abspath(frame.f_code.co_filename)
        if name.startswith(project.rstrip(os.sep) + os.sep) and "site-packages" not in name:
            site = [name, line, 1]
    return site


_LOSS = re.compile(r"(?i)(?<![a-z_])(?:train(?:ing)?[ _-]?)?loss\b[^0-9a-z\n]{0,6}([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_NOT_TRAINING = re.compile(r"(?i)(?<![a-z])(val|valid|validation|test|eval|evaluation|dev)(?![a-z])")


class _Tee:
    """The script's stdout/stderr, passed through, with the training loss it prints picked out (the metric the
    author reads, in the author's units): `loss 4.2051`, `Loss: 0.736 (0.721)`, `train_loss=2.3`."""

    def __init__(self, stream, state):
        self._stream, self._state, self._partial = stream, state, ""

    def write(self, text):
        result = self._stream.write(text)
        if "oss" in text or self._partial:
            try:
                self._scan(text)
            except Exception:  # noqa: BLE001 - reading the output must never break it
                self._partial = ""
        return result

    def _scan(self, text: str) -> None:
        pieces = re.split(r"[\r\n]", self._partial + text)
        self._partial = pieces.pop()[-2000:]
        for line in pieces:
            if "oss" not in line or _NOT_TRAINING.search(line) or not self._state.training_phase():
                continue
            match = _LOSS.search(line)
            if match:  # progress bars move the cursor with backspaces: keep the printable text
                self._state.on_printed_loss(float(match.group(1)), " ".join(_CONTROL.sub(" ", line).split()))

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _probe_cause(exc: BaseException, state) -> str | None:
    """A failure the probe itself caused: a file operation on a path it redirected or hid, or an error raised
    in its own patches. Said plainly, so that the script is not blamed."""
    if isinstance(exc, OSError):
        entry = state.files.related(exc.filename, exc.filename2)
        if entry is not None:
            if entry.get("hidden"):
                return (f"the script removed or moved {entry['path']} earlier in the run; the probe left that user "
                        f"file in place and hid it, so this failure comes from the probe's protection of user files")
            return (f"{entry['path']} was redirected by the probe to {entry['to']}; this failure comes from the "
                    f"probe's redirection of file writes, not from the script (please report it)")
    probe_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = [os.path.abspath(f.f_code.co_filename) for f, _ in traceback.walk_tb(exc.__traceback__)]
    if frames and frames[-1].startswith(probe_dir) and not frames[-1].endswith("bootstrap.py"):
        return (f"the error was raised inside the probe's own instrumentation ({os.path.basename(frames[-1])}), "
                f"not by the script (please report it)")
    return None


def main() -> None:
    with open(os.environ["MLLINT_PROBE_CONFIG"], encoding="utf-8") as handle:
        config = json.load(handle)
    record_path = config["record"]
    try:
        import torch
    except ImportError as exc:
        _write(record_path, {"status": "no-torch", "error": {"type": "ImportError", "message": str(exc)}})
        os._exit(3)
    if config["device"] == "cuda" and not torch.cuda.is_available():
        _write(record_path, {"status": "no-cuda"})
        os._exit(3)

    try:
        from . import instrument, state as probe_state, synthetic

        state = instrument.install(config)
        synthetic.install(state, bool(config["synthetic"]), instrument.user_site)
    except Exception as exc:  # noqa: BLE001 - a torch this probe cannot instrument: say so
        _write(record_path, {"status": "probe-error", "error": {
            "type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()[-4000:],
            "site": None}})
        os._exit(3)

    hung_at: list = []

    def on_term(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while frame is not None and not os.path.abspath(frame.f_code.co_filename).startswith(state.project_prefix):
            frame = frame.f_back
        if frame is not None:
            hung_at.append(probe_state.frame_site(frame))
        raise instrument.ProbeStop("timeout")

    signal.signal(signal.SIGTERM, on_term)
    sys.stdout, sys.stderr = _Tee(sys.stdout, state), _Tee(sys.stderr, state)
    argv = list(config["argv"])
    status, exit_code, error = "finished", None, None
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))  # as `python SCRIPT` has it
            runpy.run_path(argv[0], run_name="__main__")
    except instrument.ProbeStop as stop:
        status = stop.reason
        if status == "timeout":
            error = {"type": "Timeout", "message": f"still running at the timeout, after {state.steps} optimiser "
                     f"step{'' if state.steps == 1 else 's'}", "traceback": "", "site": hung_at[0] if hung_at else None}
    except SystemExit as exc:
        code = exc.code
        exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        status = "finished" if exit_code == 0 else "exit"
        if exit_code and not isinstance(code, int):
            error = {"type": "SystemExit", "message": str(code), "traceback": "", "site": None}
    except BaseException as exc:  # noqa: BLE001 - the script's crash is reported, not re-raised
        status = "crash" if not state.draining else "stopped-by-error"
        error = {
            "type": type(exc).__name__, "message": str(exc)[:2000],
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:],
            "site": _crash_site(exc, state.project),
        }
        try:
            cause = _probe_cause(exc, state)
        except Exception:  # noqa: BLE001
            cause = None
        if cause:
            error["probe_cause"] = cause
            status = "probe-caused"
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        state.remove_created_dirs()
    except Exception:  # noqa: BLE001 - the record matters more
        pass
    try:
        record = state.to_json()
    except BaseException as exc:  # noqa: BLE001 - report what can be reported
        record = {"notes": [f"the probe could not summarise the run: {type(exc).__name__}: {exc}"]}
    record.update({"status": status, "exit_code": exit_code, "error": error})
    _write(record_path, record)
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(0)  # user threads (loggers, prefetchers) must not keep the process alive


if __name__ == "__main__":
    main()
