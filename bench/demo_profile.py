"""Where ``make demo``'s minutes go: Prefect, extraction per platform, validation, loading, the
weekly reports and the rest.

Runs ``influencers demo --days N`` (70 nights of the default roster, then the shop, the campaign
files and the weekly reports of the full weeks) in a fresh process, with a fresh data directory
and Prefect home under one temporary directory, exactly as a person's first ``make demo`` would
(the temporary Prefect server included), and attributes its wall time to parts.

How: the child process wraps a few functions from the outside, changing nothing they do, and
records which part each thread is in at every moment:

- Prefect: a flow or task call (``Flow.__call__``, ``Task.__call__``/``submit``, the engine's
  ``run_flow_sync``/``run_task_sync``) is "prefect"; the body it calls (the engine's
  ``call_with_parameters``) is the body's own part, so what is left to "prefect" is its overhead:
  creating runs, state changes, API calls to the temporary server. Starting and stopping that
  server is a part of its own.
- the task bodies: ``extract_and_land`` (per platform), ``validate_and_transform``,
  ``load_source_night`` (and inside it ``open_lake``: the lake's attach and migrations check);
  the weekly flow and its tasks; the lake's maintenance after each Saturday; the shop's orders
  import and the campaign files.
- starting and stopping the simulated platforms; the imports; everything else is "rest".
- the process's start and exit, timed from outside it: the interpreter's start, and at exit
  Prefect's draining of its log and event workers and the temporary server's stop.

The demo runs its nights two at a time in two worker processes: each is instrumented the same way
when it starts (``_worker_start``), and what it recorded joins this process's timeline (the wall
clock is the system's; each process's CPU time is its own). Each moment of wall time goes to the
innermost part of the thread in it; when several threads, of any process, are in a part at once,
the moment is split between those doing work, ahead of those only in Prefect or the rest (a
thread waiting for others sits in one of those; the demo's own thread waiting for its nights
counts for nothing). The parts add up to the wall time.

    .venv/bin/python bench/demo_profile.py              # 70 nights (several minutes)
    .venv/bin/python bench/demo_profile.py --quick      # 2 nights
    .venv/bin/python bench/demo_profile.py --nights 14
"""

from __future__ import annotations

import time

PROCESS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import concurrent.futures  # noqa: E402
import datetime as dt  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NIGHTS = 70
QUICK_NIGHTS = 2
# A Sunday: 70 nights are ten full ISO weeks, each with its weekly reports.
END_DATE = dt.date(2026, 11, 22)

SERVER = "prefect: temporary server start/stop"
FLOW_RUNS = "prefect: flow runs"
TASK_RUNS = "prefect: task runs"
PLATFORMS = ("instagram", "youtube", "tiktok")
SIMULATOR = "simulator start/stop"
VALIDATE = "validate + transform"
LAKE_OPEN = "load: lake open"
LOAD = "load: commit"
WEEKLY = "weekly reports"
MAINTENANCE = "lake maintenance (Saturdays)"
SHOP = "shop orders + campaign files"
IMPORTS = "imports"
START_EXIT = "process start and exit"
REST = "rest"
PARTS = (
    SERVER,
    FLOW_RUNS,
    TASK_RUNS,
    *(f"extract: {platform}" for platform in PLATFORMS),
    SIMULATOR,
    VALIDATE,
    LAKE_OPEN,
    LOAD,
    WEEKLY,
    MAINTENANCE,
    SHOP,
    IMPORTS,
    START_EXIT,
    REST,
)
# Parts a thread is in while it may be only waiting for another one.
CONTAINERS = frozenset({FLOW_RUNS, TASK_RUNS, REST})
# The demo's own thread waiting for nights run in other threads: no part of its own.
WAITING = "waiting"


def run(quick: bool) -> dict[str, Any]:
    """Profile the demo: 2 nights if ``quick``, else 70."""
    return profile(QUICK_NIGHTS if quick else DEFAULT_NIGHTS)


def profile(nights: int, end: dt.date = END_DATE) -> dict[str, Any]:
    """Run ``influencers demo --days NIGHTS --end END`` in a fresh process and temporary
    directory; its parts' seconds, the wall time and the nightly part's wall time."""
    with tempfile.TemporaryDirectory(prefix="demo-profile-") as directory:
        work = Path(directory)
        output = work / "profile.json"
        environment = {
            name: value
            for name, value in os.environ.items()
            # An operator's own settings and Prefect server must not change what is measured.
            if not name.startswith("INFLUENCERS_") and name != "PREFECT_API_URL"
        }
        environment.update(
            {
                "PREFECT_HOME": str(work / "prefect"),
                "INFLUENCERS_DATA_DIR": str(work / "data"),
                # What `influencers demo` sets before Prefect is imported (flows/cli.py).
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
                "PREFECT_LOGGING_LEVEL": "WARNING",
            }
        )
        log = work / "demo.log"
        used_before = _children_cpu_seconds()
        started = time.perf_counter()
        with log.open("w", encoding="utf-8") as log_file:
            finished = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--child",
                    str(output),
                    "--nights",
                    str(nights),
                    "--end",
                    end.isoformat(),
                ],
                cwd=ROOT,
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                check=False,
            )
        wall = time.perf_counter() - started
        cpu = _children_cpu_seconds() - used_before
        if finished.returncode != 0 or not output.exists():
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"the demo failed (exit {finished.returncode}):\n{tail}")
        results: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    parts = results["parts"]
    parts[START_EXIT] = max(0.0, wall - sum(parts.values()))
    results["cpu_parts"].pop(START_EXIT, None)
    results["wall_seconds"] = wall
    # The machine is shared: CPU time (of the demo and the processes it started and waited for:
    # the temporary Prefect server, a simulator process) moves less with its load than wall time.
    results["cpu_seconds"] = cpu
    return results


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def markdown(results: dict[str, Any]) -> str:
    """The profile as a table: part, seconds, share of the wall time."""
    wall = results["wall_seconds"]
    nights = results["nights"]
    nightly = results["nightly_seconds"]
    lines = [
        f"`influencers demo --days {nights} --end {results['end']}` in a fresh process: "
        f"{wall:.1f} s in all; its {nights} nights {nightly:.1f} s "
        f"({nightly / nights:.2f} s a night), {results['flow_runs']} flow runs and "
        f"{results['task_runs']} task runs; {results['cpu_seconds']:.0f} s of CPU time.",
        "",
        "| part | seconds | share | CPU seconds of the demo and its night workers |",
        "|---|---:|---:|---:|",
    ]
    each = results.get("night_seconds", [])
    if len(each) >= 20:
        first, last = sum(each[:10]) / 10, sum(each[-10:]) / 10
        lines[0] += (
            f" A night's flow run took {first:.2f} s on average among the first ten, "
            f"{last:.2f} s among the last ten."
        )
    for part in PARTS:
        seconds = results["parts"].get(part, 0.0)
        cpu = results["cpu_parts"].get(part)
        lines.append(
            f"| {part} | {seconds:.1f} | {seconds / wall:.0%} | "
            + ("" if cpu is None else f"{cpu:.1f}")
            + " |"
        )
    lines.append(f"| **wall time** | **{wall:.1f}** | **100%** | |")
    return "\n".join(lines)


class Timeline:
    """Which part each thread is in, as non-overlapping segments per thread (of this process),
    each with the wall clock and this process's CPU clock at its ends."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.segments: list[Segment] = []
        self._lock = threading.Lock()

    def current(self) -> str | None:
        stack: list[str] = getattr(self._local, "stack", [])
        return stack[-1] if stack else None

    @contextmanager
    def span(self, part: str) -> Iterator[None]:
        local = self._local
        if not hasattr(local, "stack"):
            local.stack, local.since = [], (0.0, 0.0)
        stack: list[str] = local.stack
        now = _instant()
        if stack:
            self._close(local.since, now, stack[-1])
        stack.append(part)
        local.since = now
        try:
            yield
        finally:
            now = _instant()
            self._close(local.since, now, stack.pop())
            local.since = now

    def _close(self, start: Instant, end: Instant, part: str) -> None:
        if end[0] > start[0]:
            with self._lock:
                self.segments.append((start, end, (os.getpid(), threading.get_ident()), part))


def attribute(segments: list[Segment]) -> tuple[dict[str, float], dict[str, float]]:
    """Wall seconds and CPU seconds per part, from the segments of the demo's process and of its
    night workers (their wall clocks are one: ``perf_counter`` is the system's monotonic clock).
    Each moment goes to the parts of the threads doing work then, in any process; each process's
    CPU time goes to the parts of its own threads."""
    seconds, _ = _attribute(segments)
    cpu_seconds = dict.fromkeys(PARTS, 0.0)
    for process in {thread[0] for _, _, thread, _ in segments}:
        _, cpu_of_process = _attribute([s for s in segments if s[2][0] == process])
        for part, cpu in cpu_of_process.items():
            cpu_seconds[part] += cpu
    return seconds, cpu_seconds


def _attribute(segments: list[Segment]) -> tuple[dict[str, float], dict[str, float]]:
    """Each moment, and the CPU time spent in it (meaningful for one process's segments), split
    between the threads doing work then (or, when none is, between the threads in a container
    part)."""
    events: list[tuple[float, int, float, tuple[int, int], str]] = []
    for start, end, thread, part in segments:
        events.append((start[0], 1, start[1], thread, part))
        events.append((end[0], 0, end[1], thread, part))
    events.sort(key=lambda event: (event[0], event[1]))
    seconds = dict.fromkeys(PARTS, 0.0)
    cpu_seconds = dict.fromkeys(PARTS, 0.0)
    active: dict[tuple[int, int], str] = {}
    previous, previous_cpu = (events[0][0], events[0][2]) if events else (0.0, 0.0)
    for moment, starts, cpu, thread, part in events:
        if moment > previous and active:
            present = [p for p in active.values() if p != WAITING] or [REST]
            busy = [p for p in present if p not in CONTAINERS] or present
            for p in busy:
                seconds[p] += (moment - previous) / len(busy)
                cpu_seconds[p] += max(0.0, cpu - previous_cpu) / len(busy)
        previous, previous_cpu = moment, max(cpu, previous_cpu)
        if starts:
            active[thread] = part
        elif active.get(thread) == part:
            del active[thread]
    return seconds, cpu_seconds


# (wall clock, this process's CPU time: every thread's, DuckDB's and Polars' included)
Instant = tuple[float, float]
# (start, end, (process id, thread id), part)
Segment = tuple[Instant, Instant, tuple[int, int], str]


def _instant() -> Instant:
    return time.perf_counter(), time.process_time()


def _wrap(owner: Any, name: str, part_of: Callable[..., str | None], timeline: Timeline) -> None:
    """Replace ``owner.name`` by the same callable inside a span of ``part_of(...)`` (None: the
    caller's part)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        part = part_of(*args, **kwargs) or timeline.current() or REST
        with timeline.span(part):
            return original(*args, **kwargs)

    setattr(owner, name, wrapped)


def _body_part(timeline: Timeline) -> Callable[..., str | None]:
    def part_of(fn: Any, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> str | None:
        module = getattr(fn, "__module__", "")
        name = getattr(fn, "__name__", "")
        if module == "flows.nightly":
            if name == "extract_and_land":
                return f"extract: {parameters['source']}"
            if name == "validate_and_transform":
                return VALIDATE
            if name == "load_source_night":
                return LOAD
            return REST
        if module == "flows.weekly":
            return WEEKLY
        if module == "flows.maintenance":
            return MAINTENANCE
        if module == "flows.orders":
            return SHOP
        return None

    return part_of


def _instrument(timeline: Timeline, counts: dict[str, int]) -> None:
    """Wrap what the demo calls; nothing it does changes."""
    import prefect.flow_engine
    import prefect.task_engine
    from prefect.flows import Flow
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.tasks import Task

    import flows.cli
    import flows.source_plans
    import simulator.campaigns
    import simulator.server
    import warehouse.lake

    def counted(kind: str, part: str) -> Callable[..., str]:
        def part_of(*args: Any, **kwargs: Any) -> str:
            counts[kind] += 1
            return part

        return part_of

    def constant(part: str) -> Callable[..., str]:
        return lambda *args, **kwargs: part

    _wrap(Flow, "__call__", constant(FLOW_RUNS), timeline)
    _wrap(prefect.flow_engine, "run_flow_sync", counted("flow_runs", FLOW_RUNS), timeline)
    _wrap(Task, "__call__", constant(TASK_RUNS), timeline)
    _wrap(Task, "submit", constant(TASK_RUNS), timeline)
    _wrap(prefect.task_engine, "run_task_sync", counted("task_runs", TASK_RUNS), timeline)
    for engine in (prefect.flow_engine, prefect.task_engine):
        _wrap(engine, "call_with_parameters", _body_part(timeline), timeline)
    _wrap(SubprocessASGIServer, "start", constant(SERVER), timeline)
    _wrap(SubprocessASGIServer, "stop", constant(SERVER), timeline)

    def lake_open(*args: Any, **kwargs: Any) -> str | None:
        return LAKE_OPEN if timeline.current() == LOAD else None

    _wrap(warehouse.lake, "open_lake", lake_open, timeline)
    _wrap(flows.source_plans.PlatformEndpoints, "_simulated", constant(SIMULATOR), timeline)
    _wrap(simulator.server.SimulatorServer, "stop", constant(SIMULATOR), timeline)

    def waiting(*args: Any, **kwargs: Any) -> str | None:
        in_demo = threading.current_thread() is threading.main_thread()
        return WAITING if in_demo and timeline.current() == REST else None

    _wrap(concurrent.futures.Future, "result", waiting, timeline)
    _wrap(flows.cli, "_demo_shop", constant(SHOP), timeline)
    _wrap(simulator.campaigns, "write_campaign_files", constant(SHOP), timeline)


def _instrument_workers(records: Path) -> None:
    """Start the demo's night workers (``flows.cli._night_processes``) with ``_worker_start``,
    which instruments each the same way and writes what it recorded under RECORDS."""
    import flows.cli

    flows.cli.ProcessPoolExecutor = functools.partial(  # type: ignore[misc]
        concurrent.futures.ProcessPoolExecutor,
        initializer=_worker_start,
        initargs=(str(records),),
    )


def _worker_start(records: str) -> None:
    """In a night worker: instrument it, and after each night write its segments, counts and
    nights to RECORDS/<pid>.json (a worker process ends without running ``atexit``)."""
    timeline = Timeline()
    counts = {"flow_runs": 0, "task_runs": 0}
    nights: dict[str, tuple[float, float]] = {}
    with timeline.span(IMPORTS):
        sys.path.insert(0, str(ROOT))
        import flows.cli
        import flows.maintenance
        import flows.nightly
    _instrument(timeline, counts)
    _nightly_window(timeline, nights)
    night = flows.cli._demo_night
    output = Path(records) / f"{os.getpid()}.json"

    @functools.wraps(night)
    def recorded(date: dt.date) -> Any:
        try:
            with timeline.span(REST):
                return night(date)
        finally:
            record = {"segments": timeline.segments, "counts": counts, "nights": nights}
            output.write_text(json.dumps(record), encoding="utf-8")

    # The demo sends the night by name: this process's name now finds this wrapper.
    flows.cli._demo_night = recorded  # type: ignore[assignment]


def _worker_records(records: Path) -> tuple[list[Segment], dict[str, int], dict[str, Any]]:
    segments: list[Segment] = []
    counts = {"flow_runs": 0, "task_runs": 0}
    nights: dict[str, Any] = {}
    for path in sorted(records.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        segments += [
            ((start[0], start[1]), (end[0], end[1]), (thread[0], thread[1]), part)
            for start, end, thread, part in record["segments"]
        ]
        for kind, number in record["counts"].items():
            counts[kind] += number
        nights.update({date: tuple(span) for date, span in record["nights"].items()})
    return segments, counts, nights


def _nightly_window(
    timeline: Timeline, nights: dict[str, tuple[float, float]]
) -> Callable[[], tuple[float, list[float]]]:
    """Wrap the nightly flow's calls, recording each night's start and end in NIGHTS; returns
    what tells the wall time from the first night's start to the last night's end, and each
    night's own, in date order."""
    from prefect.flows import Flow

    call = Flow.__call__

    @functools.wraps(call)
    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name != "nightly":
            return call(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return call(self, *args, **kwargs)
        finally:
            nights[str(kwargs.get("date"))] = (started, time.perf_counter())

    def window() -> tuple[float, list[float]]:
        if not nights:
            return 0.0, []
        spans = [nights[date] for date in sorted(nights)]
        whole = max(end for _, end in spans) - min(start for start, _ in spans)
        return whole, [end - start for start, end in spans]

    Flow.__call__ = timed  # type: ignore[method-assign]
    return window


def _child(output: Path, nights: int, end: dt.date) -> None:
    """Run the demo instrumented in this process and write what it measured to OUTPUT."""
    timeline = Timeline()
    counts = {"flow_runs": 0, "task_runs": 0}
    nights_run: dict[str, tuple[float, float]] = {}
    records = output.parent / "workers"
    records.mkdir(exist_ok=True)
    recording = time.perf_counter()
    with timeline.span(REST):
        with timeline.span(IMPORTS):
            sys.path.insert(0, str(ROOT))
            import prefect  # noqa: F401

            import flows.nightly
            import flows.orders
            import flows.weekly  # noqa: F401
            from flows.cli import app

        _instrument(timeline, counts)
        _instrument_workers(records)
        nightly_window = _nightly_window(timeline, nights_run)
        app(["demo", "--days", str(nights), "--end", end.isoformat()], standalone_mode=False)
    recorded = time.perf_counter() - PROCESS_STARTED
    worker_segments, worker_counts, worker_nights = _worker_records(records)
    for kind, number in worker_counts.items():
        counts[kind] += number
    nights_run.update(worker_nights)
    parts, cpu_parts = attribute(timeline.segments + worker_segments)
    # This module's own first lines, before the timeline began.
    parts[IMPORTS] += recording - PROCESS_STARTED
    nightly_seconds, night_seconds = nightly_window()
    results = {
        "nights": nights,
        "end": end.isoformat(),
        "nightly_seconds": nightly_seconds,
        # Each night's flow run from its call to its return, in date order (two at a time
        # overlap): whether a night costs more as the lake's history grows.
        "night_seconds": night_seconds,
        # From this module's first line to the demo's end, as the parts above cover it.
        "recorded_seconds": recorded,
        "parts": parts,
        # The CPU seconds of this process and its night workers in each part (not the temporary
        # Prefect server's).
        "cpu_parts": cpu_parts,
        **counts,
    }
    output.write_text(json.dumps(results, indent=2), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=DEFAULT_NIGHTS, help="Nights to run.")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_NIGHTS} nights.")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=END_DATE)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON too.")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    nights = QUICK_NIGHTS if arguments.quick else arguments.nights
    if arguments.child is not None:
        _child(arguments.child, nights, arguments.end)
        return
    results = profile(nights, arguments.end)
    print(markdown(results))
    if arguments.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
