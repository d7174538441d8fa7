-- grain: one row per (platform, account_id, snapshot_date): daily followers over the 56 days up
-- to the week's Sunday, of the accounts drifting out of (or already out of) the micro tier.
with watched as (
    select platform, account_id
    from rpt_tier_drift
    where week_start = $week_start and status in ('drifting', 'drifted')
),

final as (
    select p.platform, p.account_id, d.handle, p.snapshot_date, p.followers
    from fact_profile_daily as p
    join watched using (platform, account_id)
    join dim_influencer as d using (platform, account_id)
    where p.snapshot_date > $week_start + interval 6 day - interval 56 day
      and p.snapshot_date <= $week_start + interval 6 day
)

select platform, account_id, handle, snapshot_date, followers
from final
order by platform, account_id, snapshot_date
