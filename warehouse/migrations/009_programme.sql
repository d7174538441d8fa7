-- 009_programme: the brand's own programme, loaded from the campaign files it maintains
-- (<brand>.campaigns.toml and <brand>.collaborations.csv in INFLUENCERS_CAMPAIGNS_DIR): its
-- campaigns, who collaborates on each at what stage and fee, and the history of those stages.
-- dim_campaign and collaboration are replaced whole by each load (warehouse/programme.py);
-- collaboration_stage_history is only appended to and closed, one load date at a time.
--
-- account_id is resolved through dim_influencer (platform, lower(handle)) when the warehouse
-- knows the handle, else it is 'handle:' || lower(handle) (a YouTube channel id UC... is its own
-- id), as file imports do (migration 008).

-- grain: one row per campaign_id.
create table dim_campaign (
    campaign_id varchar not null,
    brand_id varchar not null,
    name varchar not null,
    start_date date not null,
    end_date date not null,
    currency varchar not null,
    attribution_window_days integer not null,
    hashtags varchar[] not null,
    mentions varchar[] not null
);

-- grain: one row per (campaign_id, platform, account_id).
create table collaboration (
    campaign_id varchar not null,
    platform varchar not null,
    account_id varchar not null,
    handle varchar not null,
    fee decimal(18, 2) not null,
    promo_code varchar,
    utm_content varchar,
    posts_agreed integer not null,
    stage varchar not null
);

-- grain: one row per (campaign_id, platform, account_id, valid_from).
create table collaboration_stage_history (
    campaign_id varchar not null,
    platform varchar not null,
    account_id varchar not null,
    valid_from date not null,
    valid_to date,
    stage varchar not null
);

comment on table dim_campaign is 'The brand''s campaigns, from its campaign files (<brand>.campaigns.toml in INFLUENCERS_CAMPAIGNS_DIR). Grain: one row per campaign_id; replaced whole by each load of the files.';
comment on column dim_campaign.campaign_id is 'The campaign''s id from the file: lower-case letters, digits, - and _; unique across brands; the utm_campaign of its links.';
comment on column dim_campaign.brand_id is 'The brand running the campaign (dim_brand.brand_id).';
comment on column dim_campaign.name is 'The campaign''s name as people read it.';
comment on column dim_campaign.start_date is 'First day of the campaign.';
comment on column dim_campaign.end_date is 'Last day of the campaign (on or after start_date).';
comment on column dim_campaign.currency is 'ISO 4217 code of the campaign''s money: fees, and revenue once converted with fx_rate.';
comment on column dim_campaign.attribution_window_days is 'Days after end_date during which an order can still be attributed to the campaign (0 to 365; default 30).';
comment on column dim_campaign.hashtags is 'The campaign''s hashtags, lower case, without #; two campaigns of one brand sharing a hashtag never overlap in dates.';
comment on column dim_campaign.mentions is 'Handles the campaign''s posts mention, lower case, without @.';

comment on table collaboration is 'Who works on each campaign, at what stage, for what fee, as the collaborations CSV says now. Grain: one row per (campaign_id, platform, account_id); replaced whole by each load of the files.';
comment on column collaboration.campaign_id is 'The campaign (dim_campaign.campaign_id).';
comment on column collaboration.platform is 'Platform of the creator, lower case, e.g. instagram.';
comment on column collaboration.account_id is 'The creator''s account: the platform id when dim_influencer knew the handle at load time, else handle:<lower-cased handle> (a YouTube channel id as it is); joins dim_influencer on (platform, account_id).';
comment on column collaboration.handle is 'The handle as the file writes it (Instagram and TikTok without @; YouTube @handle or channel id).';
comment on column collaboration.fee is 'Fee agreed, in the campaign currency.';
comment on column collaboration.promo_code is 'The creator''s discount code, as written; unique per campaign, case-insensitive; NULL when none.';
comment on column collaboration.utm_content is 'utm_content of the creator''s links; unique per campaign; NULL when none.';
comment on column collaboration.posts_agreed is 'Posts the creator agreed to publish for the campaign.';
comment on column collaboration.stage is 'Stage of the relationship now: prospect, contacted, negotiating, active, paused or ended.';

comment on table collaboration_stage_history is 'Each collaboration''s stage over time. Grain: one row per (campaign_id, platform, account_id, valid_from). A load whose file gives a collaboration another stage closes its open row (valid_to = the day before the load) and opens one from the load date; a collaboration gone from the file has its open row closed; re-loading the same files changes nothing. A second change on the same load date replaces that day''s row.';
comment on column collaboration_stage_history.campaign_id is 'The campaign (dim_campaign.campaign_id).';
comment on column collaboration_stage_history.platform is 'Platform of the creator, lower case.';
comment on column collaboration_stage_history.account_id is 'The creator''s account, as collaboration.account_id.';
comment on column collaboration_stage_history.valid_from is 'Date of the load that first saw this stage.';
comment on column collaboration_stage_history.valid_to is 'Last day the stage held, inclusive (the day before the load that changed it); NULL while current. The stage on day d: valid_from <= d and (valid_to is null or d <= valid_to).';
comment on column collaboration_stage_history.stage is 'prospect, contacted, negotiating, active, paused or ended.';
