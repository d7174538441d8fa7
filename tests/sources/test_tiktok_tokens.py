"""The TikTok token store: a JSON file kept like a secret, written atomically under a lock that
the account workers of a night (threads) and other processes share."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest

from sources.tiktok.tokens import (
    FORMAT,
    CreatorTokens,
    TokenEntryError,
    TokenStore,
    TokenStoreError,
)

NOW = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def tokens(handle: str, generation: int = 0) -> CreatorTokens:
    return CreatorTokens(
        handle=handle,
        refresh_token=f"rft.{handle}-{generation}-refresh",
        access_token=f"act.{handle}-{generation}-access",
        access_token_expires_at=NOW + dt.timedelta(hours=24),
        refresh_token_expires_at=NOW + dt.timedelta(days=365),
        open_id=f"open-{handle}",
        scope="user.info.basic,user.info.stats,video.list",
        updated_at=NOW,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "tiktok_tokens.json"


def test_tokens_round_trip_through_the_file(path: Path) -> None:
    store = TokenStore(path)
    store.put(tokens("Maya.Cooks"))

    again = TokenStore(path)

    # One entry per creator, whatever the case of the handle it was stored and asked under.
    expected = dataclasses.replace(tokens("Maya.Cooks"), handle="maya.cooks")
    assert again.get("maya.cooks") == expected
    assert again.get("MAYA.COOKS") == expected
    assert again.get("someone.else") is None
    assert again.handles() == ["maya.cooks"]
    document = json.loads(path.read_text())
    assert document["format"] == FORMAT
    assert document["creators"]["maya.cooks"]["access_token_expires_at"] == "2026-11-03T01:00:00Z"


def test_the_file_and_its_directory_are_private(path: Path) -> None:
    previous = os.umask(0o022)
    try:
        TokenStore(path).put(tokens("maya.cooks"))
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def test_a_hand_written_entry_with_only_a_refresh_token_is_read(path: Path) -> None:
    path.parent.mkdir()
    path.write_text(json.dumps({"creators": {"Maya.Cooks": {"refresh_token": " rft.abc \n"}}}))

    read = TokenStore(path).get("maya.cooks")

    assert read == CreatorTokens(handle="maya.cooks", refresh_token="rft.abc")
    assert read is not None and read.access_token_valid_for(NOW) == 0.0
    assert not read.refresh_token_expired(NOW)


def test_a_byte_order_mark_is_read_past(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"creators": {"a.b": {"refresh_token": "r"}}}).encode()
    )

    assert TokenStore(path).get("a.b") == CreatorTokens(handle="a.b", refresh_token="r")


def test_tokens_never_show_in_their_repr() -> None:
    shown = repr(tokens("maya.cooks"))

    assert "rft." not in shown and "act." not in shown
    assert "maya.cooks" in shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"creators": {"a": ', "is not valid JSON (Expecting value at line 1"),
        ("[1, 2]", 'has no "creators" object'),
        ('{"creators": []}', 'has no "creators" object'),
        ("\xff\xfe{}", "is not valid JSON"),
    ],
    ids=["truncated", "a-list", "creators-not-an-object", "latin-1-garbage"],
)
def test_an_unreadable_file_is_an_error_naming_it_and_what_to_do(
    path: Path, text: str, expected: str
) -> None:
    path.parent.mkdir()
    path.write_text(text)

    with pytest.raises(TokenStoreError) as error:
        TokenStore(path).get("maya.cooks")

    assert str(path) in str(error.value)
    assert expected in str(error.value)
    assert "reconnect the creators with `influencers tiktok connect HANDLE`" in str(error.value)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"access_token": "act.x"}, "its entry has no refresh_token"),
        ({"refresh_token": 7}, "its entry has no refresh_token"),
        ({"refresh_token": "rft.x", "access_token": ["act"]}, "its access_token is not a string"),
        (
            {"refresh_token": "rft.x", "access_token_expires_at": "tomorrow"},
            "its access_token_expires_at 'tomorrow' is not an ISO 8601 time",
        ),
        ("rft.x", "its entry is a JSON str, not an object"),
    ],
    ids=["no-refresh-token", "refresh-token-a-number", "access-token-a-list", "bad-time", "str"],
)
def test_one_unreadable_entry_leaves_the_others_readable(
    path: Path, entry: object, expected: str
) -> None:
    path.parent.mkdir()
    path.write_text(json.dumps({"creators": {"broken": entry, "fine": {"refresh_token": "rft"}}}))
    store = TokenStore(path)

    with pytest.raises(TokenEntryError, match=expected):
        store.get("broken")
    assert store.get("fine") == CreatorTokens(handle="fine", refresh_token="rft")


def test_a_file_others_can_read_is_warned_about(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    TokenStore(path).put(tokens("maya.cooks"))
    path.chmod(0o644)

    with caplog.at_level(logging.WARNING):
        TokenStore(path).get("maya.cooks")

    assert f"chmod 600 {path}" in caplog.text


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(path)
    store.put(tokens("maya.cooks"))
    before = path.read_bytes()

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sources.tiktok.tokens.os.fsync", disk_full)
    with pytest.raises(TokenStoreError, match=f"cannot write the TikTok token store {path}"):
        store.put(tokens("tom.runs"))
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]
    # The tokens that could not be written are written by the next write that succeeds.
    store.put(tokens("zoe.roams"))
    assert TokenStore(path).handles() == ["maya.cooks", "tom.runs", "zoe.roams"]


def test_the_file_has_one_line_per_creator(path: Path) -> None:
    TokenStore(path).put_many([tokens("tom.runs"), tokens("maya.cooks")])

    lines = path.read_text().splitlines()

    assert lines[:3] == ["{", f'  "format": "{FORMAT}",', '  "creators": {']
    assert [line.split(":")[0].strip() for line in lines[3:5]] == ['"maya.cooks"', '"tom.runs"']
    assert lines[5:] == ["  }", "}"]


def test_a_store_whose_directory_cannot_exist_is_an_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "secrets"
    blocker.write_text("a file where the directory should be")

    with pytest.raises(TokenStoreError, match="cannot lock the TikTok token store"):
        TokenStore(blocker / "tiktok_tokens.json").put(tokens("maya.cooks"))


def test_concurrent_refreshes_keep_a_valid_file_with_every_creator(path: Path) -> None:
    store = TokenStore(path)
    handles = [f"creator_{number:02d}" for number in range(16)]
    generations = 6
    stop_reading = threading.Event()
    seen_while_writing: list[int] = []
    problems: list[str] = []

    def reader() -> None:
        while not stop_reading.is_set():
            try:
                text = path.read_text()
            except FileNotFoundError:
                continue
            try:
                seen_while_writing.append(len(json.loads(text)["creators"]))
            except (ValueError, KeyError) as error:
                problems.append(f"{error}: {text[:80]!r}")

    def refresher(handle: str) -> None:
        for generation in range(generations):
            store.put(tokens(handle, generation))

    watcher = threading.Thread(target=reader)
    watcher.start()
    workers = [threading.Thread(target=refresher, args=(handle,)) for handle in handles]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop_reading.set()
    watcher.join()

    assert problems == []
    assert seen_while_writing, "the reader saw the file while it was being rewritten"
    final = TokenStore(path)
    assert final.handles() == handles
    assert all(final.get(h) == tokens(h, generations - 1) for h in handles)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def _refresh_in_a_process(path: str, prefix: str, count: int) -> None:
    store = TokenStore(Path(path))
    for number in range(count):
        store.put(tokens(f"{prefix}_{number:02d}"))


def test_two_processes_writing_at_once_lose_no_creator(path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_refresh_in_a_process, args=(str(path), prefix, 15))
        for prefix in ("first", "second")
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [process.exitcode for process in processes] == [0, 0]
    store = TokenStore(path)
    assert len(store.handles()) == 30
    assert store.get("first_14") == tokens("first_14")
    assert store.get("second_00") == tokens("second_00")


def test_reload_sees_what_another_store_wrote_since(path: Path) -> None:
    mine, theirs = TokenStore(path), TokenStore(path)
    mine.put(tokens("maya.cooks", 0))
    assert mine.get("maya.cooks") == tokens("maya.cooks", 0)

    theirs.put(tokens("maya.cooks", 1))

    assert mine.get("maya.cooks") == tokens("maya.cooks", 0)  # as last read
    assert mine.reload("maya.cooks") == tokens("maya.cooks", 1)


def test_remove_forgets_a_creator(path: Path) -> None:
    store = TokenStore(path)
    store.put_many([tokens("maya.cooks"), tokens("tom.runs")])

    assert store.remove("Tom.Runs") is True
    assert store.remove("tom.runs") is False
    assert TokenStore(path).handles() == ["maya.cooks"]
