-- 004_failed_accounts: the accounts a night could not fetch, account counts in the run log, and
-- followers that a platform hides (YouTube's hiddenSubscriberCount) kept unknown, not 0.

-- grain: one row per (source, partition_date, handle), from the latest landing of that date.
create table failed_accounts (
    source varchar not null,
    partition_date date not null,
    handle varchar not null,
    run_id varchar not null,
    landing_run_id varchar not null,
    reason varchar not null,
    failure_kind varchar not null,
    http_status integer,
    api_error_code varchar
);

comment on table failed_accounts is 'Accounts a nightly run could not fetch, whole or in part. Grain: one row per (source, partition_date, handle); replaced when the date is re-run. The records fetched before a failure are loaded; the next night tries the account again.';
comment on column failed_accounts.source is 'Source the account was extracted from (instagram, youtube, ...).';
comment on column failed_accounts.partition_date is 'UTC date the night was extracting.';
comment on column failed_accounts.handle is 'Roster handle of the account (as written in the roster).';
comment on column failed_accounts.run_id is 'Pipeline run that loaded this row (pipeline_runs.run_id).';
comment on column failed_accounts.landing_run_id is 'Extraction run whose landing recorded the failure (raw zone manifest).';
comment on column failed_accounts.reason is 'What went wrong, in words, with what the platform said (never a credential).';
comment on column failed_accounts.failure_kind is 'account (this account only), unavailable (no answer after every retry), auth (credential refused), quota (the day''s quota was spent) or night (the night stopped before trying it).';
comment on column failed_accounts.http_status is 'Last HTTP status the platform answered for the account; NULL if it never answered.';
comment on column failed_accounts.api_error_code is 'The platform''s own error code (Graph code such as 190, Google reason such as quotaExceeded); NULL if none.';

alter table pipeline_runs add column accounts_fetched bigint;
alter table pipeline_runs add column accounts_failed bigint;
comment on column pipeline_runs.accounts_fetched is 'extract step: roster accounts of the source fetched whole.';
comment on column pipeline_runs.accounts_failed is 'extract step: roster accounts of the source that failed or were not tried (see failed_accounts); fetched + failed = the source''s roster accounts.';

alter table fact_profile_daily alter column followers drop not null;
comment on column fact_profile_daily.followers is 'Followers at the end of snapshot_date (YouTube: subscribers, rounded by YouTube to 3 significant figures; NULL when the channel hides its count).';
