-- Question: why were records quarantined in the last run, and how many for each reason?
-- A record failing two checks counts under both reasons. Start here when a run turns red with
-- "quarantined share above ...".
-- grain: one row per (entity, reason) of the landing used by the latest run that loaded one.
with last_run as (
    select run_id, landing_run_id, partition_date
    from pipeline_runs
    where landing_run_id is not null
    order by started_at desc, run_id desc
    limit 1
),

failed_checks as (
    select q.entity, q.raw_record, unnest(q.failed_checks) as failed_check
    from quarantine as q
    join last_run as r on q.run_id = r.landing_run_id and q.partition_date = r.partition_date
),

reasons as (
    -- drop the offending value so that one reason is one row
    select entity, raw_record, regexp_replace(failed_check, ' \(got .*\)$', '') as reason
    from failed_checks
),

final as (
    select
        (select partition_date from last_run) as partition_date,
        entity,
        reason,
        count(*) as records,
        min(raw_record) as example_raw_record
    from reasons
    group by entity, reason
)

select partition_date, entity, reason, records, example_raw_record
from final
order by records desc, entity, reason
