import dataclasses
import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse import migrate
from warehouse.lake import LakeLocation, open_lake
from warehouse.load import PartitionLoad, load_partition
from warehouse.migrate import apply_migrations, available_migrations
from warehouse.snapshots import list_snapshots

DAY = dt.date(2026, 11, 20)


def partition(day: dt.date, followers: int, handle: str = "maya.bakes") -> PartitionLoad:
    return PartitionLoad(
        source="instagram_graph",
        platform="instagram",
        partition_date=day,
        roster=pl.DataFrame(
            {
                "platform": ["instagram"],
                "handle": ["maya.bakes"],
                "connected": [True],
                "country": ["GB"],
                "category": ["food"],
            }
        ),
        influencers=pl.DataFrame(
            {
                "platform": ["instagram"],
                "account_id": ["1"],
                "handle": [handle],
                "display_name": ["Maya"],
                "country": ["GB"],
                "category": ["food"],
                "first_seen_date": [day],
                "last_seen_date": [day],
            }
        ),
        facts={
            "fact_profile_daily": pl.DataFrame(
                {
                    "platform": ["instagram"],
                    "account_id": ["1"],
                    "snapshot_date": [day],
                    "followers": [followers],
                    "following": [10],
                    "media_count": [5],
                }
            )
        },
        quarantine=pl.DataFrame(
            {
                "source": ["instagram_graph"],
                "entity": ["media"],
                "partition_date": [day],
                "run_id": ["r1"],
                "raw_record": ['{"id": "x"}'],
                "failed_checks": [["post_id: digits_id (got x)"]],
                "landed_file": ["m.jsonl.gz"],
                "line_number": [3],
            }
        ),
        run_log=pl.DataFrame(),
    )


def table(connection: duckdb.DuckDBPyConnection, name: str) -> list[tuple[object, ...]]:
    return connection.execute(f"select * from {name} order by all").fetchall()


def test_migrations_apply_once(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))

    assert apply_migrations(connection) == []
    versions = connection.execute("select version from schema_migrations").fetchall()
    assert [v for (v,) in versions] == [m.version for m in available_migrations()]


def test_loading_a_date_twice_leaves_the_tables_as_one_load(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, partition(DAY, 1000))
    once = {
        name: table(connection, name)
        for name in ("fact_profile_daily", "quarantine", "dim_influencer", "roster")
    }

    load_partition(connection, partition(DAY, 1000))

    assert {name: table(connection, name) for name in once} == once


def test_a_reload_replaces_only_its_own_date(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, partition(DAY, 1000))
    load_partition(connection, partition(DAY + dt.timedelta(days=1), 1100, handle="maya.cooks"))

    load_partition(connection, partition(DAY, 999))

    assert connection.execute(
        "select snapshot_date, followers from fact_profile_daily order by 1"
    ).fetchall() == [(DAY, 999), (DAY + dt.timedelta(days=1), 1100)]
    # the replayed older date neither narrows the seen range nor renames the account back
    assert connection.execute(
        "select handle, first_seen_date, last_seen_date from dim_influencer"
    ).fetchall() == [("maya.cooks", DAY, DAY + dt.timedelta(days=1))]


def test_a_failing_load_rolls_back_the_whole_partition(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, partition(DAY, 1000))
    broken = partition(DAY, 2000)
    # a post observation without its observed_date breaks the table's NOT NULL constraint
    broken.facts["fact_post_metrics"] = pl.DataFrame(
        {
            "platform": ["instagram"],
            "post_id": ["9"],
            "observed_date": pl.Series([None], dtype=pl.Date),
            "account_id": ["1"],
            "published_at": [dt.datetime(2026, 11, 19, 10)],
            "media_type": ["IMAGE"],
        }
    )

    # the error that aborted the transaction reaches the caller, naming what is wrong
    with pytest.raises(duckdb.Error, match="observed_date"):
        load_partition(connection, broken)

    assert table(connection, "fact_profile_daily")[0][3] == 1000


def test_an_analyst_reads_the_last_snapshot_while_a_load_is_open_then_the_new_one(
    tmp_path: Path,
) -> None:
    lake = LakeLocation.in_directory(tmp_path)
    writer = open_lake(lake)
    load_partition(writer, partition(DAY, 1000))
    analyst = open_lake(lake, read_only=True)

    writer.execute("begin transaction")
    writer.execute("update fact_profile_daily set followers = 5000")
    assert analyst.execute("select followers from fact_profile_daily").fetchall() == [(1000,)]
    writer.execute("commit")

    assert analyst.execute("select followers from fact_profile_daily").fetchall() == [(5000,)]


def test_each_load_is_one_snapshot_labelled_with_its_run_and_readable_later(
    tmp_path: Path,
) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, partition(DAY, 1000))
    first = connection.execute("select max(snapshot_id) from ducklake_snapshots('lake')").fetchone()
    load_partition(connection, partition(DAY, 5000))

    snapshots = list_snapshots(connection)
    assert snapshots["message"].to_list()[:2] == [
        f"nightly instagram_graph {DAY.isoformat()}",
        f"nightly instagram_graph {DAY.isoformat()}",
    ]
    assert json.loads(snapshots["run"][0])["date"] == DAY.isoformat()
    assert first is not None
    assert connection.execute(
        f"select followers from fact_profile_daily at (version => {first[0]})"
    ).fetchall() == [(1000,)]
    assert table(connection, "fact_profile_daily")[0][3] == 5000


def test_a_nightly_load_keeps_imported_snapshots_of_accounts_it_did_not_fetch(
    tmp_path: Path,
) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, partition(DAY, 1000))
    # A file import loaded two accounts that date: "1" (also fetched by the platform, whose
    # nightly snapshot the import found absent at the time) and one only the export knows.
    for account_id, followers in (("1", 990), ("handle:lena.paints", 52_000)):
        connection.execute(
            "insert into fact_profile_daily values ('instagram', ?, ?, ?, null, null)",
            [account_id, DAY, followers],
        )
        connection.execute(
            "insert into import_profile values ('kaggle', 'instagram', ?, ?, 'h', ?, null, null, "
            "null, true, 2, 'import-1')",
            [account_id, DAY, followers],
        )
    connection.execute("delete from fact_profile_daily where account_id = '1' and followers = 1000")

    load_partition(connection, partition(DAY, 1001))

    assert connection.execute(
        "select account_id, followers from fact_profile_daily order by 1"
    ).fetchall() == [("1", 1001), ("handle:lena.paints", 52_000)]
    assert connection.execute(
        "select account_id, in_fact_profile_daily from import_profile order by 1"
    ).fetchall() == [("1", False), ("handle:lena.paints", True)]

    load_partition(connection, partition(DAY, 1001))

    assert connection.execute(
        "select account_id, followers from fact_profile_daily order by 1"
    ).fetchall() == [("1", 1001), ("handle:lena.paints", 52_000)]


def sighting(day: dt.date, caption: str) -> PartitionLoad:
    """The night of ``day`` seeing post 10 with ``caption``."""
    post = {
        "platform": ["instagram"],
        "post_id": ["10"],
        "account_id": ["1"],
        "published_at": [dt.datetime(2026, 11, 19, 10)],
    }
    night = partition(day, 1000)
    night.facts["fact_post_metrics"] = pl.DataFrame(
        {**post, "observed_date": [day], "media_type": ["IMAGE"], "likes": [5]}
    )
    return dataclasses.replace(
        night,
        posts=pl.DataFrame({**post, "caption": [caption], "permalink": ["https://x/p/10/"]}),
    )


NIGHTS = [DAY + dt.timedelta(days=n) for n in range(4)]
# The creator added #ad on the second night, then took it off again.
CAPTIONS = dict(
    zip(NIGHTS, ["spring look", "spring look #ad", "spring look", "spring look"], strict=True)
)


@pytest.mark.parametrize(
    "order",
    [[0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 1, 3], [1, 3, 0, 2]],
    ids=["in-order", "backwards", "backfill-between", "shuffled"],
)
def test_a_post_keeps_its_latest_caption_and_first_date_whatever_order_nights_load(
    tmp_path: Path, order: list[int]
) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    for night in order:
        load_partition(connection, sighting(NIGHTS[night], CAPTIONS[NIGHTS[night]]))
    once = table(connection, "dim_post")

    assert connection.execute("select caption, first_seen_date from dim_post").fetchall() == [
        ("spring look", NIGHTS[0])
    ]
    load_partition(connection, sighting(NIGHTS[1], CAPTIONS[NIGHTS[1]]))
    assert table(connection, "dim_post") == once


def test_a_night_that_sees_a_post_unchanged_writes_nothing_to_dim_post(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    load_partition(connection, sighting(NIGHTS[0], "spring look"))

    def dim_post_changes() -> int:
        snapshot = connection.execute(
            "select max(snapshot_id) from ducklake_snapshots('lake')"
        ).fetchall()[0][0]
        return connection.execute(
            "select count(*) from ducklake_table_changes('lake', 'main', 'dim_post', ?, ?)",
            [snapshot, snapshot],
        ).fetchall()[0][0]

    load_partition(connection, sighting(NIGHTS[1], "spring look"))
    assert dim_post_changes() == 0
    load_partition(connection, sighting(NIGHTS[2], "spring look #ad"))
    # an edit is an update: the old row out, the new one in
    assert dim_post_changes() == 2


def test_a_lake_from_before_first_seen_dates_gets_each_posts_first_observation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = available_migrations()
    monkeypatch.setattr(
        migrate, "available_migrations", lambda: [m for m in shipped if m.version < 12]
    )
    old = open_lake(LakeLocation.in_directory(tmp_path))
    old.execute(
        "insert into dim_post values "
        "('instagram', '10', '1', '2026-11-19 10:00', 'seen twice', null, '2026-11-22'), "
        "('instagram', '11', '1', '2026-11-19 11:00', 'no observation left', null, '2026-11-21')"
    )
    old.execute(
        "insert into fact_post_metrics (platform, post_id, observed_date, account_id, "
        "published_at, media_type) values "
        "('instagram', '10', '2026-11-20', '1', '2026-11-19 10:00', 'IMAGE'), "
        "('instagram', '10', '2026-11-22', '1', '2026-11-19 10:00', 'IMAGE')"
    )
    old.close()
    monkeypatch.undo()

    connection = open_lake(LakeLocation.in_directory(tmp_path))

    assert table(connection, "dim_post") == [
        ("instagram", "10", "1", dt.datetime(2026, 11, 19, 10), "seen twice", None, DAY),
        (
            "instagram",
            "11",
            "1",
            dt.datetime(2026, 11, 19, 11),
            "no observation left",
            None,
            dt.date(2026, 11, 21),
        ),
    ]


def sightings(day: dt.date, post_ids: list[str], caption: str) -> PartitionLoad:
    """The night of ``day`` seeing each of ``post_ids`` with ``caption``."""
    posts = {
        "platform": ["instagram"] * len(post_ids),
        "post_id": post_ids,
        "account_id": ["1"] * len(post_ids),
        "published_at": [dt.datetime(2026, 11, 19, 10)] * len(post_ids),
    }
    night = partition(day, 1000)
    night.facts["fact_post_metrics"] = pl.DataFrame(
        {**posts, "observed_date": [day] * len(post_ids), "media_type": ["IMAGE"] * len(post_ids)}
    )
    return dataclasses.replace(
        night,
        posts=pl.DataFrame(
            {**posts, "caption": [caption] * len(post_ids), "permalink": [None] * len(post_ids)}
        ),
    )


def test_a_backfilled_night_edits_only_the_posts_no_later_night_saw(tmp_path: Path) -> None:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    everyone = [str(100 + n) for n in range(40)]
    followed_on = everyone[:25]  # the others were last seen on the backfilled night
    load_partition(connection, sightings(NIGHTS[0], everyone, "as posted"))
    load_partition(connection, sightings(NIGHTS[2], followed_on, "as posted"))

    load_partition(connection, sightings(NIGHTS[1], everyone, "edited"))

    captions = dict(connection.execute("select post_id, caption from dim_post").fetchall())
    assert captions == {post: "as posted" if post in followed_on else "edited" for post in everyone}
