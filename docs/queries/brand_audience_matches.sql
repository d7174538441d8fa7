-- Question: for one brand, which creators' audiences best match the brand's target audience,
-- and how many of their followers are in that target (the reachable audience)?
-- Edit `params` to pick the brand. match_score is 0-100; missing_dimensions lists the targeted
-- dimensions an account has no audience data for (they count 0).
-- grain: one row per (platform, account_id) matched for the brand at its latest as_of_date in
-- rpt_audience_match, best match first.
with params as (
    select 'acme' as brand_id
),

latest_match as (
    select m.brand_id, max(m.as_of_date) as as_of_date
    from rpt_audience_match as m
    join params as p on m.brand_id = p.brand_id
    group by m.brand_id
),

matches as (
    select
        m.brand_id,
        m.platform,
        m.account_id,
        m.as_of_date,
        m.rank,
        m.match_score,
        m.in_target_share,
        m.reachable_target_audience,
        m.missing_dimensions
    from rpt_audience_match as m
    join latest_match as l on m.brand_id = l.brand_id and m.as_of_date = l.as_of_date
),

final as (
    select
        b.name as brand,
        m.platform,
        m.account_id,
        d.handle,
        m.as_of_date,
        m.rank,
        round(m.match_score, 1) as match_score,
        round(100 * m.in_target_share, 1) as in_target_pct,
        m.reachable_target_audience,
        m.missing_dimensions
    from matches as m
    join dim_brand as b on m.brand_id = b.brand_id
    join dim_influencer as d on m.platform = d.platform and m.account_id = d.account_id
)

select
    brand,
    platform,
    account_id,
    handle,
    as_of_date,
    rank,
    match_score,
    in_target_pct,
    reachable_target_audience,
    missing_dimensions
from final
order by rank
limit 20
