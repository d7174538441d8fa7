-- 008_imports: what file imports (other tools' exports of creator stats) load besides
-- fact_profile_daily and dim_influencer: the extra metrics no contract column holds, the profiles
-- each import read, and one row per imported file and date. An import replaces its
-- (source, as_of_date) partitions: importing the same file again changes nothing, and a
-- corrected file for the same date replaces the earlier one (warehouse/imports.py).
--
-- Exports carry handles, not platform ids. An account is resolved to its platform account_id
-- through dim_influencer (platform, lower(handle)) when the warehouse knows it; otherwise it gets
-- the stable id 'handle:' || lower(handle) (a YouTube channel id UC... is its own id), which the
-- next import of the same handle resolves to again. Once the platform's own id is known (the
-- nightly run loaded the account), later imports resolve to it; rows loaded earlier under the
-- derived id keep it.

-- grain: one row per (source, platform, account_id, as_of_date, metric).
create table fact_imported_metric (
    source varchar not null,
    platform varchar not null,
    account_id varchar not null,
    as_of_date date not null,
    metric varchar not null,
    value decimal(38, 9) not null,
    import_id varchar not null
);

-- grain: one row per (source, platform, account_id, as_of_date).
create table import_profile (
    source varchar not null,
    platform varchar not null,
    account_id varchar not null,
    as_of_date date not null,
    handle varchar not null,
    followers bigint,
    following bigint,
    media_count bigint,
    country_as_written varchar,
    in_fact_profile_daily boolean not null,
    line_number integer not null,
    import_id varchar not null
);

-- grain: one row per (source, as_of_date).
create table import_file (
    source varchar not null,
    as_of_date date not null,
    import_id varchar not null,
    platform varchar not null,
    file_sha256 varchar not null,
    file_bytes bigint not null,
    original_name varchar not null,
    landed_file varchar not null,
    file_format varchar not null,
    charset varchar not null,
    mapping varchar not null,
    mapping_sha256 varchar not null,
    rows_landed bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_deduplicated bigint not null,
    rows_superseded bigint not null,
    notes varchar[] not null
);

comment on table fact_imported_metric is 'Metrics that other tools'' exports carry and no other table holds (average likes, engagement rate, total likes, influence score, ...), as each import read them. Grain: one row per (source, platform, account_id, as_of_date, metric); replaced when the (source, as_of_date) is imported again. Unknown values (unknown, -, N/A in the file) have no row. account_id: the platform id when dim_influencer knew the handle at import time, else handle:<lower-cased handle> (see migration 008).';
comment on column fact_imported_metric.source is 'The import''s source name (influencers import --source), e.g. top_insta_influencers: the tool or export the file came from.';
comment on column fact_imported_metric.platform is 'Platform of the accounts, from the import''s mapping, e.g. instagram.';
comment on column fact_imported_metric.account_id is 'Platform account id when dim_influencer knew the handle at import time, else handle:<lower-cased handle> (a YouTube channel id as it is); joins dim_influencer on (platform, account_id).';
comment on column fact_imported_metric.as_of_date is 'UTC date the export''s values are as of: the row''s date column, else --date, else the mapping''s as_of_date.';
comment on column fact_imported_metric.metric is 'Metric name from the mapping''s [metrics] table, e.g. avg_likes, engagement_rate_60d.';
comment on column fact_imported_metric.value is 'The value, exact as written (3.3k is 3300, 475.8m is 475800000); rates are fractions (1.39% is 0.0139).';
comment on column fact_imported_metric.import_id is 'Id of the import that loaded the row (import_file.import_id; pipeline_runs.landing_run_id); the same file, mapping and dates always give the same id.';

comment on table import_profile is 'The profile each import read for each account and date, whether or not it reached fact_profile_daily. Grain: one row per (source, platform, account_id, as_of_date); replaced when the (source, as_of_date) is imported again. An import never replaces a snapshot the platform''s own API (or another import) loaded for the same account and date: that row has in_fact_profile_daily false.';
comment on column import_profile.source is 'The import''s source name (influencers import --source).';
comment on column import_profile.platform is 'Platform of the account, from the import''s mapping.';
comment on column import_profile.account_id is 'Account id, resolved as in fact_imported_metric.account_id.';
comment on column import_profile.as_of_date is 'UTC date the counts are as of.';
comment on column import_profile.handle is 'Handle as the export writes it (without a leading @ on Instagram and TikTok).';
comment on column import_profile.followers is 'Followers as the export writes them, exact (475.8m is 475800000: the export''s own rounding is kept); NULL when unknown or not mapped.';
comment on column import_profile.following is 'Accounts followed; NULL when unknown or not mapped.';
comment on column import_profile.media_count is 'Posts; NULL when unknown or not mapped.';
comment on column import_profile.country_as_written is 'Country as the file writes it, after charset repair (Côte d''Ivoire); dim_influencer.country holds its ISO code from the mapping''s [countries]; NULL when unknown or not mapped.';
comment on column import_profile.in_fact_profile_daily is 'True when this import loaded the counts into fact_profile_daily; false when the account already had a snapshot that date from the platform or another import.';
comment on column import_profile.line_number is '1-based line of the row in the landed file (a Parquet file: its row number; a JSON array: the line its record starts on).';
comment on column import_profile.import_id is 'Id of the import (import_file.import_id).';

comment on table import_file is 'The file each (source, as_of_date) was last imported from, and how its rows went. Grain: one row per (source, as_of_date); replaced when that date is imported again. rows_landed = rows_loaded + rows_quarantined + rows_deduplicated.';
comment on column import_file.source is 'The import''s source name (influencers import --source).';
comment on column import_file.as_of_date is 'UTC date of the rows this line counts.';
comment on column import_file.import_id is 'Id of the import: a digest of the source, the file''s and the mapping''s SHA-256 and the dates; pipeline_runs.landing_run_id and quarantine.run_id of its rows.';
comment on column import_file.platform is 'Platform of the rows, from the mapping.';
comment on column import_file.file_sha256 is 'SHA-256 of the file as landed, byte for byte.';
comment on column import_file.file_bytes is 'Size of the file in bytes.';
comment on column import_file.original_name is 'The file''s name when it was imported (data only: the raw zone names the copy by its SHA-256).';
comment on column import_file.landed_file is 'Path of the byte-for-byte copy in the raw zone, relative to the raw directory: <source>/file/<sha256>.<format>.';
comment on column import_file.file_format is 'csv, json (an array of records), ndjson or parquet.';
comment on column import_file.charset is 'Charset the file was decoded with: the mapping''s, else detected (utf-8, utf-8-sig with a BOM, cp1252, latin-1).';
comment on column import_file.mapping is 'Name of the mapping file (its stem), e.g. top_insta_influencers.';
comment on column import_file.mapping_sha256 is 'SHA-256 of the mapping file.';
comment on column import_file.rows_landed is 'Rows of the file for this date (rows with no readable date count on the import''s date).';
comment on column import_file.rows_loaded is 'Rows whose counts went into fact_profile_daily.';
comment on column import_file.rows_quarantined is 'Rows sent to quarantine, each with its reasons (quarantine.source = source).';
comment on column import_file.rows_deduplicated is 'Valid rows not loaded into fact_profile_daily: repeats of an account in the file with the same values, and rows_superseded.';
comment on column import_file.rows_superseded is 'Of rows_deduplicated, accounts that already had a snapshot that date from the platform or another import (their metrics still load into fact_imported_metric).';
comment on column import_file.notes is 'What the import changed or could not place, one text each: text repaired from mis-decoded UTF-8 (original and repaired, with lines), country names with no ISO code in the mapping.';
