-- 003_comments: the meaning of every table, view and column, stored in the database so that
-- analysts see it in their own client and docs/data_dictionary.md is generated from it
-- (warehouse/dictionary.py). Every table comment states the grain; tests/warehouse/
-- test_dictionary.py fails on any column added later without a comment, so document new columns
-- in the migration that adds them. The wording follows REPORTS.md, the analysts' contract.

-- schema_migrations is created by warehouse/migrate.py before any migration runs.
comment on table schema_migrations is 'The migrations applied to this database. Grain: one row per migration version.';
comment on column schema_migrations.version is 'Migration number, the NNN of warehouse/migrations/NNN_name.sql.';
comment on column schema_migrations.name is 'Migration name, the name of warehouse/migrations/NNN_name.sql.';
comment on column schema_migrations.applied_at is 'When the migration was applied (timestamp of the database session that applied it).';

-- 001_core_tables ---------------------------------------------------------------------------

comment on table roster is 'The tracked accounts, as listed in the roster CSV file (INFLUENCERS_ROSTER_PATH). Grain: one row per (platform, handle); replaced whole from the roster file on every run.';
comment on column roster.platform is 'Platform the account is on, lower case, e.g. instagram.';
comment on column roster.handle is 'Account handle as written in the roster file; the pipeline resolves it to an account_id (see dim_influencer).';
comment on column roster.connected is 'True when the creator gave a token for insights, so audience demographics (fact_audience_share) exist for the account; false for prospects, whose audience is simply absent.';
comment on column roster.country is 'Creator''s country from the roster file, ISO 3166-1 alpha-2 (e.g. GB); NULL when the roster leaves it blank.';
comment on column roster.category is 'Content category from the roster file, e.g. food; NULL when the roster leaves it blank.';

comment on table dim_influencer is 'Every account ever loaded, with its latest known profile. Grain: one row per (platform, account_id).';
comment on column dim_influencer.platform is 'Platform, lower case, e.g. instagram.';
comment on column dim_influencer.account_id is 'Platform-scoped account id; stable when the handle changes, so join the facts on (platform, account_id), never on handle.';
comment on column dim_influencer.handle is 'Latest known handle (replaying an older date does not rename the account back).';
comment on column dim_influencer.display_name is 'Latest known display name; NULL when the platform reports none.';
comment on column dim_influencer.country is 'Creator''s country from the roster file, ISO 3166-1 alpha-2; NULL when unknown.';
comment on column dim_influencer.category is 'Content category from the roster file, e.g. food; NULL when unknown.';
comment on column dim_influencer.first_seen_date is 'Earliest snapshot_date (UTC date) loaded for the account.';
comment on column dim_influencer.last_seen_date is 'Latest snapshot_date (UTC date) loaded for the account.';

comment on table fact_profile_daily is 'Daily profile counts. Grain: one row per (platform, account_id, snapshot_date); counts as of the end of that UTC day. A day on which the account was not extracted has no row.';
comment on column fact_profile_daily.platform is 'Platform, lower case, e.g. instagram.';
comment on column fact_profile_daily.account_id is 'Platform-scoped account id; joins dim_influencer on (platform, account_id).';
comment on column fact_profile_daily.snapshot_date is 'UTC calendar date the counts are as of (the end of that day).';
comment on column fact_profile_daily.followers is 'Followers at the end of snapshot_date (UTC); never NULL.';
comment on column fact_profile_daily.following is 'Accounts this account follows, at the end of snapshot_date; NULL when the platform does not report it.';
comment on column fact_profile_daily.media_count is 'Posts on the account at the end of snapshot_date; NULL when the platform does not report it.';

comment on table fact_post_metrics is 'A post''s public counts as observed at the end of each UTC day it was extracted. Grain: one row per (platform, post_id, observed_date). Counts are cumulative as of the observation: use one observed_date per post (usually its latest), never sum across dates.';
comment on column fact_post_metrics.platform is 'Platform, lower case, e.g. instagram.';
comment on column fact_post_metrics.post_id is 'Platform media id of the post.';
comment on column fact_post_metrics.observed_date is 'UTC calendar date at whose end the counts were observed.';
comment on column fact_post_metrics.account_id is 'Platform-scoped id of the account that published the post; joins dim_influencer on (platform, account_id).';
comment on column fact_post_metrics.published_at is 'Publication time, UTC (timestamp without time zone); the post''s date is published_at::date.';
comment on column fact_post_metrics.media_type is 'Media type as the platform reports it, e.g. IMAGE, VIDEO, CAROUSEL_ALBUM.';
comment on column fact_post_metrics.likes is 'Likes as of the end of observed_date; NULL when the creator hides like counts (such a post is left out of engagement rates).';
comment on column fact_post_metrics.comments is 'Comments as of the end of observed_date; NULL when the platform does not report it.';
comment on column fact_post_metrics.shares is 'Shares as of the end of observed_date; NULL when the platform does not report it (always NULL for Instagram business_discovery).';
comment on column fact_post_metrics.saves is 'Saves as of the end of observed_date; NULL when the platform does not report it (always NULL for Instagram business_discovery).';
comment on column fact_post_metrics.views is 'Views as of the end of observed_date; NULL when the platform does not report it (always NULL for Instagram business_discovery).';

comment on table fact_audience_share is 'Audience breakdowns of connected creators (none for prospects). Grain: one row per (platform, account_id, as_of_date, dimension, bucket); the shares of one (account, as_of_date, dimension) sum to 1 (± 0.01).';
comment on column fact_audience_share.platform is 'Platform, lower case, e.g. instagram.';
comment on column fact_audience_share.account_id is 'Platform-scoped account id; joins dim_influencer on (platform, account_id).';
comment on column fact_audience_share.as_of_date is 'UTC calendar date the breakdown is as of.';
comment on column fact_audience_share.dimension is 'Audience dimension: one of age, gender, country, city, interest.';
comment on column fact_audience_share.bucket is 'Bucket within the dimension, e.g. 18-24 (age), F / M / U (gender), US (country).';
comment on column fact_audience_share.share is 'Fraction of the account''s audience in the bucket, in [0, 1] (0.25 means 25 %).';

comment on table quarantine is 'Every raw record that failed its contract, kept as landed so nothing is lost. Grain: one row per failed raw record (source, entity, partition_date, landed_file, line_number); a partition_date''s rows are replaced when that date is re-run.';
comment on column quarantine.source is 'Source system that produced the record, e.g. instagram_graph.';
comment on column quarantine.entity is 'Raw entity of the record: profiles, media or audience.';
comment on column quarantine.partition_date is 'UTC date D of the run that landed the record (counts as of the end of D).';
comment on column quarantine.run_id is 'Id of the landing that holds the record (pipeline_runs.landing_run_id).';
comment on column quarantine.raw_record is 'The record exactly as landed, JSON text; read fields with e.g. raw_record::json->>''id''.';
comment on column quarantine.failed_checks is 'The contract checks the record failed, one text each, e.g. ''post_id: digits_id (got x)''; an audience bucket quarantined because another bucket of its breakdown failed says so.';
comment on column quarantine.landed_file is 'Path of the landed .jsonl.gz file that holds the record.';
comment on column quarantine.line_number is '1-based line of the record in landed_file.';

comment on table pipeline_runs is 'The run log. Grain: one row per (run_id, step, entity); it gains rows with every run and is never replaced. A run that failed leaves one row with status failed. Per entity, landed = loaded + quarantined + deduplicated.';
comment on column pipeline_runs.run_id is 'Id of the nightly run.';
comment on column pipeline_runs.flow_run_id is 'Prefect flow run id; NULL when the run was not orchestrated by Prefect.';
comment on column pipeline_runs.landing_run_id is 'Id of the raw landing the run used (a new one when extracted, an older one when replayed); NULL on the row of a run that failed.';
comment on column pipeline_runs.source is 'Source system, e.g. instagram_graph.';
comment on column pipeline_runs.partition_date is 'UTC date D the run loads (counts as of the end of D).';
comment on column pipeline_runs.step is 'Step of the run: extract, validate or load; on the row of a failed run, the step that failed (extract, validate, transform, load or publish).';
comment on column pipeline_runs.entity is 'Raw entity (profiles, media, audience) for extract and validate; the warehouse table for load; NULL on the row of a failed run.';
comment on column pipeline_runs.rows_in is 'Records entering the step: landed records for extract and validate, valid ones for load; NULL on the row of a failed run.';
comment on column pipeline_runs.rows_valid is 'validate: records that passed their contract; NULL for the other steps.';
comment on column pipeline_runs.rows_quarantined is 'validate: records sent to quarantine; NULL for the other steps.';
comment on column pipeline_runs.rows_deduplicated is 'load: duplicate records removed before loading; NULL for the other steps.';
comment on column pipeline_runs.rows_loaded is 'load: rows written to the warehouse table; NULL for the other steps.';
comment on column pipeline_runs.status is 'ok; replayed (extract step of a run that replayed an earlier landing); quarantine_exceeded (validate step whose quarantined share exceeded INFLUENCERS_MAX_QUARANTINE_SHARE); failed (the run stopped at this step, see message).';
comment on column pipeline_runs.started_at is 'When the run started, UTC (timestamp without time zone); the same on every row of a run.';
comment on column pipeline_runs.finished_at is 'When the run finished (or failed), UTC (timestamp without time zone).';
comment on column pipeline_runs.message is 'Detail: landing notes for extract, the error (secrets redacted) of a failed run; NULL otherwise.';

-- 002_reports ----------------------------------------------------------------------------------

comment on table dim_brand is 'The brands whose audience match is reported, loaded whole from the brand file. Grain: one row per brand_id.';
comment on column dim_brand.brand_id is 'Short id of the brand, e.g. glowco (lower case, digits, - and _); used in report rows.';
comment on column dim_brand.name is 'The brand''s display name.';
comment on column dim_brand.recruit_tiers is 'Follower tiers the brand recruits creators from, a list of nano, micro, macro, mega; default [micro]. Only accounts in these tiers appear in rpt_audience_match.';

comment on table brand_dimension_weight is 'How much each audience dimension counts in a brand''s match_score (λ). Grain: one row per (brand_id, dimension) the brand targets. Reports normalise the weights to sum 1 over the brand''s targeted dimensions, so only their ratios matter.';
comment on column brand_dimension_weight.brand_id is 'The brand (dim_brand.brand_id).';
comment on column brand_dimension_weight.dimension is 'Audience dimension: one of age, gender, country, city, interest.';
comment on column brand_dimension_weight.weight is 'λ before normalising, ≥ 0; 1.0 when the brand file gives none (equal weights by default).';

comment on table brand_target is 'The audience a brand wants. Grain: one row per (brand_id, dimension, bucket). Weights are relative within a (brand_id, dimension): reports normalise them to sum 1 (the target share q).';
comment on column brand_target.brand_id is 'The brand (dim_brand.brand_id).';
comment on column brand_target.dimension is 'Audience dimension: one of age, gender, country, city, interest.';
comment on column brand_target.bucket is 'Bucket as the platform reports it (as in fact_audience_share.bucket), e.g. 18-24, F, US.';
comment on column brand_target.weight is 'Relative weight of the bucket within its dimension, ≥ 0; a bucket with weight 0 is not in the target.';

comment on table dim_tier is 'Follower tiers the reports use, as configured for the latest report build (INFLUENCERS_TIER_BOUNDS). Grain: one row per tier; a tier covers [min_followers, max_followers).';
comment on column dim_tier.tier is 'Tier name: nano, micro, macro or mega.';
comment on column dim_tier.min_followers is 'Lowest follower count in the tier (inclusive).';
comment on column dim_tier.max_followers is 'Upper bound of the tier (exclusive): the next tier''s bound; NULL for the top tier.';
comment on column dim_tier.tier_order is '1 for the smallest tier, increasing with followers.';


comment on table rpt_weekly_engagement is 'Weekly engagement of each account against peers of its follower tier (REPORTS.md). Grain: one row per (platform, account_id, week_start); week_start is the Monday of an ISO week (UTC dates, Monday to Sunday).';
comment on column rpt_weekly_engagement.platform is 'Platform, lower case, e.g. instagram.';
comment on column rpt_weekly_engagement.account_id is 'Platform-scoped account id; joins dim_influencer on (platform, account_id).';
comment on column rpt_weekly_engagement.week_start is 'Monday (UTC date) of the ISO week the row reports; the week runs to the Sunday after.';
comment on column rpt_weekly_engagement.followers_start is 'Followers on the first snapshot_date inside the week (an account gets a row when it has a snapshot in the week).';
comment on column rpt_weekly_engagement.followers_end is 'Followers on the last snapshot_date inside the week.';
comment on column rpt_weekly_engagement.follower_growth_pct is 'Percent: (followers_end - followers_start) / followers_start x 100; NULL when followers_start is 0 or NULL.';
comment on column rpt_weekly_engagement.posts is 'Posts whose published_at (UTC) falls inside the week, including those left out of the rate.';
comment on column rpt_weekly_engagement.interactions is 'Sum of likes + comments + shares + saves (NULL parts as 0) over the week''s posts used in the rate, each post at its latest observation on or before the report''s as-of date (default: the day after the week ends).';
comment on column rpt_weekly_engagement.engagement_rate is 'Fraction (0.0345 = 3.45 %): mean over the week''s posts of interactions / followers at the post (latest snapshot on or before the post''s date, else the earliest within 7 days after). Posts with hidden likes (likes NULL) or no follower count are left out; NULL if no post is left.';
comment on column rpt_weekly_engagement.tier is 'Follower tier of followers_end: nano [0, 10 000), micro [10 000, 100 000), macro [100 000, 1 000 000), mega [1 000 000, ∞).';
comment on column rpt_weekly_engagement.tier_median_er is 'Fraction: median engagement_rate of the rows with the same (platform, week_start, tier).';
comment on column rpt_weekly_engagement.er_index is 'Ratio engagement_rate / tier_median_er: 1.5 means 1.5 times the tier median; NULL when either is NULL.';
comment on column rpt_weekly_engagement.er_change_pp is 'Percentage points: (engagement_rate - the same account''s previous-week engagement_rate) x 100; NULL without both rates.';
comment on column rpt_weekly_engagement.rank_in_tier is '1 = highest engagement_rate within (platform, week_start, tier); ties broken by account_id.';

comment on table rpt_audience_match is 'How well each account''s audience matches each brand''s target audience (REPORTS.md). Grain: one row per (brand_id, platform, account_id, as_of_date); only accounts in a tier the brand recruits from (dim_brand.recruit_tiers).';
comment on column rpt_audience_match.brand_id is 'The brand (dim_brand.brand_id).';
comment on column rpt_audience_match.platform is 'Platform, lower case, e.g. instagram.';
comment on column rpt_audience_match.account_id is 'Platform-scoped account id; joins dim_influencer on (platform, account_id).';
comment on column rpt_audience_match.as_of_date is 'UTC date the match is as of: per dimension, the account''s latest audience breakdown on or before it and no older than 90 days.';
comment on column rpt_audience_match.match_score is 'Score 0-100: 100 x the sum over targeted dimensions of the normalised weight λ x overlap; a targeted dimension without audience data counts 0.';
comment on column rpt_audience_match.in_target_share is 'Fraction in [0, 1]: the product over targeted dimensions of the account''s share in buckets the brand targets (weight > 0).';
comment on column rpt_audience_match.reachable_target_audience is 'Followers in the target audience: round(followers x in_target_share), followers from the latest snapshot on or before as_of_date.';
comment on column rpt_audience_match.missing_dimensions is 'Targeted dimensions with no audience data for the account (each counted 0 in match_score); empty when none is missing.';
comment on column rpt_audience_match.rank is '1 = highest match_score for the brand; ties by reachable_target_audience descending, then account_id.';

comment on table rpt_tier_drift is 'Which accounts are leaving (or have left) the micro tier, with projections and a recommendation (REPORTS.md). Grain: one row per (platform, account_id, week_start); e is the week''s Sunday.';
comment on column rpt_tier_drift.platform is 'Platform, lower case, e.g. instagram.';
comment on column rpt_tier_drift.account_id is 'Platform-scoped account id; joins dim_influencer on (platform, account_id).';
comment on column rpt_tier_drift.week_start is 'Monday (UTC date) of the ISO week; e is its Sunday.';
comment on column rpt_tier_drift.followers is 'Followers on the latest snapshot on or before e.';
comment on column rpt_tier_drift.tier is 'Follower tier of followers: nano, micro, macro or mega.';
comment on column rpt_tier_drift.tier_4w_ago is 'Tier of the latest snapshot on or before e - 28 days; NULL when there is none.';
comment on column rpt_tier_drift.daily_growth_rate is 'Fraction per day: least-squares slope of ln(followers) against the day over the snapshots in (e - 56 days, e]; NULL with fewer than 14 snapshots.';
comment on column rpt_tier_drift.projected_followers_12w is 'Followers projected 12 weeks ahead: followers x exp(daily_growth_rate x 84); NULL when daily_growth_rate is NULL.';
comment on column rpt_tier_drift.weeks_to_next_tier is 'Weeks until followers reach the upper bound of the current tier at daily_growth_rate: ln(bound / followers) / daily_growth_rate / 7; NULL when the rate is not > 0 or the tier is mega.';
comment on column rpt_tier_drift.er_trend_pp_per_week is 'Percentage points per week: least-squares slope of weekly engagement_rate x 100 over the last 8 weeks up to this one; NULL with fewer than 4 non-NULL weeks.';
comment on column rpt_tier_drift.anomalous_growth is 'True when some day in (e - 28 days, e] gained followers with robust z > 6 and more than 2 % of the previous followers (z from the median and MAD of the daily deltas in (e - 56 days, e]); a sign of bought followers.';
comment on column rpt_tier_drift.status is 'First that holds: drifted (micro 4 weeks ago, macro or mega now); declining (micro 4 weeks ago, nano now); drifting (micro and weeks_to_next_tier <= 12); stable.';
comment on column rpt_tier_drift.recommendation is 'First that holds: move_on (drifted); review (anomalous_growth); watch (drifting or declining); keep.';
comment on column rpt_weekly_engagement.handle is 'Handle of the account when the report was built (dim_influencer.handle), for reading.';
comment on column rpt_weekly_engagement.as_of_date is 'UTC date the posts were measured at: each post at its latest observation on or before it (default: the day after the week ends).';
comment on column rpt_audience_match.handle is 'Handle of the account when the report was built (dim_influencer.handle), for reading.';
comment on column rpt_audience_match.overlap_age is 'Fraction in [0, 1]: sum over age buckets of min(account share, brand target share); 0 when targeted but no data; NULL when the brand does not target age.';
comment on column rpt_audience_match.overlap_gender is 'Fraction in [0, 1]: sum over gender buckets of min(account share, brand target share); 0 when targeted but no data; NULL when the brand does not target gender.';
comment on column rpt_audience_match.overlap_country is 'Fraction in [0, 1]: sum over country buckets of min(account share, brand target share); 0 when targeted but no data; NULL when the brand does not target country.';
comment on column rpt_audience_match.overlap_city is 'Fraction in [0, 1]: sum over city buckets of min(account share, brand target share); 0 when targeted but no data; NULL when the brand does not target city.';
comment on column rpt_audience_match.overlap_interest is 'Fraction in [0, 1]: sum over interest buckets of min(account share, brand target share); 0 when targeted but no data; NULL when the brand does not target interest.';
comment on column rpt_tier_drift.handle is 'Handle of the account when the report was built (dim_influencer.handle), for reading.';
comment on column rpt_tier_drift.as_of_date is 'The report''s as-of date (default: the day after the week ends); the weekly engagement rates of the trend use it for this week.';
