-- grain: one row per (platform, account_id) of rpt_weekly_engagement for $week_start.
select *
from rpt_weekly_engagement
where week_start = $week_start
order by platform, tier, rank_in_tier
