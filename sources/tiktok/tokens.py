"""The TikTok token store: each connected creator's OAuth tokens, in one JSON file an operator
treats like any other secret (mode 0600, in a 0700 directory, never in the warehouse, the raw
zone or a log).

TikTok's access tokens expire within hours and its refresh tokens may change on every refresh: the
refresh token sent is then no longer valid, and the one that came back is the only way left to the
creator's data. So a refreshed pair is written here, atomically, *before* its access token is used:
a temporary file beside the store, flushed and fsynced, then ``os.replace``d over the store (and
the directory fsynced), under a lock that the account workers of this process share (a thread
lock) and that other processes share too (``flock`` on ``<file>.lock``). A reader never sees half
a file: it sees the old one or the new one. Each write re-reads the file under the lock first, so
two processes refreshing different creators never lose each other's tokens.

The file (``format`` names its version; times are UTC, ISO 8601; the store writes one creator per
line, and reads any JSON layout)::

    {
      "format": "influencers-tiktok-tokens/1",
      "creators": {
        "<handle, lower-case>": {"open_id": "723f24d7-…", "access_token": "act.…",
            "access_token_expires_at": "2026-11-02T01:00:00Z", "refresh_token": "rft.…",
            "refresh_token_expires_at": "2027-11-01T01:00:00Z",
            "scope": "user.info.basic,user.info.stats,video.list",
            "updated_at": "2026-11-01T01:00:00Z"}
      }
    }

An operator may write an entry by hand with only ``refresh_token`` (the access token is then
fetched on the first night); ``influencers tiktok connect HANDLE`` does it for them, from a refresh
token or an authorization code read on standard input.

Every refresh rewrites the whole file, so a write costs time in proportion to the number of
connected creators (each entry's JSON is cached: a write is mostly the copy and its fsync).
Measured on this machine (2 cores, busy): a write alone takes 22 ms at 1,000 creators and 60 ms
at 5,000; with four workers refreshing at once, one write carries several refreshes, 5 and 13 ms
per refresh, so refreshing every creator of a night costs 5 s and 67 s. That is fine for the
thousands of creators a brand connects by OAuth; a roster of hundreds of thousands would want a
store with per-creator writes behind the same small interface (get, reload, put, handles).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; the thread lock still holds there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = "influencers-tiktok-tokens/1"
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


class TokenStoreError(RuntimeError):
    """The token store cannot be read or written; the message names the file and what to do."""


class TokenEntryError(ValueError):
    """One creator's entry in the store is unreadable (the others are fine)."""


@dataclass(frozen=True)
class CreatorTokens:
    """One creator's OAuth tokens and when they expire (UTC; None: unknown)."""

    handle: str
    refresh_token: str = field(repr=False)
    access_token: str = field(default="", repr=False)
    access_token_expires_at: dt.datetime | None = None
    refresh_token_expires_at: dt.datetime | None = None
    open_id: str | None = None
    scope: str | None = None
    updated_at: dt.datetime | None = None

    def access_token_valid_for(self, now: dt.datetime) -> float:
        """Seconds the access token is still good for at ``now`` (0 when there is none, or it
        has no known expiry: then it is refreshed rather than trusted)."""
        if not self.access_token or self.access_token_expires_at is None:
            return 0.0
        return max(0.0, (self.access_token_expires_at - now).total_seconds())

    def refresh_token_expired(self, now: dt.datetime) -> bool:
        return self.refresh_token_expires_at is not None and self.refresh_token_expires_at <= now

    def to_json(self) -> dict[str, Any]:
        return {
            "open_id": self.open_id,
            "access_token": self.access_token,
            "access_token_expires_at": _time_text(self.access_token_expires_at),
            "refresh_token": self.refresh_token,
            "refresh_token_expires_at": _time_text(self.refresh_token_expires_at),
            "scope": self.scope,
            "updated_at": _time_text(self.updated_at),
        }

    @classmethod
    def from_json(cls, handle: str, entry: Any) -> CreatorTokens:
        """The entry of ``handle``; TokenEntryError naming the field when it is unreadable."""
        if not isinstance(entry, dict):
            raise TokenEntryError(f"its entry is a JSON {type(entry).__name__}, not an object")
        refresh_token = entry.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token.strip():
            raise TokenEntryError("its entry has no refresh_token")
        access_token = entry.get("access_token") or ""
        if not isinstance(access_token, str):
            raise TokenEntryError("its access_token is not a string")
        return cls(
            handle=handle,
            refresh_token=refresh_token.strip(),
            access_token=access_token.strip(),
            access_token_expires_at=_time(entry, "access_token_expires_at"),
            refresh_token_expires_at=_time(entry, "refresh_token_expires_at"),
            open_id=_text(entry, "open_id"),
            scope=_text(entry, "scope"),
            updated_at=_time(entry, "updated_at"),
        )


def store_key(handle: str) -> str:
    """TikTok usernames are not case-sensitive: one entry per lower-cased handle."""
    return handle.strip().lower()


class TokenStore:
    """The token file at ``path``, shared by the threads of a night and by other processes.

    Each entry is kept as its JSON text, one line per creator, so a write re-serialises only
    what changed and joins the rest; the file is read again only when another process has
    replaced it since (its inode, size or modification time changed). Writes are grouped: the
    refreshes that finish while a write is on its way are written together by the next one,
    and each ``put`` returns only once its own tokens are on disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # Held while the cache is read or the file written; a writer holds the file lock too.
        self._lock = threading.Lock()
        # store key -> (its entry's JSON text, its line in the file)
        self._texts: dict[str, tuple[str, str]] | None = None
        self._file_state: tuple[int, int, int] | None = None
        self._permissions_checked = False
        self._pending_lock = threading.Lock()
        self._pending: dict[str, tuple[str, str]] = {}
        self._enqueued = 0
        self._written = 0

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def get(self, handle: str) -> CreatorTokens | None:
        """The creator's tokens as last read (None: the store has none for this creator).

        TokenEntryError when the creator's entry is unreadable; TokenStoreError when the file is.
        """
        with self._lock:
            if self._texts is None:
                self._load()
            assert self._texts is not None
            text = self._texts.get(store_key(handle))
        if text is None:
            return None
        return CreatorTokens.from_json(store_key(handle), json.loads(text[0]))

    def reload(self, handle: str) -> CreatorTokens | None:
        """The creator's tokens as the file holds them now (another process may have refreshed
        them since this store last read it)."""
        with self._lock, self._file_lock():
            self._load_if_changed()
        return self.get(handle)

    def handles(self) -> list[str]:
        with self._lock:
            if self._texts is None:
                self._load()
            assert self._texts is not None
            return sorted(self._texts)

    def put(self, tokens: CreatorTokens) -> None:
        """Store ``tokens`` for their creator: durably and atomically, before returning."""
        self.put_many([tokens])

    def put_many(self, many: Iterable[CreatorTokens]) -> None:
        """Store the tokens of several creators: durably and atomically, before returning."""
        batch = {}
        for tokens in many:
            key = store_key(tokens.handle)
            batch[key] = _entry_and_line(key, replace(tokens, handle=key).to_json())
        with self._pending_lock:
            self._pending.update(batch)
            self._enqueued += 1
            ticket = self._enqueued
        with self._lock:
            if self._written >= ticket:
                return  # written by another thread's write, together with its own
            with self._file_lock():
                with self._pending_lock:
                    batch, self._pending = self._pending, {}
                    written_up_to = self._enqueued
                try:
                    self._load_if_changed()
                    assert self._texts is not None
                    texts = {**self._texts, **batch}
                    self._write(texts)
                except BaseException:
                    with self._pending_lock:
                        # Not written: the next writer (maybe a waiting thread) tries again.
                        self._pending = {**batch, **self._pending}
                    raise
                self._texts = texts
                self._written = written_up_to

    def remove(self, handle: str) -> bool:
        """Forget a creator's tokens (they disconnected); whether there were any."""
        with self._lock, self._file_lock():
            self._load_if_changed()
            assert self._texts is not None
            texts = dict(self._texts)
            found = texts.pop(store_key(handle), None) is not None
            if found:
                self._write(texts)
                self._texts = texts
        return found

    def _load_if_changed(self) -> None:
        if self._texts is None or self._state() != self._file_state:
            self._load()

    def _state(self) -> tuple[int, int, int] | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise TokenStoreError(
                f"cannot read the TikTok token store {self.path}: {error.strerror}"
            ) from None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def _load(self) -> None:
        state = self._state()
        try:
            # utf-8-sig: a file saved by an editor that adds a byte order mark reads the same.
            text = self.path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            self._texts, self._file_state = {}, None
            return
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else f"not UTF-8 ({error.reason})"
            raise TokenStoreError(
                f"cannot read the TikTok token store {self.path}: {reason}; check its owner and "
                "permissions (it should be readable by the pipeline's user only) and its content"
            ) from None
        if not self._permissions_checked:
            self._permissions_checked = True
            _warn_if_others_can_read(self.path)
        what_to_do = (
            "restore it from a backup, or reconnect the creators with `influencers tiktok "
            "connect HANDLE`"
        )
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise TokenStoreError(
                f"the TikTok token store {self.path} is not valid JSON ({error.msg} at line "
                f"{error.lineno}, column {error.colno}): {what_to_do}"
            ) from None
        creators = document.get("creators") if isinstance(document, dict) else None
        if not isinstance(creators, dict):
            raise TokenStoreError(
                f'the TikTok token store {self.path} has no "creators" object (expected '
                f'{{"format": "{FORMAT}", "creators": {{...}}}}): {what_to_do}'
            )
        self._texts = {}
        for handle, entry in creators.items():
            key = store_key(handle)
            self._texts[key] = _entry_and_line(key, entry)
        self._file_state = state

    def _write(self, texts: Mapping[str, tuple[str, str]]) -> None:
        directory = self.path.parent
        try:
            _make_private_directory(directory)
            descriptor, temporary = tempfile.mkstemp(
                dir=directory, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as error:
            raise TokenStoreError(
                f"cannot write the TikTok token store in {directory}: {error.strerror}"
            ) from None
        try:
            # mkstemp creates the file 0600; fchmod in case a umask or ACL said otherwise.
            os.fchmod(descriptor, FILE_MODE)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(_document(texts))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
            _fsync_directory(directory)
            self._file_state = self._state()
        except BaseException as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if isinstance(error, OSError):
                raise TokenStoreError(
                    f"cannot write the TikTok token store {self.path}: {error.strerror}"
                ) from None
            raise

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        try:
            _make_private_directory(self.path.parent)
            descriptor = os.open(
                self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, FILE_MODE
            )
        except OSError as error:
            raise TokenStoreError(
                f"cannot lock the TikTok token store {self.path}: {error.strerror}"
            ) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def _entry_and_line(key: str, entry: Any) -> tuple[str, str]:
    """A creator's entry as JSON text, and its line in the file."""
    text = json.dumps(entry, ensure_ascii=False)
    return text, f"    {json.dumps(key, ensure_ascii=False)}: {text}"


def _document(texts: Mapping[str, tuple[str, str]]) -> str:
    """The file: one line per creator, sorted by handle (readable, and a diff shows who changed)."""
    body = ",\n".join([texts[key][1] for key in sorted(texts)])
    body = f"\n{body}\n  " if body else ""
    return f'{{\n  "format": "{FORMAT}",\n  "creators": {{{body}}}\n}}\n'


def _make_private_directory(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)


def _fsync_directory(directory: Path) -> None:
    # The rename itself must reach the disk, or a crash could bring the old file back.
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _warn_if_others_can_read(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "the TikTok token store %s can be read by other users (mode %s): run chmod 600 %s",
            path,
            oct(stat.S_IMODE(mode)),
            path,
        )


def _time_text(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _time(entry: Mapping[str, Any], name: str) -> dt.datetime | None:
    value = entry.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TokenEntryError(f"its {name} is not an ISO 8601 time")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TokenEntryError(f"its {name} {value[:40]!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    return value if isinstance(value, str) and value else None
