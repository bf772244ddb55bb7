-- One row per calendar day in the 14 days up to the day and zone level: zones active in the area, null before the first ledger. Params: $day, $area.
with days as (
    select day from trend_days($day)
),
levels as (
    select unnest(['sealed', 'controlled', 'precaution']) as level
),
ledgers as (
    select day from feed_status where kind = 'control_zones' and latest_export is not null
),
active as (
    select day, level, count(*) as zones,
    from zones_daily
    where starts_with(area_code, $area)
    group by all
),
joined as (
    select days.day, levels.level,
        case when ledgers.day is not null then coalesce(active.zones, 0) end as zones,
    from days
    cross join levels
    left join ledgers on ledgers.day = days.day
    left join active on active.day = days.day and active.level = levels.level
),
ordered as (
    select * from joined order by day, list_position(['sealed', 'controlled', 'precaution'], level)
)
select * from ordered
