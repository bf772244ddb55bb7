-- One row: a round's coverage in the area up to the end of the day; with $round null, the current round (the highest > 0 with samples on or before the day). Params: $day, $round, $area.
with current_round as (
    select coalesce($round, max(round)) as round from testing_daily where round > 0 and day <= $day
),
sampled as (
    select sum(persons_sampled) as persons_sampled,
    from round_coverage
    where day = $day and round = (select round from current_round) and starts_with(area_code, $area)
),
population as (
    select sum(population) as population,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
coverage as (
    select
        current_round.round,
        coalesce(sampled.persons_sampled, 0) as persons_sampled,
        population.population,
        round(coalesce(sampled.persons_sampled, 0) / population.population, 4) as coverage,
    from current_round, sampled, population
)
select * from coverage
