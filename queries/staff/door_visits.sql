-- One row per calendar day in the 14 days up to the day: door-to-door teams, households visited, people checked and fever found in the area. Params: $day, $area.
with source as (
    select * from door_visits_daily
    where in_trend_window(day, $day) and starts_with(area_code, $area)
),
summed as (
    select day,
        count(distinct team_id) as teams,
        sum(households_visited) as households_visited,
        sum(people_checked) as people_checked,
        sum(fever_found) as fever_found,
    from source
    group by all
),
ordered as (
    select * from summed order by day
)
select * from ordered
