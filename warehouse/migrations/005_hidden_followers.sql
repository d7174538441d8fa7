-- 005_hidden_followers: a channel that hides its subscriber count (YouTube's
-- hiddenSubscriberCount) has no followers, so no tier and no rate (REPORTS.md, "Platforms"); its
-- report rows keep those columns NULL instead of failing the week's build.

alter table rpt_weekly_engagement alter column followers_start drop not null;
alter table rpt_weekly_engagement alter column followers_end drop not null;
alter table rpt_weekly_engagement alter column tier drop not null;
alter table rpt_tier_drift alter column followers drop not null;
alter table rpt_tier_drift alter column tier drop not null;

comment on column rpt_weekly_engagement.followers_start is 'Followers on the first snapshot_date inside the week (an account gets a row when it has a snapshot in the week); NULL when the platform hides them (YouTube hiddenSubscriberCount).';
comment on column rpt_weekly_engagement.followers_end is 'Followers on the last snapshot_date inside the week; NULL when hidden.';
comment on column rpt_weekly_engagement.tier is 'Follower tier of followers_end: nano [0, 10 000), micro [10 000, 100 000), macro [100 000, 1 000 000), mega [1 000 000, ∞); NULL when the followers are hidden.';
comment on column rpt_tier_drift.followers is 'Followers on the latest snapshot on or before e; NULL when hidden.';
comment on column rpt_tier_drift.tier is 'Follower tier of followers: nano, micro, macro or mega; NULL when the followers are hidden.';
