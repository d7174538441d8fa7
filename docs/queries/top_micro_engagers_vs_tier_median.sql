-- Question: which micro-influencers engaged their audience best in the latest reported week,
-- compared with the median micro account of the same platform and week?
-- er_index 1.5 means an engagement rate 1.5 times the tier median. Rates are fractions.
-- grain: one row per (platform, account_id) in the micro tier in the latest week_start of
-- rpt_weekly_engagement, best first.
with latest_week as (
    select max(week_start) as week_start
    from rpt_weekly_engagement
),

micro_accounts as (
    select
        e.platform,
        e.account_id,
        e.week_start,
        e.followers_end,
        e.follower_growth_pct,
        e.posts,
        e.engagement_rate,
        e.tier_median_er,
        e.er_index,
        e.er_change_pp,
        e.rank_in_tier
    from rpt_weekly_engagement as e
    join latest_week as w on e.week_start = w.week_start
    where e.tier = 'micro' and e.engagement_rate is not null
),

final as (
    select
        m.platform,
        m.account_id,
        d.handle,
        m.week_start,
        m.rank_in_tier,
        m.followers_end,
        m.follower_growth_pct,
        m.posts,
        round(100 * m.engagement_rate, 2) as engagement_rate_pct,
        round(100 * m.tier_median_er, 2) as tier_median_er_pct,
        round(m.er_index, 2) as er_index,
        round(m.er_change_pp, 2) as er_change_pp
    from micro_accounts as m
    join dim_influencer as d on m.platform = d.platform and m.account_id = d.account_id
)

select
    platform,
    account_id,
    handle,
    week_start,
    rank_in_tier,
    followers_end,
    follower_growth_pct,
    posts,
    engagement_rate_pct,
    tier_median_er_pct,
    er_index,
    er_change_pp
from final
order by platform, rank_in_tier
limit 20
