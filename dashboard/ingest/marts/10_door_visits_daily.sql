-- One row per day, community and door-to-door team: households visited, people checked, fever found. Reads: door_visits.
create or replace table door_visits_daily as
select visited_on as day, area_code, team_id,
    sum(households_visited) as households_visited,
    sum(people_checked) as people_checked,
    sum(fever_found) as fever_found,
from door_visits
group by all;
