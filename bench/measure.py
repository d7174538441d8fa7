"""What every benchmark measures the same way: a command's wall time and the peak resident memory
of its whole process tree, the machine it ran on, and its section of docs/performance.md."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measured:
    """One run of a command: wall time, peak RSS of its process tree, exit code and output."""

    seconds: float
    peak_rss_bytes: int
    processes: int
    exit_code: int
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.exit_code == -9


def tree_rss_bytes(root_pid: int) -> tuple[int, int]:
    """(summed RSS, process count) of ``root_pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_BYTES
    total, count, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        count += 1
        stack.extend(children.get(pid, []))
    return total, count


def run_measured(
    command: list[str], env: dict[str, str] | None = None, timeout: float | None = None
) -> Measured:
    """Run ``command`` from the project's root, sampling its tree's RSS every 50 ms; a run that
    outlasts ``timeout`` seconds is killed (exit code -9)."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak, processes = 0, 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, processes
        while not done.is_set():
            rss, count = tree_rss_bytes(process.pid)
            if rss > peak:
                peak, processes = rss, count
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        stdout, stderr = process.communicate()
    finally:
        done.set()
        sampler.join()
    return Measured(time.monotonic() - started, peak, processes, process.returncode, stdout, stderr)


def machine() -> str:
    """One line about the machine: cores, CPU model, memory, Python."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PHYS_PAGES") * PAGE_BYTES / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


def load_average() -> float:
    return os.getloadavg()[0]


def write_section(name: str, text: str, doc: Path = PERFORMANCE_DOC) -> None:
    """Put ``text`` between the ``<!-- name:begin -->`` and ``<!-- name:end -->`` markers of
    ``doc`` (appended at the end the first time)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    content = doc.read_text(encoding="utf-8") if doc.exists() else ""
    section = f"{begin}\n{text.strip()}\n{end}"
    if begin in content and end in content:
        content = (
            content[: content.index(begin)] + section + content[content.index(end) + len(end) :]
        )
    else:
        content = content.rstrip() + "\n\n" + section + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(content, encoding="utf-8")
