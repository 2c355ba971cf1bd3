"""Running the per-file analysis over many files: in-process or in a process pool, with a time
bound per file and crash isolation.

- The pool is used only when it pays (more than one job and enough bytes to parse); the fork
  start method (Linux) lets workers inherit the already imported libcst and rules instead of
  importing them again.
- Files are sent largest first in chunks that shrink towards the end (guided scheduling), so that
  one big file does not leave the other workers idle at the end.
- A file that takes longer than `timeout` seconds is stopped (SIGALRM in the worker) and reported
  as FILE009; a file that kills its worker (libcst's native parser can overflow its stack) is
  retried alone and reported as FILE008. Neither outcome is cached.
- Native code never sees the Python-level alarm: a worker stuck in libcst's parser past the limit
  would hang the run. Workers also arm a CPU-time timer whose signal (SIGPROF) ends the process,
  `HARD_LIMIT_GRACE` seconds after the limit; the file is then retried alone, and reported as FILE009
  if the retry runs out of time too. (Files analysed in the main process, in runs too small for a
  pool, have the Python-level alarm only.)
- Ctrl-C: a terminal sends SIGINT to the whole process group. Workers ignore it, so that only the parent
  decides; the parent kills its workers at once (their work is lost anyway) instead of waiting for the
  chunks they hold, and ignores a second Ctrl-C while it exits (code 130, see cli.main).
"""
from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from .core.paths import is_test_path
from .findings import Loc
from .project import FileResult

if TYPE_CHECKING:  # concurrent.futures and multiprocessing are imported on first use: a warm run needs neither
    from concurrent.futures import ProcessPoolExecutor

    from .settings import Settings

Item = tuple[str, str, str]  # (path, display path, path relative to the project root)
Outcome = tuple[FileResult, Optional[dict]]  # result, and the module-name probes (None: do not cache)

FILE_TIMEOUT = float(os.environ.get("MLLINT_FILE_TIMEOUT", "60"))
HARD_LIMIT_GRACE = 5.0  # CPU seconds past the time limit before a worker stuck in native code is ended
POOL_MIN_BYTES = 96 * 1024  # below this, starting workers costs more than it saves
SMALLEST_CHUNK_SHARE = 48  # the smallest chunk: this fraction of a worker's share of the bytes
MAX_CHUNK_FILES = 32


class FileTimeout(BaseException):
    """Raised by the alarm inside a file's analysis (a BaseException: `except Exception` lets it through)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise FileTimeout in this thread after `seconds` of wall time (between two bytecodes)."""
    def fire(signum, frame):
        raise FileTimeout

    with _timer("ITIMER_REAL", "SIGALRM", fire, seconds):
        yield


@contextmanager
def hard_deadline(seconds: float) -> Iterator[None]:
    """In a worker process only: end the process once it has used `seconds` of CPU time, even inside
    native code (SIGPROF's default action terminates)."""
    with _timer("ITIMER_PROF", "SIGPROF", signal.SIG_DFL, seconds):
        yield


@contextmanager
def _timer(which: str, signame: str, handler, seconds: float) -> Iterator[None]:
    usable = seconds > 0 and hasattr(signal, which) and hasattr(signal, signame) \
        and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    timer, signum = getattr(signal, which), getattr(signal, signame)
    previous = signal.signal(signum, handler)
    signal.setitimer(timer, seconds)
    try:
        yield
    finally:
        signal.setitimer(timer, 0)
        signal.signal(signum, previous)


def _failed(item: Item, code: str, message: str) -> FileResult:
    from .pipeline import diagnostic as _diagnostic

    path, display, rel = item
    finding = _diagnostic(code, message, Loc(1, 1, 1, 1, display))
    return FileResult(display, rel, is_test_path(rel), path.endswith(".ipynb"), False, [finding])


def analyze_one(item: Item, settings: "Settings", timeout: float) -> Outcome:
    from . import pipeline

    try:
        with deadline(timeout):
            return pipeline.analyze(*item, settings)
    except FileTimeout:
        return _failed(item, "FILE009", f"analysis took longer than {timeout:g} s: stopped"), None
    except RecursionError:
        return _failed(item, "FILE004", "too deeply nested to analyse"), None
    except Exception as exc:  # noqa: BLE001 - pipeline.analyze should not raise; if it does, one file fails
        return _failed(item, "FILE008", f"internal error: {type(exc).__name__}: {exc}"[:300]), None


def _analyze_chunk(items: list[Item], settings: "Settings", timeout: float) -> list[Outcome]:
    return [analyze_one(item, settings, timeout) for item in items]


def _analyze_chunk_in_worker(items: list[Item], settings: "Settings", timeout: float) -> list[Outcome]:
    outcomes = []
    for item in items:
        with hard_deadline(timeout + HARD_LIMIT_GRACE if timeout > 0 else 0):
            outcomes.append(analyze_one(item, settings, timeout))
    return outcomes


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _chunks(items: list[Item], sizes: list[int], jobs: int) -> list[list[int]]:
    """Indices of items grouped into chunks, largest files first (guided scheduling): each chunk weighs
    about half a worker's share of the bytes still to send, down to a floor, so that the chunks get
    smaller towards the end and the workers finish together."""
    order = sorted(range(len(items)), key=lambda i: -sizes[i])
    remaining = sum(sizes)
    smallest = max(1, remaining // (jobs * SMALLEST_CHUNK_SHARE))
    target = max(smallest, remaining // (jobs * 2))
    chunks: list[list[int]] = []
    current: list[int] = []
    weight = 0
    for index in order:
        current.append(index)
        weight += sizes[index]
        if weight >= target or len(current) >= MAX_CHUNK_FILES:
            chunks.append(current)
            remaining -= weight
            current, weight = [], 0
            target = max(smallest, remaining // (jobs * 2))
    if current:
        chunks.append(current)
    return chunks


def _context():
    if sys.platform == "linux":
        import multiprocessing

        return multiprocessing.get_context("fork")  # workers inherit imported modules
    return None


def _pool(jobs: int, initializer=None) -> "ProcessPoolExecutor":
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=initializer or _start_worker)


def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends the workers
    gc.enable()  # the parent pauses its collector while it receives results; a worker keeps its own on


def kill_pool(executor: "ProcessPoolExecutor") -> None:
    """End a pool now: kill its workers (a chunk in progress is lost) and let its threads wind down
    without waiting. `shutdown(wait=True)` would first finish every chunk already sent (seconds), and a
    worker killed while it holds a queue lock could block a graceful shutdown for ever."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=1.0)  # reaped: no zombie or orphan outlives the run


def stop_on_interrupt() -> None:
    """The run is ending on Ctrl-C: a second one must not interrupt the cleanup (it left the parent
    waiting on its workers for ever)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _load_libcst() -> None:
    _start_worker()
    import libcst

    libcst.parse_module  # noqa: B018 - touching an attribute loads the real module (see engine._LazyLibcst)
    from . import pipeline  # noqa: F401 - and the per-file pipeline, before the first file arrives


def _preload(paths: tuple[str, ...]) -> None:
    """The initializer of workers started early (start_early): libcst, the per-file pipeline and the modules the
    analysis imports on first use, and, for one file given, its parse (parsing.preparse), all while the parent
    starts up, discovers and hashes the project. Any failure here only loses the head start: the analysis does
    the same work again, under its time limits (a file that crashes the parser kills this worker, and is then
    retried alone, as any file whose worker died)."""
    _load_libcst()
    from importlib import import_module

    from . import parsing
    from .rules import ANALYSIS_MODULES, all_rules

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # a plugin's load warning is the parent's to print
            all_rules()
        for name in ANALYSIS_MODULES:
            import_module(name)
    except Exception:  # noqa: BLE001 - imported again, and failing where the analysis needs it
        return
    if len(paths) != 1 or not paths[0].endswith(".py"):
        return
    from .config import Config

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # as the analysis sets it (pipeline._analyze)
    enabled = gc.isenabled()
    gc.disable()
    try:
        with hard_deadline(FILE_TIMEOUT + HARD_LIMIT_GRACE if FILE_TIMEOUT > 0 else 0), deadline(FILE_TIMEOUT):
            parsing.preparse(paths[0], Config.max_file_size)  # the text is compared, not the limit
    except (Exception, FileTimeout):  # noqa: BLE001 - parsed again by the analysis, which reports the problem
        pass
    finally:
        if enabled:
            gc.enable()


def spare_core() -> bool:
    """Is a core likely idle (the 1-minute load average below the core count less a half)? Then one changed file
    is analysed fastest by a worker started early, beside the parent's start-up; on a busy machine the two
    processes take turns on the same cores, and the analysis in the parent, which imports the analysis once
    and sends nothing back, costs ~0.1 s less CPU (see WarmPool.start)."""
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1) - 0.5
    except OSError:
        return True


_EARLY: "tuple[ProcessPoolExecutor, int] | None" = None  # workers started by start_early, not yet taken by a run


def start_early(paths: list[str], jobs: int) -> None:
    """`mllint FILE...` (pre-commit) on Linux, called before the command line is even parsed (cli.py): start the
    workers that will analyse the changed files now, in a process that has imported almost nothing, so that
    loading libcst and the analysis overlaps the parent's start-up (click, the engine, the configuration,
    discovery, hashing) instead of following it. A run adopts them (WarmPool.start); one that finds the files
    in the cache, or needs no workers, ends them (discard_early)."""
    global _EARLY
    if _EARLY is not None or sys.platform != "linux" or not paths or jobs <= 1 or not spare_core():
        return
    size = min(jobs, len(paths))
    executor = _pool(size, lambda: _preload(tuple(os.path.abspath(p) for p in paths)))
    executor.submit(int)  # with fork, every worker starts at the first submission
    _EARLY = (executor, size)


# the options of `mllint check` that take a value (tests/test_early_workers.py compares them with cli.py's)
VALUE_OPTIONS = frozenset(("--select", "--ignore", "--extend-select", "--format", "--output-format", "--output", "-o",
                           "--fail-on", "--config", "--jobs", "-j", "--cache-dir", "--exclude", "--extend-exclude",
                           "--per-file-ignores", "--max-file-size", "--stdin-filename", "--baseline",
                           "--write-baseline", "--changed-since", "--color"))
_NOT_LINTING = frozenset(("rules", "rule", "probe", "recipe", "stats", "-h", "--help", "--version", "--no-cache",
                          "--show-settings", "--show-files", "--stdin-filename", "-"))


def start_for_command_line(argv: list[str]) -> None:
    """start_early for `mllint [check] [OPTIONS] FILE...` run as a program (`mllint`, `python -m mllint`), read
    from the raw arguments: only Python files and notebooks that exist, no folder, no stdin, the cache in use and
    more than one job. (An option's value that happens to name a Python file only starts a worker for nothing.)"""
    program = argv[0] if argv else ""
    if not (os.path.basename(program) == "mllint" or program.endswith(os.path.join("mllint", "__main__.py"))) \
            or sys.platform != "linux":
        return
    args = argv[1:]
    if args[:1] == ["check"]:
        args = args[1:]
    jobs = os.cpu_count() or 1
    files = []
    value_of = None  # the option whose value comes next
    for arg in args:
        if value_of is not None:
            option, value_of = value_of, None
            if option in ("--jobs", "-j"):
                if not arg.isdigit():
                    return
                jobs = int(arg)
            continue
        if arg == "--":
            return  # paths that look like options: left to the run
        if arg in _NOT_LINTING or arg.startswith("--stdin-filename="):
            return
        if arg.startswith("--jobs=") or (arg.startswith("-j") and arg != "-j"):
            value = arg[len("--jobs="):] if arg.startswith("--jobs=") else arg[2:]
            if not value.isdigit():
                return
            jobs = int(value)
        elif arg in VALUE_OPTIONS:
            value_of = arg
        elif arg.startswith("-"):
            continue
        elif os.path.isdir(arg):
            return
        elif arg.endswith((".py", ".ipynb")) and os.path.isfile(arg):
            files.append(arg)
    start_early(files, jobs)


def take_early() -> "tuple[ProcessPoolExecutor, int] | None":
    global _EARLY
    early, _EARLY = _EARLY, None
    return early


def discard_early() -> None:
    """End early workers that no run took (they may still be loading libcst)."""
    early = take_early()
    if early is not None:
        pool = WarmPool(early[1])
        pool.executor, pool.size = early
        pool.close()


class WarmPool:
    """Workers started as soon as a run knows that some file must be analysed (before it reads the
    cache): they load libcst while the parent reads the cache, so even one changed file is parsed by
    a worker that is ready for it. A run that finds everything in the cache starts none."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None
        self.size = 0
        self.used = self.dead = False

    def start(self, files: int | None = None) -> None:
        """Start the workers, no more than there are files to analyse (one changed file: one worker,
        and the other core stays free for the parent; none on a busy machine, see spare_core), or adopt
        those start_early started."""
        if self.executor is None and not self.dead:
            early = take_early()
            if early is not None:
                self.executor, self.size = early
                return
            if files == 1 and not spare_core():  # analysed in the parent instead (start_many): see spare_core
                return
            self.size = min(self.jobs, files or self.jobs)
            self.executor = _pool(self.size, _load_libcst)
            self.executor.submit(int)  # with fork, every worker starts at the first submission

    def take(self, files: int) -> "ProcessPoolExecutor | None":
        self.start(files)
        self.used = self.used or self.executor is not None
        return self.executor

    def broken(self) -> None:
        self.close()
        self.dead = True

    def kill(self) -> None:
        """Stop at once (Ctrl-C): the workers are killed, whatever they hold."""
        if self.executor is not None:
            kill_pool(self.executor)
            self.executor = None
        self.dead = True

    def close(self) -> None:
        """Shut down; workers that were never used are stopped rather than waited for (they may be
        still loading libcst)."""
        if self.executor is None:
            return
        idle = list(getattr(self.executor, "_processes", {}).values()) if not self.used else []
        self.executor.shutdown(wait=not idle, cancel_futures=True)
        for process in idle:
            process.terminate()
        self.executor = None


def analyze_many(
    items: list[Item], settings: "Settings", jobs: int, timeout: float = FILE_TIMEOUT, warm: WarmPool | None = None,
    arrived: Callable[[int, Outcome], None] | None = None,
) -> list[Outcome]:
    """Outcomes in the order of items. `arrived(index, outcome)` is called for outcomes that come back from
    the pool while other chunks are still being analysed (so that the caller can store them meanwhile)."""
    return start_many(items, settings, jobs, timeout, warm, arrived)()


def start_many(
    items: list[Item], settings: "Settings", jobs: int, timeout: float = FILE_TIMEOUT, warm: WarmPool | None = None,
    arrived: Callable[[int, Outcome], None] | None = None,
) -> Callable[[], list[Outcome]]:
    """Like analyze_many, in two steps: the files are sent to the warm pool's workers now, and the function
    returned waits for their outcomes (the caller reads the cache meanwhile). Without a warm pool ready for
    them, nothing starts before that function is called."""
    if not items:
        return lambda: []
    sizes = [_size(path) for path, _, _ in items]
    executor = warm.take(len(items)) if warm is not None else None
    if executor is not None and warm.size < min(jobs, len(items)) and sum(sizes) >= POOL_MIN_BYTES:
        executor = None  # started for fewer files than turned out changed: a full pool is faster
    if executor is None:
        if jobs <= 1 or len(items) < 2 or sum(sizes) < POOL_MIN_BYTES:
            return lambda: _analyze_chunk(items, settings, timeout)
        return lambda: _collect(items, settings, jobs, timeout, warm, arrived, sizes, None)
    chunks = _chunks(items, sizes, jobs)
    try:
        futures = [(chunk, executor.submit(_analyze_chunk_in_worker, [items[i] for i in chunk], settings, timeout))
                   for chunk in chunks]
    except BaseException:
        warm.kill()
        raise
    return lambda: _collect(items, settings, jobs, timeout, warm, arrived, sizes, futures)


def _collect(
    items: list[Item], settings: "Settings", jobs: int, timeout: float, warm: WarmPool | None,
    arrived: Callable[[int, Outcome], None] | None, sizes: list[int], futures: list | None,
) -> list[Outcome]:
    """The outcomes of files sent to the warm pool (futures), or, without futures, of files analysed in a pool
    of their own; files of a chunk whose worker died are retried alone."""
    from concurrent.futures.process import BrokenProcessPool

    outcomes: list[Outcome | None] = [None] * len(items)
    retry: list[int] = []
    own = futures is None
    executor = None
    try:
        if own:
            chunks = _chunks(items, sizes, jobs)
            executor = _pool(min(jobs, len(chunks)))
            futures = [(chunk, executor.submit(_analyze_chunk_in_worker, [items[i] for i in chunk], settings,
                                               timeout)) for chunk in chunks]
        for chunk, future in futures:
            try:
                for index, outcome in zip(chunk, future.result()):
                    outcomes[index] = outcome
                    if arrived is not None:
                        arrived(index, outcome)
            except BrokenProcessPool:
                retry.extend(chunk)
    except BaseException as exc:  # Ctrl-C (or any failure): end the workers now rather than wait for their chunks
        if isinstance(exc, KeyboardInterrupt):
            stop_on_interrupt()
        if own:
            if executor is not None:
                kill_pool(executor)
        else:
            warm.kill()
        raise
    if own:
        executor.shutdown()
    if retry and warm is not None:
        warm.broken()
    for index in sorted(retry):  # isolate each file of a chunk whose worker died
        started = time.monotonic()
        alone = _pool(1)
        try:
            outcomes[index] = alone.submit(_analyze_chunk_in_worker, [items[index]], settings, timeout).result()[0]
            alone.shutdown()
        except BaseException as exc:
            kill_pool(alone)
            if not isinstance(exc, BrokenProcessPool):
                if isinstance(exc, KeyboardInterrupt):
                    stop_on_interrupt()
                raise
            if timeout > 0 and time.monotonic() - started >= timeout:  # ended by hard_deadline
                message = f"analysis took longer than {timeout:g} s (in native code): stopped"
                outcomes[index] = (_failed(items[index], "FILE009", message), None)
            else:
                message = "the parser crashed on this file (the worker process died); skipped"
                outcomes[index] = (_failed(items[index], "FILE008", message), None)
    return outcomes  # type: ignore[return-value]
