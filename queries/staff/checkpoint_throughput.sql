-- One row per checkpoint in the area and calendar day in the 14 days up to the day: vehicles and people checked, turned back, fever found. Params: $day, $area.
with source as (
    select * from checkpoint_daily where in_trend_window(day, $day)
),
sited as (
    select source.day, source.site_id, sites.name, source.vehicles_checked, source.people_checked,
        source.turned_back, source.fever_found,
    from source
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
ordered as (
    select * from sited order by day, site_id
)
select * from ordered
