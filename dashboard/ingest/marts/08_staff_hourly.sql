-- One row per calendar day, hour and staffed post: staff on duty at the start of the hour. Reads: calendar, sites, shifts.
-- The on-duty rule is the on_duty_at macro (schema.sql), the same as staff/on_duty_at's.
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
    join shifts on on_duty_at(shifts.starts_at, shifts.ends_at, shifts.status, slots.slot)
    group by all
)
select slots.day, slots.slot, hour(slots.slot) as hour, posts.site_id, posts.min_staff,
    coalesce(on_duty.on_duty, 0) as on_duty,
from slots
cross join posts
left join on_duty on on_duty.slot = slots.slot and on_duty.site_id = posts.site_id;
