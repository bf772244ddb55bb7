-- One row per staffed post in the area that is under min_staff at some hour start after the instant and up to $hours later. Params: $at, $hours, $area.
with source as (
    select * from staff_hourly
    where slot > $at and slot <= $at + to_hours($hours::integer) and on_duty < min_staff
),
sited as (
    select source.site_id, sites.name, sites.kind, sites.area_code, source.slot, source.on_duty, source.min_staff,
    from source
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
first_gap as (
    select site_id, name, kind, area_code, min(slot) as first_short_at, min(on_duty) as fewest_on_duty, max(min_staff) as min_staff,
    from sited
    group by all
),
ordered as (
    select * from first_gap order by first_short_at, site_id
)
select * from ordered
