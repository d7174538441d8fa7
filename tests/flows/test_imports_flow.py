"""File imports end to end: the import-file flow under the Prefect test harness, a real lake, and
the exports in tests/fixtures/imports (the real Kaggle export among them, byte for byte)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from prefect.settings import PREFECT_API_URL

from flows.imports import ImportSummary, import_file
from warehouse.lake import LakeLocation, open_lake
from warehouse.snapshots import commit

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT / "tests" / "fixtures" / "imports"
REAL_EXPORT = FIXTURES / "top_insta_influencers_data.csv"
SHARED_EXPORT = PROJECT.parent / "shared" / "datasets" / "top_insta_influencers_data.csv"
EXPORT_DATE = dt.date(2022, 9, 1)
MESSY_DATE = dt.date(2026, 5, 1)
# Tables whose rows an import writes, beside the run log.
IMPORT_TABLES = (
    "dim_influencer",
    "fact_profile_daily",
    "fact_imported_metric",
    "import_profile",
    "import_file",
    "quarantine",
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def lake(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The lake, read-only, opened when a test asks (after its imports)."""
    connections: list[duckdb.DuckDBPyConnection] = []

    class Opener:
        def __getattr__(self, name: str) -> Any:
            if not connections:
                connections.append(open_lake(LakeLocation.in_directory(data_dir), read_only=True))
            return getattr(connections[0], name)

    yield Opener()  # type: ignore[misc]
    for connection in connections:
        connection.close()


def imported(path: Path, source: str, mapping: str | None, date: dt.date | None) -> ImportSummary:
    summary = import_file(str(path), source, mapping, date)
    assert isinstance(summary, ImportSummary)
    return summary


def rows(connection: Any, query: str, *parameters: object) -> list[tuple[Any, ...]]:
    return connection.execute(query, list(parameters)).fetchall()


def test_the_fixture_is_the_real_export_byte_for_byte() -> None:
    if not SHARED_EXPORT.exists():
        pytest.skip(f"{SHARED_EXPORT} is not on this machine")
    assert REAL_EXPORT.read_bytes() == SHARED_EXPORT.read_bytes()


def test_the_real_export_imports_with_the_shipped_mapping_every_row_accounted_for(
    data_dir: Path, lake: Any
) -> None:
    summary = imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)

    totals = summary.totals
    assert (totals.landed, totals.loaded, totals.quarantined, totals.deduplicated) == (
        199,
        198,
        1,
        0,
    )
    assert rows(lake, "select count(*) from fact_profile_daily") == [(198,)]
    assert rows(
        lake,
        "select followers, media_count from fact_profile_daily f join dim_influencer d "
        "using (platform, account_id) where d.handle = 'cristiano' and snapshot_date = ?",
        EXPORT_DATE,
    ) == [(475_800_000, 3_300)]
    # Every account of the export is mega tier.
    assert rows(lake, "select min(followers) >= 1000000 from fact_profile_daily") == [(True,)]
    # Every rank of the file (1-200 but 96) is loaded or quarantined: none is lost.
    loaded_ranks = {
        int(rank)
        for (rank,) in rows(lake, "select value from fact_imported_metric where metric = 'rank'")
    }
    quarantined = rows(
        lake, "select line_number, failed_checks, raw_record::json->>'rank' from quarantine"
    )
    assert quarantined == [
        (
            118,
            [
                'handle: not an Instagram username (1 to 30 of A-Z, a-z, 0-9, "." and "_", '
                "without @) (5-Minute Crafts GIRLY)"
            ],
            "118",
        )
    ]
    assert loaded_ranks | {118} == set(range(1, 201)) - {96}


def test_the_real_export_keeps_exact_metrics_and_the_repaired_country_with_its_original(
    data_dir: Path, lake: Any
) -> None:
    imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)

    metrics = dict(
        rows(
            lake,
            "select metric, value from fact_imported_metric where account_id = 'handle:cristiano'",
        )
    )
    assert metrics == {
        "rank": Decimal(1),
        "influence_score": Decimal(92),
        "avg_likes": Decimal(8_700_000),
        "engagement_rate_60d": Decimal("0.0139"),
        "avg_likes_new_posts": Decimal(6_500_000),
        "total_likes": Decimal(29_000_000_000),
    }
    assert rows(lake, "select count(*) from fact_imported_metric") == [(198 * 6,)]
    assert rows(
        lake,
        "select d.country, p.country_as_written from dim_influencer d join import_profile p "
        "using (platform, account_id) where d.handle = 'hrithikroshan'",
    ) == [("CI", "Côte d'Ivoire")]
    (notes,) = rows(lake, "select notes from import_file")[0]
    assert notes == [
        'country: "CÃ´te d\'Ivoire" repaired to "Côte d\'Ivoire" (UTF-8 decoded with the '  # noqa: RUF001
        "wrong charset; line 133)"
    ]
    (landed_file,) = rows(lake, "select landed_file from import_file")[0]
    landed = (data_dir / "raw" / landed_file).read_bytes()
    assert landed == REAL_EXPORT.read_bytes()
    assert "CÃ´te d'Ivoire".encode() in landed  # noqa: RUF001 (the original, as landed)


def test_counts_reconcile_in_the_run_log(data_dir: Path, lake: Any) -> None:
    imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)

    log = rows(
        lake,
        "select step, entity, rows_in, rows_valid, rows_quarantined, rows_deduplicated, "
        "rows_loaded, status from pipeline_runs where source = 'top_insta_influencers' "
        "order by step, entity",
    )
    assert log == [
        ("extract", "file", 199, None, None, None, None, "ok"),
        ("load", "fact_imported_metric", 1188, None, None, None, 1188, "ok"),
        ("load", "fact_profile_daily", 198, None, None, 0, 198, "ok"),
        ("validate", "rows", 199, 198, 1, None, None, "ok"),
    ]
    assert rows(
        lake,
        "select rows_landed = rows_loaded + rows_quarantined + rows_deduplicated from import_file",
    ) == [(True,)]


def lake_contents(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in IMPORT_TABLES
        }
    finally:
        connection.close()


def raw_zone(data_dir: Path) -> dict[str, bytes]:
    raw = data_dir / "raw"
    return {
        str(path.relative_to(raw)): path.read_bytes() for path in raw.rglob("*") if path.is_file()
    }


def test_importing_the_same_file_twice_leaves_the_lake_and_the_raw_zone_identical(
    data_dir: Path,
) -> None:
    first = imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)
    lake_before, raw_before = lake_contents(data_dir), raw_zone(data_dir)

    second = imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)

    assert second.import_id == first.import_id
    assert lake_contents(data_dir) == lake_before
    assert raw_zone(data_dir) == raw_before
    assert sum(len(table) for table in lake_before.values()) > 600


def write_export(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(["handle,followers,avg likes", *lines]) + "\n", encoding="utf-8")
    return path


def small_mapping(tmp_path: Path) -> Path:
    mapping = tmp_path / "small.toml"
    mapping.write_text(
        'platform = "instagram"\n[columns]\nhandle = "handle"\nfollowers = "followers"\n'
        '[metrics.avg_likes]\ncolumn = "avg likes"\nkind = "average"\n',
        encoding="utf-8",
    )
    return mapping


def test_a_corrected_file_for_the_same_date_replaces_the_earlier_one(
    tmp_path: Path, data_dir: Path
) -> None:
    mapping = str(small_mapping(tmp_path))
    imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)
    imported(
        write_export(tmp_path / "v1.csv", ["ann,1k,10", "bob,2k,20", "cy,3k,30"]),
        "tool",
        mapping,
        EXPORT_DATE,
    )
    others = {t: r for t, r in lake_contents(data_dir).items() if t != "dim_influencer"}

    imported(
        write_export(tmp_path / "v2.csv", ["ann,1.5k,15", "cy,3k,30"]), "tool", mapping, EXPORT_DATE
    )

    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        assert rows(
            connection,
            "select account_id, followers from import_profile where source = 'tool' order by 1",
        ) == [("handle:ann", 1500), ("handle:cy", 3000)]
        assert rows(
            connection,
            "select account_id, followers from fact_profile_daily where account_id in "
            "('handle:ann', 'handle:bob', 'handle:cy') order by 1",
        ) == [("handle:ann", 1500), ("handle:cy", 3000)]
        assert rows(
            connection,
            "select account_id, value from fact_imported_metric where source = 'tool' order by 1",
        ) == [("handle:ann", Decimal(15)), ("handle:cy", Decimal(30))]
        assert rows(
            connection, "select original_name, rows_loaded from import_file where source = 'tool'"
        ) == [("v2.csv", 2)]
        # The other source's import of the same date is untouched.
        for table in ("fact_imported_metric", "import_profile", "quarantine"):
            assert rows(
                connection,
                f"select * from {table} where source = 'top_insta_influencers' order by all",
            ) == [r for r in others[table] if r[0] == "top_insta_influencers"]
    finally:
        connection.close()


def test_a_platform_snapshot_is_never_replaced_and_the_known_id_is_used(
    tmp_path: Path, data_dir: Path
) -> None:
    connection = open_lake(LakeLocation.in_directory(data_dir))
    try:
        with commit(connection, "nightly instagram 2022-09-01"):
            connection.execute(
                "insert into dim_influencer values ('instagram', '173560420', 'Cristiano', "
                "'Cristiano Ronaldo', null, 'sport', ?, ?)",
                [EXPORT_DATE, EXPORT_DATE],
            )
            connection.execute(
                "insert into fact_profile_daily values ('instagram', '173560420', ?, 475812345, "
                "567, 3412)",
                [EXPORT_DATE],
            )
    finally:
        connection.close()

    summary = imported(REAL_EXPORT, "top_insta_influencers", None, EXPORT_DATE)

    assert (summary.totals.loaded, summary.totals.deduplicated, summary.superseded) == (197, 1, 1)
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        assert rows(
            connection, "select * from fact_profile_daily where account_id = '173560420'"
        ) == [("instagram", "173560420", EXPORT_DATE, 475_812_345, 567, 3_412)]
        assert rows(
            connection,
            "select followers, in_fact_profile_daily from import_profile "
            "where account_id = '173560420'",
        ) == [(475_800_000, False)]
        assert rows(
            connection,
            "select handle, display_name, country, category from dim_influencer "
            "where account_id = '173560420'",
        ) == [("Cristiano", "Cristiano Ronaldo", "ES", "sport")]
        assert rows(
            connection, "select count(*) from fact_imported_metric where account_id = '173560420'"
        ) == [(6,)]
        assert rows(connection, "select rows_superseded, rows_deduplicated from import_file") == [
            (1, 1)
        ]
    finally:
        connection.close()


def test_the_messy_export_is_read_exactly_and_every_bad_row_is_quarantined_with_its_reason(
    data_dir: Path, lake: Any
) -> None:
    state = import_file(
        str(FIXTURES / "messy_export.csv"),
        "messy",
        str(FIXTURES / "messy_export.toml"),
        MESSY_DATE,
        return_state=True,
    )

    # 13 of 20 rows quarantined: the run is red, after loading the valid ones.
    assert state.is_failed()
    assert state.message is not None
    assert state.message.startswith(
        "13 of 20 rows of messy_export.csv were quarantined (65.0%, above 5.0%); the 6 valid "
        "rows were loaded."
    )
    profiles = rows(
        lake,
        "select p.handle, p.line_number, f.followers, f.following, f.media_count, d.display_name, "
        "d.country, d.category from import_profile p join fact_profile_daily f on "
        "f.platform = p.platform and f.account_id = p.account_id and f.snapshot_date = "
        "p.as_of_date join dim_influencer d on d.platform = p.platform and d.account_id = "
        "p.account_id order by p.line_number",
    )
    assert profiles == [
        ("beta.two", 3, 475_800_000, None, None, "Beta Two", "CI", "travel"),
        ("gamma_3", 4, 1_200_000_000, None, 12, 'Gamma, "the third"', "US", "music"),
        ("delta4", 5, 15_000, None, 0, "Delta\r\nFour", "US", None),
        ("alpha_one", 19, 3_300, 120, 1_234, "Alpha One", "FR", "food"),
        ("Omicron", 21, 8_000, 1, 1, "Omicron", "FR", "food"),
        ("rho", 23, 9_000, 1, 1, "Rho", None, "food"),
    ]
    metrics = rows(
        lake,
        "select p.handle, m.metric, m.value from fact_imported_metric m join import_profile p "
        "using (source, platform, account_id, as_of_date) order by p.line_number, m.metric",
    )
    assert metrics == [
        ("beta.two", "avg_likes", Decimal("12345.5")),
        ("beta.two", "engagement_rate", Decimal("0.005")),
        ("beta.two", "total_likes", Decimal(29_000_000_000)),
        ("gamma_3", "total_likes", Decimal(1_200_000_000)),
        ("delta4", "avg_likes", Decimal(1_500)),
        ("delta4", "engagement_rate", Decimal("0.125")),
        ("delta4", "score", Decimal(100)),
        ("delta4", "total_likes", Decimal(0)),
        ("alpha_one", "avg_likes", Decimal(890)),
        ("alpha_one", "engagement_rate", Decimal("0.0139")),
        ("alpha_one", "score", Decimal("7.5")),
        ("alpha_one", "total_likes", Decimal(228_000_000_000)),
        ("Omicron", "avg_likes", Decimal(1_000)),
        ("Omicron", "engagement_rate", Decimal("0.01")),
        ("Omicron", "score", Decimal(1)),
        ("Omicron", "total_likes", Decimal(1_000)),
        ("rho", "avg_likes", Decimal(1_000)),
        ("rho", "engagement_rate", Decimal("0.000015")),
        ("rho", "score", Decimal(1)),
        ("rho", "total_likes", Decimal(1_000)),
    ]
    today = dt.datetime.now(dt.UTC).date()
    assert rows(lake, "select line_number, failed_checks from quarantine order by 1") == [
        (8, ["handle: missing (got nothing)"]),
        (9, ["followers: negative count (-5k)"]),
        (10, ["followers: implausible count (20000000000 > 10^10)"]),
        (11, ["followers: not a number (lots)"]),
        (12, ["followers: not a whole number (1.2345k)"]),
        (13, [f"as_of: in the future (2999-01-01 is after {today})"]),
        (14, ["engagement_rate: not a number (high)"]),
        (
            15,
            ["record: 13 fields where the header has 12 (a separator or a quote out of place?)"],
        ),
        (
            16,
            [
                'handle: not an Instagram username (1 to 30 of A-Z, a-z, 0-9, "." and "_", '
                "without @) (mu handle)"
            ],
        ),
        (17, ["as_of: not a date (05/01/2026); write it as YYYY-MM-DD or set date_format"]),
        (18, ["avg_likes: negative (-1k)"]),
        (20, ["duplicate: account omicron landed again with other counts; kept line 21"]),
        (22, ["score: above the mapping's max of 100 (101)"]),
    ]
    assert rows(
        lake,
        "select rows_landed, rows_loaded, rows_quarantined, rows_deduplicated, notes "
        "from import_file",
    ) == [
        (
            20,
            6,
            13,
            1,
            [
                'country: "CÃ´te d\'Ivoire" repaired to "Côte d\'Ivoire" (UTF-8 decoded with '  # noqa: RUF001
                "the wrong charset; line 3)",
                "country 'Atlantis' (first on line 23) has no ISO code in the mapping's "
                "[countries]: dim_influencer.country left NULL; import_profile.country_as_written "
                "keeps it",
            ],
        )
    ]
    assert rows(lake, "select status from pipeline_runs where step = 'validate'") == [
        ("quarantine_exceeded",)
    ]


def test_a_cp1252_file_is_detected_and_read_with_its_decimal_commas(
    data_dir: Path, lake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.5")

    summary = imported(
        FIXTURES / "cp1252_export.csv", "euro_sheet", str(FIXTURES / "cp1252_export.toml"), None
    )

    assert summary.charset == "cp1252"
    assert rows(
        lake,
        "select d.handle, d.display_name, f.followers, d.country, d.category from "
        "dim_influencer d join fact_profile_daily f using (platform, account_id) "
        "where d.platform = 'tiktok' and f.snapshot_date = '2026-04-30' order by 1",
    ) == [
        ("francois_", "François “Le Chef” Dubois", 1_234_500, "FR", "cuisine"),
        ("jose.b", "José Núñez", 987, "ES", "€ deals"),
        ("sloane", "Sloane O’Brien", 2_500_000, "GB", "mode"),  # noqa: RUF001
        ("zoe.m", "Zoë Müller", 12_500, "DE", "café & pâtisserie"),
    ]
    assert rows(lake, "select line_number, failed_checks from quarantine") == [
        (6, ["followers: not a number (12.5k)"])
    ]


def test_a_truncated_json_array_loads_what_it_can_with_exact_numbers(
    data_dir: Path, lake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.9")

    summary = imported(
        FIXTURES / "export.json", "json_tool", str(FIXTURES / "export_json.toml"), MESSY_DATE
    )

    assert (summary.totals.landed, summary.totals.loaded, summary.totals.quarantined) == (7, 3, 4)
    assert rows(
        lake,
        "select account_id, followers, media_count from fact_profile_daily order by account_id",
    ) == [
        ("UCabcdefghijklmnopqrstuv", 1_200_000_000, 2_280),
        ("handle:@json_five", None, 0),
        ("handle:@json_one", 475_800_000, 3_300),
    ]
    assert rows(
        lake, "select account_id, metric, value from fact_imported_metric order by all"
    ) == [
        ("UCabcdefghijklmnopqrstuv", "engagement_rate", Decimal("0.0139")),
        ("handle:@json_five", "avg_views", Decimal("0.5")),
        ("handle:@json_five", "engagement_rate", Decimal("0.25")),
        ("handle:@json_one", "avg_views", Decimal("12345678901234.123456789")),
        ("handle:@json_one", "engagement_rate", Decimal("0.0139")),
    ]
    assert rows(lake, "select line_number, failed_checks from quarantine order by 1") == [
        (4, ['followers: not a number ({"value":"5"})']),
        (5, ['record: not a JSON object (got "not an object")']),
        (7, ["followers: implausible count (1e400 > 10^10)"]),
        (8, ['record: not valid JSON ({"channel": "@json_seven", "subscribers": 100, "vid)']),
    ]


def test_a_parquet_export_imports_like_a_csv(tmp_path: Path, data_dir: Path, lake: Any) -> None:
    import polars as pl

    path = tmp_path / "export.parquet"
    pl.DataFrame(
        {"handle": ["ann", "bob"], "followers": [1500, None], "avg likes": [12.5, 3.0]}
    ).write_parquet(path)

    summary = imported(path, "pq_tool", str(small_mapping(tmp_path)), EXPORT_DATE)

    assert summary.file_format == "parquet"
    assert rows(lake, "select account_id, followers from fact_profile_daily order by 1") == [
        ("handle:ann", 1500),
        ("handle:bob", None),
    ]
    assert rows(lake, "select account_id, value from fact_imported_metric order by 1") == [
        ("handle:ann", Decimal("12.5")),
        ("handle:bob", Decimal(3)),
    ]


def test_a_file_that_lacks_a_mapped_column_fails_the_run_with_the_message(
    tmp_path: Path, data_dir: Path, lake: Any
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("user,fans\nann,1\n", encoding="utf-8")

    state = import_file(
        str(path), "tool", str(small_mapping(tmp_path)), EXPORT_DATE, return_state=True
    )

    assert state.is_failed()
    assert state.message is not None
    assert state.message == (
        "the mapping names column(s) the file does not have: 'handle' (handle), 'followers' "
        "(followers), 'avg likes' (metrics.avg_likes); the file's columns are 'user', 'fans'. "
        "Fix [columns] or [metrics] in the mapping"
    )
    assert rows(lake, "select source, step, status from pipeline_runs") == [
        ("tool", "validate", "failed")
    ]


def cli(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("INFLUENCERS_")
    }
    environment["INFLUENCERS_DATA_DIR"] = str(data_dir)
    # The test harness's API: the command runs its flow there instead of starting its own.
    environment["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    return subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "influencers"), "import", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["{missing}", "--source", "tool", "--mapping", "top_insta_influencers"],
            "does not exist: give the path of the export to import",
        ),
        (
            ["{xlsx}", "--source", "tool", "--mapping", "{mapping}", "--date", "2022-09-01"],
            "unknown format: export.xlsx is a zip archive (an Excel workbook?)",
        ),
        (
            ["{real}", "--source", "tool", "--mapping", "{bad_mapping}"],
            "is refused (3 problems); fix them and re-run:",
        ),
        (["{real}", "--source", "../x", "--date", "2022-09-01"], "--source '../x' is not a plain"),
        (
            ["{real}", "--source", "top_insta_influencers", "--date", "2999-01-01"],
            "the as-of date 2999-01-01 is in the future",
        ),
    ],
    ids=[
        "missing file",
        "unknown format",
        "bad mapping",
        "path-like source",
        "future date",
    ],
)
def test_command_errors_are_one_clear_message_exit_2_and_nothing_lands(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    xlsx = tmp_path / "export.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text('platform = "myspace"\nextra = 1\n', encoding="utf-8")
    places = {
        "missing": str(tmp_path / "nowhere.csv"),
        "xlsx": str(xlsx),
        "mapping": str(small_mapping(tmp_path)),
        "bad_mapping": str(bad_mapping),
        "real": str(REAL_EXPORT),
    }

    result = cli(*(argument.format(**places) for argument in arguments), data_dir=tmp_path / "d")

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2
    assert output.startswith("error: ")
    assert message in output
    assert "Traceback" not in output
    assert not (tmp_path / "d").exists()


def test_a_bad_mapping_lists_every_problem_on_the_command_line(tmp_path: Path) -> None:
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text(
        'platform = "myspace"\nextra = 1\n[columns]\nfollowers = "F"\n', encoding="utf-8"
    )

    result = cli(
        str(REAL_EXPORT), "--source", "tool", "--mapping", str(bad_mapping), data_dir=tmp_path / "d"
    )

    assert result.returncode == 2
    assert [
        line.strip() for line in result.stdout.splitlines() if line.strip().startswith("-")
    ] == [
        "- platform: Input should be 'instagram', 'youtube' or 'tiktok' (got 'myspace')",
        "- columns.handle: missing (required)",
        "- extra: unknown key (a typo?)",
    ]


def test_the_command_imports_the_real_export(tmp_path: Path) -> None:
    export = tmp_path / "top insta (copy).csv"
    shutil.copyfile(REAL_EXPORT, export)

    result = cli(
        str(export),
        "--source",
        "top_insta_influencers",
        "--date",
        "2022-09-01",
        data_dir=tmp_path / "d",
    )

    output = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "199 rows landed, 198 loaded into fact_profile_daily, 1 quarantined" in output
    assert 'repaired to "Côte d\'Ivoire"' in output


def test_rows_with_their_own_dates_load_into_each_date_in_one_labelled_commit(
    tmp_path: Path, data_dir: Path, lake: Any
) -> None:
    export = tmp_path / "history.csv"
    export.write_text(
        "handle,followers,day\nann,1000,2026-04-30\nann,1100,2026-05-01\nbob,2000,\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "history.toml"
    mapping.write_text(
        'platform = "instagram"\n[columns]\nhandle = "handle"\nfollowers = "followers"\n'
        'as_of = "day"\n',
        encoding="utf-8",
    )

    imported(export, "history_tool", str(mapping), MESSY_DATE)

    assert rows(
        lake, "select account_id, snapshot_date, followers from fact_profile_daily order by all"
    ) == [
        ("handle:ann", dt.date(2026, 4, 30), 1000),
        ("handle:ann", dt.date(2026, 5, 1), 1100),
        ("handle:bob", dt.date(2026, 5, 1), 2000),  # no date of its own: --date
    ]
    assert rows(
        lake, "select as_of_date, rows_landed, rows_loaded from import_file order by 1"
    ) == [(dt.date(2026, 4, 30), 1, 1), (dt.date(2026, 5, 1), 2, 2)]
    assert rows(
        lake,
        "select commit_message from ducklake_snapshots('lake') where commit_message like 'import%'",
    ) == [("import history_tool 2026-04-30..2026-05-01",)]
