from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from warehouse.dictionary import data_dictionary, documented_relations
from warehouse.lake import LakeLocation, open_lake

COMMITTED_DICTIONARY = Path(__file__).parents[2] / "docs" / "data_dictionary.md"
REGENERATE = (
    'make docs  (or: .venv/bin/python -c "import pathlib, tempfile; '
    "from warehouse.dictionary import write_data_dictionary; "
    "write_data_dictionary(pathlib.Path(tempfile.mkdtemp()), "
    "pathlib.Path('docs/data_dictionary.md'))\")"
)


@pytest.fixture
def fresh_warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_lake(LakeLocation.in_directory(tmp_path))
    yield connection
    connection.close()


def test_every_column_of_every_table_and_view_has_a_comment(
    fresh_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    undocumented = [
        f"{relation.name}.{column.name}"
        for relation in documented_relations(fresh_warehouse)
        for column in relation.columns
        if not (column.comment or "").strip()
    ]

    assert undocumented == [], (
        "columns without a comment: add `comment on column <table>.<column> is '...'` (unit, "
        "meaning, what NULL means) to the migration that creates them"
    )


def test_every_table_and_view_comment_states_its_grain(
    fresh_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    relations = documented_relations(fresh_warehouse)
    without_grain = [r.name for r in relations if "grain" not in (r.comment or "").lower()]

    assert without_grain == [], (
        "tables or views whose comment does not state the grain: add `comment on table <name> "
        "is '... Grain: one row per (...)'` to the migration that creates them"
    )


def test_the_contract_tables_are_documented(fresh_warehouse: duckdb.DuckDBPyConnection) -> None:
    # Guards the two tests above against passing on an empty catalog.
    names = {relation.name for relation in documented_relations(fresh_warehouse)}

    assert {
        "roster",
        "dim_influencer",
        "fact_profile_daily",
        "fact_post_metrics",
        "fact_audience_share",
        "quarantine",
        "pipeline_runs",
    } <= names


def test_a_column_added_without_a_comment_shows_up_as_undocumented(
    fresh_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    fresh_warehouse.execute("alter table fact_profile_daily add column reach bigint")

    dictionary = data_dictionary(fresh_warehouse)

    assert "| `reach` | BIGINT | yes | (no comment) |" in dictionary


def test_comments_survive_closing_and_reopening_the_warehouse(tmp_path: Path) -> None:
    open_lake(LakeLocation.in_directory(tmp_path)).close()
    reopened = open_lake(LakeLocation.in_directory(tmp_path), read_only=True)

    comment = reopened.execute(
        "select comment from duckdb_columns() where table_name = 'fact_post_metrics' "
        "and column_name = 'likes'"
    ).fetchone()

    assert comment is not None and "hides like counts" in comment[0]


def test_the_committed_data_dictionary_is_what_the_warehouse_generates_now(
    fresh_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    committed = COMMITTED_DICTIONARY.read_text(encoding="utf-8")

    assert committed == data_dictionary(fresh_warehouse), (
        f"{COMMITTED_DICTIONARY} is out of date with the migrations; regenerate it with: "
        f"{REGENERATE}"
    )
