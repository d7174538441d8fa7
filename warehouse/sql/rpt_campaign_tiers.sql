-- rpt_campaign_tiers: a campaign's results per platform and tier as of $as_of: whether micro
-- creators sell more per follower than macro ones, on the brand's own sales.
-- grain: one row per (campaign_id, platform, tier, as_of_date): sums over the tier's
-- rpt_campaign_performance rows of the same as-of date (built just before, in the same commit).
-- Collaborations without a follower count at the start have no tier and are left out.
select
    campaign_id,
    any_value(brand_id) as brand_id,
    platform,
    tier,
    as_of_date,
    count(*) as creators,
    sum(fee) as fee,
    sum(interactions) as interactions,
    sum(orders) as orders,
    sum(revenue) as revenue,
    sum(followers_at_start) as followers_at_start,
    sum(revenue) / nullif(sum(fee), 0) as roas,
    sum(fee) / nullif(sum(interactions), 0) as cpe,
    sum(revenue) / nullif(sum(followers_at_start), 0) * 1000 as revenue_per_1k_followers
from rpt_campaign_performance
where as_of_date = $as_of and tier is not null
group by campaign_id, platform, tier, as_of_date
order by campaign_id, platform, tier
