-- One row per calendar day in the 14 days up to the day and isolation kind: active, started and ended in the area, null before the first ledger. Params: $day, $area.
with days as (
    select day from trend_days($day)
),
kinds as (
    select unnest(['home', 'home_monitoring', 'centralized']) as kind
),
ledgers as (
    select day from feed_status where kind = 'isolation' and latest_export is not null
),
counted as (
    select day, kind, sum(active) as active, sum(started) as started, sum(ended) as ended,
    from isolation_daily
    where starts_with(area_code, $area)
    group by all
),
joined as (
    select days.day, kinds.kind,
        case when ledgers.day is not null then coalesce(counted.active, 0) end as active,
        case when ledgers.day is not null then coalesce(counted.started, 0) end as started,
        case when ledgers.day is not null then coalesce(counted.ended, 0) end as ended,
    from days
    cross join kinds
    left join ledgers on ledgers.day = days.day
    left join counted on counted.day = days.day and counted.kind = kinds.kind
),
ordered as (
    select * from joined order by day, list_position(['home', 'home_monitoring', 'centralized'], kind)
)
select * from ordered
