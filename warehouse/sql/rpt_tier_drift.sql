-- rpt_tier_drift: who is outgrowing (or falling out of) the micro tier, and who grows
-- suspiciously fast, in the ISO week starting $week_start (a Monday). e below is the week's
-- Sunday, $week_start + 6.
-- grain: one row per (platform, account_id, week_start), for every account with at least one
-- snapshot in the week.
-- Snapshots are read in [e - 84, e]: the 56-day growth window and the 28 days before it, as a
-- snapshot stands in for a date up to 28 days after it (tier_4w_ago, the snapshot before a
-- follower delta; see warehouse/reports.py). The
-- engagement trend reads eight weeks of the weekly_engagement_rates macro (migration 002), the
-- current week measured as of $as_of.
-- Every figure is an account's own, so the report is built a bucket of accounts at a time: the
-- accounts whose hash(platform, account_id) % $buckets is $bucket (one bucket of 1 is them all).
-- Tiers count by position (dim_tier.tier_order): the status rules' "micro" is tier_order 2,
-- "nano" the tiers below it, "macro or mega" the tiers above it.
with tiers as (
    select tier, min_followers, max_followers, tier_order
    from dim_tier
),

influencers as (
    select platform, account_id, handle
    from dim_influencer
),

snapshots as (
    select platform, account_id, snapshot_date, followers
    from fact_profile_daily
    where snapshot_date >= $week_start + 6 - 84
      and snapshot_date <= $week_start + 6
      and ($buckets = 1 or hash(platform, account_id) % $buckets = $bucket)
),

weekly_rates as (
    select platform, account_id, week_start, engagement_rate
    from weekly_engagement_rates(
        $week_start - 49, $week_start, $as_of, bucket := $bucket, buckets := $buckets
    )
),

week_accounts as (
    select platform, account_id, arg_max(followers, snapshot_date) as followers
    from snapshots
    where snapshot_date >= $week_start
    group by platform, account_id
),

four_weeks_ago as (
    select platform, account_id, arg_max(followers, snapshot_date) as followers
    from snapshots
    where snapshot_date <= $week_start + 6 - 28
      and snapshot_date >= $week_start + 6 - 56
    group by platform, account_id
),

growth as (
    select
        platform,
        account_id,
        -- day numbers count back from e; ln is undefined at 0 followers, so such days sit out.
        -- Floating-point sums depend on the order of their terms: ordering the input makes a
        -- rebuild bit-identical.
        case
            when regr_count(ln(followers), snapshot_date - ($week_start + 6)) >= 14
                then regr_slope(
                    ln(followers), snapshot_date - ($week_start + 6) order by snapshot_date
                )
        end as daily_growth_rate
    from snapshots
    where snapshot_date > $week_start + 6 - 56
      and followers > 0
    group by platform, account_id
),

deltas as (
    select
        platform,
        account_id,
        snapshot_date,
        followers - previous_followers as delta,
        previous_followers
    from (
        select
            platform,
            account_id,
            snapshot_date,
            followers,
            lag(followers) over previous_snapshot as previous_followers,
            lag(snapshot_date) over previous_snapshot as previous_snapshot_date
        from snapshots
        window previous_snapshot as (partition by platform, account_id order by snapshot_date)
    ) as lagged
    where snapshot_date > $week_start + 6 - 56
      and previous_snapshot_date >= snapshot_date - 28
),

delta_medians as (
    select platform, account_id, median(delta) as median_delta
    from deltas
    group by platform, account_id
),

delta_spreads as (
    select
        delta.platform,
        delta.account_id,
        centre.median_delta,
        median(abs(delta.delta - centre.median_delta)) as median_absolute_deviation
    from deltas as delta
    join delta_medians as centre
        on centre.platform = delta.platform and centre.account_id = delta.account_id
    group by delta.platform, delta.account_id, centre.median_delta
),

judged_deltas as (
    select
        delta.platform,
        delta.account_id,
        delta.snapshot_date,
        -- max(MAD, 1): a perfectly regular account (MAD 0) must not make every change infinite
        (delta.delta - spread.median_delta)
            / (1.4826 * greatest(spread.median_absolute_deviation, 1)) as robust_z,
        delta.snapshot_date > $week_start + 6 - 28
            and delta.delta > 0.02 * delta.previous_followers
            and (delta.delta - spread.median_delta)
                / (1.4826 * greatest(spread.median_absolute_deviation, 1)) > 6 as is_anomalous
    from deltas as delta
    join delta_spreads as spread
        on spread.platform = delta.platform and spread.account_id = delta.account_id
),

anomalies as (
    select
        platform,
        account_id,
        bool_or(is_anomalous) as anomalous_growth,
        -- the anomalous day with the largest z; ties: the earliest
        first(snapshot_date order by robust_z desc, snapshot_date)
            filter (where is_anomalous) as spike_date
    from judged_deltas
    group by platform, account_id
),

-- Posts around a spike, each at its latest observation up to $as_of. A spike lies in
-- (e - 28, e], so its windows lie in (e - 56, e + 7): observations before e - 56 are not needed.
spike_posts as (
    select
        post.platform,
        post.account_id,
        post.post_id,
        anomaly.spike_date,
        post.published_at::date as published_date,
        arg_max(
            coalesce(post.likes, 0) + coalesce(post.comments, 0) + coalesce(post.shares, 0)
            + coalesce(post.saves, 0),
            post.observed_date
        ) as interactions,
        -- hidden likes at the latest observation leave the post out, as in the rate
        arg_max_null(post.likes, post.observed_date) as likes
    from fact_post_metrics as post
    join anomalies as anomaly
        on anomaly.platform = post.platform and anomaly.account_id = post.account_id
    where anomaly.spike_date is not null
      and post.observed_date <= $as_of
      and post.observed_date > $week_start + 6 - 56
      and post.published_at >= anomaly.spike_date - 28
      and post.published_at < anomaly.spike_date + 7
    group by all
),

lifts as (
    select
        platform,
        account_id,
        avg(interactions) filter (where published_date >= spike_date) as mean_after,
        avg(interactions) filter (where published_date < spike_date) as mean_before
    from spike_posts
    where likes is not null
    group by platform, account_id
),

engagement_trends as (
    select
        platform,
        account_id,
        case
            when count(engagement_rate) >= 4
                then regr_slope(
                    engagement_rate * 100, (week_start - $week_start) / 7 order by week_start
                )
        end as er_trend_pp_per_week
    from weekly_rates
    group by platform, account_id
),

tiered as (
    select
        account.platform,
        account.account_id,
        account.followers,
        tier.tier,
        tier.tier_order,
        tier.max_followers as next_tier_bound,
        earlier_tier.tier as tier_4w_ago,
        earlier_tier.tier_order as tier_order_4w_ago,
        growth.daily_growth_rate,
        trend.er_trend_pp_per_week,
        coalesce(anomaly.anomalous_growth, false) as anomalous_growth,
        anomaly.spike_date,
        lift.mean_after / nullif(lift.mean_before, 0) as interactions_lift
    from week_accounts as account
    left join tiers as tier
        on account.followers >= tier.min_followers
        and (tier.max_followers is null or account.followers < tier.max_followers)
    left join four_weeks_ago as earlier
        on earlier.platform = account.platform and earlier.account_id = account.account_id
    left join tiers as earlier_tier
        on earlier.followers >= earlier_tier.min_followers
        and (earlier_tier.max_followers is null or earlier.followers < earlier_tier.max_followers)
    left join growth
        on growth.platform = account.platform and growth.account_id = account.account_id
    left join engagement_trends as trend
        on trend.platform = account.platform and trend.account_id = account.account_id
    left join anomalies as anomaly
        on anomaly.platform = account.platform and anomaly.account_id = account.account_id
    left join lifts as lift
        on lift.platform = account.platform and lift.account_id = account.account_id
),

projected as (
    select
        platform,
        account_id,
        followers,
        tier,
        tier_order,
        tier_4w_ago,
        tier_order_4w_ago,
        daily_growth_rate,
        followers * exp(daily_growth_rate * 84) as projected_followers_12w,
        case
            when daily_growth_rate > 0 and next_tier_bound is not null and followers > 0
                then ln(next_tier_bound / followers) / daily_growth_rate / 7
        end as weeks_to_next_tier,
        er_trend_pp_per_week,
        anomalous_growth,
        spike_date,
        interactions_lift,
        -- Bought followers never like or comment: a jump without a lift in interactions is
        -- suspicious; a viral moment brings both. An unmeasurable lift keeps the jump suspicious.
        anomalous_growth and not coalesce(interactions_lift >= 1.5, false) as suspicious_growth
    from tiered
),

classified as (
    select
        platform,
        account_id,
        followers,
        tier,
        tier_4w_ago,
        daily_growth_rate,
        projected_followers_12w,
        weeks_to_next_tier,
        er_trend_pp_per_week,
        anomalous_growth,
        spike_date,
        interactions_lift,
        suspicious_growth,
        case
            when tier_order_4w_ago = 2 and tier_order > 2 then 'drifted'
            when tier_order_4w_ago = 2 and tier_order < 2 then 'declining'
            when tier_order = 2 and weeks_to_next_tier <= 12 then 'drifting'
            else 'stable'
        end as status
    from projected
),

final as (
    select
        account.platform,
        account.account_id,
        influencer.handle,
        $week_start::date as week_start,
        $as_of::date as as_of_date,
        account.followers,
        account.tier,
        account.tier_4w_ago,
        account.daily_growth_rate,
        account.projected_followers_12w,
        account.weeks_to_next_tier,
        account.er_trend_pp_per_week,
        account.anomalous_growth,
        account.spike_date,
        account.interactions_lift,
        account.suspicious_growth,
        account.status,
        case
            when account.status = 'drifted' then 'move_on'
            when account.suspicious_growth then 'review'
            when account.status in ('drifting', 'declining') then 'watch'
            else 'keep'
        end as recommendation
    from classified as account
    left join influencers as influencer
        on influencer.platform = account.platform and influencer.account_id = account.account_id
)

select
    platform,
    account_id,
    handle,
    week_start,
    as_of_date,
    followers,
    tier,
    tier_4w_ago,
    daily_growth_rate,
    projected_followers_12w,
    weeks_to_next_tier,
    er_trend_pp_per_week,
    anomalous_growth,
    status,
    recommendation,
    spike_date,
    interactions_lift,
    suspicious_growth
from final
