-- One row per isolation kind (home, home_monitoring, centralized) at the end of the day, in the area. Params: $day, $area.
with kinds as (
    select unnest(['home', 'home_monitoring', 'centralized']) as kind
),
source as (
    select * from isolation_daily where day = $day and starts_with(area_code, $area)
),
counted as (
    select kinds.kind,
        coalesce(sum(source.active), 0) as active,
        coalesce(sum(source.releases_due_next_day), 0) as releases_due_next_day,
        coalesce(sum(source.releases_overdue), 0) as releases_overdue,
        coalesce(sum(source.started), 0) as started,
        coalesce(sum(source.ended), 0) as ended,
        (select max(snapshot_day) from isolation_daily where day = $day) as snapshot_day,
    from kinds
    left join source on source.kind = kinds.kind
    group by all
)
select * from counted order by list_position(['home', 'home_monitoring', 'centralized'], kind)
