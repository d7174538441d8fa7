-- rpt_audience_match: how much of each account's audience is the audience each brand asked
-- for, as of $as_of.
-- grain: one row per (brand_id, platform, account_id, as_of_date), for every account with a
-- snapshot in the 28 days before $as_of (or on it) whose tier, of the latest such snapshot, the
-- brand recruits from.
-- p is the account's audience share of a bucket, q the brand's normalised target weight, λ the
-- brand's normalised dimension weight. overlap_<dimension> is NULL for a dimension the brand does
-- not target, 0 for a targeted one without audience data (listed in missing_dimensions), which
-- also contributes a factor 0 to in_target_share.
with tiers as (
    select tier, min_followers, max_followers
    from dim_tier
),

influencers as (
    select platform, account_id, handle
    from dim_influencer
),

brands as (
    select brand_id, recruit_tiers
    from dim_brand
),

dimension_weights as (
    select brand_id, dimension, weight
    from brand_dimension_weight
),

targets as (
    select brand_id, dimension, bucket, weight
    from brand_target
),

snapshots as (
    select platform, account_id, snapshot_date, followers
    from fact_profile_daily
    -- a follower count stands in for a date up to 28 days after it (see warehouse/reports.py)
    where snapshot_date >= $as_of - 28
      and snapshot_date <= $as_of
),

audience_shares as (
    select platform, account_id, as_of_date, dimension, bucket, share
    from fact_audience_share
    -- an audience more than 90 days old no longer describes the account
    where as_of_date >= $as_of - 90
      and as_of_date <= $as_of
),

latest_audience as (
    select platform, account_id, dimension, bucket, share
    from audience_shares
    qualify as_of_date = max(as_of_date) over (partition by platform, account_id, dimension)
),

audience_dimensions as (
    select distinct platform, account_id, dimension
    from latest_audience
),

target_totals as (
    -- floating-point sums depend on the order of their terms: every sum and product below
    -- orders its input, so a rebuild is bit-identical (and ties in rank stay ties)
    select brand_id, dimension, sum(weight order by bucket) as total_weight
    from targets
    group by brand_id, dimension
),

target_shares as (
    select target.brand_id, target.dimension, target.bucket, target.weight / total.total_weight as q
    from targets as target
    join target_totals as total
        on total.brand_id = target.brand_id and total.dimension = target.dimension
    -- all-zero weights cannot be normalised: such a dimension counts as not targeted
    where total.total_weight > 0
),

targeted_dimensions as (
    select distinct target.brand_id, target.dimension, coalesce(weight.weight, 1.0) as raw_weight
    from target_shares as target
    left join dimension_weights as weight
        on weight.brand_id = target.brand_id and weight.dimension = target.dimension
),

dimension_weight_totals as (
    select brand_id, sum(raw_weight order by dimension) as total_weight
    from targeted_dimensions
    group by brand_id
),

dimension_lambdas as (
    select
        dimension.brand_id,
        dimension.dimension,
        dimension.raw_weight / nullif(total.total_weight, 0) as dimension_weight
    from targeted_dimensions as dimension
    join dimension_weight_totals as total
        on total.brand_id = dimension.brand_id
),

account_followers as (
    select platform, account_id, arg_max(followers, snapshot_date) as followers
    from snapshots
    group by platform, account_id
),

candidates as (
    select brand.brand_id, account.platform, account.account_id, account.followers
    from account_followers as account
    join tiers as tier
        on account.followers >= tier.min_followers
        and (tier.max_followers is null or account.followers < tier.max_followers)
    join brands as brand
        on list_contains(brand.recruit_tiers, tier.tier)
),

candidate_dimensions as (
    select
        candidate.brand_id,
        candidate.platform,
        candidate.account_id,
        candidate.followers,
        dimension.dimension,
        dimension.dimension_weight
    from candidates as candidate
    join dimension_lambdas as dimension
        on dimension.brand_id = candidate.brand_id
),

bucket_overlaps as (
    select
        candidate.brand_id,
        candidate.platform,
        candidate.account_id,
        candidate.dimension,
        sum(least(audience.share, target.q) order by target.bucket) as overlap,
        coalesce(
            sum(audience.share order by target.bucket) filter (where target.q > 0), 0
        ) as share_in_target
    from candidate_dimensions as candidate
    join target_shares as target
        on target.brand_id = candidate.brand_id and target.dimension = candidate.dimension
    join latest_audience as audience
        on audience.platform = candidate.platform
        and audience.account_id = candidate.account_id
        and audience.dimension = candidate.dimension
        and audience.bucket = target.bucket
    group by candidate.brand_id, candidate.platform, candidate.account_id, candidate.dimension
),

dimension_scores as (
    select
        candidate.brand_id,
        candidate.platform,
        candidate.account_id,
        candidate.followers,
        candidate.dimension,
        candidate.dimension_weight,
        known.dimension is null as audience_missing,
        coalesce(overlap.overlap, 0) as overlap,
        coalesce(overlap.share_in_target, 0) as share_in_target
    from candidate_dimensions as candidate
    left join audience_dimensions as known
        on known.platform = candidate.platform
        and known.account_id = candidate.account_id
        and known.dimension = candidate.dimension
    left join bucket_overlaps as overlap
        on overlap.brand_id = candidate.brand_id
        and overlap.platform = candidate.platform
        and overlap.account_id = candidate.account_id
        and overlap.dimension = candidate.dimension
),

account_scores as (
    select
        brand_id,
        platform,
        account_id,
        followers,
        max(overlap) filter (where dimension = 'age') as overlap_age,
        max(overlap) filter (where dimension = 'gender') as overlap_gender,
        max(overlap) filter (where dimension = 'country') as overlap_country,
        max(overlap) filter (where dimension = 'city') as overlap_city,
        max(overlap) filter (where dimension = 'interest') as overlap_interest,
        100 * sum(dimension_weight * overlap order by dimension) as match_score,
        coalesce(list_sort(list(dimension) filter (where audience_missing)), []::varchar[])
            as missing_dimensions,
        product(share_in_target order by dimension) as in_target_share
    from dimension_scores
    group by brand_id, platform, account_id, followers
),

reach as (
    select
        brand_id,
        platform,
        account_id,
        overlap_age,
        overlap_gender,
        overlap_country,
        overlap_city,
        overlap_interest,
        match_score,
        missing_dimensions,
        in_target_share,
        -- round() on a double rounds halves away from zero: 2.5 people reach 3
        round(followers * in_target_share)::bigint as reachable_target_audience
    from account_scores
),

final as (
    select
        score.brand_id,
        score.platform,
        score.account_id,
        influencer.handle,
        $as_of::date as as_of_date,
        score.overlap_age,
        score.overlap_gender,
        score.overlap_country,
        score.overlap_city,
        score.overlap_interest,
        score.match_score,
        score.missing_dimensions,
        score.in_target_share,
        score.reachable_target_audience,
        -- ranks run across platforms; platform settles an account_id two platforms share
        row_number() over (
            partition by score.brand_id
            order by
                score.match_score desc,
                score.reachable_target_audience desc,
                score.account_id,
                score.platform
        ) as rank
    from reach as score
    left join influencers as influencer
        on influencer.platform = score.platform and influencer.account_id = score.account_id
)

select
    brand_id,
    platform,
    account_id,
    handle,
    as_of_date,
    overlap_age,
    overlap_gender,
    overlap_country,
    overlap_city,
    overlap_interest,
    match_score,
    missing_dimensions,
    in_target_share,
    reachable_target_audience,
    rank
from final
