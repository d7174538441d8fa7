-- rpt_campaign_performance: what each collaborator delivered and sold in a campaign, as of
-- $as_of (REPORTS.md "Campaigns and sales").
-- grain: one row per (campaign_id, platform, account_id, as_of_date), for every collaboration
-- whose stage was active, paused or ended on some day of the campaign (up to $as_of).
-- collaboration_stage_history rows hold from valid_from to valid_to, both included (NULL: still
-- current; warehouse/programme.py). Orders come attributed by the attributed_orders macro (migration 011); an
-- order without an fx rate has NULL revenue and counts in neither orders nor revenue.
with tiers as (
    select tier, min_followers, max_followers
    from dim_tier
),

campaigns as (
    select campaign_id, brand_id, start_date, end_date, currency
    from dim_campaign
),

collaborations as (
    select campaign_id, platform, account_id, handle, fee, posts_agreed
    from collaboration
),

stages as (
    select campaign_id, platform, account_id, stage, valid_from, valid_to
    from collaboration_stage_history
    where valid_from <= $as_of
),

worked as (
    -- collaborations that were active, paused or ended on some day of the campaign
    select distinct stage.campaign_id, stage.platform, stage.account_id
    from stages as stage
    join campaigns as campaign using (campaign_id)
    where stage.stage in ('active', 'paused', 'ended')
      and stage.valid_from <= least(campaign.end_date, $as_of)
      and (stage.valid_to is null or stage.valid_to >= campaign.start_date)
),

stage_on_as_of as (
    select campaign_id, platform, account_id, stage
    from stages
    where valid_to is null or valid_to >= $as_of
    qualify row_number() over (
        partition by campaign_id, platform, account_id order by valid_from desc
    ) = 1
),

snapshots as (
    select platform, account_id, snapshot_date, followers
    from fact_profile_daily
    where followers is not null
),

followers_at_start as (
    -- the latest snapshot on or before the start, else the earliest within 7 days after
    select worked.campaign_id, worked.platform, worked.account_id, snapshot.followers
    from worked
    join campaigns as campaign using (campaign_id)
    join snapshots as snapshot
        on snapshot.platform = worked.platform
        and snapshot.account_id = worked.account_id
        and snapshot.snapshot_date <= campaign.start_date + 7
    qualify row_number() over (
        partition by worked.campaign_id, worked.platform, worked.account_id
        order by snapshot.snapshot_date > campaign.start_date,
                 case when snapshot.snapshot_date <= campaign.start_date
                      then campaign.start_date - snapshot.snapshot_date
                      else snapshot.snapshot_date - campaign.start_date end
    ) = 1
),

latest_observations as (
    select
        platform,
        post_id,
        coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(saves, 0)
            as interactions,
        views
    from fact_post_metrics
    -- a deliverable is published in its campaign's window, and observed no earlier: the scan
    -- starts at the first campaign's start, not at the first night of history
    where observed_date <= $as_of
      and observed_date >= $campaigns_start
      and (platform, post_id) in (select (platform, post_id) from fact_deliverable)
    qualify row_number() over (partition by platform, post_id order by observed_date desc) = 1
),

delivered as (
    select
        deliverable.campaign_id,
        deliverable.platform,
        deliverable.account_id,
        count(*) as deliverables,
        count(*) filter (where deliverable.disclosed) as deliverables_disclosed,
        sum(observation.interactions) as interactions,
        sum(observation.views) as views
    from fact_deliverable as deliverable
    left join latest_observations as observation using (platform, post_id)
    where cast(deliverable.published_at as date) <= $as_of
    group by all
),

sold as (
    select
        campaign_id,
        platform,
        account_id,
        count(*) as orders,
        -- rounded once, to the cent (half up), after summing the exact converted amounts
        cast(sum(revenue) as decimal(18, 2)) as revenue
    from attributed_orders($as_of)
    where revenue is not null
    group by all
),

rows as (
    select
        worked.campaign_id,
        campaign.brand_id,
        worked.platform,
        worked.account_id,
        cast($as_of as date) as as_of_date,
        collaboration.handle,
        stage_on_as_of.stage,
        collaboration.fee,
        campaign.currency,
        followers_at_start.followers as followers_at_start,
        tier.tier,
        collaboration.posts_agreed,
        coalesce(delivered.deliverables, 0) as deliverables,
        coalesce(delivered.deliverables_disclosed, 0) as deliverables_disclosed,
        delivered.interactions,
        delivered.views,
        coalesce(sold.orders, 0) as orders,
        coalesce(sold.revenue, 0) as revenue,
        campaign.end_date
    from worked
    join campaigns as campaign using (campaign_id)
    join collaborations as collaboration using (campaign_id, platform, account_id)
    left join stage_on_as_of using (campaign_id, platform, account_id)
    left join followers_at_start using (campaign_id, platform, account_id)
    left join tiers as tier
        on followers_at_start.followers >= tier.min_followers
        and (tier.max_followers is null or followers_at_start.followers < tier.max_followers)
    left join delivered using (campaign_id, platform, account_id)
    left join sold using (campaign_id, platform, account_id)
)

select
    campaign_id,
    brand_id,
    platform,
    account_id,
    as_of_date,
    handle,
    stage,
    fee,
    currency,
    followers_at_start,
    tier,
    posts_agreed,
    deliverables,
    deliverables_disclosed,
    interactions,
    views,
    orders,
    revenue,
    fee / nullif(interactions, 0) as cpe,
    fee / nullif(views, 0) * 1000 as cpm,
    revenue / nullif(fee, 0) as roas,
    fee / nullif(orders, 0) as cpa,
    revenue / nullif(followers_at_start, 0) * 1000 as revenue_per_1k_followers,
    case
        when deliverables < posts_agreed and as_of_date > end_date then 'underdelivered'
        when deliverables_disclosed < deliverables then 'undisclosed'
        when revenue / nullif(fee, 0) >= 1 then 'profitable'
        else 'unprofitable'
    end as verdict
from rows
order by campaign_id, platform, account_id
