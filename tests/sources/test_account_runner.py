"""The account runner with plain fetch functions: who is fetched, who failed, when a night stops."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence

import pytest
from landed import Landed

from sources.extraction import (
    AccountFailure,
    AccountLog,
    AccountRunner,
    FetchAccount,
    batches,
)
from sources.http import ApiError, FailureKind
from sources.roster import TrackedAccount

pytestmark = pytest.mark.timeout(30)


def roster(*handles: str) -> list[TrackedAccount]:
    return [TrackedAccount("instagram", handle, connected=False) for handle in handles]


def scripted(outcomes: Mapping[str, FailureKind], tried: list[str] | None = None) -> FetchAccount:
    """Each account emits its profile, then fails with its scripted kind (if it has one)."""

    def fetch(account: TrackedAccount, account_log: AccountLog) -> None:
        if tried is not None:
            tried.append(account.handle)
        account_log.emit("profiles", {"_handle": account.handle})
        kind = outcomes.get(account.handle)
        if kind is not None:
            raise ApiError(f"{kind.value} trouble", kind=kind, status=400, code="7")

    return fetch


def run(
    accounts: Sequence[TrackedAccount], fetch: FetchAccount, concurrency: int = 1
) -> tuple[AccountRunner, Landed]:
    landed = Landed()
    runner = AccountRunner(landed, concurrency=concurrency)
    runner.run(accounts, fetch)
    return runner, landed


def test_accounts_are_fetched_plus_failed_and_failed_accounts_keep_their_records() -> None:
    runner, landed = run(
        roster("ana", "bo", "cy", "dee"),
        scripted({"bo": FailureKind.ACCOUNT}),
        concurrency=2,
    )

    result = runner.result
    assert (result.accounts, result.fetched, len(result.failures)) == (4, 3, 1)
    assert result.failures == [
        AccountFailure("bo", "account trouble", FailureKind.ACCOUNT, 400, "7")
    ]
    assert sorted(landed.handles()) == ["ana", "bo", "cy", "dee"]
    assert result.stopped is None


@pytest.mark.parametrize(
    ("kind", "in_a_row", "what_to_do"),
    [
        (FailureKind.AUTH, 3, "renew the credential"),
        (FailureKind.UNAVAILABLE, 5, "the platform is not answering"),
    ],
    ids=["3 auth failures", "5 unavailable failures"],
)
def test_the_same_failure_for_several_accounts_in_a_row_stops_the_night(
    kind: FailureKind, in_a_row: int, what_to_do: str
) -> None:
    handles = [f"acct{number}" for number in range(in_a_row + 3)]
    tried: list[str] = []

    runner, landed = run(roster(*handles), scripted(dict.fromkeys(handles, kind), tried))

    result = runner.result
    assert tried == handles[:in_a_row]
    assert (result.accounts, result.fetched, len(result.failures)) == (
        len(handles),
        0,
        len(handles),
    )
    assert result.stop_kind is kind
    assert result.stopped is not None
    assert result.stopped.startswith(
        f"{in_a_row} accounts in a row failed the same way ({kind.value} trouble): {what_to_do}"
    )
    not_tried = result.failures[in_a_row:]
    assert [failure.handle for failure in not_tried] == handles[in_a_row:]
    assert {failure.kind for failure in not_tried} == {kind}
    assert {failure.reason for failure in not_tried} == {
        f"not tried: the night stopped early ({result.stopped})"
    }
    assert landed.handles() == handles[:in_a_row]


def test_an_auth_failure_followed_by_a_success_does_not_stop_the_night() -> None:
    auth = FailureKind.AUTH
    outcomes = {"a": auth, "b": auth, "d": auth, "e": auth}

    runner, _ = run(roster("a", "b", "c", "d", "e", "f"), scripted(outcomes))

    result = runner.result
    assert result.stopped is None
    assert (result.accounts, result.fetched) == (6, 2)
    assert [failure.handle for failure in result.failures] == ["a", "b", "d", "e"]


@pytest.mark.parametrize(
    ("kind", "what_to_do"),
    [
        (FailureKind.QUOTA, "the API quota is spent"),
        (FailureKind.NIGHT, "fix the API access in the platform's console"),
    ],
    ids=["quota", "night"],
)
def test_a_quota_or_night_failure_stops_at_once(kind: FailureKind, what_to_do: str) -> None:
    tried: list[str] = []

    runner, landed = run(roster("a", "b", "c", "d"), scripted({"b": kind}, tried))

    result = runner.result
    assert tried == ["a", "b"]
    assert (result.accounts, result.fetched, len(result.failures)) == (4, 1, 3)
    assert result.stop_kind is kind
    assert result.stopped is not None
    assert result.stopped.startswith(f"{kind.value} trouble: {what_to_do}")
    assert [(failure.handle, failure.kind) for failure in result.failures] == [
        ("b", kind),
        ("c", kind),
        ("d", kind),
    ]
    assert result.failures[1].reason.startswith("not tried: the night stopped early (")
    assert landed.handles() == ["a", "b"]


def test_a_partial_failure_counts_as_failed_but_lands_its_records() -> None:
    def fetch(account: TrackedAccount, account_log: AccountLog) -> None:
        account_log.emit("profiles", {"_handle": account.handle})
        account_log.emit("media", {"_handle": account.handle, "id": "1"})
        if account.handle == "bo":
            account_log.fail_partly("media paging: cursor came back again", code="paging")
            account_log.fail_partly("a second reason is not kept")
        account_log.note("renamed?")

    runner, landed = run(roster("ana", "bo"), fetch)

    result = runner.result
    assert (result.accounts, result.fetched) == (2, 1)
    assert result.failures == [
        AccountFailure(
            "bo",
            "media paging: cursor came back again",
            FailureKind.ACCOUNT,
            api_error_code="paging",
        )
    ]
    assert landed.handles("media") == ["ana", "bo"]
    assert result.notes == ["ana: renamed?", "bo: renamed?"]
    assert result.stopped is None


def test_no_more_than_concurrency_accounts_are_fetched_at_once() -> None:
    concurrency = 3
    in_flight = 0
    most_in_flight = 0
    lock = threading.Lock()
    # The first accounts wait for each other, so the runner must have started them together.
    first_ones_met = threading.Barrier(concurrency, timeout=10)
    handles = [f"acct{number}" for number in range(10)]

    def fetch(account: TrackedAccount, account_log: AccountLog) -> None:
        nonlocal in_flight, most_in_flight
        with lock:
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
        if account.handle in handles[:concurrency]:
            first_ones_met.wait()
        account_log.emit("profiles", {"_handle": account.handle})
        with lock:
            in_flight -= 1

    runner, landed = run(roster(*handles), fetch, concurrency=concurrency)

    assert most_in_flight == concurrency
    assert (runner.result.accounts, runner.result.fetched) == (10, 10)
    assert sorted(landed.handles()) == handles


@pytest.mark.parametrize("order", ["as written", "reversed", "shuffled"])
def test_roster_order_does_not_change_the_counts(order: str) -> None:
    handles = [f"acct{number:02d}" for number in range(12)]
    # Two auth failures can never make three in a row, whatever the order.
    outcomes = {
        "acct01": FailureKind.ACCOUNT,
        "acct04": FailureKind.AUTH,
        "acct05": FailureKind.AUTH,
        "acct07": FailureKind.UNAVAILABLE,
        "acct10": FailureKind.ACCOUNT,
    }
    ordered = {
        "as written": handles,
        "reversed": handles[::-1],
        "shuffled": random.Random(7).sample(handles, len(handles)),
    }[order]

    runner, landed = run(roster(*ordered), scripted(outcomes), concurrency=3)

    result = runner.result
    assert (result.accounts, result.fetched, result.stopped) == (12, 7, None)
    assert sorted(failure.handle for failure in result.failures) == sorted(outcomes)
    assert sorted(landed.handles()) == handles


def test_an_account_failed_outside_the_run_is_counted() -> None:
    runner, _ = run(roster("ana"), scripted({}))
    missing = AccountFailure("bo", "missing from the batched answer", FailureKind.ACCOUNT)

    runner.fail(TrackedAccount("youtube", "bo", connected=False), missing)

    assert (runner.result.accounts, runner.result.fetched) == (2, 1)
    assert runner.result.failures == [missing]


def test_batches_split_accounts_in_lists_of_at_most_size() -> None:
    accounts = roster("a", "b", "c", "d", "e")

    assert [[account.handle for account in batch] for batch in batches(accounts, 2)] == [
        ["a", "b"],
        ["c", "d"],
        ["e"],
    ]
    assert list(batches([], 2)) == []
