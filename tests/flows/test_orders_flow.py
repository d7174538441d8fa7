"""Shop orders end to end: the import-orders flow under the Prefect test harness, a real lake,
and the Shopify exports of tests/fixtures/orders (written for these tests: every PII column
filled, multi-line orders, codes, a refund, EUR, and hostile rows)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import os
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL

from flows.orders import FxImportSummary, OrderImportSummary, import_fx_rates, import_orders
from warehouse.lake import LakeLocation, open_lake

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT / "tests" / "fixtures" / "orders"
EXPORT = FIXTURES / "shopify_orders.csv"
EXPORT_CP1252 = FIXTURES / "shopify_orders_cp1252.csv"
LATER_EXPORT = FIXTURES / "shopify_orders_later.csv"
PII_COLUMNS = (
    "Email",
    "Billing Name",
    "Billing Street",
    "Billing City",
    "Billing Zip",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping City",
    "Shipping Zip",
    "Shipping Phone",
    "Notes",
)
ORDER_TABLES = ("fact_order", "fx_rate", "order_import", "quarantine")
FACT_ORDER = (
    "select order_name, ordered_at, currency, gross_amount, discount_amount, refunded_amount, "
    "net_amount, discount_codes, landing_url, financial_status, line_items from fact_order "
    "order by order_name"
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INFLUENCERS_DATA_DIR", str(tmp_path / "data"))
    # The hostile fixture quarantines 7 of its 16 orders: most tests look at what loaded.
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "1.0")
    return tmp_path / "data"


def imported(path: Path, shop: str = "glowco", mapping: str | None = None) -> OrderImportSummary:
    summary = import_orders(str(path), shop, mapping)
    assert isinstance(summary, OrderImportSummary), summary
    return summary


def query(data_dir: Path, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return connection.execute(sql, list(parameters)).fetchall()
    finally:
        connection.close()


def lake_contents(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table an order import writes (but the run log), sorted: one connection."""
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()
            for table in ORDER_TABLES
        }
    finally:
        connection.close()


def raw_zone(data_dir: Path) -> dict[str, bytes]:
    raw = data_dir / "raw"
    return {str(p.relative_to(raw)): p.read_bytes() for p in raw.rglob("*") if p.is_file()}


def usd(text: str) -> Decimal:
    return Decimal(text)


def test_the_shopify_export_loads_one_row_per_order_with_exact_amounts(data_dir: Path) -> None:
    summary = imported(EXPORT)

    assert (summary.lines_read, summary.counts.landed, summary.counts.loaded) == (20, 16, 9)
    rows = {row[0]: row[1:] for row in query(data_dir, FACT_ORDER)}
    assert sorted(rows) == [f"#100{n}" for n in range(1, 10)]
    # Two line items, one code; fbclid dropped from the landing URL; +0200 read into UTC.
    assert rows["#1001"] == (
        dt.datetime(2026, 10, 3, 12, 5, 11),
        "USD",
        usd("59.90"),  # Subtotal 53.91 is after the 5.99 discount; shipping, taxes are no sale
        usd("5.99"),
        usd("0.00"),
        usd("53.91"),
        ["SPRING10"],
        "/products/glow-serum?utm_source=instagram&utm_campaign=glowco-spring-glow"
        "&utm_content=maya01",
        "paid",
        2,
    )
    # Two codes in one cell, upper-cased; three line items.
    assert rows["#1003"][2:6] == (usd("120.00"), usd("12.00"), usd("0.00"), usd("108.00"))
    assert rows["#1003"][6] == ["MAYA01", "FREESHIP"]
    assert rows["#1003"][9] == 3
    # A full refund (45.00, shipping included) nets the 40.00 sale to 0; a partial one to what
    # was kept.
    assert rows["#1004"][2:6] == (usd("40.00"), usd("0.00"), usd("40.00"), usd("0.00"))
    assert rows["#1006"][2:6] == (usd("72.00"), usd("0.00"), usd("20.00"), usd("52.00"))
    assert rows["#1006"][8] == "partially_refunded"
    # EUR stays EUR; 23:30 +0200 is 21:30 UTC.
    assert rows["#1005"][:2] == (dt.datetime(2026, 10, 5, 21, 30), "EUR")
    # A code and a UTM link; the newsletter's email= parameter never lands.
    assert rows["#1007"][6:8] == (
        ["LEO15"],
        "https://shop.example.com/products/trail-mix?utm_source=youtube"
        "&utm_campaign=peakform-autumn&utm_content=leo_yt",
    )
    # No Total: the Subtotal (30.00) and the 3.00 discount; shipping and taxes are no sale.
    assert rows["#1008"][2:6] == (usd("33.00"), usd("3.00"), usd("0.00"), usd("30.00"))
    # "1,234.50" read exactly; an ISO timestamp with an offset.
    assert rows["#1009"][:6] == (
        dt.datetime(2026, 10, 9, 14, 20),
        "USD",
        usd("1234.50"),
        usd("0.00"),
        usd("0.00"),
        usd("1234.50"),
    )
    assert query(data_dir, "select count(*) from fact_order where landing_url is null") == [(3,)]


def test_every_hostile_order_is_quarantined_with_its_reasons_and_counts_reconcile(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFLUENCERS_MAX_QUARANTINE_SHARE", "0.05")

    state = import_orders(str(EXPORT), "glowco", return_state=True)

    # Too many orders quarantined: the run is red, after loading the valid ones.
    assert state.is_failed()
    assert state.message is not None
    assert state.message.startswith(
        "7 of 16 orders of shopify_orders.csv were quarantined (43.8%, above 5.0%); the 9 valid "
        "orders were loaded."
    )
    quarantined = query(
        data_dir,
        "select raw_record::json->>'order_key', raw_record::json->'source_lines', failed_checks, "
        "entity, line_number from quarantine where source = 'orders_glowco' order by line_number",
    )
    assert [(key, lines, checks[0]) for key, lines, checks, _, _ in quarantined] == [
        ("#1010", "[16]", "order_id: missing (got nothing)"),
        (
            None,
            "[17]",
            "order_key: missing (nothing): the line's Name is empty, so it belongs to no order; "
            "fill it in or delete the line",
        ),
        ("#1011", "[18]", "subtotal: negative amount (-15.00)"),
        (
            "#1012",
            "[19]",
            "ordered_at: not a timestamp (03/10/2026 2pm); write it like 2026-10-03 14:05:11 "
            "+0200 or 2026-10-03T14:05:11+02:00, or give timestamp_format in the mapping",
        ),
        ("#1013", "[20]", quarantined[4][2][0]),
        ("#1014", "[21]", "subtotal: not a number (NaN)"),
        (
            "#1015",
            "[22]",
            "line 22: record: 21 fields where the header has 37 (a separator or a quote out of "
            "place?)",
        ),
    ]
    assert quarantined[2][2] == [
        "subtotal: negative amount (-15.00)",
        "total: negative amount (-15.00)",
    ]
    assert quarantined[4][2] == [
        "ordered_at: in the future (2031-01-01 10:00:00 +0000 is after the import)"
    ]
    assert {entity for *_, entity, _ in quarantined} == {"order"}
    # line_number: the record's line in the landed file (one line per order).
    assert [line for *_, line in quarantined] == [10, 11, 12, 13, 14, 15, 16]
    assert query(
        data_dir,
        "select step, entity, rows_in, rows_valid, rows_quarantined, rows_deduplicated, "
        "rows_loaded from pipeline_runs where source = 'orders_glowco' order by step",
    ) == [
        ("extract", "order", 16, None, None, None, None),
        ("load", "fact_order", 9, None, None, 0, 9),
        ("validate", "order", 16, 9, 7, None, None),
    ]
    assert query(
        data_dir,
        "select orders_landed = orders_loaded + orders_quarantined + orders_deduplicated, "
        "orders_landed, lines_read, mapping, charset from order_import",
    ) == [(True, 16, 20, "shopify", "utf-8")]


def pii_values(path: Path, charset: str = "utf-8") -> set[str]:
    """Every personal value of the fixture, and each line of a multi-line note."""
    with open(path, encoding=charset, newline="") as handle:
        rows = list(csv.DictReader(handle))
    values = {row[column] for row in rows for column in PII_COLUMNS if row.get(column)}
    values |= {line for value in list(values) for line in value.splitlines() if len(line) > 3}
    # The truncated last line's street and e-mail, and the e-mail in #1007's landing URL.
    return values | {"Londn", "olivia.brennan%40example.com", "olivia.brennan@example.com"}


def test_no_shopper_personal_data_reaches_the_raw_zone_or_any_lake_table(data_dir: Path) -> None:
    utf8 = imported(EXPORT)
    cp1252 = imported(EXPORT_CP1252, shop="glowco_eu")

    # The cp1252 copy ("Zoë Müller" in cp1252 bytes) is detected and loads the same orders.
    assert b"Zo\xeb M\xfcller" in EXPORT_CP1252.read_bytes()
    assert (utf8.charset, cp1252.charset, cp1252.counts.loaded) == ("utf-8", "cp1252", 9)
    of_shop = FACT_ORDER.replace("from fact_order", "from fact_order where shop = ?")
    assert query(data_dir, of_shop, "glowco") == query(data_dir, of_shop, "glowco_eu")
    imported(LATER_EXPORT)

    pii = pii_values(EXPORT) | pii_values(LATER_EXPORT)
    assert {"Zoë Müller", "zoe.mueller@example.com", "Königstraße 12", "+49 211 5550142"} <= pii
    raw_texts = []
    for path in (data_dir / "raw").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            raw_texts.append(gzip.decompress(data) if path.suffix == ".gz" else data)
    assert len(raw_texts) == 6  # 3 landings, each a gzip file and its manifest
    connection = open_lake(LakeLocation.in_directory(data_dir), read_only=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_catalog = 'lake'"
            ).fetchall()
        ]
        lake_text = "\n".join(
            str(connection.execute(f"select * from {table}").fetchall()) for table in tables
        )
    finally:
        connection.close()
    assert "fact_order" in tables and "quarantine" in tables
    found = {
        value
        for value in pii
        for text in raw_texts
        if value.encode("utf-8") in text or value.encode("cp1252", "ignore") in text
    }
    found |= {value for value in pii if value in lake_text}
    assert found == set()
    # The shop's cities are not in the lake, but the shop's order data is.
    assert "5550001001" in lake_text and "SPRING10" in lake_text


def test_the_same_file_again_changes_nothing_and_an_overlapping_export_changes_what_changed(
    data_dir: Path,
) -> None:
    first = imported(EXPORT)
    lake_before, raw_before = lake_contents(data_dir), raw_zone(data_dir)
    second = imported(EXPORT)

    assert second.import_id == first.import_id
    assert (second.outcome.inserted, second.outcome.updated, second.outcome.unchanged) == (0, 0, 9)
    assert lake_contents(data_dir) == lake_before
    assert raw_zone(data_dir) == raw_before

    later = imported(LATER_EXPORT)
    after_later = lake_contents(data_dir)
    again = imported(LATER_EXPORT)

    assert (later.outcome.inserted, later.outcome.updated, later.outcome.unchanged) == (2, 1, 4)
    assert (again.outcome.inserted, again.outcome.updated, again.outcome.unchanged) == (0, 0, 7)
    assert lake_contents(data_dir) == after_later
    assert query(
        data_dir,
        "select order_name, refunded_amount, net_amount, financial_status, import_id "
        "from fact_order where order_name in ('#1001', '#1006', '#1016', '#1017') "
        "order by order_name",
    ) == [
        ("#1001", usd("0.00"), usd("53.91"), "paid", first.import_id),
        # refunded in full: 80.00 with the shipping, the whole 72.00 sale
        ("#1006", usd("72.00"), usd("0.00"), "refunded", later.import_id),
        ("#1016", usd("0.00"), usd("49.80"), "paid", later.import_id),
        ("#1017", usd("0.00"), usd("19.90"), "paid", later.import_id),
    ]
    assert query(data_dir, "select count(*), count(distinct (shop, order_id)) from fact_order") == [
        (11, 11)
    ]
    assert query(data_dir, "select count(*) from order_import") == [(2,)]
    commits = query(
        data_dir,
        "select commit_message from ducklake_snapshots('lake') "
        "where commit_message like 'orders %' order by snapshot_id",
    )
    assert commits == [
        ("orders glowco 2026-10-03..2026-10-09",),
        ("orders glowco 2026-10-03..2026-10-09",),
        ("orders glowco 2026-10-05..2026-10-13",),
        ("orders glowco 2026-10-05..2026-10-13",),
    ]


def test_a_generic_csv_is_read_through_a_mapping(tmp_path: Path, data_dir: Path) -> None:
    export = tmp_path / "woo.csv"
    export.write_text(
        "Order Number;Order Date;Order Total;Discount;Coupons;Customer E-mail\n"
        "W-1;03/10/2026 14:05;59,90;5,00;spring10;ann@example.com\n"
        "W-2;04/10/2026 09:00;1.234,50;;;bob@example.com\n"
        "W-3;05/10/2026 10:00;abc;;;cy@example.com\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "woo.toml"
    mapping.write_text(
        'default_currency = "EUR"\ndelimiter = ";"\ndecimal_separator = ","\n'
        'timestamp_format = "%d/%m/%Y %H:%M"\ntimezone = "Europe/Paris"\n'
        "[columns]\n"
        'order_id = "Order Number"\nordered_at = "Order Date"\ntotal = "Order Total"\n'
        'discount_amount = "Discount"\ndiscount_codes = "Coupons"\n',
        encoding="utf-8",
    )

    summary = imported(export, shop="woo", mapping=str(mapping))

    assert (summary.counts.loaded, summary.counts.quarantined, summary.mapping) == (2, 1, "woo")
    assert query(
        data_dir,
        "select order_id, ordered_at, currency, gross_amount, discount_amount, net_amount, "
        "discount_codes from fact_order order by order_id",
    ) == [
        ("W-1", dt.datetime(2026, 10, 3, 12, 5), "EUR", usd("64.90"), usd("5.00"), usd("59.90"),
         ["SPRING10"]),
        ("W-2", dt.datetime(2026, 10, 4, 7, 0), "EUR", usd("1234.50"), usd("0.00"),
         usd("1234.50"), []),
    ]  # fmt: skip
    assert query(data_dir, "select failed_checks from quarantine") == [
        (["total: not a number (abc)"],)
    ]
    assert b"ann@example.com" not in gzip.decompress(
        next((data_dir / "raw").rglob("*.jsonl.gz")).read_bytes()
    )


def test_fx_rates_load_idempotently_and_a_later_rate_replaces_the_earlier(
    tmp_path: Path, data_dir: Path
) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "currency,rate_date,base_currency,rate\n"
        "EUR,2026-10-03,USD,1.0842\n"
        "EUR,2026-10-04,USD,1.08395\n"
        "usd,2026-10-04,EUR,0.92\n"
        "EUR,2026-10-05,USD,-1\n",
        encoding="utf-8",
    )
    first = import_fx_rates(str(rates))
    assert isinstance(first, FxImportSummary)
    before = lake_contents(data_dir)
    import_fx_rates(str(rates))
    assert lake_contents(data_dir) == before
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        "currency,rate_date,base_currency,rate\nEUR,2026-10-04,USD,1.0850\n", encoding="utf-8"
    )

    later = import_fx_rates(str(corrected))

    assert isinstance(later, FxImportSummary)
    assert (first.counts.loaded, first.counts.quarantined) == (2, 2)
    assert (later.outcome.inserted, later.outcome.updated) == (0, 1)
    assert query(data_dir, "select currency, rate_date, base_currency, rate from fx_rate") == [
        ("EUR", dt.date(2026, 10, 3), "USD", Decimal("1.08420000")),
        ("EUR", dt.date(2026, 10, 4), "USD", Decimal("1.08500000")),
    ]
    assert query(
        data_dir, "select line_number, failed_checks from quarantine order by line_number"
    ) == [
        (4, ["currency: not an ISO 4217 code of 3 capitals (usd)"]),
        (5, ["rate: not above 0 (-1)"]),
    ]


def cli(*arguments: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("INFLUENCERS_")
    }
    environment["INFLUENCERS_DATA_DIR"] = str(data_dir)
    environment["INFLUENCERS_MAX_QUARANTINE_SHARE"] = "1.0"
    environment["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    return subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "influencers"), "orders", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["import", "{missing}", "--shop", "glowco"], "does not exist: give the path of the"),
        (
            ["import", "{export}", "--shop", "glowco", "--mapping", "woocommerce"],
            "mapping woocommerce does not exist: give the path of an order mapping TOML file, "
            "or the name of a shipped one (shopify)",
        ),
        (["import", "{directory}", "--shop", "glowco"], "is a directory: give the path of one"),
        (
            ["import", "{html}", "--shop", "glowco"],
            "unknown format: orders.csv looks like HTML or XML (a web page saved instead of the "
            "export?)",
        ),
        (["import", "{export}", "--shop", "../glowco"], "--shop '../glowco' is not a plain name"),
        (
            ["import", "{wrong_columns}", "--shop", "glowco"],
            "the mapping names column(s) the file does not have: 'Id' (order_id)",
        ),
        (["fx-rates", "{html}"], "unknown format: orders.csv looks like HTML"),
    ],
    ids=[
        "missing file",
        "unknown mapping",
        "directory",
        "html page renamed csv",
        "path-like shop",
        "not a shopify export",
        "fx rates html",
    ],
)
def test_command_errors_are_one_clear_message_exit_2_and_nothing_lands(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    html = tmp_path / "orders.csv"
    html.write_text(
        "<!DOCTYPE html>\n<html><head><title>Shopify</title></head><body>Log in</body></html>\n",
        encoding="utf-8",
    )
    wrong_columns = tmp_path / "wrong.csv"
    wrong_columns.write_text("order,total\n1,2\n", encoding="utf-8")
    places = {
        "missing": str(tmp_path / "nowhere.csv"),
        "export": str(EXPORT),
        "directory": str(tmp_path),
        "html": str(html),
        "wrong_columns": str(wrong_columns),
    }

    result = cli(*(argument.format(**places) for argument in arguments), data_dir=tmp_path / "d")

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2
    assert output.startswith("error: ")
    assert message in output
    assert output.count("error: ") == 1
    assert "Traceback" not in output
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_the_command_imports_rates_and_orders(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate_date,base_currency,rate\nEUR,2026-10-05,USD,1.0842\n")

    result = cli(
        "import", str(EXPORT), "--shop", "glowco", "--fx-rates", str(rates), data_dir=tmp_path / "d"
    )

    output = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "20 lines, 16 orders landed, 9 loaded into fact_order (9 new" in output
    assert query(tmp_path / "d", "select count(*) from fx_rate") == [(1,)]
