"""The probe's entry point inside the user's interpreter: `python -m mllint.probe.bootstrap`.

Reads the run's configuration (a JSON file named by MLLINT_PROBE_CONFIG), installs the instrumentation, runs the
script (`runpy`, as `python SCRIPT` or `python -m MODULE` would) and writes what it saw to the record file,
whatever way the script ends: the step budget, its own end, sys.exit, an exception, or SIGTERM on timeout.
Imports only the standard library until torch is known to be there.
"""
from __future__ import annotations

import json
import os
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
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(0)  # user threads (loggers, prefetchers) must not keep the process alive


if __name__ == "__main__":
    main()
