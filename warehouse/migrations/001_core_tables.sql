-- 001_core_tables: the contract tables of REPORTS.md that the nightly run loads.
-- The warehouse is a DuckLake, which has no PRIMARY KEY or UNIQUE constraint: each grain below is
-- enforced by its loader (warehouse/load.py) before the rows land. A date partition is replaced
-- by delete + insert in one transaction; dim_influencer is upserted with MERGE INTO.

-- grain: one row per (platform, handle); replaced whole from the roster file on every run.
create table roster (
    platform varchar not null,
    handle varchar not null,
    connected boolean not null,
    country varchar,
    category varchar
);

-- grain: one row per (platform, account_id).
create table dim_influencer (
    platform varchar not null,
    account_id varchar not null,
    handle varchar not null,
    display_name varchar,
    country varchar,
    category varchar,
    first_seen_date date not null,
    last_seen_date date not null
);

-- grain: one row per (platform, account_id, snapshot_date); counts as of the end of that UTC day.
create table fact_profile_daily (
    platform varchar not null,
    account_id varchar not null,
    snapshot_date date not null,
    followers bigint not null,
    following bigint,
    media_count bigint
);

-- grain: one row per (platform, post_id, observed_date).
create table fact_post_metrics (
    platform varchar not null,
    post_id varchar not null,
    observed_date date not null,
    account_id varchar not null,
    published_at timestamp not null,
    media_type varchar not null,
    likes bigint,
    comments bigint,
    shares bigint,
    saves bigint,
    views bigint
);

-- grain: one row per (platform, account_id, as_of_date, dimension, bucket).
create table fact_audience_share (
    platform varchar not null,
    account_id varchar not null,
    as_of_date date not null,
    dimension varchar not null,
    bucket varchar not null,
    share double not null
);

-- grain: one row per raw record that failed its contract (source, entity, partition_date,
-- landed_file, line_number).
create table quarantine (
    source varchar not null,
    entity varchar not null,
    partition_date date not null,
    run_id varchar not null,
    raw_record varchar not null,
    failed_checks varchar[] not null,
    landed_file varchar not null,
    line_number integer not null
);

-- grain: one row per (run_id, step, entity); the run log, so it grows with every run.
create table pipeline_runs (
    run_id varchar not null,
    flow_run_id varchar,
    landing_run_id varchar,
    source varchar not null,
    partition_date date not null,
    step varchar not null,
    entity varchar,
    rows_in bigint,
    rows_valid bigint,
    rows_quarantined bigint,
    rows_deduplicated bigint,
    rows_loaded bigint,
    status varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    message varchar
);
