-- One row per round, community and calendar day from the round's start: distinct persons sampled in the round up to that day. Reads: round_firsts, areas, calendar.
-- Distinct persons per round: each person counts once, on the day of their first sample in
-- that round, in the community of that sample (of two at one moment, the smaller code); a
-- running sum then gives "up to each day".
create or replace table round_coverage as
with newly_sampled as (
    -- Counted by partitions.recount_rounds from the round's days, exactly: no approximate distinct.
    select round, area_code, first_day, persons, from round_firsts
),
rounds as (
    select round, min(first_day) as started_on, from newly_sampled group by all
),
grid as (
    select rounds.round, areas.area_code, calendar.day,
    from rounds
    cross join areas
    join calendar on calendar.day >= rounds.started_on
)
select
    grid.day, grid.round, grid.area_code,
    sum(coalesce(newly_sampled.persons, 0)) over (
        partition by grid.round, grid.area_code order by grid.day
    ) as persons_sampled,
from grid
left join newly_sampled
    on newly_sampled.round = grid.round
    and newly_sampled.area_code = grid.area_code
    and newly_sampled.first_day = grid.day;
