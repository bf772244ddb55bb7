-- One row per calendar day and person with a positive sample in the 14 days up to that day who, in the newest isolation ledger dated that day or earlier, has no centralized case started by then. Reads: calendar, testing_positives, isolation.
-- Days before the first isolation ledger have no rows: with no ledger nobody can be called untransferred.
create or replace table transfer_waiting as
with ledger_for_day as (
    select calendar.day, max(snapshots.export_day) as snapshot_day,
    from calendar
    join (select distinct export_day from isolation) as snapshots on snapshots.export_day <= calendar.day
    group by all
),
positives as (
    select person_key, area_code, sampled_at, from testing_positives
),
in_window as (
    select ledger_for_day.day, ledger_for_day.snapshot_day, positives.*,
    from ledger_for_day
    join positives
        on in_trend_window(positives.sampled_at::date, ledger_for_day.day)
),
-- A person positive twice waits since the first positive sample, in the community it was taken in.
first_positive as (
    select day, snapshot_day, person_key,
        arg_min(area_code, sampled_at) as area_code,
        min(sampled_at) as sampled_at,
    from in_window
    group by all
),
transferred as (
    select distinct ledger_for_day.day, cases.case_key as person_key,
    from ledger_for_day
    join isolation as cases on cases.export_day = ledger_for_day.snapshot_day
    where cases.kind = 'centralized' and cases.started_on <= ledger_for_day.day
)
select first_positive.*,
    floor(epoch(first_positive.day + interval 1 day - first_positive.sampled_at) / 3600)::integer as hours_waiting,
from first_positive
anti join transferred using (day, person_key);
