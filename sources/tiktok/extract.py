"""Extracting one night of TikTok: each connected creator's profile and recent videos, with the
creator's own OAuth tokens.

Per creator, concurrently:

1. its tokens from the token store (``sources.tiktok.tokens``); none, or an unreadable entry,
   fails that creator alone: it must connect (``influencers tiktok connect HANDLE``);
2. an access token that expires within the margin is refreshed first (``/v2/oauth/token/``); the
   pair that comes back is stored at once, atomically, before the new access token is used,
   since the refresh token sent may no longer be valid. ``invalid_grant`` (a refresh token
   revoked, expired or already rotated) fails that creator with a reason saying it must
   reconnect; a refusal of the app's client key or secret stops the night (no refresh can
   succeed);
3. ``/v2/user/info/`` then ``/v2/video/list/`` page by page (cursor, ``has_more``, at most 20 a
   page), newest first, until a video published before the lookback. An ``access_token_invalid``
   answer is refreshed once and retried; refused again, the creator fails alone.

What was fetched before a failure lands (the profile of a creator whose video paging broke off,
too). Records land as the API sent them, with context keys (``_handle``, ``_as_of``, and
``_open_id`` on videos); an item that is not a JSON object lands as ``_not_an_object`` so its
contract quarantines it. Tokens never land: they travel in headers and form fields only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeGuard, TypeVar

from sources.extraction import (
    AccountLog,
    AccountRunner,
    ExtractResult,
    Land,
    landed_record,
    published_since,
)
from sources.http import ApiError, FailureKind
from sources.roster import TrackedAccount
from sources.tiktok.client import (
    CLIENT_REFUSED,
    Config,
    TikTokClient,
    TokenGrant,
    is_access_token_invalid,
    is_invalid_grant,
)
from sources.tiktok.tokens import (
    CreatorTokens,
    TokenEntryError,
    TokenStore,
    TokenStoreError,
    store_key,
)

SOURCE = "tiktok"
ENTITIES = ("users", "videos")
CONNECT_COMMAND = "influencers tiktok connect {handle}"
STORE_ADVICE = "mend the token store (its error says how), then re-run this date"
CLIENT_ADVICE = (
    "check INFLUENCERS_TIKTOK__CLIENT_KEY and INFLUENCERS_TIKTOK__CLIENT_SECRET against the app's "
    "page on developers.tiktok.com, then re-run this date"
)
Answer = TypeVar("Answer")


def answers_as_of(config: Config) -> bool:
    """Whether the configured API can answer for a past date (only the simulated one can)."""
    return config.sends_as_of


def extract(
    config: Config, accounts: Iterable[TrackedAccount], as_of: dt.date, land: Land
) -> ExtractResult:
    """Fetch every creator as of the end of ``as_of``; land records as they arrive."""
    runner = AccountRunner(land, concurrency=config.http.concurrency)
    store = TokenStore(config.token_file)
    try:
        store.handles()
    except TokenStoreError as error:
        runner.stop(FailureKind.NIGHT, str(error), STORE_ADVICE)
        runner.skip(accounts)
        return runner.result
    with TikTokClient(config, as_of) as client:
        night = _Night(config, client, store, runner, as_of)
        runner.run(accounts, night.fetch_creator)
        runner.result.requests_made = client.requests_made
        if night.refreshed:
            runner.result.notes.append(
                f"{night.refreshed} access tokens refreshed; their new tokens are in "
                f"{config.token_file}"
            )
    return runner.result


def reconnect_reason(handle: str, why: str) -> str:
    """A failed creator's reason when only the creator can mend it: it must connect again."""
    command = CONNECT_COMMAND.format(handle=handle)
    return f"{why}: the creator must reconnect their TikTok account ({command})"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def renewed(tokens: CreatorTokens, grant: TokenGrant, granted_at: dt.datetime) -> CreatorTokens:
    """The creator's tokens after a grant; the refresh token is the one that came back, its
    expiry too (when the answer gives none, the old expiry stands)."""
    refresh_expires_at = (
        granted_at + dt.timedelta(seconds=grant.refresh_expires_in)
        if grant.refresh_expires_in is not None
        else tokens.refresh_token_expires_at
    )
    return CreatorTokens(
        handle=tokens.handle,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        access_token_expires_at=granted_at + dt.timedelta(seconds=grant.expires_in),
        refresh_token_expires_at=refresh_expires_at,
        open_id=grant.open_id or tokens.open_id,
        scope=grant.scope or tokens.scope,
        updated_at=granted_at,
    )


class _Night:
    """One night's creators: their tokens, refreshed as needed, then their profile and videos."""

    def __init__(
        self,
        config: Config,
        client: TikTokClient,
        store: TokenStore,
        runner: AccountRunner,
        as_of: dt.date,
    ) -> None:
        self._config = config
        self._client = client
        self._store = store
        self._runner = runner
        self._as_of = as_of.isoformat()
        self._published_since = published_since(as_of, config.lookback_days)
        self._lock = threading.Lock()
        self.refreshed = 0

    def fetch_creator(self, account: TrackedAccount, account_log: AccountLog) -> None:
        try:
            self._fetch(account, account_log)
        except ApiError as error:
            # The app's client key or secret, or the token store: no creator can succeed.
            if error.kind is FailureKind.AUTH and error.code in CLIENT_REFUSED:
                self._runner.stop(error.kind, error.message, CLIENT_ADVICE)
            elif error.kind is FailureKind.NIGHT:
                self._runner.stop(error.kind, error.message, STORE_ADVICE)
            raise

    def _fetch(self, account: TrackedAccount, account_log: AccountLog) -> None:
        creator = _Creator(self, account.handle)
        context = {"_handle": account.handle, "_as_of": self._as_of}
        user = creator.call(self._client.user_info)
        account_log.emit("users", landed_record(context, user))
        if not isinstance(user, dict):
            raise ApiError(
                "user/info answered a user that is not a JSON object; landed for quarantine",
                kind=FailureKind.ACCOUNT,
                status=200,
            )
        video_context = {**context, "_open_id": user.get("open_id")}
        self._fetch_videos(creator, video_context, account_log)

    def _fetch_videos(
        self, creator: _Creator, context: dict[str, Any], account_log: AccountLog
    ) -> None:
        cursor: int | None = None
        seen_cursors: set[int] = set()
        pages = 0
        while True:
            try:
                page = creator.call(partial(self._client.video_page, cursor=cursor))
            except ApiError as error:
                raise error.with_kind(
                    error.kind, f"video/list, page {pages + 1}: {error.message}"
                ) from None
            pages += 1
            videos = page.get("videos", [])
            if not isinstance(videos, list):
                account_log.emit("videos", landed_record(context, videos))
                account_log.fail_partly(
                    f"video/list page {pages}: videos is a JSON {type(videos).__name__}, not a "
                    "list; paging stopped"
                )
                return
            older_reached = False
            for video in videos:
                created = _create_time(video)
                if created is not None and created < self._published_since:
                    older_reached = True
                    continue
                account_log.emit("videos", landed_record(context, video))
            if older_reached or page.get("has_more") is not True:
                return
            next_cursor = page.get("cursor")
            if not _is_cursor(next_cursor):
                account_log.fail_partly(
                    f"video/list page {pages}: has_more without a usable cursor "
                    f"({str(next_cursor)[:24]!r}); later videos were not fetched",
                    code="missing_cursor",
                )
                return
            if next_cursor in seen_cursors or next_cursor == cursor:
                account_log.fail_partly(
                    f"video/list paging: cursor {next_cursor} came back after {pages} pages; "
                    "later videos were not fetched",
                    code="repeated_cursor",
                )
                return
            seen_cursors.add(next_cursor)
            cursor = next_cursor

    def tokens_of(self, handle: str) -> CreatorTokens:
        """The creator's stored tokens; ApiError (ACCOUNT: reconnect) when there are none."""
        try:
            tokens = self._store.get(handle)
        except TokenEntryError as error:
            raise ApiError(
                reconnect_reason(
                    handle,
                    f"its entry in the TikTok token store {self._store.path} is unusable ({error})",
                ),
                kind=FailureKind.ACCOUNT,
                code="token_entry_unreadable",
            ) from None
        except TokenStoreError as error:
            raise ApiError(str(error), kind=FailureKind.NIGHT, code="token_store") from None
        if tokens is None:
            where = (
                f"the token store {self._store.path}"
                if self._store.exists
                else f"the token store {self._store.path}, which does not exist yet"
            )
            raise ApiError(
                reconnect_reason(handle, f"no TikTok tokens for this creator in {where}"),
                kind=FailureKind.ACCOUNT,
                code="not_connected",
            )
        return tokens

    def fresh(self, tokens: CreatorTokens, *, force: bool = False) -> CreatorTokens:
        """``tokens`` with an access token good for the margin: refreshed (and stored) if not."""
        now = utc_now()
        if not force and tokens.access_token_valid_for(now) > self._config.refresh_margin_seconds:
            return tokens
        if tokens.refresh_token_expired(now):
            expired = tokens.refresh_token_expires_at
            raise ApiError(
                reconnect_reason(
                    tokens.handle,
                    f"its refresh token expired on {expired:%Y-%m-%d}" if expired else "expired",
                ),
                kind=FailureKind.ACCOUNT,
                code="refresh_token_expired",
            )
        try:
            grant = self._client.refresh(tokens.refresh_token)
        except ApiError as error:
            if not is_invalid_grant(error):
                raise error.with_kind(error.kind, f"token refresh: {error.message}") from None
            rotated = self._rotated_elsewhere(tokens)
            if rotated is not None:
                return self.fresh(rotated)
            raise ApiError(
                reconnect_reason(
                    tokens.handle,
                    f"TikTok refused its refresh token (invalid_grant: {error.message}); it was "
                    "revoked, or expired",
                ),
                kind=FailureKind.ACCOUNT,
                status=error.status,
                code=error.code,
            ) from None
        renewed_tokens = renewed(tokens, grant, now)
        try:
            self._store.put(renewed_tokens)
        except TokenStoreError as error:
            raise ApiError(
                f"{error}; the refresh token TikTok just issued for {tokens.handle} could not be "
                "kept, so that creator may have to reconnect",
                kind=FailureKind.NIGHT,
                code="token_store",
            ) from None
        with self._lock:
            self.refreshed += 1
        return renewed_tokens

    def _rotated_elsewhere(self, tokens: CreatorTokens) -> CreatorTokens | None:
        """The creator's tokens if another process refreshed them since this night read them
        (its refresh rotated the token this night sent), else None."""
        try:
            current = self._store.reload(tokens.handle)
        except (TokenStoreError, TokenEntryError):
            return None
        if current is None or current.refresh_token == tokens.refresh_token:
            return None
        return current


class _Creator:
    """One creator's calls, each with a good access token: refreshed before expiry, and once
    more when the API refuses it."""

    def __init__(self, night: _Night, handle: str) -> None:
        self._night = night
        self._tokens = night.fresh(night.tokens_of(handle))
        self._refused_once = False

    def call(self, request: Callable[[str], Answer]) -> Answer:
        try:
            return request(self._tokens.access_token)
        except ApiError as error:
            if not is_access_token_invalid(error):
                raise
            if self._refused_once:
                raise ApiError(
                    reconnect_reason(
                        self._tokens.handle,
                        f"TikTok refused a freshly refreshed access token ({error.message})",
                    ),
                    kind=FailureKind.ACCOUNT,
                    status=error.status,
                    code=error.code,
                ) from None
        self._refused_once = True
        self._tokens = self._night.fresh(self._tokens, force=True)
        return self.call(request)


def _create_time(video: Any) -> dt.datetime | None:
    """A video's publication time; None when it cannot be read (the video then lands anyway)."""
    value = video.get("create_time") if isinstance(video, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _is_cursor(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


__all__ = ["ENTITIES", "SOURCE", "answers_as_of", "extract", "store_key"]
