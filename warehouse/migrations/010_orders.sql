-- 010_orders: the shop's orders (influencers orders import), the FX rates that convert their
-- currencies (influencers orders fx-rates), and one row per imported order file.
--
-- No personal data of shoppers is stored: the order export's names, e-mails, addresses, phones
-- and notes are never read (sources/orders/), and a landing URL keeps its path and utm_*
-- parameters only. fact_order is upserted by (shop, order_id) with MERGE INTO
-- (warehouse/orders.py): importing the same file again changes nothing, and a later export that
-- overlaps an earlier one updates the orders that changed (a refund) and adds the new ones.

-- grain: one row per (shop, order_id).
create table fact_order (
    shop varchar not null,
    order_id varchar not null,
    order_name varchar,
    ordered_at timestamp not null,
    currency varchar not null,
    gross_amount decimal(18, 2) not null,
    discount_amount decimal(18, 2) not null,
    refunded_amount decimal(18, 2) not null,
    net_amount decimal(18, 2) not null,
    discount_codes varchar[] not null,
    landing_url varchar,
    financial_status varchar,
    line_items integer,
    import_id varchar not null
);

-- grain: one row per (currency, rate_date, base_currency).
create table fx_rate (
    currency varchar not null,
    rate_date date not null,
    base_currency varchar not null,
    rate decimal(18, 8) not null,
    import_id varchar not null
);

-- grain: one row per (shop, import_id).
create table order_import (
    shop varchar not null,
    import_id varchar not null,
    file_sha256 varchar not null,
    file_bytes bigint not null,
    original_name varchar not null,
    landed_file varchar not null,
    landed_on date not null,
    charset varchar not null,
    mapping varchar not null,
    mapping_sha256 varchar not null,
    lines_read bigint not null,
    first_ordered_at timestamp,
    last_ordered_at timestamp,
    orders_landed bigint not null,
    orders_loaded bigint not null,
    orders_quarantined bigint not null,
    orders_deduplicated bigint not null
);

comment on table fact_order is 'The shop''s orders, one per order however many line items it has; no personal data of the shopper. Grain: one row per (shop, order_id). Upserted by (shop, order_id): a later export of the same order (refunded since) updates it. Amounts are in the order''s own currency; convert them with fx_rate.';
comment on column fact_order.shop is 'The shop the orders came from (influencers orders import --shop), e.g. glowco.';
comment on column fact_order.order_id is 'The order''s id in the shop (Shopify: the numeric Id), unique per shop.';
comment on column fact_order.order_name is 'The order''s number as the shop shows it (Shopify: Name, e.g. #1001); NULL when the export has none.';
comment on column fact_order.ordered_at is 'When the order was placed, UTC (Shopify''s Created at, whose offset is applied).';
comment on column fact_order.currency is 'ISO 4217 code of the order''s amounts, e.g. USD, EUR.';
comment on column fact_order.gross_amount is 'What the shopper bought, before discounts, without shipping and taxes (not the brand''s sales): Shopify''s Subtotal (which is after discounts) + Discount Amount; with no Subtotal, Total - Shipping - Taxes + Discount Amount (empty parts as 0). A mapping with total_after_discount = false takes its amounts as before discounts.';
comment on column fact_order.discount_amount is 'The order''s discount (Shopify: Discount Amount); 0 when empty.';
comment on column fact_order.refunded_amount is 'Refunded so far against the sale (Shopify: Refunded Amount, at most the merchandise paid for: a full refund also returns shipping and taxes, which were no sale), as of the latest import of the order; 0 when empty.';
comment on column fact_order.net_amount is 'gross_amount - discount_amount - refunded_amount: the sale the shop kept (REPORTS.md).';
comment on column fact_order.discount_codes is 'The discount codes used, upper-cased, in the export''s order, without repeats (Shopify writes several as "A, B"); empty when none.';
comment on column fact_order.landing_url is 'The page the shopper first landed on (Shopify: Landing Site), with only its utm_* query parameters kept (others, such as fbclid or a newsletter''s email=, may identify the shopper); NULL when none.';
comment on column fact_order.financial_status is 'The order''s payment status as the shop writes it, lower-cased: paid, refunded, partially_refunded, pending, voided...; NULL when not exported.';
comment on column fact_order.line_items is 'Rows (line items) the order had in the export.';
comment on column fact_order.import_id is 'The import that last inserted or changed the row (order_import.import_id).';

comment on table fx_rate is 'Exchange rates: how many units of base_currency one unit of currency bought on rate_date. Grain: one row per (currency, rate_date, base_currency); a later file''s rate for the same key replaces it. An order in another currency than its campaign''s is converted with the rate of its UTC date, or quarantined by the report when there is none.';
comment on column fx_rate.currency is 'ISO 4217 code converted from, e.g. EUR.';
comment on column fx_rate.rate_date is 'The date the rate applies to (UTC calendar date).';
comment on column fx_rate.base_currency is 'ISO 4217 code converted to, e.g. USD.';
comment on column fx_rate.rate is 'Units of base_currency per 1 unit of currency (EUR, 2026-10-03, USD, 1.0842: 1 EUR = 1.0842 USD), exact to 8 decimals.';
comment on column fx_rate.import_id is 'The FX import that last inserted or changed the row (pipeline_runs.landing_run_id).';

comment on table order_import is 'Each order file imported, and how its orders went. Grain: one row per (shop, import_id); importing the same file again rewrites the same row. orders_landed = orders_loaded + orders_quarantined + orders_deduplicated.';
comment on column order_import.shop is 'The shop (influencers orders import --shop).';
comment on column order_import.import_id is 'Id of the import: a digest of the shop and the file''s and mapping''s SHA-256; quarantine.run_id and pipeline_runs.landing_run_id of its rows; the landed file''s name.';
comment on column order_import.file_sha256 is 'SHA-256 of the original export (which is not kept: it holds the shoppers'' personal data).';
comment on column order_import.file_bytes is 'Size of the original export in bytes.';
comment on column order_import.original_name is 'The export''s file name when it was imported.';
comment on column order_import.landed_file is 'The PII-free order records landed from it, relative to the raw directory: orders_<shop>/order/date=<landed_on>/<import_id>.jsonl.gz (one JSON line per order, with the export''s line numbers).';
comment on column order_import.landed_on is 'UTC date the export was first landed.';
comment on column order_import.charset is 'Charset the export was decoded with: the mapping''s, else detected (utf-8, utf-8-sig, cp1252, latin-1).';
comment on column order_import.mapping is 'Name of the order mapping (its file''s stem): shopify by default.';
comment on column order_import.mapping_sha256 is 'SHA-256 of the mapping file.';
comment on column order_import.lines_read is 'Records (line items) read from the export, header excluded.';
comment on column order_import.first_ordered_at is 'The earliest ordered_at of the orders loaded (UTC); NULL when none loaded.';
comment on column order_import.last_ordered_at is 'The latest ordered_at of the orders loaded (UTC); NULL when none loaded.';
comment on column order_import.orders_landed is 'Order records landed (one per order; a line that names no order is one record too).';
comment on column order_import.orders_loaded is 'Orders that passed their contract and were merged into fact_order (inserted, updated or unchanged).';
comment on column order_import.orders_quarantined is 'Order records sent to quarantine with their reasons (quarantine.source = orders_<shop>, entity order).';
comment on column order_import.orders_deduplicated is 'Repeats of an order in the export with the same values (the last one is loaded).';
