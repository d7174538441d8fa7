-- 013_engagement_rates_by_bucket: weekly_engagement_rates (migration 002) can compute one
-- bucket of accounts at a time.
--
-- weekly_engagement_rates(first_week, last_week, last_as_of, bucket := b, buckets := n) gives
-- the rows of the accounts whose hash(platform, account_id) % n is b; the n buckets together
-- give exactly the rows of the whole call, which the defaults (bucket 0 of 1) still make. Its
-- memory follows the accounts of the bucket: eight weeks of 100,000 accounts held 3.4 GiB in one
-- call and could not run under a memory limit of 3 GB (DuckDB spills not every operator here),
-- where a quarter of them held 0.8 GB. rpt_tier_drift is built a bucket at a time
-- (warehouse/reports.py). Everything else is the macro of migration 002, unchanged.

create or replace macro weekly_engagement_rates(
    first_week, last_week, last_as_of, bucket := 0, buckets := 1
) as table
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
      and (buckets = 1 or hash(platform, account_id) % buckets = bucket)
),

post_observations as (
    select
        platform, post_id, observed_date, account_id, published_at, likes, comments, shares, saves
    from fact_post_metrics
    where published_at >= first_week::date
      and published_at < last_week::date + 7
      and observed_date >= first_week::date
      and observed_date <= greatest(last_as_of::date, last_week::date)
      and (buckets = 1 or hash(platform, account_id) % buckets = bucket)
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
