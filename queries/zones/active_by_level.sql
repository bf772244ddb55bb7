-- One row per zone level (sealed, controlled, precaution) active at the end of the day, in the area. Params: $day, $area.
with levels as (
    select unnest(['sealed', 'controlled', 'precaution']) as level
),
active as (
    select * from zones_daily where day = $day and starts_with(area_code, $area)
),
counted as (
    select levels.level,
        count(active.zone_id) as zones,
        coalesce(sum(active.population), 0) as population,
        (select max(snapshot_day) from zones_daily where day = $day) as snapshot_day,
    from levels
    left join active on active.level = levels.level
    group by all
)
select * from counted order by list_position(['sealed', 'controlled', 'precaution'], level)
