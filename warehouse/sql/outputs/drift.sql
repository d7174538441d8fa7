-- grain: one row per (platform, account_id) of rpt_tier_drift for $week_start.
select *
from rpt_tier_drift
where week_start = $week_start
order by platform, handle
