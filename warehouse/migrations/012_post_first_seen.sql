-- 012_post_first_seen: dim_post keeps the date its post was first seen, not the last.
--
-- last_seen_date moved on every night that saw a post again, so the nightly MERGE rewrote the
-- row of nearly every post it saw (in DuckLake, a delete and an insert each). A post's row now
-- changes only when what it says changes: the nightly MERGE (warehouse/load.py) updates a post
-- when its caption, link, owner or time differ and no later night saw it, and it widens
-- first_seen_date when an older date is loaded. When each post was seen is in
-- fact_post_metrics (one row per post and night).
--
-- A lake loaded before this migration gets each post's first observation in fact_post_metrics,
-- or its last_seen_date where no observation is left.

-- grain: one row per (platform, post_id).
create table dim_post_first_seen (
    platform varchar not null,
    post_id varchar not null,
    account_id varchar not null,
    published_at timestamp not null,
    caption varchar,
    permalink varchar,
    first_seen_date date not null
);

insert into dim_post_first_seen
select post.platform, post.post_id, post.account_id, post.published_at, post.caption,
       post.permalink, coalesce(seen.first_observed, post.last_seen_date)
from dim_post as post
left join (
    select platform, post_id, min(observed_date) as first_observed
    from fact_post_metrics
    group by platform, post_id
) as seen using (platform, post_id);

drop table dim_post;

alter table dim_post_first_seen rename to dim_post;

comment on table dim_post is 'What each post says and where it is, as the latest nightly run that saw it found it. Grain: one row per (platform, post_id). Merged by every nightly load: a row changes only when its caption, link, owner or time change (a load of an older date than the post''s latest observation changes none of them), so a night that sees the same posts again rewrites nothing. When each post was seen is in fact_post_metrics.';
comment on column dim_post.platform is 'Platform: instagram, youtube or tiktok.';
comment on column dim_post.post_id is 'Platform media id (Instagram media id, YouTube video id, TikTok video id).';
comment on column dim_post.account_id is 'Owner''s account id; joins dim_influencer on (platform, account_id).';
comment on column dim_post.published_at is 'Publication time, UTC.';
comment on column dim_post.caption is 'The post''s text as published: the Instagram caption, the YouTube title and description (one line between them), the TikTok video description. NULL when the post has none.';
comment on column dim_post.permalink is 'Public URL of the post (YouTube: the watch URL built from the video id). NULL when unknown.';
comment on column dim_post.first_seen_date is 'UTC date of the first nightly run that saw the post.';
