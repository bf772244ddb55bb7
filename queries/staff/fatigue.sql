-- One row per staff member at a post in the area with a shift in the 7 days up to the instant: hours on duty in the last 24 h and 7 days, and consecutive days worked. Params: $at, $area. Roles: leader, admin.
with source as (
    select * from shifts
    where status <> 'absent' and starts_at < $at and ends_at > $at - interval 7 day
),
clipped as (
    -- Only the part of a shift inside each window counts: a night shift straddling the
    -- window's start adds just its later hours.
    select staff_id, staff_name, unit, role, site_id, starts_at::date as shift_day,
        greatest(0, epoch(least(ends_at, $at) - greatest(starts_at, $at - interval 24 hour))) / 3600 as hours_24h,
        greatest(0, epoch(least(ends_at, $at) - greatest(starts_at, $at - interval 7 day))) / 3600 as hours_7d,
    from source
),
worked_days as (
    select distinct staff_id, shift_day from clipped
),
islands as (
    -- Days in a run share one (day - row number): the gaps-and-islands trick.
    select staff_id, shift_day,
        shift_day - to_days(row_number() over (partition by staff_id order by shift_day)::integer) as island,
    from worked_days
),
latest_run as (
    select staff_id, count(*) as consecutive_days, max(shift_day) as run_ends_on,
    from islands
    group by staff_id, island
    qualify run_ends_on = max(run_ends_on) over (partition by staff_id)
),
summed as (
    select staff_id, any_value(staff_name) as staff_name, any_value(unit) as unit, any_value(role) as role,
        arg_max(site_id, shift_day) as site_id,
        round(sum(hours_24h), 1) as hours_24h,
        round(sum(hours_7d), 1) as hours_7d,
    from clipped
    group by staff_id
),
joined as (
    select summed.*, sites.name as site_name, sites.area_code,
        case when latest_run.run_ends_on >= $at::date - interval 1 day then latest_run.consecutive_days else 0 end
            as consecutive_days,
    from summed
    join latest_run using (staff_id)
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
ordered as (
    select * from joined order by hours_24h desc, hours_7d desc, staff_id
)
select * from ordered
