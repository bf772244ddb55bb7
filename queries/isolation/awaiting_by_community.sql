-- One row per community in the area with positives awaiting transfer at the end of the day: how many, and the longest wait in hours. Params: $day, $area.
with communities as (
    select area_code, name, parent_code as street_code, lat, lon,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
source as (
    select * from transfer_waiting where day = $day
),
counted as (
    select area_code, count(*) as awaiting, max(hours_waiting) as longest_wait_hours,
    from source
    group by all
),
joined as (
    select communities.*, counted.awaiting, counted.longest_wait_hours,
    from communities
    join counted using (area_code)
),
ordered as (
    select * from joined order by longest_wait_hours desc, area_code
)
select * from ordered
