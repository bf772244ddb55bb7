-- One row per calendar day and zone active that day, from the newest ledger dated that day or earlier. Reads: calendar, control_zones.
-- Ledgers are snapshots: a day's figures use the newest snapshot dated that day or earlier.
create or replace table zones_daily as
with snapshot_for_day as (
    select calendar.day, max(snapshots.export_day) as snapshot_day,
    from calendar
    join (select distinct export_day from control_zones) as snapshots on snapshots.export_day <= calendar.day
    group by all
)
select snapshot_for_day.day, snapshot_for_day.snapshot_day, zones.* exclude (export_day),
from snapshot_for_day
join control_zones as zones on zones.export_day = snapshot_for_day.snapshot_day
where in_force_on(zones.started_on, zones.lifted_on, snapshot_for_day.day);
