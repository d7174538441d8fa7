"""TikTok through the nightly flow end to end: real Prefect API, real HTTP on loopback, a real
lake. All three platforms load into the lake; over two nights the creators' refresh tokens rotate
in the token store and a revoked one fails its creator alone; no token or secret reaches the raw
zone, the lake, the logs or an error."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.nightly import NightFailed, nightly
from flows.source_plans import seed_simulated_tiktok_tokens
from simulator import FaultConfig, SimulatedWorld, SimulatorServer, TikTokAccess
from simulator.tiktok import tiktok_view
from sources.tiktok.tokens import CreatorTokens, TokenStore
from warehouse.lake import LakeLocation, open_lake

CLIENT_KEY = "e2e-tiktok-client-key-52c1"
CLIENT_SECRET = "e2e-tiktok-client-secret-a8f03d7e"
TOKEN_SHAPE = re.compile(r"\b(act|rft)\.[A-Za-z0-9_-]{8,}")
# Every table a night writes, and the columns of each that could carry a leaked credential.
TEXT_TABLES = {
    "failed_accounts": "handle, reason, api_error_code",
    "pipeline_runs": "message",
    "quarantine": "raw_record",
    "dim_influencer": "handle, display_name",
}


def query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def store_of(data_dir: Path) -> TokenStore:
    return TokenStore(data_dir / "secrets" / "tiktok_tokens.json")


def every_token(store: TokenStore) -> set[str]:
    tokens: set[str] = set()
    for handle in store.handles():
        found = store.get(handle)
        assert isinstance(found, CreatorTokens)
        tokens |= {found.access_token, found.refresh_token} - {""}
    return tokens


def everything_written(data_dir: Path, logs: list[str]) -> list[str]:
    """The texts a night leaves behind: raw files and manifests, the lake's text columns, logs."""
    texts = [*logs]
    for path in (data_dir / "raw").rglob("*"):
        if path.suffix == ".gz":
            texts.append(gzip.decompress(path.read_bytes()).decode())
        elif path.is_file():
            texts.append(path.read_text())
    for table, columns in TEXT_TABLES.items():
        texts.extend(str(row) for row in query(data_dir, f"select {columns} from {table}"))
    return texts


def assert_no_credential_in(texts: list[str], secrets: set[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
        assert TOKEN_SHAPE.search(text) is None, TOKEN_SHAPE.search(text)


def test_a_night_loads_all_three_platforms_into_the_lake(
    pipeline_env: Path, run_date: dt.date, world: SimulatedWorld, all_logs: list[str]
) -> None:
    tiktok_accounts = tiktok_view(world).accounts

    summary = nightly(date=run_date)

    assert list(summary.sources) == ["instagram", "youtube", "tiktok"]
    for night in summary.sources.values():
        assert night.accounts == night.accounts_fetched > 0
        assert all(
            c.landed == c.loaded + c.quarantined + c.deduplicated for c in night.counts.values()
        )
    tiktok = summary.sources["tiktok"]
    assert tiktok.counts["users"].loaded == len(tiktok_accounts)
    assert tiktok.counts["videos"].loaded > 0
    profiles = dict(
        query(
            pipeline_env,
            f"select platform, count(*) from fact_profile_daily where snapshot_date = "
            f"'{run_date}' group by platform",
        )
    )
    assert profiles == {
        "instagram": summary.sources["instagram"].counts["profiles"].loaded,
        "youtube": summary.sources["youtube"].counts["channels"].loaded,
        "tiktok": len(tiktok_accounts),
    }
    ((posts, with_shares, with_views, saves, media_types),) = query(
        pipeline_env,
        "select count(*), count(shares), count(views), count(saves), "
        "list(distinct media_type) from fact_post_metrics where platform = 'tiktok'",
    )
    assert posts == tiktok.counts["videos"].loaded == with_shares == with_views
    assert (saves, media_types) == (0, ["VIDEO"])
    # Every post observed that night keeps its caption and link once, in dim_post.
    captions = query(
        pipeline_env,
        f"""
        select platform, count(*), count(caption), count(permalink),
               count(*) filter (where permalink like case platform
                   when 'instagram' then 'https://www.instagram.com/%'
                   when 'youtube' then 'https://www.youtube.com/watch?v=%'
                   else 'https://www.tiktok.com/@%/video/%' end)
        from dim_post
        where (platform, post_id) in (
            select (platform, post_id) from fact_post_metrics
            where observed_date = '{run_date}'
        )
        group by platform order by platform
        """,
    )
    observed = dict(
        query(
            pipeline_env,
            f"select platform, count(*) from fact_post_metrics where observed_date = "
            f"'{run_date}' group by platform",
        )
    )
    assert captions == [
        (platform, observed[platform], observed[platform], observed[platform], observed[platform])
        for platform in sorted(observed)
    ]
    influencers = query(
        pipeline_env,
        "select account_id, handle, country, category from dim_influencer "
        "where platform = 'tiktok'",
    )
    assert sorted(influencers) == sorted(
        (a.open_id, a.handle, a.country, a.category) for a in tiktok_accounts
    )
    # The simulated creators were connected in the token store, kept like a secret.
    store = store_of(pipeline_env)
    assert set(store.handles()) == {a.handle.lower() for a in tiktok_accounts}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert_no_credential_in(everything_written(pipeline_env, all_logs), every_token(store))


@pytest.fixture
def tiktok_platform(
    pipeline_env: Path, world: SimulatedWorld, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SimulatorServer, str]]:
    """The simulated TikTok API with access tokens of a minute (so every night refreshes) and one
    creator whose refresh token is revoked; the night extracts TikTok only. Yields the server and
    the revoked creator's handle."""
    revoked = next(a for a in tiktok_view(world).accounts if a.archetype == "steady").handle
    access = TikTokAccess(CLIENT_KEY, CLIENT_SECRET, access_token_seconds=60)
    faults = {"tiktok": FaultConfig(account_faults={revoked: "refresh_revoked"})}
    with SimulatorServer(world, access_token="ig-not-used", tiktok=access, faults=faults) as server:
        for name, value in {
            "SOURCES": '["tiktok"]',
            "TIKTOK__API_URL": server.url + "/tiktok",
            "TIKTOK__CLIENT_KEY": CLIENT_KEY,
            "TIKTOK__CLIENT_SECRET": CLIENT_SECRET,
            "TIKTOK__SUPPORTS_AS_OF": "true",
            # One failed creator of thirteen must not turn the night red here.
            "MAX_FAILED_ACCOUNT_SHARE": "0.2",
        }.items():
            monkeypatch.setenv(f"INFLUENCERS_{name}", value)
        seed_simulated_tiktok_tokens(store_of(pipeline_env).path, world)
        yield server, revoked


def test_tokens_rotate_over_two_nights_and_a_revoked_one_fails_its_creator_alone(
    pipeline_env: Path,
    run_date: dt.date,
    world: SimulatedWorld,
    tiktok_platform: tuple[SimulatorServer, str],
    all_logs: list[str],
) -> None:
    _, revoked = tiktok_platform
    store = store_of(pipeline_env)
    handles = [a.handle for a in tiktok_view(world).accounts]
    seeded = {h: TokenStore(store.path).get(h) for h in handles}
    secrets = {CLIENT_SECRET, *every_token(store)}

    first = nightly(date=run_date).sources["tiktok"]
    after_first = {h: TokenStore(store.path).get(h) for h in handles}
    secrets |= every_token(store)
    second = nightly(date=run_date + dt.timedelta(days=1)).sources["tiktok"]
    after_second = {h: TokenStore(store.path).get(h) for h in handles}
    secrets |= every_token(store)

    for night in (first, second):
        assert (night.accounts, night.accounts_fetched, night.accounts_failed) == (13, 12, 1)
        assert night.stopped is None
        assert night.counts["users"].loaded == 12
    for handle in handles:
        if handle == revoked:
            assert seeded[handle] == after_first[handle] == after_second[handle]
            continue
        tokens = [seeded[handle], after_first[handle], after_second[handle]]
        assert all(t is not None for t in tokens)
        refresh = [t.refresh_token for t in tokens if t is not None]
        assert len(set(refresh)) == 3, "each night's refresh rotated the refresh token"
    failed = query(
        pipeline_env,
        "select partition_date, handle, failure_kind, http_status, api_error_code, reason "
        "from failed_accounts where source = 'tiktok' order by partition_date",
    )
    assert [row[:5] for row in failed] == [
        (day, revoked, "account", 400, "invalid_grant")
        for day in (run_date, run_date + dt.timedelta(days=1))
    ]
    assert all(
        "the creator must reconnect" in str(row[5]) and "revoked" in str(row[5]) for row in failed
    )
    loaded = query(
        pipeline_env,
        "select snapshot_date, count(*) from fact_profile_daily where platform = 'tiktok' "
        "group by all order by all",
    )
    assert loaded == [(run_date, 12), (run_date + dt.timedelta(days=1), 12)]
    assert_no_credential_in(everything_written(pipeline_env, all_logs), secrets)


def test_refused_app_credentials_end_the_night_red_without_showing_them(
    pipeline_env: Path,
    run_date: dt.date,
    tiktok_platform: tuple[SimulatorServer, str],
    monkeypatch: pytest.MonkeyPatch,
    all_logs: list[str],
) -> None:
    wrong = "e2e-wrong-client-secret-00c9"
    monkeypatch.setenv("INFLUENCERS_TIKTOK__CLIENT_SECRET", wrong)
    secrets = {wrong, CLIENT_SECRET, *every_token(store_of(pipeline_env))}

    with pytest.raises(NightFailed) as failed:
        nightly(date=run_date)

    message = str(failed.value)
    assert "tiktok: stopped early after 0 of 13 accounts" in message
    assert "TikTok refused the app's client key or secret" in message
    assert "INFLUENCERS_TIKTOK__CLIENT_SECRET" in message
    ((status, run_message),) = query(
        pipeline_env,
        "select status, message from pipeline_runs where source = 'tiktok' and step = 'extract'",
    )
    assert status == "stopped" and "client key or secret" in str(run_message)
    assert_no_credential_in([message, *everything_written(pipeline_env, all_logs)], secrets)
