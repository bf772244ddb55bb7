-- One row per community in the area with positives awaiting transfer at the instant: how many, and the longest wait in whole hours by then (the alerts' clock; the day's list counts to the end of the day). Params: $at, $area.
with communities as (
    select area_code, name, parent_code as street_code, lat, lon,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
source as (
    select * from transfer_waiting where day = $at::date and sampled_at <= $at
),
counted as (
    select area_code, count(*) as awaiting, max(floor(epoch($at - sampled_at) / 3600))::integer as longest_wait_hours,
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
