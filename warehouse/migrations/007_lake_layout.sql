-- 007_lake_layout: how the lake files the fact tables. Each night adds one file per table and
-- source to its (platform, year, month) directory; the weekly maintenance merges a month's small
-- files into few. Queries that filter on platform or dates skip the other directories, and every
-- file's min/max statistics skip the rest.

alter table fact_profile_daily set partitioned by (platform, year(snapshot_date), month(snapshot_date));
alter table fact_post_metrics set partitioned by (platform, year(observed_date), month(observed_date));
alter table fact_audience_share set partitioned by (platform, year(as_of_date), month(as_of_date));

-- The lake needs no published copy: a failed run fails in extract, validate, transform or load.
comment on column pipeline_runs.step is 'Step of the run: extract, validate or load; on the row of a failed run, the step that failed (extract, validate, transform or load).';
