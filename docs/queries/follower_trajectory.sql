-- Question: how have one account's followers moved, day by day, over the last 8 weeks?
-- Edit `params` to pick the account. Days without a snapshot are absent, not zero.
-- grain: one row per snapshot_date of the chosen account, over the 56 days up to the latest
-- snapshot loaded.
with params as (
    select 'instagram' as platform, 'maya.bakes' as handle, 56 as days
),

account as (
    select d.platform, d.account_id, d.handle
    from dim_influencer as d
    join params as p on d.platform = p.platform and d.handle = p.handle
),

snapshots as (
    select f.platform, f.account_id, a.handle, f.snapshot_date, f.followers
    from fact_profile_daily as f
    join account as a on f.platform = a.platform and f.account_id = a.account_id
    where f.snapshot_date > (select max(snapshot_date) from fact_profile_daily)
        - (select days from params)
),

final as (
    select
        platform,
        account_id,
        handle,
        snapshot_date,
        followers,
        followers - lag(followers) over by_day as change_since_previous_snapshot,
        round(100.0 * (followers / first_value(followers) over by_day - 1), 2)
            as growth_since_first_day_pct
    from snapshots
    window by_day as (order by snapshot_date)
)

select
    platform,
    account_id,
    handle,
    snapshot_date,
    followers,
    change_since_previous_snapshot,
    growth_since_first_day_pct
from final
order by snapshot_date
