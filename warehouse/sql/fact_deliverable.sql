-- fact_deliverable: the posts each collaborator published for a campaign (REPORTS.md).
-- grain: one row per (campaign_id, platform, post_id): a post of a collaboration's account
-- published (UTC date) in [start_date, end_date] whose caption has one of the campaign's
-- hashtags (a whole tag, any case), a mention of one of its handles, or the creator's promo code
-- (a whole word, any case). disclosed: the caption has #ad, #sponsored, #partner, #werbung,
-- #publi or #paidpartnership. Rebuilt whole by each weekly build (it depends on no date); it
-- reads the posts of the campaigns' span ($campaigns_start to $campaigns_end), not all of them.
with campaigns as (
    select
        campaign_id,
        start_date,
        end_date,
        list_transform(hashtags, tag -> lower(ltrim(tag, '#'))) as hashtags,
        list_transform(mentions, handle -> lower(ltrim(handle, '@'))) as mentions
    from dim_campaign
),

collaborations as (
    select campaign_id, platform, account_id, upper(promo_code) as promo_code
    from collaboration
),

-- the collaborators' posts in their campaigns' windows: joined before any caption is read, so
-- the cost follows the campaigns, not the years of posts in dim_post
candidates as (
    select
        collaboration.campaign_id,
        collaboration.promo_code,
        campaign.hashtags,
        campaign.mentions,
        post.platform,
        post.post_id,
        post.account_id,
        post.published_at,
        coalesce(post.caption, '') as caption
    from collaborations as collaboration
    join campaigns as campaign using (campaign_id)
    join dim_post as post
        on post.platform = collaboration.platform
        and post.account_id = collaboration.account_id
        and cast(post.published_at as date) between campaign.start_date and campaign.end_date
    -- the span of every campaign's window, as constants: the lake skips the files of posts
    -- published outside it
    where post.published_at >= cast($campaigns_start as timestamp)
      and post.published_at < cast($campaigns_end as timestamp) + interval 1 day
),

posts as (
    select
        *,
        -- whole tags and mentions as written, lower-cased; a mention's trailing dots end a
        -- sentence, not the handle
        list_transform(regexp_extract_all(caption, '#([\p{L}\p{N}_]+)', 1), tag -> lower(tag))
            as tags,
        list_transform(
            regexp_extract_all(caption, '@([\p{L}\p{N}_.]+)', 1),
            handle -> lower(rtrim(handle, '.'))
        ) as handles,
        regexp_extract_all(upper(caption), '[\p{L}\p{N}_-]+') as words
    from candidates
),

matches as (
    select
        campaign_id,
        platform,
        post_id,
        account_id,
        published_at,
        list_has_any(tags, hashtags) as by_hashtag,
        list_has_any(handles, mentions) as by_mention,
        coalesce(list_contains(words, promo_code), false) as by_code,
        list_has_any(tags, ['ad', 'sponsored', 'partner', 'werbung', 'publi', 'paidpartnership'])
            as disclosed
    from posts
)

select
    campaign_id,
    platform,
    post_id,
    account_id,
    published_at,
    list_filter(
        ['hashtag', 'mention', 'promo_code'],
        (kind, position) -> [by_hashtag, by_mention, by_code][position]
    ) as matched_by,
    disclosed
from matches
where by_hashtag or by_mention or by_code
order by campaign_id, platform, post_id
