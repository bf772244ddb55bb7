-- One row per community in the area: persons sampled in the round up to the end of the day against population. Params: $day, $round, $area.
with communities as (
    select area_code, name, parent_code as street_code, population, lat, lon,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
sampled as (
    select area_code, persons_sampled,
    from round_coverage
    where day = $day and round = $round
),
covered as (
    select communities.*,
        coalesce(sampled.persons_sampled, 0) as persons_sampled,
        round(coalesce(sampled.persons_sampled, 0) / nullif(communities.population, 0), 4) as coverage,
    from communities
    left join sampled using (area_code)
),
ordered as (
    select * from covered order by coverage, area_code
)
select * from ordered
