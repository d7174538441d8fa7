-- grain: one row per (campaign_id, platform, account_id) of rpt_campaign_performance as of $as_of.
select *
from rpt_campaign_performance
where as_of_date = $as_of
order by campaign_id, platform, handle
