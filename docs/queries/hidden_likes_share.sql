-- Question: which accounts hide their like counts, and on what share of their recent posts?
-- A post with hidden likes is left out of engagement_rate, so a high share makes an account's
-- rate rest on few posts.
-- grain: one row per (platform, account_id) that published in the 28 days up to the latest
-- observation; each post counted once, at its latest observation.
with latest_observation as (
    select platform, post_id, account_id, published_at, likes
    from fact_post_metrics
    qualify row_number() over (partition by platform, post_id order by observed_date desc) = 1
),

recent_posts as (
    select platform, post_id, account_id, likes
    from latest_observation
    where published_at >= (select max(observed_date) from fact_post_metrics) - interval 28 day
),

per_account as (
    select
        platform,
        account_id,
        count(*) as posts,
        count(*) filter (where likes is null) as posts_with_hidden_likes
    from recent_posts
    group by platform, account_id
),

final as (
    select
        a.platform,
        a.account_id,
        d.handle,
        a.posts,
        a.posts_with_hidden_likes,
        a.posts_with_hidden_likes / a.posts as hidden_likes_share
    from per_account as a
    join dim_influencer as d on a.platform = d.platform and a.account_id = d.account_id
)

select platform, account_id, handle, posts, posts_with_hidden_likes, hidden_likes_share
from final
order by hidden_likes_share desc, posts desc, handle
