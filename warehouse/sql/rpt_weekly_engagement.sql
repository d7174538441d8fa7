-- rpt_weekly_engagement: how well each account engaged its audience in the ISO week starting
-- $week_start (a Monday), against peers of its tier on its platform. Posts are measured at their
-- latest observation up to $as_of.
-- grain: one row per (platform, account_id, week_start), for every account with at least one
-- snapshot in the week.
-- The per-account figures come from the weekly_engagement_rates macro (migration 002), which
-- also gives the previous week, measured as of its own default as-of date ($week_start).
with tiers as (
    select tier, min_followers, max_followers
    from dim_tier
),

influencers as (
    select platform, account_id, handle
    from dim_influencer
),

weekly_rates as (
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
    from weekly_engagement_rates($week_start - 7, $week_start, $as_of)
),

this_week as (
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
    from weekly_rates
    where week_start = $week_start
),

previous_week as (
    select platform, account_id, engagement_rate as previous_engagement_rate
    from weekly_rates
    where week_start = $week_start - 7
),

tiered as (
    select
        account.platform,
        account.account_id,
        account.week_start,
        account.as_of_date,
        account.followers_start,
        account.followers_end,
        account.follower_growth_pct,
        account.posts,
        account.interactions,
        account.engagement_rate,
        tier.tier
    from this_week as account
    left join tiers as tier
        on account.followers_end >= tier.min_followers
        and (tier.max_followers is null or account.followers_end < tier.max_followers)
),

peers as (
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
        engagement_rate,
        tier,
        median(engagement_rate) over same_tier as tier_median_er,
        -- an account without a rate has no place in the ranking: rank_in_tier stays NULL
        case
            when engagement_rate is not null
                then row_number() over (
                    partition by platform, week_start, tier, engagement_rate is null
                    order by engagement_rate desc, account_id
                )
        end as rank_in_tier
    from tiered
    window same_tier as (partition by platform, week_start, tier)
),

final as (
    select
        account.platform,
        account.account_id,
        influencer.handle,
        account.week_start,
        account.as_of_date,
        account.followers_start,
        account.followers_end,
        account.follower_growth_pct,
        account.posts,
        account.interactions,
        account.engagement_rate,
        account.tier,
        account.tier_median_er,
        account.engagement_rate / nullif(account.tier_median_er, 0) as er_index,
        (account.engagement_rate - previous.previous_engagement_rate) * 100 as er_change_pp,
        account.rank_in_tier
    from peers as account
    left join previous_week as previous
        on previous.platform = account.platform and previous.account_id = account.account_id
    left join influencers as influencer
        on influencer.platform = account.platform and influencer.account_id = account.account_id
)

select
    platform,
    account_id,
    handle,
    week_start,
    as_of_date,
    followers_start,
    followers_end,
    follower_growth_pct,
    posts,
    interactions,
    engagement_rate,
    tier,
    tier_median_er,
    er_index,
    er_change_pp,
    rank_in_tier
from final
