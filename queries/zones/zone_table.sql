-- One row per zone active at the end of the day in the area, with positives in its community and its lift-review date. Params: $day, $area, $review_days.
with source as (
    select * from zones_daily where day = $day and starts_with(area_code, $area)
),
communities as (
    select area_code, name as community, lat as community_lat, lon as community_lon,
    from areas
),
positive_days as (
    select area_code, day, sum(positives) as positives,
    from testing_daily
    where positives > 0 and day <= $day
    group by all
),
community_positives as (
    select area_code,
        coalesce(sum(positives) filter (where day > $day - interval 7 day), 0) as positives_7d,
        max(day) as last_positive_on,
    from positive_days
    group by all
),
joined as (
    select source.zone_id, source.name, source.area_code, communities.community, source.level, source.scope,
        source.started_on, source.population, source.snapshot_day,
        coalesce(source.lat, communities.community_lat) as lat,
        coalesce(source.lon, communities.community_lon) as lon,
        ($day - source.started_on) + 1 as days_in_force,
        coalesce(community_positives.positives_7d, 0) as positives_7d,
        community_positives.last_positive_on,
    from source
    left join communities using (area_code)
    left join community_positives using (area_code)
),
reviewed as (
    -- Review falls due once the community has gone $review_days days without a positive
    -- since the zone began (positives before it began do not delay it).
    select *,
        (greatest(started_on, coalesce(last_positive_on, started_on)) + to_days($review_days::integer))::date
            as lift_review_on,
    from joined
),
flagged as (
    select *, lift_review_on <= $day as due_for_review,
    from reviewed
),
ordered as (
    select * from flagged
    order by list_position(['sealed', 'controlled', 'precaution'], level), started_on, zone_id
)
select * from ordered
