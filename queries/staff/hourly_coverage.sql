-- One row per staffed post in the area and hour of the day: staff on duty at the start of the hour against min_staff. Params: $day, $area.
with source as (
    select * from staff_hourly where day = $day
),
sited as (
    select source.site_id, sites.name, sites.kind, source.hour, source.slot, source.on_duty, source.min_staff,
        source.on_duty < source.min_staff as understaffed,
    from source
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
ordered as (
    select * from sited order by kind, site_id, hour
)
select * from ordered
