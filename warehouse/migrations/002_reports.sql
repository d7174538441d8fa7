-- 002_reports: the tiers, the brands and the three weekly report tables of REPORTS.md, and the
-- weekly_engagement_rates macro both weekly reports build on.
-- Report tables carry no primary key: build_weekly_reports replaces one week (or one as-of date)
-- by delete + insert in one transaction, the way the loader replaces a date partition.

-- grain: one row per tier; tier_order 1 is the smallest accounts. build_weekly_reports replaces
-- the rows with the run's tiers, so the table always shows the tiers the reports were built with.
-- The reports name tiers by position: tier_order 2 plays "micro" in rpt_tier_drift's status rules.
create table dim_tier (
    tier varchar not null,
    min_followers bigint not null,
    -- NULL: no upper bound (the last tier)
    max_followers bigint,
    tier_order integer not null
);

insert into dim_tier (tier, min_followers, max_followers, tier_order) values
    ('nano', 0, 10000, 1),
    ('micro', 10000, 100000, 2),
    ('macro', 100000, 1000000, 3),
    ('mega', 1000000, null, 4);

-- grain: one row per brand_id.
create table dim_brand (
    brand_id varchar not null,
    name varchar not null,
    -- the brand loader writes ['micro'] when the brand file names none
    recruit_tiers varchar[] not null
);

-- grain: one row per (brand_id, dimension) the brand gives a weight to: λ before normalisation.
-- A targeted dimension without a row here weighs 1.0.
create table brand_dimension_weight (
    brand_id varchar not null,
    dimension varchar not null,
    weight double not null
);

-- grain: one row per (brand_id, dimension, bucket): the bucket's weight before normalisation
-- within its (brand_id, dimension).
create table brand_target (
    brand_id varchar not null,
    dimension varchar not null,
    bucket varchar not null,
    weight double not null
);

-- grain: one row per (platform, account_id, week_start), for every account with at least one
-- snapshot in the week.
create table rpt_weekly_engagement (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    week_start date not null,
    as_of_date date not null,
    followers_start bigint not null,
    followers_end bigint not null,
    follower_growth_pct double,
    posts bigint not null,
    interactions bigint not null,
    engagement_rate double,
    tier varchar not null,
    tier_median_er double,
    er_index double,
    er_change_pp double,
    rank_in_tier integer
);

-- grain: one row per (brand_id, platform, account_id, as_of_date), for every account of a tier
-- the brand recruits from.
create table rpt_audience_match (
    brand_id varchar not null,
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    as_of_date date not null,
    overlap_age double,
    overlap_gender double,
    overlap_country double,
    overlap_city double,
    overlap_interest double,
    match_score double not null,
    missing_dimensions varchar[] not null,
    in_target_share double not null,
    reachable_target_audience bigint not null,
    rank integer not null
);

-- grain: one row per (platform, account_id, week_start), for every account with at least one
-- snapshot in the week.
create table rpt_tier_drift (
    platform varchar not null,
    account_id varchar not null,
    handle varchar,
    week_start date not null,
    as_of_date date not null,
    followers bigint not null,
    tier varchar not null,
    tier_4w_ago varchar,
    daily_growth_rate double,
    projected_followers_12w double,
    weeks_to_next_tier double,
    er_trend_pp_per_week double,
    anomalous_growth boolean not null,
    status varchar not null,
    recommendation varchar not null
);

-- weekly_engagement_rates(first_week, last_week, last_as_of): the per-account part of
-- rpt_weekly_engagement (no tiers, no peers) for every ISO week from first_week to last_week
-- (Mondays). last_week is measured as of last_as_of, every earlier week as of its own default
-- (its Monday + 7 days), so a week's figures never depend on which weeks were built before.
-- rpt_weekly_engagement reads two weeks of it (er_change_pp), rpt_tier_drift eight (the trend).
-- grain: one row per (platform, account_id, week_start) with at least one snapshot in the week.
-- Facts are read only in date ranges derived from the arguments, so the cost follows the number
-- of weeks asked for, never the history kept: the followers at a post come from a snapshot at
-- most 28 days before the post's date (REPORTS.md sets no bound) or at most 7 days after it, and
-- a post is never observed before it is published.
-- A later change to this logic is a new migration with `create or replace macro`.
create macro weekly_engagement_rates(first_week, last_week, last_as_of) as table
with weeks as (
    select
        series.week_start::date as week_start,
        case
            when series.week_start::date = last_week::date then last_as_of::date
            else series.week_start::date + 7
        end as as_of_date
    from generate_series(first_week::date, last_week::date, interval 7 day) as series (week_start)
),

snapshots as (
    select platform, account_id, snapshot_date, followers
    from fact_profile_daily
    where snapshot_date >= first_week::date - 28
      and snapshot_date <= last_week::date + 13
),

post_observations as (
    select
        platform, post_id, observed_date, account_id, published_at, likes, comments, shares, saves
    from fact_post_metrics
    where published_at >= first_week::date
      and published_at < last_week::date + 7
      and observed_date >= first_week::date
      and observed_date <= greatest(last_as_of::date, last_week::date)
),

week_posts as (
    select
        observation.platform,
        observation.account_id,
        observation.post_id,
        week.week_start,
        observation.published_at::date as post_date,
        observation.likes,
        coalesce(observation.likes, 0) + coalesce(observation.comments, 0)
            + coalesce(observation.shares, 0) + coalesce(observation.saves, 0) as interactions
    from post_observations as observation
    join weeks as week
        on observation.published_at >= week.week_start
        and observation.published_at < week.week_start + 7
        and observation.observed_date <= week.as_of_date
    -- counts are cumulative: the latest observation up to the as-of date measures the post
    qualify row_number() over (
        partition by observation.platform, observation.post_id
        order by observation.observed_date desc
    ) = 1
),

followers_at_posts as (
    select
        post.platform,
        post.post_id,
        coalesce(
            arg_max(snapshot.followers, snapshot.snapshot_date)
                filter (where snapshot.snapshot_date <= post.post_date),
            arg_min(snapshot.followers, snapshot.snapshot_date)
                filter (where snapshot.snapshot_date > post.post_date)
        ) as followers_at_post
    from week_posts as post
    join snapshots as snapshot
        on snapshot.platform = post.platform
        and snapshot.account_id = post.account_id
        and snapshot.snapshot_date >= post.post_date - 28
        and snapshot.snapshot_date <= post.post_date + 7
    group by post.platform, post.post_id
),

post_engagement as (
    select
        post.platform,
        post.account_id,
        post.week_start,
        post.post_id,
        post.interactions,
        -- hidden likes are unknown, not zero; a post with no (or zero) followers has no rate
        case
            when post.likes is not null
                then post.interactions / nullif(followers.followers_at_post, 0)
        end as post_engagement_rate
    from week_posts as post
    left join followers_at_posts as followers
        on followers.platform = post.platform and followers.post_id = post.post_id
),

weekly_posts as (
    select
        platform,
        account_id,
        week_start,
        count(*) as posts,
        coalesce(sum(interactions) filter (where post_engagement_rate is not null), 0)
            as interactions,
        -- a floating-point sum depends on the order of its terms: a fixed order makes a
        -- rebuild bit-identical whatever order the join hands the posts over in
        avg(post_engagement_rate order by post_id) as engagement_rate
    from post_engagement
    group by platform, account_id, week_start
),

weekly_followers as (
    select
        snapshot.platform,
        snapshot.account_id,
        week.week_start,
        week.as_of_date,
        arg_min(snapshot.followers, snapshot.snapshot_date) as followers_start,
        arg_max(snapshot.followers, snapshot.snapshot_date) as followers_end
    from snapshots as snapshot
    join weeks as week
        on snapshot.snapshot_date >= week.week_start
        and snapshot.snapshot_date < week.week_start + 7
    group by snapshot.platform, snapshot.account_id, week.week_start, week.as_of_date
),

final as (
    select
        account.platform,
        account.account_id,
        account.week_start,
        account.as_of_date,
        account.followers_start,
        account.followers_end,
        (account.followers_end - account.followers_start)
            / nullif(account.followers_start, 0) * 100 as follower_growth_pct,
        coalesce(posts.posts, 0) as posts,
        coalesce(posts.interactions, 0) as interactions,
        posts.engagement_rate
    from weekly_followers as account
    left join weekly_posts as posts
        on posts.platform = account.platform
        and posts.account_id = account.account_id
        and posts.week_start = account.week_start
)

select
    platform,
    account_id,
    week_start,
    as_of_date,
    followers_start,
    followers_end,
    follower_growth_pct,
    posts,
    interactions,
    engagement_rate
from final;
