"""Running a night's accounts through a source: concurrently, landing as they arrive, and
surviving the accounts that cannot be fetched.

Every source's ``extract`` hands its per-account work to an :class:`AccountRunner`. The runner
fetches a bounded number of accounts at a time (memory does not grow with the roster), lands each
account's records as soon as the account is done (what was fetched before a failure lands too),
and records each account that failed with its reason. It stops the night early only when the
failure is not the accounts' own:

- the same credential error for several accounts in a row (the token, not the accounts);
- the platform unavailable for several accounts in a row;
- a quota spent, or an error that no other account can escape (``FailureKind.NIGHT``).

The accounts it then never tried are recorded as failed too, with the reason, so the roster
reconciles: accounts = fetched + failed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from sources.http import ApiError, FailureKind
from sources.roster import TrackedAccount

Land = Callable[[str, Mapping[str, Any]], None]
# A source's work for one account: emit its records (entity, record) and notes, or raise ApiError.
FetchAccount = Callable[[TrackedAccount, "AccountLog"], None]

# Kinds that fail one account; when they repeat for this many accounts in a row, they are not
# the accounts' fault.
NOT_AN_OBJECT = "_not_an_object"
CONSECUTIVE_FAILURES_TO_STOP = {FailureKind.AUTH: 3, FailureKind.UNAVAILABLE: 5}
WHAT_TO_DO = {
    FailureKind.AUTH: "renew the credential (token or API key) in the settings, then re-run "
    "this date",
    FailureKind.UNAVAILABLE: "the platform is not answering; re-run this date once it is back",
    FailureKind.QUOTA: "the API quota is spent; the rest is fetched when it resets (re-run this "
    "date then, or wait for the next night)",
    FailureKind.NIGHT: "fix the API access in the platform's console, then re-run this date",
}


@dataclass(frozen=True)
class AccountFailure:
    """An account the night could not fetch (whole or in part), and why."""

    handle: str
    reason: str
    kind: FailureKind
    http_status: int | None = None
    api_error_code: str | None = None

    @classmethod
    def from_error(cls, handle: str, error: ApiError) -> AccountFailure:
        return cls(handle, error.message, error.kind, error.status, error.code)


@dataclass
class ExtractResult:
    """What one source's extraction of one night did, account by account."""

    accounts: int = 0
    fetched: int = 0
    failures: list[AccountFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the night stopped early, and what to do
    stop_kind: FailureKind | None = None
    requests_made: int = 0
    quota_used: int | None = None
    quota_budget: int | None = None


class AccountLog:
    """One account's records and notes, buffered until the account is done."""

    def __init__(self, handle: str) -> None:
        self.handle = handle
        self.records: list[tuple[str, Mapping[str, Any]]] = []
        self.notes: list[str] = []
        # Set when the account was fetched only in part (e.g. its paging went wrong).
        self.incomplete: AccountFailure | None = None

    def emit(self, entity: str, record: Mapping[str, Any]) -> None:
        self.records.append((entity, record))

    def note(self, text: str) -> None:
        self.notes.append(f"{self.handle}: {text}")

    def fail_partly(self, reason: str, *, code: str | None = None) -> None:
        """What was fetched is kept, but the account is recorded as failed with ``reason``."""
        if self.incomplete is None:
            self.incomplete = AccountFailure(
                self.handle, reason, FailureKind.ACCOUNT, api_error_code=code
            )


class AccountRunner:
    """Fetches accounts concurrently, lands their records, records failures, stops when told."""

    def __init__(self, land: Land, *, concurrency: int) -> None:
        self._land = land
        self._concurrency = max(1, concurrency)
        self._lock = threading.Lock()
        self.result = ExtractResult()
        self._streak_kind: FailureKind | None = None
        self._streak = 0

    @property
    def stopped(self) -> bool:
        return self.result.stopped is not None

    def run(self, accounts: Iterable[TrackedAccount], fetch: FetchAccount) -> None:
        """Fetch ``accounts`` with ``fetch``, at most ``concurrency`` in flight at once."""
        pending = iter(accounts)
        in_flight: dict[Future[tuple[AccountLog, ApiError | None]], TrackedAccount] = {}
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="extract") as pool:
            while True:
                while not self.stopped and len(in_flight) < self._concurrency:
                    account = next(pending, None)
                    if account is None:
                        break
                    self.result.accounts += 1
                    in_flight[pool.submit(_fetch_one, fetch, account)] = account
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    account = in_flight.pop(future)
                    account_log, error = future.result()
                    self._finish(account, account_log, error)
        self.skip(pending)

    def fail(self, account: TrackedAccount, failure: AccountFailure) -> None:
        """Record an account that failed outside ``run`` (e.g. missing from a batched answer)."""
        self.result.accounts += 1
        self._record_failure(failure)

    def stop(self, kind: FailureKind, reason: str, what_to_do: str | None = None) -> None:
        """Stop the night: no account is started after this; the rest are recorded as skipped.
        ``what_to_do`` replaces the kind's usual advice when the source knows better."""
        with self._lock:
            if self.result.stopped is None:
                advice = what_to_do or WHAT_TO_DO.get(kind, "re-run this date")
                self.result.stopped = f"{reason}: {advice}"
                self.result.stop_kind = kind

    def skip(self, accounts: Iterable[TrackedAccount]) -> None:
        """Record accounts the night did not try, with the reason it stopped."""
        for account in accounts:
            self.result.accounts += 1
            self.result.failures.append(
                AccountFailure(
                    account.handle,
                    f"not tried: the night stopped early ({self.result.stopped})",
                    self.result.stop_kind or FailureKind.NIGHT,
                )
            )

    def _finish(
        self, account: TrackedAccount, account_log: AccountLog, error: ApiError | None
    ) -> None:
        for entity, record in account_log.records:
            self._land(entity, record)
        self.result.notes.extend(account_log.notes)
        if error is None and account_log.incomplete is None:
            self.result.fetched += 1
            self._streak_kind, self._streak = None, 0
            return
        failure = (
            AccountFailure.from_error(account.handle, error)
            if error is not None
            else account_log.incomplete
        )
        assert failure is not None
        self._record_failure(failure)

    def _record_failure(self, failure: AccountFailure) -> None:
        self.result.failures.append(failure)
        if failure.kind in (FailureKind.QUOTA, FailureKind.NIGHT):
            self.stop(failure.kind, failure.reason)
            return
        if failure.kind == self._streak_kind:
            self._streak += 1
        else:
            self._streak_kind, self._streak = failure.kind, 1
        needed = CONSECUTIVE_FAILURES_TO_STOP.get(failure.kind)
        if needed is not None and self._streak >= needed:
            self.stop(
                failure.kind,
                f"{self._streak} accounts in a row failed the same way ({failure.reason})",
            )


def _fetch_one(fetch: FetchAccount, account: TrackedAccount) -> tuple[AccountLog, ApiError | None]:
    account_log = AccountLog(account.handle)
    try:
        fetch(account, account_log)
    except ApiError as error:
        return account_log, error
    return account_log, None


def landed_record(context: Mapping[str, Any], item: Any) -> dict[str, Any]:
    """The record to land: the API's object as it came, with the context keys (``_handle``,
    ``_as_of``, ...) added; an item that is not an object lands whole under ``_not_an_object``,
    so its contract quarantines it rather than the extraction dropping it."""
    if isinstance(item, dict):
        return {**item, **context}
    return {**context, NOT_AN_OBJECT: item}


def published_since(as_of: dt.date, lookback_days: int) -> dt.datetime:
    """The start (UTC) of the lookback: posts published since then are observed again."""
    return dt.datetime.combine(as_of - dt.timedelta(days=lookback_days), dt.time(0), tzinfo=dt.UTC)


def batches(accounts: Iterable[TrackedAccount], size: int) -> Iterable[list[TrackedAccount]]:
    """``accounts`` in lists of at most ``size`` (APIs that take many ids in one call)."""
    batch: list[TrackedAccount] = []
    for account in accounts:
        batch.append(account)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "AccountFailure",
    "AccountLog",
    "AccountRunner",
    "ExtractResult",
    "FetchAccount",
    "Land",
    "batches",
    "landed_record",
    "published_since",
]
