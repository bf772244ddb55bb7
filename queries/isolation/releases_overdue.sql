-- One row per community in the area with isolation cases still active after their planned end at the end of the day. Params: $day, $area.
with communities as (
    select area_code, name, parent_code as street_code,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
source as (
    select * from isolation_daily where day = $day and releases_overdue > 0
),
counted as (
    select area_code, sum(releases_overdue)::integer as overdue,
    from source
    group by all
),
joined as (
    select communities.*, counted.overdue,
    from communities
    join counted using (area_code)
),
ordered as (
    select * from joined order by overdue desc, area_code
)
select * from ordered
