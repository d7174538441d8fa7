-- grain: one row per (brand_id, platform, account_id) of rpt_audience_match as of $as_of.
select *
from rpt_audience_match
where as_of_date = $as_of
order by brand_id, rank
