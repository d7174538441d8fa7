"""Named kill points: a fault-injection hook for the crash test, like the failpoints of etcd and
TiKV.

The pipeline calls :func:`crash_point` at the moments where a crash would be most likely to leave
something half-done. When the environment variable ``INFLUENCERS_CRASH_AT`` names the point, the
process kills itself with SIGKILL there: no ``finally``, no ``__exit__``, no rollback runs, as when
the machine loses power or the kernel's OOM killer strikes. Unset (always, outside the test), a
point costs one environment lookup.

``INFLUENCERS_CRASH_AT=name`` kills at the point's first pass; ``name:N`` at its N-th pass,
counted per process (e.g. ``extract.after_account:3``: after the third account landed).

The points, in the order a night, a weekly build and a maintenance pass reach them:

- ``extract.after_account`` — an account's profile (channel) record has landed; the landing's
  files are still temporary (``flows/nightly.py``, the land callback given to the source).
- ``landing.before_finish`` — the extraction is over, no landed file is in place yet.
- ``landing.before_manifest`` — the landed files are in place, their manifest not written
  (``sources/landing.py`` calls the hook the flow passes it).
- ``validate.after_batch`` — a batch of facts is appended to its work Parquet file
  (``flows/validation.py``).
- ``validate.after_facts_file`` — one table's work Parquet file is complete, the next not.
- ``load.after_fact_table`` — one fact table's Parquet files are written into the lake inside
  the open transaction (``warehouse/load.py``).
- ``commit.before`` — every change of a commit is written, the catalog commit not yet made
  (``warehouse/snapshots.py``; every nightly, weekly and maintenance commit passes it).
- ``commit.after`` — the catalog commit is made, the caller not yet told.
- ``nightly.between_sources`` — a source's night is committed, the next source not started.
- ``weekly.after_report`` — one report table's week is rebuilt inside the open transaction
  (``warehouse/reports.py``).
- ``weekly.after_commit`` — the week is committed; its HTML report and artifacts not yet
  written (``flows/weekly.py``).
- ``maintenance.after_merge`` — small files are merged (committed); nothing expired yet
  (``warehouse/maintenance.py``).
- ``maintenance.after_expire`` — old snapshots are expired; their files not yet deleted.
- ``maintenance.before_orphans`` — the files no snapshot needs are deleted; orphans not yet.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENVIRONMENT_VARIABLE = "INFLUENCERS_CRASH_AT"
CRASH_POINTS = (
    "extract.after_account",
    "landing.before_finish",
    "landing.before_manifest",
    "validate.after_batch",
    "validate.after_facts_file",
    "load.after_fact_table",
    "commit.before",
    "commit.after",
    "nightly.between_sources",
    "weekly.after_report",
    "weekly.after_commit",
    "maintenance.after_merge",
    "maintenance.after_expire",
    "maintenance.before_orphans",
)

_passes: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``INFLUENCERS_CRASH_AT`` names this point (and pass)."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE)
    if not wanted:
        return
    point, nth = _parse(wanted)
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] == nth:
        os.kill(os.getpid(), signal.SIGKILL)


def _parse(wanted: str) -> tuple[str, int]:
    point, _, nth = wanted.partition(":")
    if point not in CRASH_POINTS or not (nth or "1").isdigit() or int(nth or 1) < 1:
        raise ValueError(
            f"{ENVIRONMENT_VARIABLE}={wanted!r} names no kill point: write one of "
            f"{', '.join(CRASH_POINTS)}, optionally followed by :N for its N-th pass "
            "(or unset it)"
        )
    return point, int(nth or 1)
