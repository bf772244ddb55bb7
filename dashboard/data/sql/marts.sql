-- Marts, rebuilt at the end of every ingest so that pages read small tables, never per-person rows.
-- A "day" here is a calendar day from the first to the last export day.

create or replace table calendar as
with bounds as (
    select min(day) as first_day, max(day) as last_day from loaded_files where day is not null
)
select unnest(generate_series(first_day, last_day, interval 1 day))::date as day
from bounds
where first_day is not null;

-- Which export each kind's figures for a day come from, and whether that is the day itself.
create or replace table feed_status as
with kinds as (
    select unnest(['control_zones', 'testing_records', 'isolation', 'shifts', 'checkpoint_log', 'door_visits']) as kind
),
arrived as (
    select kind, day, file_id from loaded_files where day is not null
),
latest as (
    select calendar.day, kinds.kind, max(arrived.day) as latest_export,
    from calendar
    cross join kinds
    left join arrived on arrived.kind = kinds.kind and arrived.day <= calendar.day
    group by all
)
select
    latest.*,
    latest.latest_export is distinct from latest.day as stale,
    log.ingested_at,
from latest
left join loaded_files as lf on lf.kind = latest.kind and lf.day = latest.latest_export
left join ingest_log as log on log.file_id = lf.file_id;

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
where zones.started_on <= snapshot_for_day.day
  and (zones.lifted_on is null or zones.lifted_on > snapshot_for_day.day);

create or replace table isolation_daily as
with snapshot_for_day as (
    select calendar.day, max(snapshots.export_day) as snapshot_day,
    from calendar
    join (select distinct export_day from isolation) as snapshots on snapshots.export_day <= calendar.day
    group by all
),
cases as (
    select snapshot_for_day.*, cases.* exclude (export_day),
        cases.started_on <= snapshot_for_day.day
            and (cases.ended_on is null or cases.ended_on > snapshot_for_day.day) as is_active,
    from snapshot_for_day
    join isolation as cases on cases.export_day = snapshot_for_day.snapshot_day
)
select
    day, snapshot_day, area_code, kind, site_id,
    count(*) filter (where is_active) as active,
    count(*) filter (where is_active and planned_end_on = day + 1) as releases_due_next_day,
    count(*) filter (where started_on = day) as started,
    count(*) filter (where ended_on = day) as ended,
from cases
group by all;

create or replace table testing_daily as
select
    sampled_at::date as day, area_code, site_id, round,
    count(*) as samples,
    count(*) filter (where result = 'positive') as positives,
    count(*) filter (where result = 'pending') as pending,
from testing_records
group by all;

create or replace table testing_hourly as
select sampled_at::date as day, site_id, hour(sampled_at) as hour, count(*) as samples,
from testing_records
group by all;

-- Distinct persons per round: each person counts once, on the day of their first sample in
-- that round, in the community of that sample; a running sum then gives "up to each day".
create or replace table round_coverage as
with first_sample as (
    select round, person_key, arg_min(area_code, sampled_at) as area_code, min(sampled_at)::date as first_day,
    from testing_records
    where round > 0
    group by all
),
newly_sampled as (
    select round, area_code, first_day, count(*) as persons, from first_sample group by all
),
rounds as (
    select round, min(first_day) as started_on, from newly_sampled group by all
),
grid as (
    select rounds.round, areas.area_code, calendar.day,
    from rounds
    cross join areas
    join calendar on calendar.day >= rounds.started_on
)
select
    grid.day, grid.round, grid.area_code,
    sum(coalesce(newly_sampled.persons, 0)) over (
        partition by grid.round, grid.area_code order by grid.day
    ) as persons_sampled,
from grid
left join newly_sampled
    on newly_sampled.round = grid.round
    and newly_sampled.area_code = grid.area_code
    and newly_sampled.first_day = grid.day;

-- Staff on duty at the start of each hour, per staffed post: the same rule as the report's
-- staff_on_duty (starts_at <= instant < ends_at, not absent), taken on the hour.
create or replace table staff_hourly as
with slots as (
    select day, unnest(generate_series(day::timestamp, day::timestamp + interval 23 hour, interval 1 hour)) as slot,
    from calendar
),
posts as (
    select site_id, min_staff, from sites where min_staff > 0
),
on_duty as (
    select slots.day, slots.slot, shifts.site_id, count(*) as on_duty,
    from slots
    join shifts on shifts.starts_at <= slots.slot and slots.slot < shifts.ends_at
    where shifts.status <> 'absent'
    group by all
)
select slots.day, slots.slot, hour(slots.slot) as hour, posts.site_id, posts.min_staff,
    coalesce(on_duty.on_duty, 0) as on_duty,
from slots
cross join posts
left join on_duty on on_duty.slot = slots.slot and on_duty.site_id = posts.site_id;

create or replace table checkpoint_daily as
select period_start::date as day, site_id,
    sum(vehicles_checked) as vehicles_checked,
    sum(people_checked) as people_checked,
    sum(turned_back) as turned_back,
    sum(fever_found) as fever_found,
from checkpoint_log
group by all;

create or replace table door_visits_daily as
select visited_on as day, area_code, team_id,
    sum(households_visited) as households_visited,
    sum(people_checked) as people_checked,
    sum(fever_found) as fever_found,
from door_visits
group by all;
