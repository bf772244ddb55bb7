-- One row per community in the area: active isolation by kind at the end of the day, releases due next day, started and ended that day. Params: $day, $area.
with communities as (
    select area_code, name, parent_code as street_code, lat, lon,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
source as (
    select * from isolation_daily where day = $day
),
pivoted as (
    select area_code,
        sum(active) filter (where kind = 'home') as home,
        sum(active) filter (where kind = 'home_monitoring') as home_monitoring,
        sum(active) filter (where kind = 'centralized') as centralized,
        sum(releases_due_next_day) as releases_due_next_day,
        sum(started) as started,
        sum(ended) as ended,
    from source
    group by all
),
joined as (
    select communities.*,
        coalesce(pivoted.home, 0) as home,
        coalesce(pivoted.home_monitoring, 0) as home_monitoring,
        coalesce(pivoted.centralized, 0) as centralized,
        coalesce(pivoted.home, 0) + coalesce(pivoted.home_monitoring, 0) + coalesce(pivoted.centralized, 0) as active,
        coalesce(pivoted.releases_due_next_day, 0) as releases_due_next_day,
        coalesce(pivoted.started, 0) as started,
        coalesce(pivoted.ended, 0) as ended,
    from communities
    left join pivoted using (area_code)
),
ordered as (
    select * from joined order by active desc, area_code
)
select * from ordered
