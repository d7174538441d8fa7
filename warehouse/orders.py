"""Loading an order import, or an FX rates file, as one labelled commit.

``fact_order`` is upserted by (shop, order_id) with ``MERGE INTO``: an order not there yet is
inserted, one whose values changed (a refund since the last export) is updated, and one that is
the same is left as it is, its ``import_id`` included. So importing the same file again changes
nothing, and an overlapping later export changes only what changed. What an import owns besides
is replaced: its ``order_import`` row and its ``quarantine`` rows (``run_id`` = the import id).
``fx_rate`` is upserted by (currency, rate_date, base_currency) the same way.

DuckLake has no unique constraint: the grains are checked here before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import duckdb
import polars as pl

from warehouse.load import insert_rows
from warehouse.snapshots import commit

ORDER_KEY: Final = ("shop", "order_id")
ORDER_VALUES: Final = (
    "order_name",
    "ordered_at",
    "currency",
    "gross_amount",
    "discount_amount",
    "refunded_amount",
    "net_amount",
    "discount_codes",
    "landing_url",
    "financial_status",
    "line_items",
)
ORDER_COLUMNS: Final = (*ORDER_KEY, *ORDER_VALUES, "import_id")
FX_KEY: Final = ("currency", "rate_date", "base_currency")
FX_COLUMNS: Final = (*FX_KEY, "rate", "import_id")
FX_SOURCE: Final = "fx_rates"
ORDERS_FLOW: Final = "import-orders"
FX_FLOW: Final = "import-fx-rates"


def _merge(table: str, key: tuple[str, ...], values: tuple[str, ...]) -> str:
    """Upsert ``incoming`` into ``table`` by ``key``; a row whose values are the same is left
    alone (its import_id too)."""
    on = " and ".join(f"current.{column} = incoming.{column}" for column in key)
    differs = " or ".join(
        f"current.{column} is distinct from incoming.{column}" for column in values
    )
    columns = (*key, *values, "import_id")
    updates = ", ".join(f"{column} = incoming.{column}" for column in (*values, "import_id"))
    return f"""
merge into {table} as current
using incoming
on {on}
when matched and ({differs}) then update set {updates}
when not matched then insert ({", ".join(columns)})
    values ({", ".join(f"incoming.{column}" for column in columns)})
"""


def _outcomes(table: str, key: tuple[str, ...], values: tuple[str, ...]) -> str:
    on = " and ".join(f"current.{column} = incoming.{column}" for column in key)
    differs = " or ".join(
        f"current.{column} is distinct from incoming.{column}" for column in values
    )
    return f"""
select count(*) filter (where current.{key[-1]} is null) as inserted,
       count(*) filter (where current.{key[-1]} is not null and ({differs})) as updated,
       count(*) filter (where current.{key[-1]} is not null and not ({differs})) as unchanged
from incoming left join {table} as current on {on}
"""


MERGE_ORDERS: Final = _merge("fact_order", ORDER_KEY, ORDER_VALUES)
ORDER_OUTCOMES: Final = _outcomes("fact_order", ORDER_KEY, ORDER_VALUES)
MERGE_FX_RATES: Final = _merge("fx_rate", FX_KEY, ("rate",))
FX_OUTCOMES: Final = _outcomes("fx_rate", FX_KEY, ("rate",))


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did to its table's rows."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def merged(self) -> int:
        return self.inserted + self.updated + self.unchanged


# (merge outcome) -> (order_import rows, pipeline_runs rows), built by the flow that knows counts.
RecordsOf = Callable[[MergeOutcome], tuple[pl.DataFrame, pl.DataFrame]]


@dataclass(frozen=True)
class OrderLoad:
    """Everything one order import loads."""

    shop: str
    source: str  # orders_<shop>
    import_id: str
    orders: pl.DataFrame  # fact_order rows, one per (shop, order_id)
    quarantine: pl.DataFrame  # quarantine rows
    landed_on: dt.date
    run_id: str = ""
    flow_run_id: str | None = None

    @property
    def dates(self) -> tuple[dt.date, dt.date]:
        """The UTC dates of the first and last order loaded (the landing's date if none)."""
        if self.orders.is_empty():
            return self.landed_on, self.landed_on
        ordered = self.orders.get_column("ordered_at")
        first, last = ordered.min(), ordered.max()
        assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
        return first.date(), last.date()

    @property
    def commit_message(self) -> str:
        first, last = self.dates
        return f"orders {self.shop} {first}..{last}"

    @property
    def commit_run(self) -> dict[str, str | None]:
        first, last = self.dates
        return {
            "flow": ORDERS_FLOW,
            "run_id": self.run_id,
            "flow_run_id": self.flow_run_id,
            "source": self.source,
            "import_id": self.import_id,
            "dates": f"{first}..{last}",
        }


def load_orders(
    connection: duckdb.DuckDBPyConnection, load: OrderLoad, records_of: RecordsOf
) -> MergeOutcome:
    """Merge the import's orders into ``fact_order`` and replace its quarantine and
    ``order_import`` rows, in one labelled commit; return what the merge did."""
    _refuse_repeated_keys(load.orders, ORDER_KEY, "fact_order")
    orders = load.orders.select(ORDER_COLUMNS)
    with commit(connection, load.commit_message, load.commit_run):
        outcome = _merge_rows(connection, orders, ORDER_OUTCOMES, MERGE_ORDERS)
        connection.execute(
            "delete from quarantine where source = ? and run_id = ?",
            [load.source, load.import_id],
        )
        connection.execute(
            "delete from order_import where shop = ? and import_id = ?",
            [load.shop, load.import_id],
        )
        insert_rows(connection, "quarantine", load.quarantine)
        import_rows, run_log = records_of(outcome)
        insert_rows(connection, "order_import", import_rows)
        insert_rows(connection, "pipeline_runs", run_log)
    return outcome


def load_fx_rates(
    connection: duckdb.DuckDBPyConnection,
    rates: pl.DataFrame,
    quarantine: pl.DataFrame,
    import_id: str,
    records_of: Callable[[MergeOutcome], pl.DataFrame],
) -> MergeOutcome:
    """Merge FX rates into ``fx_rate`` by (currency, rate_date, base_currency) and replace the
    file's quarantine rows, in one commit labelled ``fx-rates <first>..<last>``."""
    _refuse_repeated_keys(rates, FX_KEY, "fx_rate")
    if rates.is_empty():
        label = "fx-rates (none valid)"
    else:
        first, last = rates.get_column("rate_date").min(), rates.get_column("rate_date").max()
        label = f"fx-rates {first!s}..{last!s}"
    with commit(connection, label, {"flow": FX_FLOW, "import_id": import_id}):
        outcome = _merge_rows(connection, rates.select(FX_COLUMNS), FX_OUTCOMES, MERGE_FX_RATES)
        connection.execute(
            "delete from quarantine where source = ? and run_id = ?", [FX_SOURCE, import_id]
        )
        insert_rows(connection, "quarantine", quarantine)
        insert_rows(connection, "pipeline_runs", records_of(outcome))
    return outcome


def _merge_rows(
    connection: duckdb.DuckDBPyConnection, frame: pl.DataFrame, outcomes: str, merge: str
) -> MergeOutcome:
    if frame.is_empty():
        return MergeOutcome()
    incoming = frame  # noqa: F841  (read by name from the SQL: DuckDB's replacement scan)
    counted = connection.execute(outcomes).fetchone()
    assert counted is not None
    connection.execute(merge)
    inserted, updated, unchanged = (int(count) for count in counted)
    return MergeOutcome(inserted=inserted, updated=updated, unchanged=unchanged)


def _refuse_repeated_keys(frame: pl.DataFrame, key: tuple[str, ...], table: str) -> None:
    if frame.is_empty():
        return
    repeated = frame.group_by(key).len().filter(pl.col("len") > 1)
    if not repeated.is_empty():
        example = repeated.row(0)[:-1]
        raise ValueError(
            f"{table} would hold {repeated.height} key(s) twice, e.g. {example}: the rows were "
            "not deduplicated before loading (a bug: report it with the file)"
        )
