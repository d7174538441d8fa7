-- Question: which accounts should we move on from (they left the micro tier), review (anomalous
-- follower growth, e.g. bought followers) or watch (about to leave, or falling to nano) this week?
-- grain: one row per (platform, account_id) of the latest week_start of rpt_tier_drift whose
-- recommendation is not keep, most urgent first.
with latest_week as (
    select max(week_start) as week_start
    from rpt_tier_drift
),

actions as (
    select
        r.platform,
        r.account_id,
        r.week_start,
        r.recommendation,
        r.status,
        r.tier_4w_ago,
        r.tier,
        r.followers,
        r.daily_growth_rate,
        r.projected_followers_12w,
        r.weeks_to_next_tier,
        r.anomalous_growth,
        r.er_trend_pp_per_week
    from rpt_tier_drift as r
    join latest_week as w on r.week_start = w.week_start
    where r.recommendation <> 'keep'
),

final as (
    select
        a.platform,
        a.account_id,
        d.handle,
        a.week_start,
        a.recommendation,
        a.status,
        a.tier_4w_ago,
        a.tier,
        a.followers,
        round(100 * a.daily_growth_rate, 2) as daily_growth_pct,
        round(a.projected_followers_12w) as projected_followers_12w,
        round(a.weeks_to_next_tier, 1) as weeks_to_next_tier,
        a.anomalous_growth,
        round(a.er_trend_pp_per_week, 2) as er_trend_pp_per_week,
        case a.recommendation when 'move_on' then 1 when 'review' then 2 else 3 end as urgency
    from actions as a
    join dim_influencer as d on a.platform = d.platform and a.account_id = d.account_id
)

select
    platform,
    account_id,
    handle,
    week_start,
    recommendation,
    status,
    tier_4w_ago,
    tier,
    followers,
    daily_growth_pct,
    projected_followers_12w,
    weeks_to_next_tier,
    anomalous_growth,
    er_trend_pp_per_week
from final
order by urgency, weeks_to_next_tier nulls last, handle
