-- 011_deliverables: what a post says (dim_post, loaded by every nightly run), the posts each
-- collaborator made for a campaign (fact_deliverable), and the two campaign reports
-- (rpt_campaign_performance, rpt_campaign_tiers), all three rebuilt by the weekly build
-- (warehouse/sql/). See REPORTS.md, "Campaigns and sales".

-- grain: one row per (platform, post_id).
create table dim_post (
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    published_at timestamp not null,
    caption varchar,
    permalink varchar,
    last_seen_date date not null
);

-- grain: one row per (campaign_id, platform, post_id).
create table fact_deliverable (
    campaign_id varchar not null,
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    published_at timestamp not null,
    matched_by varchar[] not null,
    disclosed boolean not null
);

-- grain: one row per (campaign_id, platform, account_id, as_of_date).
create table rpt_campaign_performance (
    campaign_id varchar not null,
    brand_id varchar not null,
    platform varchar not null,
    account_id varchar not null,
    as_of_date date not null,
    handle varchar,
    stage varchar,
    fee decimal(18, 2) not null,
    currency varchar not null,
    followers_at_start bigint,
    tier varchar,
    posts_agreed integer not null,
    deliverables integer not null,
    deliverables_disclosed integer not null,
    interactions bigint,
    views bigint,
    orders integer not null,
    revenue decimal(18, 2) not null,
    cpe double,
    cpm double,
    roas double,
    cpa double,
    revenue_per_1k_followers double,
    verdict varchar not null
);

-- grain: one row per (campaign_id, platform, tier, as_of_date).
create table rpt_campaign_tiers (
    campaign_id varchar not null,
    brand_id varchar not null,
    platform varchar not null,
    tier varchar not null,
    as_of_date date not null,
    creators integer not null,
    fee decimal(18, 2) not null,
    interactions bigint,
    orders integer not null,
    revenue decimal(18, 2) not null,
    followers_at_start bigint,
    roas double,
    cpe double,
    revenue_per_1k_followers double
);

comment on table dim_post is 'What each post says and where it is, as last seen by a nightly run. Grain: one row per (platform, post_id). Merged by every nightly load: a later sighting replaces the caption and link, an older one (a replayed date) changes nothing.';
comment on column dim_post.platform is 'Platform: instagram, youtube or tiktok.';
comment on column dim_post.post_id is 'Platform media id (Instagram media id, YouTube video id, TikTok video id).';
comment on column dim_post.account_id is 'Owner''s account id; joins dim_influencer on (platform, account_id).';
comment on column dim_post.published_at is 'Publication time, UTC.';
comment on column dim_post.caption is 'The post''s text as published: the Instagram caption, the YouTube title and description (one line between them), the TikTok video description. NULL when the post has none.';
comment on column dim_post.permalink is 'Public URL of the post (YouTube: the watch URL built from the video id). NULL when unknown.';
comment on column dim_post.last_seen_date is 'UTC date of the nightly run that last saw the post.';

comment on table fact_deliverable is 'The posts each collaborator published for a campaign: a post of a collaboration''s account published in [start_date, end_date] whose caption has one of the campaign''s hashtags (whole tag, any case), a mention of one of its handles, or the creator''s promo code. Grain: one row per (campaign_id, platform, post_id). Rebuilt by every weekly build from dim_post, dim_campaign and collaboration.';
comment on column fact_deliverable.campaign_id is 'Campaign (dim_campaign.campaign_id).';
comment on column fact_deliverable.platform is 'Platform of the post.';
comment on column fact_deliverable.post_id is 'The post (dim_post.post_id).';
comment on column fact_deliverable.account_id is 'The collaborator''s account (collaboration.account_id).';
comment on column fact_deliverable.published_at is 'Publication time, UTC.';
comment on column fact_deliverable.matched_by is 'What made it a deliverable: hashtag, mention and/or promo_code.';
comment on column fact_deliverable.disclosed is 'True when the caption has #ad, #sponsored, #partner, #werbung, #publi or #paidpartnership (whole tag, any case).';

comment on table rpt_campaign_performance is 'What each collaborator delivered and sold in a campaign, as of a date. Grain: one row per (campaign_id, platform, account_id, as_of_date), for every collaboration whose stage was active, paused or ended on some day of the campaign. Built by the weekly build and influencers report (REPORTS.md).';
comment on column rpt_campaign_performance.campaign_id is 'Campaign (dim_campaign.campaign_id).';
comment on column rpt_campaign_performance.brand_id is 'Brand running the campaign.';
comment on column rpt_campaign_performance.platform is 'Platform of the collaboration.';
comment on column rpt_campaign_performance.account_id is 'The collaborator''s account id.';
comment on column rpt_campaign_performance.as_of_date is 'UTC date the figures are as of: posts at their latest observation and orders up to this date.';
comment on column rpt_campaign_performance.handle is 'The collaborator''s handle, from the collaborations file.';
comment on column rpt_campaign_performance.stage is 'Stage of the collaboration on as_of_date (collaboration_stage_history); NULL before its first stage.';
comment on column rpt_campaign_performance.fee is 'Fee agreed, in the campaign currency.';
comment on column rpt_campaign_performance.currency is 'The campaign currency (revenue and fee are in it).';
comment on column rpt_campaign_performance.followers_at_start is 'Followers on the latest snapshot on or before the campaign''s start_date, else the earliest within 7 days after; NULL if none.';
comment on column rpt_campaign_performance.tier is 'Tier of followers_at_start (dim_tier).';
comment on column rpt_campaign_performance.posts_agreed is 'Posts agreed in the collaboration.';
comment on column rpt_campaign_performance.deliverables is 'The collaboration''s fact_deliverable rows.';
comment on column rpt_campaign_performance.deliverables_disclosed is 'Of deliverables, those disclosed as advertising.';
comment on column rpt_campaign_performance.interactions is 'Likes + comments + shares + saves (NULL parts as 0) over the deliverables, each at its latest observation on or before as_of_date; NULL with no observed deliverable.';
comment on column rpt_campaign_performance.views is 'Views over the deliverables, each at its latest observation on or before as_of_date; NULL when no deliverable reports views.';
comment on column rpt_campaign_performance.orders is 'Orders attributed to the collaboration (by promo code, else by tracked link; REPORTS.md) ordered on or before as_of_date.';
comment on column rpt_campaign_performance.revenue is 'Sum of the attributed orders'' net_amount, converted to the campaign currency with fx_rate of the order''s date. An order with no rate is left out and quarantined (source campaigns, entity order).';
comment on column rpt_campaign_performance.cpe is 'Cost per engagement: fee / interactions; NULL when interactions is 0 or NULL.';
comment on column rpt_campaign_performance.cpm is 'Cost per thousand views: fee / views * 1000; NULL when views is 0 or NULL.';
comment on column rpt_campaign_performance.roas is 'Return on ad spend: revenue / fee; NULL when the fee is 0.';
comment on column rpt_campaign_performance.cpa is 'Cost per acquisition: fee / orders; NULL when orders is 0.';
comment on column rpt_campaign_performance.revenue_per_1k_followers is 'revenue / followers_at_start * 1000; NULL when followers_at_start is 0 or NULL.';
comment on column rpt_campaign_performance.verdict is 'First that holds: underdelivered (deliverables < posts_agreed and as_of_date after end_date), undisclosed (a deliverable not disclosed), profitable (roas >= 1), unprofitable.';

comment on table rpt_campaign_tiers is 'A campaign''s results per platform and tier: whether micro creators sell more per follower than macro ones, on the brand''s own sales. Grain: one row per (campaign_id, platform, tier, as_of_date); sums over the tier''s rpt_campaign_performance rows.';
comment on column rpt_campaign_tiers.campaign_id is 'Campaign (dim_campaign.campaign_id).';
comment on column rpt_campaign_tiers.brand_id is 'Brand running the campaign.';
comment on column rpt_campaign_tiers.platform is 'Platform.';
comment on column rpt_campaign_tiers.tier is 'Tier of followers_at_start.';
comment on column rpt_campaign_tiers.as_of_date is 'UTC date the figures are as of.';
comment on column rpt_campaign_tiers.creators is 'Collaborations of the tier in rpt_campaign_performance.';
comment on column rpt_campaign_tiers.fee is 'Sum of their fees, in the campaign currency.';
comment on column rpt_campaign_tiers.interactions is 'Sum of their interactions; NULL when none is known.';
comment on column rpt_campaign_tiers.orders is 'Sum of their attributed orders.';
comment on column rpt_campaign_tiers.revenue is 'Sum of their attributed revenue, in the campaign currency.';
comment on column rpt_campaign_tiers.followers_at_start is 'Sum of their followers_at_start.';
comment on column rpt_campaign_tiers.roas is 'revenue / fee; NULL when the fee is 0.';
comment on column rpt_campaign_tiers.cpe is 'fee / interactions; NULL when interactions is 0 or NULL.';
comment on column rpt_campaign_tiers.revenue_per_1k_followers is 'revenue / sum of followers_at_start * 1000; NULL when that sum is 0 or NULL.';

-- The orders attributed to collaborations, up to an as-of date (REPORTS.md "Campaigns and
-- sales"): an order within [start_date, end_date + attribution_window_days] of a campaign goes to
-- the collaboration whose promo_code is one of its discount codes (any case), else to the one
-- whose utm_content its landing URL names with utm_campaign = the campaign; a code beats a link,
-- and an order matching two campaigns goes to the one that started last (then by campaign_id).
-- revenue is net_amount in the campaign currency, exact: the order's own when they agree, else
-- converted with fx_rate of the order's date; NULL when there is no such rate (the weekly build
-- quarantines those orders). Both campaign reports read it; analysts may call it too.
create macro attributed_orders(as_of) as table
with campaigns as (
    select campaign_id, start_date, end_date, currency, attribution_window_days
    from dim_campaign
),
collaborations as (
    select campaign_id, platform, account_id, upper(promo_code) as promo_code, utm_content
    from collaboration
),
orders as (
    select
        shop, order_id, ordered_at, currency, net_amount,
        list_transform(discount_codes, code -> upper(code)) as codes,
        url_decode(regexp_extract(landing_url, '[?&]utm_campaign=([^&#]*)', 1)) as utm_campaign,
        url_decode(regexp_extract(landing_url, '[?&]utm_content=([^&#]*)', 1)) as utm_content
    from fact_order
    where cast(ordered_at as date) <= as_of
),
candidates as (
    select o.shop, o.order_id, c.campaign_id, c.platform, c.account_id, 1 as method_rank,
           'promo_code' as attributed_by
    from orders as o
    join collaborations as c on list_contains(o.codes, c.promo_code)
    union all
    select o.shop, o.order_id, c.campaign_id, c.platform, c.account_id, 2, 'utm_link'
    from orders as o
    join collaborations as c
        on o.utm_campaign = c.campaign_id and o.utm_content = c.utm_content
),
in_window as (
    select candidate.*, campaign.start_date, campaign.currency as campaign_currency
    from candidates as candidate
    join campaigns as campaign using (campaign_id)
    join orders as o using (shop, order_id)
    where cast(o.ordered_at as date) between campaign.start_date
        and campaign.end_date + campaign.attribution_window_days
),
chosen as (
    select *
    from in_window
    qualify row_number() over (
        partition by shop, order_id
        order by method_rank, start_date desc, campaign_id, platform, account_id
    ) = 1
)
select
    chosen.shop, chosen.order_id, o.ordered_at, chosen.campaign_id, chosen.platform,
    chosen.account_id, chosen.attributed_by, o.currency, chosen.campaign_currency,
    o.net_amount,
    case when o.currency = chosen.campaign_currency then 1 else rate.rate end as fx_rate,
    -- exact (no rounding per order): the reports round each collaboration's sum to the cent
    o.net_amount * case when o.currency = chosen.campaign_currency then 1 else rate.rate end
        as revenue
from chosen
join orders as o using (shop, order_id)
left join fx_rate as rate
    on rate.currency = o.currency
    and rate.base_currency = chosen.campaign_currency
    and rate.rate_date = cast(o.ordered_at as date);
