-- One row per sampling site in the area and hour of the day with samples taken there. Params: $day, $area.
with source as (
    select * from testing_hourly where day = $day
),
sited as (
    select source.site_id, sites.name, sites.kind, source.hour, source.samples,
    from source
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
ordered as (
    select * from sited order by kind, site_id, hour
)
select * from ordered
