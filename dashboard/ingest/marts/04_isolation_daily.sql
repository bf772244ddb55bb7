-- One row per calendar day, community, isolation kind and site: active cases, releases due and overdue, starts and ends, from the newest ledger dated that day or earlier. Reads: calendar, isolation.
create or replace table isolation_daily as
with snapshot_for_day as (
    select calendar.day, max(snapshots.export_day) as snapshot_day,
    from calendar
    join (select distinct export_day from isolation) as snapshots on snapshots.export_day <= calendar.day
    group by all
),
cases as (
    select snapshot_for_day.*, cases.* exclude (export_day),
        in_force_on(cases.started_on, cases.ended_on, snapshot_for_day.day) as is_active,
    from snapshot_for_day
    join isolation as cases on cases.export_day = snapshot_for_day.snapshot_day
)
select
    day, snapshot_day, area_code, kind, site_id,
    count(*) filter (where is_active) as active,
    count(*) filter (where is_active and planned_end_on = day + 1) as releases_due_next_day,
    count(*) filter (where is_active and planned_end_on < day) as releases_overdue,
    count(*) filter (where started_on = day) as started,
    count(*) filter (where ended_on = day) as ended,
from cases
group by all;
