-- 006_growth_flags: tell bought followers from a viral moment (REPORTS.md, rpt_tier_drift):
-- the day of the spike, the lift in interactions per post after it, and whether the growth is
-- suspicious (a jump with no lift).

alter table rpt_tier_drift add column spike_date date;
alter table rpt_tier_drift add column interactions_lift double;
alter table rpt_tier_drift add column suspicious_growth boolean;

comment on column rpt_tier_drift.spike_date is 'Among the days that make anomalous_growth true, the one with the largest robust z (ties: the earliest); NULL when anomalous_growth is false.';
comment on column rpt_tier_drift.interactions_lift is 'Mean interactions per post over posts published in [spike_date, spike_date + 7 days) over the same mean in [spike_date - 28 days, spike_date), each post at its latest observation up to as_of_date, hidden-likes posts left out; NULL when a window has no post or the earlier mean is 0.';
comment on column rpt_tier_drift.suspicious_growth is 'anomalous_growth and not interactions_lift >= 1.5: a follower jump that brought no lift in interactions (bought followers never like or comment); a jump whose lift cannot be measured yet stays suspicious. recommendation review means this.';
comment on column rpt_tier_drift.recommendation is 'move_on (drifted); review (suspicious_growth); watch (drifting or declining); keep. First that holds.';
